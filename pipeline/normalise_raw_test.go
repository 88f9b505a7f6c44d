package pipeline

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestCutRawHTML(t *testing.T) {
	cases := []struct {
		name        string
		in          string
		bytes, tags int
		want        string
		wantCut     bool
	}{
		{"within both bounds", "<p>a &amp; b</p>", 16, 2, "<p>a &amp; b</p>", false},
		{"cut before a tag", "<p>one</p><p>two</p>", 12, 10, "<p>one</p>", true},
		{"cut at the tag bound", "<a><a><a><a>", 100, 3, "<a><a><a>", true},
		{"cut before a space", "<p>one two three", 12, 10, "<p>one two", true},
		{"never inside a reference", "<p>fish &amp; chips", 12, 10, "<p>fish", true},
		{"cut inside a tag", `<p>x</p><a href="/a b">`, 20, 10, `<p>x</p><a href="/a`, true},
		{"rune boundary without spaces", "ąąąą", 3, 10, "ą", true},
		{"before a split reference", "abc&amp;def", 6, 10, "abc", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, cut := cutRawHTML(c.in, c.bytes, c.tags)
			if got != c.want {
				t.Errorf("cutRawHTML(%q, %d, %d) = %q, want %q", c.in, c.bytes, c.tags, got, c.want)
			}
			if cut != c.wantCut {
				t.Errorf("cutRawHTML(%q, %d, %d) cut = %v, want %v", c.in, c.bytes, c.tags, cut, c.wantCut)
			}
		})
	}
}

// anchorItem returns an item whose content is n empty <a> tags, the
// shape of a feed that a hostile partner sent, then a paragraph that
// lies past the bounds.
func anchorItem(n int) Item {
	return Item{
		GUID:    "https://hostile.example/1",
		URL:     "https://hostile.example/1",
		Title:   "Anchors",
		Content: "<p>Start.</p>" + strings.Repeat("<a>", n) + "<p>Past the bound.</p>",
	}
}

// TestNormaliseManyTagsBounded checks that normalising content of far
// more tags than maxRawHTMLTags allocates an amount bounded by the kept
// part, not by the whole content. Before the bound, 400,000 tags (1.2
// MB) allocated 415 MiB.
func TestNormaliseManyTagsBounded(t *testing.T) {
	it := anchorItem(400_000)
	src := Source{Partner: "hostile", Feed: "news"}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	warnings, err := NormaliseItemWarnings(&it, src, time.Now())
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatalf("normalising: %v", err)
	}
	const budget = 128 << 20
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > budget {
		t.Errorf("normalising allocated %d MiB, want at most %d MiB", allocated>>20, budget>>20)
	}
	if !strings.HasSuffix(it.Content, truncationNote) {
		t.Errorf("content ends %q, want the truncation note %q", it.Content[max(0, len(it.Content)-40):], truncationNote)
	}
	if strings.Contains(it.Content, "Past the bound") {
		t.Errorf("content keeps the paragraph past the tag bound")
	}
	if warnings["content"] == "" {
		t.Errorf("warnings = %v, want one for content", warnings)
	}
}

// TestNormaliseLongTitleBounded checks that a title of megabytes of
// markup is read only to maxRawTitleBytes.
func TestNormaliseLongTitleBounded(t *testing.T) {
	it := Item{URL: "https://hostile.example/2", Title: "Start " + strings.Repeat("<b>x</b> ", 1_000_000)}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := NormaliseItem(&it, Source{Partner: "hostile"}, time.Now())
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatalf("normalising: %v", err)
	}
	const budget = 16 << 20
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > budget {
		t.Errorf("normalising allocated %d MiB, want at most %d MiB", allocated>>20, budget>>20)
	}
	if !strings.HasPrefix(it.Title, "Start x x") {
		t.Errorf("title = %.40q, want it to start with the title text", it.Title)
	}
}

// TestRawBoundsKeepFixtureItems checks that the bounds change no item of
// the feeds under testdata, whose markup lies within them: every field,
// the content hash, language and image included.
func TestRawBoundsKeepFixtureItems(t *testing.T) {
	names, err := filepath.Glob("testdata/*.*")
	if err != nil {
		t.Fatalf("listing fixtures: %v", err)
	}
	for _, path := range names {
		name := filepath.Base(path)
		if name == "not-a-feed.html" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			bounded := fixtureItemsJSON(t, name)
			saved := rawLimits
			rawLimits.htmlBytes, rawLimits.htmlTags, rawLimits.titleBytes = math.MaxInt, math.MaxInt, math.MaxInt
			t.Cleanup(func() { rawLimits = saved })
			unbounded := fixtureItemsJSON(t, name)
			if bounded != unbounded {
				t.Errorf("items with bounds:\n%s\nwithout bounds:\n%s", bounded, unbounded)
			}
		})
	}
}

// fixtureItemsJSON returns the items ParseFeed makes of a fixture, with
// the memos emptied first, as JSON, or the error it returns.
func fixtureItemsJSON(t *testing.T, name string) string {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("reading fixture: %v", err)
	}
	ResetMemos()
	src := Source{Partner: "partner", Feed: "news", FeedURL: "https://feeds.example.org/" + name, Language: "en"}
	res, err := ParseFeed(body, "", src, fetchTime)
	if err != nil {
		return "error: " + err.Error()
	}
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		t.Fatalf("encoding items: %v", err)
	}
	return string(data)
}

// TestRawBoundsTestdataSmall checks that the comparison above means
// something: the fixtures' markup is within the bounds.
func TestRawBoundsTestdataSmall(t *testing.T) {
	names, err := filepath.Glob("testdata/*.*")
	if err != nil {
		t.Fatalf("listing fixtures: %v", err)
	}
	for _, path := range names {
		body, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("reading %s: %v", path, err)
		}
		if len(body) > maxRawTitleBytes {
			t.Errorf("%s has %d bytes, more than the title bound", path, len(body))
		}
	}
}
