package feeds

import (
	"strings"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/feedcheck"
	"github.com/syndic-network/syndic/pipeline"
)

// TestTwoDigitYearDates pins the fault where a feed writer used Go's
// time.RFC822 layout ("22 Nov 15 06:27 UTC"), which validators reject.
func TestTwoDigitYearDates(t *testing.T) {
	v := NewView(10)
	for _, ev := range loadEvents(t, "two-digit-year-dates.json") {
		v.Apply(ev)
	}
	entries := v.Entries(Filter{}, 0)
	m := testMeta()

	rssDoc := mustRender(t, RenderRSS, m, entries)
	feedcheck.CheckRSS(t, rssDoc)
	atomDoc := mustRender(t, RenderAtom, m, entries)
	feedcheck.CheckAtom(t, atomDoc)
	jsonDoc := mustRender(t, RenderJSON, m, entries)
	feedcheck.CheckJSONFeed(t, jsonDoc)

	for _, doc := range [][]byte{rssDoc, atomDoc, jsonDoc} {
		for _, bad := range []string{"Nov 15 ", "0001"} {
			if strings.Contains(string(doc), bad) {
				t.Errorf("output contains %q:\n%s", bad, doc)
			}
		}
	}

	rss := decodeRSS(t, rssDoc)
	atom := decodeAtom(t, atomDoc)
	json := decodeJSON(t, jsonDoc)
	tests := []struct {
		name       string
		id         string
		wantRSS    string
		wantAtom   string
		wantUpdate string
	}{
		{"UTC date keeps its instant", "date-utc", "Sun, 22 Nov 2015 06:27:00 +0000", "2015-11-22T06:27:00Z", "2015-11-22T06:27:00Z"},
		{"offset date becomes the same instant in UTC", "date-offset", "Sun, 22 Nov 2015 07:05:09 +0000", "2015-11-22T07:05:09Z", "2015-11-22T07:05:09Z"},
		{"first-seen date is still emitted", "date-first-seen", "Sun, 22 Nov 2015 05:00:00 +0000", "2015-11-22T05:00:00Z", "2015-11-22T05:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := indexOf(t, entries, tt.id)
			if got := rss.Channel.Items[i].PubDate; got == nil || *got != tt.wantRSS {
				t.Errorf("rss pubDate = %v, want %q", got, tt.wantRSS)
			}
			if got := atom.Entries[i].Published; got != tt.wantAtom {
				t.Errorf("atom published = %q, want %q", got, tt.wantAtom)
			}
			if got := atom.Entries[i].Updated; got != tt.wantUpdate {
				t.Errorf("atom updated = %q, want %q", got, tt.wantUpdate)
			}
			if got := json.Items[i].DatePublished; got != tt.wantAtom {
				t.Errorf("json date_published = %q, want %q", got, tt.wantAtom)
			}
		})
	}
}

// TestRSSWithoutPubDate checks that an undated entry gets no pubDate
// rather than the zero time ("Mon, 01 Jan 0001").
func TestRSSWithoutPubDate(t *testing.T) {
	ev := event("undated", time.Time{})
	doc := mustRender(t, RenderRSS, testMeta(), []pipeline.Event{ev})
	feedcheck.CheckRSS(t, doc)
	if got := decodeRSS(t, doc).Channel.Items[0].PubDate; got != nil {
		t.Errorf("pubDate = %q, want none", *got)
	}
}

// TestControlCharacterInTitle pins the fault where one pushed title with
// U+001D made a whole merged RSS feed unparseable.
func TestControlCharacterInTitle(t *testing.T) {
	v := NewView(10)
	for _, ev := range loadEvents(t, "control-character-title.json") {
		v.Apply(ev)
	}
	entries := v.Entries(Filter{}, 0)
	const wantTitle = "Episode 12  Final Batch"
	const wantContent = "<p>Release notes with odd bytes</p>"

	t.Run("rss", func(t *testing.T) {
		doc := mustRender(t, RenderRSS, testMeta(), entries)
		feedcheck.CheckRSS(t, doc)
		it := decodeRSS(t, doc).Channel.Items[0]
		if it.Title != wantTitle {
			t.Errorf("title = %q, want %q", it.Title, wantTitle)
		}
		if it.Encoded != wantContent {
			t.Errorf("content:encoded = %q, want %q", it.Encoded, wantContent)
		}
	})
	t.Run("atom", func(t *testing.T) {
		doc := mustRender(t, RenderAtom, testMeta(), entries)
		feedcheck.CheckAtom(t, doc)
		e := decodeAtom(t, doc).Entries[0]
		if e.Title != wantTitle {
			t.Errorf("title = %q, want %q", e.Title, wantTitle)
		}
		if e.Content.Body != wantContent {
			t.Errorf("content = %q, want %q", e.Content.Body, wantContent)
		}
	})
	t.Run("json", func(t *testing.T) {
		doc := mustRender(t, RenderJSON, testMeta(), entries)
		feedcheck.CheckJSONFeed(t, doc)
		it := decodeJSON(t, doc).Items[0]
		if it.Title != wantTitle {
			t.Errorf("title = %q, want %q", it.Title, wantTitle)
		}
		if it.ContentHTML != wantContent {
			t.Errorf("content_html = %q, want %q", it.ContentHTML, wantContent)
		}
	})
}
