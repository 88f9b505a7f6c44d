package workers_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"testing"
)

func TestPushRejectsCompressedBody(t *testing.T) {
	env := newPushEnv(t, "embedded", defaultPushConfig())
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write([]byte(itemOne)); err != nil {
		t.Fatalf("compressing: %v", err)
	}
	if err := zw.Close(); err != nil {
		t.Fatalf("compressing: %v", err)
	}
	for _, coding := range []string{"gzip", "identity, br"} {
		req, err := http.NewRequest(http.MethodPost, env.srv.URL+"/api/v1/items", bytes.NewReader(gz.Bytes()))
		if err != nil {
			t.Fatalf("building request: %v", err)
		}
		req.Header.Set("Authorization", "Bearer "+env.tokenA)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Content-Encoding", coding)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		r := pushResponse{status: resp.StatusCode, header: resp.Header, body: body}
		if r.status != http.StatusUnsupportedMediaType {
			t.Fatalf("Content-Encoding %q: status = %d, want 415; body %s", coding, r.status, r.body)
		}
		if got := r.apiError(t); got.Code != "unsupported_content_encoding" {
			t.Errorf("Content-Encoding %q: code = %q, want unsupported_content_encoding", coding, got.Code)
		}
		if got := resp.Header.Get("Accept-Encoding"); got != "identity" {
			t.Errorf("Content-Encoding %q: Accept-Encoding = %q, want identity", coding, got)
		}
	}
	r := env.do(http.MethodPost, "/api/v1/items", env.tokenA, "application/json", []byte(itemOne))
	if r.status != http.StatusOK {
		t.Errorf("uncompressed push: status = %d, want 200; body %s", r.status, r.body)
	}
	if n := len(env.events()); n != 1 {
		t.Errorf("published %d events, want 1 from the uncompressed push", n)
	}
}
