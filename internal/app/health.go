package app

import (
	"net/http"

	"github.com/syndic-network/syndic/internal/apierror"
	"github.com/syndic-network/syndic/workers"
)

// feedHealthList is the body of GET /api/v1/feeds.
type feedHealthList struct {
	// Failing counts the feeds that need attention (gone, flagged or
	// failing); they come first in Feeds.
	Failing int                  `json:"failing"`
	Total   int                  `json:"total"`
	Feeds   []workers.FeedHealth `json:"feeds"`
}

// feedHealth serves GET /api/v1/feeds on the admin address: the health of
// every feed of the configuration in effect, from the shared fetch state,
// failing feeds first. The admin handler is built once, so it reads the
// configuration on every request to follow reloads.
func (a *App) feedHealth(w http.ResponseWriter, r *http.Request) {
	feeds := a.withConfig(a.configInEffect()).Feeds()
	rows, err := a.Poller.Health(r.Context(), feeds)
	if err != nil {
		a.Log.Warn("reading feed health failed", "error", err)
		apierror.Write(w, http.StatusServiceUnavailable, "state_unavailable",
			"the fetch state store cannot be read; check the Redis or NATS connection", nil)
		return
	}
	writeHealthList(w, a, rows)
}
