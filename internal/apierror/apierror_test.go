package apierror

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestWrite(t *testing.T) {
	tests := []struct {
		name   string
		status int
		code   string
		msg    string
		fields map[string]string
	}{
		{"not found with fields", http.StatusNotFound, "not_found", "no such channel", map[string]string{"channel": "unknown"}},
		{"method error without fields", http.StatusMethodNotAllowed, "method_not_allowed", "use GET or HEAD", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Write(rec, tt.status, tt.code, tt.msg, tt.fields)

			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d", rec.Code, tt.status)
			}
			if got := rec.Header().Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", got)
			}
			var raw map[string]map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
				t.Fatalf("decoding body %q: %v", rec.Body.String(), err)
			}
			detail := raw["error"]
			if detail["code"] != tt.code {
				t.Errorf("code = %v, want %q", detail["code"], tt.code)
			}
			if detail["message"] != tt.msg {
				t.Errorf("message = %v, want %q", detail["message"], tt.msg)
			}
			_, hasFields := detail["fields"]
			if hasFields != (len(tt.fields) > 0) {
				t.Errorf("fields present = %v, want %v", hasFields, len(tt.fields) > 0)
			}
			var body Body
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("decoding body into Body: %v", err)
			}
			for k, v := range tt.fields {
				if body.Error.Fields[k] != v {
					t.Errorf("fields[%q] = %q, want %q", k, body.Error.Fields[k], v)
				}
			}
		})
	}
}
