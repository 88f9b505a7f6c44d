package workers

import (
	"errors"
	"net/http"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/syndic-network/syndic/pipeline"
)

// FuzzDecodeIntake checks that any body and Content-Type decode to either
// per-item outcomes or a client error, never a panic or a server error,
// and that every accepted item belongs to the token's partner.
func FuzzDecodeIntake(f *testing.F) {
	seeds := []struct{ contentType, body string }{
		{"application/json", `{"id":"n-1","title":"T","url":"https://p.example/1","content_html":"<p>x</p>"}`},
		{"application/json", `[{"id":"a","title":"A"},{"id":"a","title":"B"},{"title":"no id"}]`},
		{"application/json", `{"items":[{"id":"a","partner":"other","title":"A"}]}`},
		{"application/json", `{"id":"d","title":"x","date_published":"2026-11-30T09:00:00+01:00","attachments":[{"url":"a.mp3"}]}`},
		{"application/json", `[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`},
		{"application/json", "{\"id\":\"\xff\",\"title\":\"x\"}"},
		{"application/feed+json", `{"version":"https://jsonfeed.org/version/1.1","title":"F","items":[{"id":"1","content_text":"x"}]}`},
		{"application/feed+json", `{"version":"https://jsonfeed.org/version/1.1","title":5,"items":[{"id":1,"title":"n"},null,{"id":"t","tags":"x"},{"id":"a","title":"a","authors":[null]},{"id":"2","title":"ok"}]}`},
		{"application/rss+xml", `<rss version="2.0"><channel><title>R</title><item><guid>g</guid><title>I</title></item></channel></rss>`},
		{"application/atom+xml", `<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><entry><id>e</id><title>E</title></entry></feed>`},
		{"text/xml", `<!DOCTYPE rss [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><rss><channel><item><title>&b;</title></item></channel></rss>`},
		{"text/plain", `hello`},
		{"", ``},
	}
	for _, s := range seeds {
		f.Add(s.contentType, []byte(s.body))
	}
	src := pipeline.Source{Partner: "wipk", Feed: PushFeed, FeedURL: PushFeed, Language: "pl"}
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	const maxItems = 20
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		entries, err := decodeIntake(body, contentType, src, maxItems, now)
		if err != nil {
			var re *requestError
			if !errors.As(err, &re) {
				t.Fatalf("error %v is not a requestError", err)
			}
			switch re.Status {
			case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
			default:
				t.Fatalf("status %d for a bad body, want 400, 413 or 415", re.Status)
			}
			return
		}
		if len(entries) > maxItems {
			t.Fatalf("%d entries, more than the limit of %d", len(entries), maxItems)
		}
		for i, e := range entries {
			checkEntry(t, i, e)
		}
	})
}

func checkEntry(t *testing.T, i int, e intakeEntry) {
	t.Helper()
	if (e.Item == nil) == (len(e.Fields) == 0) {
		t.Fatalf("entry %d has item %v and fields %v, want exactly one", i, e.Item != nil, e.Fields)
	}
	if e.Item == nil {
		return
	}
	if e.Item.Partner != "wipk" || e.Item.Feed != PushFeed {
		t.Fatalf("entry %d source = %s/%s, want wipk/push", i, e.Item.Partner, e.Item.Feed)
	}
	if len(e.Item.ID) != 32 || e.Item.ContentHash == "" {
		t.Fatalf("entry %d lacks identity: id %q hash %q", i, e.Item.ID, e.Item.ContentHash)
	}
	for _, s := range []string{e.Item.Title, e.Item.Summary, e.Item.Content} {
		if !utf8.ValidString(s) {
			t.Fatalf("entry %d has invalid UTF-8", i)
		}
	}
}
