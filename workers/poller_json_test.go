package workers_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/pipeline"
	"github.com/syndic-network/syndic/workers"
)

// jsonFeedNumberID is a JSON Feed of five items. Item 2 has a number for
// its id, which JSON Feed 1.1 readers turn into a string, and item 3 a
// string for its tags, which makes it unreadable.
const jsonFeedNumberID = `{"version":"https://jsonfeed.org/version/1.1","title":"Wire","home_page_url":"https://partner.example/",
"items":[
{"id":"j-1","url":"https://partner.example/j/1","title":"First","content_text":"One."},
{"id":"j-2","url":"https://partner.example/j/2","title":"Second","content_text":"Two."},
{"id":12345,"url":"https://partner.example/j/12345","title":"Numbered","content_text":"Three."},
{"id":"j-4","url":"https://partner.example/j/4","title":"Fourth","content_text":"Four.","tags":"notalist"},
{"id":"j-5","url":"https://partner.example/j/5","title":"Fifth","content_text":"Five."}
]}`

func TestPollJSONFeedRejectsBadItemsOnly(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/feed+json")
		_, _ = w.Write([]byte(jsonFeedNumberID))
	}))
	t.Cleanup(srv.Close)
	logs := &lockedBuffer{}
	env := newLoggedPollEnv(t, srv.URL+"/feed.json",
		func(js jetstream.JetStream) pipeline.Publisher { return js },
		slog.New(slog.NewTextHandler(logs, nil)))

	rep := env.poller.Poll(t.Context(), env.feed)
	if rep.Err != nil {
		t.Fatalf("poll error = %v, want the document accepted", rep.Err)
	}
	if rep.Class != "new_content" {
		t.Errorf("class = %q, want new_content", rep.Class)
	}
	if rep.New != 4 {
		t.Errorf("new items = %d, want 4", rep.New)
	}
	if rep.Rejected != 1 {
		t.Errorf("rejected items = %d, want 1", rep.Rejected)
	}
	if n := env.msgs(t); n != 4 {
		t.Errorf("stream has %d events, want 4", n)
	}
	out := logs.String()
	want := `item_guid=j-4 item_index=3 error="invalid item: \"tags\" must be an array, got a string"`
	if !strings.Contains(out, want) {
		t.Errorf("log lacks %s:\n%s", want, out)
	}
	if strings.Contains(out, "item_guid=12345") {
		t.Errorf("log names the item with a number id, which is valid:\n%s", out)
	}
	health, err := env.poller.Health(t.Context(), []workers.Feed{env.feed})
	if err != nil {
		t.Fatalf("reading feed health: %v", err)
	}
	if health[0].Status != workers.StatusOK {
		t.Errorf("feed status = %q, want %q", health[0].Status, workers.StatusOK)
	}
	if !slices.Contains(health[0].Warnings, workers.WarningItemsRejected) {
		t.Errorf("feed warnings = %q, want %q", health[0].Warnings, workers.WarningItemsRejected)
	}
}
