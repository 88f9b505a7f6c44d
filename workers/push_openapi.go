package workers

import (
	_ "embed"
	"net/http"
)

// openAPIDocument describes the intake API in OpenAPI 3.1.
//
//go:embed push_openapi.json
var openAPIDocument []byte

// OpenAPIHandler serves the OpenAPI document of the intake API. It needs
// no token.
func OpenAPIHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(openAPIDocument)
	})
}
