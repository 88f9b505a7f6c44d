package feeds

import (
	"net/http"

	"github.com/syndic-network/syndic/internal/apierror"
)

// notReadyRetryAfter is the Retry-After value, in seconds, sent while the
// View catches up with the stream. Start-up reads at most feeds.window
// events into memory, an estimated few seconds for the default window, so
// a reader retries soon after the View is ready without polling in a tight
// loop.
const notReadyRetryAfter = "2"

// writeNotReady sends 503 and returns true while HandlerOptions.Ready
// reports false. A document built from a half-read View would lack items,
// and readers and shared caches would keep it for its max-age, so nothing
// is rendered or cached until the View is ready.
func (h *handler) writeNotReady(w http.ResponseWriter) bool {
	if h.opts.Ready == nil || h.opts.Ready() {
		return false
	}
	w.Header().Set("Retry-After", notReadyRetryAfter)
	w.Header().Set("Cache-Control", "no-store")
	apierror.Write(w, http.StatusServiceUnavailable, "not_ready",
		"the feeds are still loading the item stream; retry in a few seconds", nil)
	return true
}
