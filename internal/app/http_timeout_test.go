package app

import (
	"net/http"
	"testing"
	"time"
)

func TestServerTimeoutsBoundClients(t *testing.T) {
	srv := newServer(http.NotFoundHandler())
	checks := []struct {
		name string
		got  time.Duration
	}{
		{"ReadHeaderTimeout", srv.ReadHeaderTimeout},
		{"ReadTimeout", srv.ReadTimeout},
		{"WriteTimeout", srv.WriteTimeout},
		{"IdleTimeout", srv.IdleTimeout},
	}
	for _, c := range checks {
		if c.got <= 0 {
			t.Errorf("%s = %v, want a positive bound so a stalled client is dropped", c.name, c.got)
		}
	}
	// An intake request publishes up to push.max_items items and waits
	// for each acknowledgement before it responds, so a much shorter write
	// timeout would cut its response while NATS is slow.
	if srv.WriteTimeout < time.Minute {
		t.Errorf("WriteTimeout = %v, want at least 1m for the slowest handlers", srv.WriteTimeout)
	}
}
