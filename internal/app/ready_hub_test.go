package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/config"
	"github.com/syndic-network/syndic/internal/testenv"
)

// TestReadyzWaitsForHubDeliveries checks that a process that will send
// WebSub deliveries reports not ready until the hub's fan-out consumer
// exists. The consumer starts with new items only, so an item published
// before it would never reach the subscribers.
func TestReadyzWaitsForHubDeliveries(t *testing.T) {
	a := openApp(t, testConfig(t, testenv.NATS(t).URL, "http://127.0.0.1:1", 1, time.Minute))
	readyz := func() (int, string) {
		rec := httptest.NewRecorder()
		a.AdminHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := readyz(); code != http.StatusOK {
		t.Fatalf("readyz before ExpectHubDeliveries = %d %s, want 200", code, body)
	}

	a.ExpectHubDeliveries()
	code, body := readyz()
	if code != http.StatusServiceUnavailable {
		t.Errorf("readyz before the hub started = %d, want 503", code)
	}
	if !strings.Contains(body, "WebSub") {
		t.Errorf("readyz body %q does not name the WebSub deliveries", body)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := a.RunHubDeliveries(ctx, nil, func() *config.Config { return a.Config }); err != nil {
			t.Errorf("RunHubDeliveries returned error: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, 20*time.Second, "readyz to answer 200", func() bool {
		code, _ := readyz()
		return code == http.StatusOK
	})
	if _, err := a.Stream.Consumer(ctx, hubFanoutConsumer); err != nil {
		t.Errorf("readyz answered 200 before the fan-out consumer existed: %v", err)
	}
}
