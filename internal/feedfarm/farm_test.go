package feedfarm

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
)

func startFarm(t *testing.T, o Options) *Farm {
	t.Helper()
	f, err := Start(o)
	if err != nil {
		t.Fatalf("starting farm: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := f.Close(ctx); err != nil {
			t.Errorf("closing farm: %v", err)
		}
	})
	return f
}

func get(t *testing.T, url, etag string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatalf("building request: %v", err)
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("fetching %s: %v", url, err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

func guids(t *testing.T, body []byte) []string {
	t.Helper()
	feed, err := gofeed.NewParser().ParseString(string(body))
	if err != nil {
		t.Fatalf("parsing farm document: %v", err)
	}
	var out []string
	for _, it := range feed.Items {
		out = append(out, it.GUID)
	}
	return out
}

func TestFarmServesEveryFeed(t *testing.T) {
	f := startFarm(t, Options{Feeds: 6, Items: 4, Hosts: 3})
	hosts := map[string]bool{}
	for i, u := range f.URLs() {
		resp := get(t, u, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("feed %d: status %d, want 200", i, resp.StatusCode)
		}
		hosts[strings.Split(u, "/")[2]] = true
		if got := len(guids(t, f.Bodies()[i])); got != 4 {
			t.Errorf("feed %d: %d items, want 4", i, got)
		}
	}
	if len(hosts) != 3 {
		t.Errorf("feeds spread over %d addresses, want 3", len(hosts))
	}
}

func TestFarmAnswersConditionalRequests(t *testing.T) {
	f := startFarm(t, Options{Feeds: 1, Items: 4, Hosts: 1})
	u := f.URLs()[0]
	etag := get(t, u, "").Header.Get("ETag")
	if etag == "" {
		t.Fatal("response has no ETag")
	}
	if got := get(t, u, etag).StatusCode; got != http.StatusNotModified {
		t.Errorf("status with current ETag = %d, want 304", got)
	}
	f.Slide(1)
	if got := get(t, u, etag).StatusCode; got != http.StatusOK {
		t.Errorf("status after slide with old ETag = %d, want 200", got)
	}
	if got := f.Stats().NotModified; got != 1 {
		t.Errorf("stats count %d 304 answers, want 1", got)
	}
}

func TestFarmSlideKeepsKnownItems(t *testing.T) {
	f := startFarm(t, Options{Feeds: 2, Items: 5, Hosts: 1})
	before := guids(t, f.Bodies()[1])
	f.Slide(2)
	after := guids(t, f.Bodies()[1])
	if len(after) != 5 {
		t.Fatalf("got %d items after slide, want 5", len(after))
	}
	if strings.Join(after[2:], " ") != strings.Join(before[:3], " ") {
		t.Errorf("items after slide %v do not continue %v", after, before)
	}
	if string(f.render(1, f.top)) != string(f.Bodies()[1]) {
		t.Error("rendering the same window twice gave different bytes")
	}
}
