package app

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/syndic-network/syndic/internal/apierror"
)

// readyStreamTimeout bounds the stream lookup of a readiness probe, well
// below the one-second default timeout of Kubernetes probes.
const readyStreamTimeout = 800 * time.Millisecond

// probe is the state that readiness reports on. App holds it by pointer,
// so copies made by withConfig share it.
type probe struct {
	// views is set once the process serves feed views.
	views atomic.Pointer[Views]
	// hubStarting is true from ExpectHubDeliveries until RunHubDeliveries
	// has started the hub's consumers.
	hubStarting atomic.Bool
}

// ExpectHubDeliveries marks the process not ready until RunHubDeliveries
// has started the WebSub hub's consumers. Call it before the admin server
// starts. The fan-out consumer takes new items only, so a deployment that
// waits for /readyz before it publishes loses no delivery at the first
// start.
func (a *App) ExpectHubDeliveries() { a.probe.hubStarting.Store(true) }

// adminReadyz serves the admin server's /readyz. It returns 200 when the
// process is connected to NATS and the item stream responds, once the
// WebSub hub's consumers run in a process that sends deliveries, and once
// the feed views of a process that serves them have caught up with the
// stream. Otherwise it returns 503 with the reason.
func (a *App) adminReadyz(w http.ResponseWriter, r *http.Request) {
	if !a.Conn.IsConnected() {
		apierror.Write(w, http.StatusServiceUnavailable, "not_ready", "not connected to NATS", nil)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), readyStreamTimeout)
	defer cancel()
	if _, err := a.Stream.Info(ctx); err != nil {
		apierror.Write(w, http.StatusServiceUnavailable, "not_ready", "item stream unavailable: "+err.Error(), nil)
		return
	}
	if a.probe.hubStarting.Load() {
		apierror.Write(w, http.StatusServiceUnavailable, "not_ready", "WebSub deliveries are starting", nil)
		return
	}
	if v := a.probe.views.Load(); v != nil && !v.Ready() {
		apierror.Write(w, http.StatusServiceUnavailable, "not_ready", "feed views are still reading the stream", nil)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ready\n"))
}
