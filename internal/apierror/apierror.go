// Package apierror writes the JSON error body shared by every Syndic HTTP
// endpoint, so that clients parse one shape whatever handler failed:
//
//	{"error": {"code": "not_found", "message": "...", "fields": {"channel": "..."}}}
package apierror

import (
	"encoding/json"
	"net/http"
)

// Body is the top-level error document.
type Body struct {
	Error Detail `json:"error"`
}

// Detail describes one failed request. Code is a stable snake_case token that
// clients branch on; Message is for people and may change between releases.
// Fields names the request parts at fault (a query parameter, a path
// segment) with a short reason for each, and is omitted when empty.
type Detail struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// Write sends status with an error body built from code, message and fields.
// It sets Content-Type to application/json and disables content sniffing. An
// error while writing the body means the client has gone, so Write drops it.
func Write(w http.ResponseWriter, status int, code, message string, fields map[string]string) {
	body, err := json.Marshal(Body{Error: Detail{Code: code, Message: message, Fields: fields}})
	if err != nil {
		// A struct of strings always marshals, so this branch is unreachable.
		body = []byte(`{"error":{"code":"internal","message":"encoding error body"}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
