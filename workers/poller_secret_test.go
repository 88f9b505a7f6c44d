package workers_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/pipeline"
)

func TestPollKeepsFeedCredentialsOutOfLogs(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<!doctype html><html><body>login</body></html>"))
	}))
	t.Cleanup(srv.Close)
	feedURL := strings.Replace(srv.URL, "http://", "http://reader:s3cretpw@", 1) + "/feed?token=t0kenvalue&lang=pl"
	logs := &lockedBuffer{}
	env := newLoggedPollEnv(t, feedURL,
		func(js jetstream.JetStream) pipeline.Publisher { return js },
		slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))

	rep := env.poller.Poll(t.Context(), env.feed)
	if rep.Err == nil {
		t.Fatal("poll of an HTML page succeeded, want a parse error")
	}
	out := logs.String()
	if !strings.Contains(out, "lang=pl") {
		t.Errorf("log lacks the feed URL:\n%s", out)
	}
	for _, secret := range []string{"s3cretpw", "t0kenvalue"} {
		if strings.Contains(rep.Err.Error(), secret) {
			t.Errorf("poll error contains %q: %v", secret, rep.Err)
		}
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
}
