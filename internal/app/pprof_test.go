package app

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/syndic-network/syndic/internal/config"
)

// TestAdminPprofFollowsSetting checks that the admin server serves Go's
// profiles only when http.admin_pprof is on.
func TestAdminPprofFollowsSetting(t *testing.T) {
	for _, enabled := range []bool{false, true} {
		a := &App{Config: &config.Config{HTTP: config.HTTP{AdminPprof: enabled}}}
		handler := a.AdminHandler()
		for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/goroutine?debug=1"} {
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			if !enabled {
				if rec.Code != http.StatusNotFound {
					t.Errorf("admin_pprof off: GET %s = %d, want 404", path, rec.Code)
				}
				continue
			}
			if rec.Code != http.StatusOK {
				t.Errorf("admin_pprof on: GET %s = %d, want 200; body %.200s", path, rec.Code, rec.Body)
			}
		}
		if enabled {
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/pprof/goroutine?debug=1", nil))
			if !strings.Contains(rec.Body.String(), "TestAdminPprofFollowsSetting") {
				t.Errorf("goroutine profile does not list the running test:\n%.500s", rec.Body)
			}
		}
	}
}
