package feeds

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/syndic-network/syndic/internal/apierror"
)

func TestParseFeedQueryNormalises(t *testing.T) {
	tests := []struct {
		name    string
		query   string
		wantKey string
	}{
		{"no parameters select the channel", "", ""},
		{"unknown parameters are ignored", "_=12345&utm_source=x", ""},
		{"languages fold and sort", "lang=PL,en-gb&lang=pl", "lang=en-gb&lang=pl"},
		{"partners sort without repeats", "partner=wipk,abc&partner=abc", "partner=abc&partner=wipk"},
		{"categories fold", "category=Export&category=export", "category=export"},
		{"words fold and sort", "q=Trade%20%20FAIR", "q=fair+trade"},
		{"limit below the cap is kept", "limit=50", "limit=50"},
		{"limit at the cap changes nothing", "limit=100", ""},
		{"limit above the cap changes nothing", "limit=5000", ""},
		{"parameters sort by name", "q=x&lang=pl&partner=wipk&category=a&limit=5", "category=a&lang=pl&limit=5&partner=wipk&q=x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatalf("parsing %q: %v", tt.query, err)
			}
			q, problems := parseFeedQuery(values, 100)
			if problems != nil {
				t.Fatalf("problems = %v, want none", problems)
			}
			if q.key != tt.wantKey {
				t.Errorf("key = %q, want %q", q.key, tt.wantKey)
			}
		})
	}
}

func TestParseFeedQueryRejects(t *testing.T) {
	tooMany := strings.TrimSuffix(strings.Repeat("pl,", maxQueryValues+1), ",")
	tests := []struct {
		name  string
		query string
		field string
	}{
		{"language with spaces", "lang=p%20l", "lang"},
		{"empty language in a list", "lang=pl,,en", "lang"},
		{"too many languages", "lang=" + tooMany, "lang"},
		{"language name, not a code", "lang=english", "lang"},
		{"one-letter language", "lang=e", "lang"},
		{"partner with capitals", "partner=WIPK", "partner"},
		{"partner too long", "partner=" + strings.Repeat("a", 33), "partner"},
		{"empty category", "category=", "category"},
		{"category with a control character", "category=a%01b", "category"},
		{"category too long", "category=" + strings.Repeat("a", maxQueryValueBytes+1), "category"},
		{"blank search", "q=%20", "q"},
		{"too many words", "q=" + strings.Repeat("w%20", maxQueryTerms+1), "q"},
		{"invalid utf-8 in search", "q=%ff", "q"},
		{"limit not a number", "limit=ten", "limit"},
		{"limit zero", "limit=0", "limit"},
		{"limit negative", "limit=-5", "limit"},
		{"limit repeated", "limit=5&limit=6", "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatalf("parsing %q: %v", tt.query, err)
			}
			_, problems := parseFeedQuery(values, 100)
			if problems[tt.field] == "" {
				t.Errorf("problems = %v, want one for %s", problems, tt.field)
			}
		})
	}
}

func TestParseFeedQueryNamesTheFix(t *testing.T) {
	tests := []struct {
		name, query, field, want string
	}{
		{"invalid utf-8 in search", "q=%ff%fe", "q", invalidTextFix},
		{"nul byte in search", "q=a%00b", "q", invalidTextFix},
		{"long search", "q=" + strings.Repeat("a", maxQueryValueBytes+1), "q", "use at most 200 bytes of text"},
		{"invalid utf-8 in category", "category=%ff", "category", invalidTextFix},
		{"nul byte in category", "category=a%00b", "category", invalidTextFix},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatalf("parsing %q: %v", tt.query, err)
			}
			_, problems := parseFeedQuery(values, 100)
			if got := problems[tt.field]; got != tt.want {
				t.Errorf("problems[%s] = %q, want %q", tt.field, got, tt.want)
			}
		})
	}
}

func TestHandlerQueryNarrowsChannel(t *testing.T) {
	h, _ := newTestHandler(t)
	tests := []struct {
		name    string
		query   string
		wantIDs []string
	}{
		{"language selects entries", "lang=fr", []string{"it-1002"}},
		{"language matches subtags", "lang=en", []string{"it-1001", "it-1003"}},
		{"partner selects entries", "partner=northwind", []string{"it-1001", "it-1003"}},
		{"category ignores case", "category=PODCAST", []string{"it-1002"}},
		{"search matches title words", "q=harbour", []string{"it-1001"}},
		{"search needs every word", "q=harbour+water", nil},
		{"limit keeps the newest", "limit=1", []string{"it-1001"}},
		{"parameters combine with and", "partner=northwind&category=transport", []string{"it-1001"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(t, h, http.MethodGet, "/feeds/all.json?"+tt.query, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200: %s", rec.Code, rec.Body)
			}
			var got []string
			for _, it := range decodeJSON(t, rec.Body.Bytes()).Items {
				got = append(got, strings.TrimPrefix(it.ID, "tag:hub.example.org,2026-12-04:"))
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.wantIDs) {
				t.Errorf("items = %v, want %v", got, tt.wantIDs)
			}
		})
	}
}

func TestHandlerQueryFeedIdentity(t *testing.T) {
	h, _ := newTestHandler(t)
	rec := serve(t, h, http.MethodGet, "/feeds/all.atom?partner=northwind&lang=EN&utm_source=widget", nil)
	d := decodeAtom(t, rec.Body.Bytes())
	wantSelf := "https://hub.example.org/feeds/all.atom?lang=en&partner=northwind"
	if !hasLink(d.Links, "self", wantSelf) {
		t.Errorf("links = %+v, want self %s", d.Links, wantSelf)
	}
	if d.ID != "tag:hub.example.org,2026-12-04:feeds/all?lang=en&partner=northwind" {
		t.Errorf("feed id = %q, want the channel id with the normalised query", d.ID)
	}
	base := serve(t, h, http.MethodGet, "/feeds/all.atom", nil)
	if decodeAtom(t, base.Body.Bytes()).ID == d.ID {
		t.Error("narrowed feed shares the channel's feed id")
	}
}

func TestHandlerQueryIgnoresUnknownParameters(t *testing.T) {
	h, _ := newTestHandler(t)
	plain := serve(t, h, http.MethodGet, "/feeds/all.rss", nil)
	busted := serve(t, h, http.MethodGet, "/feeds/all.rss?_=1733300000", nil)
	if plain.Header().Get("ETag") != busted.Header().Get("ETag") {
		t.Errorf("ETag with cache buster = %s, want %s", busted.Header().Get("ETag"), plain.Header().Get("ETag"))
	}
}

func TestHandlerQueryInvalidValues(t *testing.T) {
	h, _ := newTestHandler(t)
	rec := serve(t, h, http.MethodGet, "/feeds/all.rss?limit=0&lang=not%20a%20tag&partner=ok", nil)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var body apierror.Body
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("decoding error body: %v", err)
	}
	if body.Error.Code != "invalid_query" {
		t.Errorf("code = %q, want invalid_query", body.Error.Code)
	}
	for _, field := range []string{"limit", "lang"} {
		if body.Error.Fields[field] == "" {
			t.Errorf("fields = %v, want an entry for %s", body.Error.Fields, field)
		}
	}
	if _, ok := body.Error.Fields["partner"]; ok {
		t.Errorf("fields = %v, want no entry for the valid partner", body.Error.Fields)
	}
}

func TestHandlerQueryCacheIsBounded(t *testing.T) {
	v := NewView(100)
	for _, ev := range loadEvents(t, "events.json") {
		v.Apply(ev)
	}
	served := NewHandler(HandlerOptions{
		View:           v,
		Channels:       []Channel{{ID: "all", Title: "Everything", MaxItems: 100}},
		BaseURL:        "https://hub.example.org",
		TagAuthority:   "hub.example.org,2026-12-04",
		QueryCacheSize: 4,
	})
	h := served.(*handler)
	base := serve(t, h, http.MethodGet, "/feeds/all.atom", nil)
	for i := range 50 {
		rec := serve(t, h, http.MethodGet, fmt.Sprintf("/feeds/all.atom?q=word%d", i), nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("query %d: status = %d, want 200", i, rec.Code)
		}
	}
	if n := h.cache.queryLen(); n != 4 {
		t.Errorf("cached query documents = %d, want 4", n)
	}
	if n := len(h.cache.entries); n != 1 {
		t.Errorf("cached channel documents = %d, want 1", n)
	}
	again := serve(t, h, http.MethodGet, "/feeds/all.atom", map[string]string{"If-None-Match": base.Header().Get("ETag")})
	if again.Code != http.StatusNotModified {
		t.Errorf("channel document after 50 queries: status = %d, want 304", again.Code)
	}
}

func TestHandlerQueryDocumentInvalidated(t *testing.T) {
	h, v := newTestHandler(t)
	first := serve(t, h, http.MethodGet, "/feeds/all.json?partner=northwind", nil)
	fresh := event("fresh", mustTime(t, "2026-12-02T00:00:00Z"))
	v.Apply(fresh)
	after := serve(t, h, http.MethodGet, "/feeds/all.json?partner=northwind", map[string]string{"If-None-Match": first.Header().Get("ETag")})
	if after.Code != http.StatusOK {
		t.Fatalf("status after Apply = %d, want 200", after.Code)
	}
	if !strings.Contains(after.Body.String(), ":fresh") {
		t.Error("narrowed document after Apply lacks the new entry")
	}
}

func TestHandlerQueryBusyAnswers503(t *testing.T) {
	h := NewHandler(HandlerOptions{
		View:     NewView(10),
		Channels: []Channel{{ID: "all", Title: "All", MaxItems: 10}},
		BaseURL:  "https://hub.example.org",
	}).(*handler)
	for range cap(h.querySlots) {
		h.querySlots <- struct{}{}
	}
	rec := serve(t, h, http.MethodGet, "/feeds/all.json?q=word", nil)
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status with every query slot taken = %d, want 503", rec.Code)
	}
	if got := rec.Header().Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want 1", got)
	}
	if rec := serve(t, h, http.MethodGet, "/feeds/all.json", nil); rec.Code != http.StatusOK {
		t.Errorf("channel feed without a query = %d while slots are taken, want 200", rec.Code)
	}
}
