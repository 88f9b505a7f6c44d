package app

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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

// TestAdminProfileEndsAtShutdown checks that a CPU profile in flight ends
// with the shutdown, so the stop succeeds within its grace.
func TestAdminProfileEndsAtShutdown(t *testing.T) {
	a := &App{Config: &config.Config{HTTP: config.HTTP{AdminPprof: true}}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- ServeListener(ctx, ln, a.AdminHandler(), time.Second) }()

	status := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/debug/pprof/profile?seconds=20")
		if err != nil {
			status <- err.Error()
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		status <- resp.Status
	}()
	waitForProfileHandler(t, "http://"+ln.Addr().String())
	cancel()

	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ServeListener = %v, want nil once the profile in flight ends", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the admin server still runs 10 s after the stop")
	}

	select {
	case got := <-status:
		if got != "200 OK" {
			t.Errorf("profile in flight at the stop got %q, want 200 OK with what it recorded", got)
		}
	case <-time.After(25 * time.Second):
		t.Error("the profile in flight got no response")
	}
}

// waitForProfileHandler waits until the admin server at base runs the CPU
// profile handler, as its goroutine dump shows.
func waitForProfileHandler(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/debug/pprof/goroutine?debug=2")
		if err == nil {
			dump, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(dump), "net/http/pprof.Profile(") {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the CPU profile handler did not start within 10 s")
}
