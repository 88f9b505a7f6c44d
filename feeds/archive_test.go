package feeds

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/feedcheck"
	"github.com/syndic-network/syndic/pipeline"
)

// memoryArchive is an ArchiveSource over a slice: events[i] has sequence
// i+1, and sequences below first are treated as deleted.
type memoryArchive struct {
	events []pipeline.Event
	first  uint64
	reads  atomic.Int32
	err    error
}

func (m *memoryArchive) Bounds(context.Context) (uint64, uint64, error) {
	if m.err != nil {
		return 0, 0, m.err
	}
	if len(m.events) == 0 {
		return 0, 0, nil
	}
	return max(m.first, 1), uint64(len(m.events)), nil
}

func (m *memoryArchive) Events(_ context.Context, from, to uint64) ([]pipeline.Event, error) {
	m.reads.Add(1)
	var out []pipeline.Event
	for seq := max(from, m.first, 1); seq <= to && seq <= uint64(len(m.events)); seq++ {
		out = append(out, m.events[seq-1])
	}
	return out, nil
}

// newArchiveHandler serves a channel "all" over eight events with pages of
// three stream messages, and returns the source and the view.
func newArchiveHandler(t *testing.T) (*handler, *memoryArchive, *View) {
	t.Helper()
	src := &memoryArchive{}
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range 8 {
		src.events = append(src.events, event(fmt.Sprintf("e%d", i+1), start.Add(time.Duration(i)*time.Hour)))
	}
	v := NewView(2)
	for _, ev := range src.events {
		v.Apply(ev)
	}
	h := NewHandler(HandlerOptions{
		View:            v,
		Channels:        []Channel{{ID: "all", Title: "Everything", MaxItems: 2}},
		BaseURL:         "https://hub.example.org",
		TagAuthority:    "hub.example.org,2026-12-04",
		Archive:         src,
		ArchivePageSize: 3,
	})
	return h.(*handler), src, v
}

func linkHref(links []testLink, rel string) string {
	for _, l := range links {
		if l.Rel == rel {
			return l.Href
		}
	}
	return ""
}

func TestArchiveCurrentFeedLinksNewestPage(t *testing.T) {
	h, _, _ := newArchiveHandler(t)
	atom := decodeAtom(t, serve(t, h, http.MethodGet, "/feeds/all.atom", nil).Body.Bytes())
	if got := linkHref(atom.Links, "prev-archive"); got != "https://hub.example.org/feeds/all/archive/2.atom" {
		t.Errorf("atom prev-archive = %q, want page 2", got)
	}
	rss := decodeRSS(t, serve(t, h, http.MethodGet, "/feeds/all.rss", nil).Body.Bytes())
	if got := linkHref(rss.Channel.AtomLinks, "prev-archive"); got != "https://hub.example.org/feeds/all/archive/2.rss" {
		t.Errorf("rss prev-archive = %q, want page 2", got)
	}
	json := serve(t, h, http.MethodGet, "/feeds/all.json", nil).Body.String()
	if !strings.Contains(json, `"next_url": "https://hub.example.org/feeds/all/archive/2.json"`) {
		t.Errorf("json feed lacks next_url to page 2:\n%s", json)
	}
	narrowed := decodeAtom(t, serve(t, h, http.MethodGet, "/feeds/all.atom?q=title", nil).Body.Bytes())
	if got := linkHref(narrowed.Links, "prev-archive"); got != "" {
		t.Errorf("narrowed feed prev-archive = %q, want none", got)
	}
}

func TestArchivePageLinksAndEntries(t *testing.T) {
	h, _, _ := newArchiveHandler(t)
	tests := []struct {
		name     string
		page     string
		wantPrev string
		wantNext string
		wantIDs  []string
	}{
		{"newest page", "2", "https://hub.example.org/feeds/all/archive/1.atom", "", []string{"e6", "e5", "e4"}},
		{"oldest page", "1", "", "https://hub.example.org/feeds/all/archive/2.atom", []string{"e3", "e2", "e1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(t, h, http.MethodGet, "/feeds/all/archive/"+tt.page+".atom", nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200: %s", rec.Code, rec.Body)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "public, max-age=86400" {
				t.Errorf("Cache-Control = %q, want cacheable for a day", cc)
			}
			body := rec.Body.Bytes()
			if !strings.Contains(string(body), `xmlns:fh="http://purl.org/syndication/history/1.0"`) || !strings.Contains(string(body), "<fh:archive>") {
				t.Error("archive page lacks fh:archive")
			}
			d := decodeAtom(t, body)
			if got := linkHref(d.Links, "prev-archive"); got != tt.wantPrev {
				t.Errorf("prev-archive = %q, want %q", got, tt.wantPrev)
			}
			if got := linkHref(d.Links, "next-archive"); got != tt.wantNext {
				t.Errorf("next-archive = %q, want %q", got, tt.wantNext)
			}
			if got := linkHref(d.Links, "current"); got != "https://hub.example.org/feeds/all.atom" {
				t.Errorf("current = %q, want the channel feed", got)
			}
			if got := linkHref(d.Links, "self"); got != "https://hub.example.org/feeds/all/archive/"+tt.page+".atom" {
				t.Errorf("self = %q, want the page URL", got)
			}
			var got []string
			for _, e := range d.Entries {
				got = append(got, strings.TrimPrefix(e.ID, "tag:hub.example.org,2026-12-04:"))
			}
			if strings.Join(got, ",") != strings.Join(tt.wantIDs, ",") {
				t.Errorf("entries = %v, want %v", got, tt.wantIDs)
			}
			feedcheck.CheckAtom(t, body)
		})
	}
}

func TestArchivePagesPassValidators(t *testing.T) {
	h, _, _ := newArchiveHandler(t)
	feedcheck.CheckRSS(t, serve(t, h, http.MethodGet, "/feeds/all/archive/1.rss", nil).Body.Bytes())
	feedcheck.CheckJSONFeed(t, serve(t, h, http.MethodGet, "/feeds/all/archive/1.json", nil).Body.Bytes())
	feedcheck.CheckAtom(t, serve(t, h, http.MethodGet, "/feeds/all.atom", nil).Body.Bytes())
	feedcheck.CheckRSS(t, serve(t, h, http.MethodGet, "/feeds/all.rss", nil).Body.Bytes())
}

func TestArchivePageNotFound(t *testing.T) {
	h, src, _ := newArchiveHandler(t)
	tests := []struct {
		name string
		path string
	}{
		{"incomplete page", "/feeds/all/archive/3.atom"},
		{"page zero", "/feeds/all/archive/0.atom"},
		{"leading zero", "/feeds/all/archive/01.atom"},
		{"not a number", "/feeds/all/archive/x.atom"},
		{"unknown format", "/feeds/all/archive/1.xml"},
		{"unknown channel", "/feeds/none/archive/1.atom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if rec := serve(t, h, http.MethodGet, tt.path, nil); rec.Code != http.StatusNotFound {
				t.Errorf("status = %d, want 404", rec.Code)
			}
		})
	}
	t.Run("page removed from the stream", func(t *testing.T) {
		src.first = 4
		if rec := serve(t, h, http.MethodGet, "/feeds/all/archive/1.atom", nil); rec.Code != http.StatusNotFound {
			t.Errorf("status = %d, want 404", rec.Code)
		}
		d := decodeAtom(t, serve(t, h, http.MethodGet, "/feeds/all/archive/2.atom", nil).Body.Bytes())
		if got := linkHref(d.Links, "prev-archive"); got != "" {
			t.Errorf("prev-archive = %q, want none once page 1 is gone", got)
		}
	})
}

func TestArchivePageStableWhenNewsArrives(t *testing.T) {
	h, _, v := newArchiveHandler(t)
	first := serve(t, h, http.MethodGet, "/feeds/all/archive/1.atom", nil)
	v.Apply(event("later", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)))
	again := serve(t, h, http.MethodGet, "/feeds/all/archive/1.atom", map[string]string{"If-None-Match": first.Header().Get("ETag")})
	if again.Code != http.StatusNotModified {
		t.Errorf("status after a view change = %d, want 304", again.Code)
	}
}

func TestArchivePageDropsRetractedItem(t *testing.T) {
	h, src, v := newArchiveHandler(t)
	before := serve(t, h, http.MethodGet, "/feeds/all/archive/1.atom", nil).Body.String()
	if !strings.Contains(before, ":e2</id>") {
		t.Fatalf("page 1 lacks item e2 before the retraction:\n%s", before)
	}
	v.Apply(revision(src.events[1], 2, pipeline.KindRetracted, ""))
	after := serve(t, h, http.MethodGet, "/feeds/all/archive/1.atom", nil).Body.String()
	if strings.Contains(after, ":e2</id>") {
		t.Errorf("page 1 still lists item e2 after its retraction:\n%s", after)
	}
	if !strings.Contains(after, ":e1</id>") {
		t.Errorf("page 1 lost item e1, which was not retracted")
	}
}

func TestArchivePageKeepsLastRevision(t *testing.T) {
	h, src, _ := newArchiveHandler(t)
	src.events[2] = revision(src.events[0], 2, pipeline.KindUpdated, "Changed title")
	d := decodeAtom(t, serve(t, h, http.MethodGet, "/feeds/all/archive/1.atom", nil).Body.Bytes())
	if len(d.Entries) != 2 {
		t.Fatalf("entries = %d, want 2", len(d.Entries))
	}
	var titles []string
	for _, e := range d.Entries {
		titles = append(titles, e.Title)
	}
	if !strings.Contains(strings.Join(titles, "|"), "Changed title") {
		t.Errorf("titles = %v, want the second revision", titles)
	}
}

func TestArchiveSourceFailure(t *testing.T) {
	h, src, _ := newArchiveHandler(t)
	src.err = errors.New("stream unavailable")
	if rec := serve(t, h, http.MethodGet, "/feeds/all/archive/1.atom", nil); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("archive status = %d, want 503", rec.Code)
	}
	rec := serve(t, h, http.MethodGet, "/feeds/all.atom", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("feed status = %d, want 200", rec.Code)
	}
	if got := linkHref(decodeAtom(t, rec.Body.Bytes()).Links, "prev-archive"); got != "" {
		t.Errorf("prev-archive = %q, want none while the archive fails", got)
	}
}

func TestArchiveNoFullPageMessage(t *testing.T) {
	h, src, _ := newArchiveHandler(t)
	src.events = src.events[:2]
	rec := serve(t, h, http.MethodGet, "/feeds/all/archive/1.atom", nil)
	if rec.Code != http.StatusNotFound {
		t.Fatalf("status = %d, want 404", rec.Code)
	}
	body := rec.Body.String()
	if !strings.Contains(body, "no full archive page yet") || !strings.Contains(body, "/feeds/all.atom") {
		t.Errorf("body = %s, want it to say there is no page yet and name the current feed", body)
	}
	if strings.Contains(body, "from 1 to 0") {
		t.Errorf("body = %s, want no empty page range", body)
	}
}
