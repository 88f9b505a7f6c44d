package pipeline

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var memoSource = Source{Partner: "wipk", Feed: "news", FeedURL: "https://partner.example/rss", Language: "pl"}

// parseWithMemo parses before with an empty memo at fetchTime, then after
// with the memo that gave, an hour later. It completes every item the
// memo supplied and checks the result against ParseFeed of after at the
// same time, field by field. It returns how many items came from the memo.
func parseWithMemo(t *testing.T, name string, before, after []byte, src, srcAfter Source) int {
	t.Helper()
	later := fetchTime.Add(time.Hour)
	first, err := ParseFeedMemo(before, "", src, fetchTime, nil)
	if err != nil {
		return 0
	}
	got, err := ParseFeedMemo(after, "", srcAfter, later, first.Memo)
	want, wantErr := ParseFeed(after, "", srcAfter, later)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("%s: with memo err %v, without %v", name, err, wantErr)
	}
	if err != nil {
		return 0
	}

	if len(got.Items) != len(want.Items) {
		t.Fatalf("%s: %d items with memo, %d from ParseFeed", name, len(got.Items), len(want.Items))
	}
	partial := 0
	for i := range got.Items {
		if got.Items[i].partial != nil {
			partial++
			// The fields a poll reads before ingesting (identity, hash,
			// dates for the schedule and the item cap) are set already.
			if g, w := partialFields(got.Items[i]), partialFields(want.Items[i]); g != w {
				t.Errorf("%s: item %d from the memo:\n got %s\nwant %s", name, i, g, w)
			}
		}
		if err := got.Items[i].complete(); err != nil {
			t.Fatalf("%s: item %d: %v", name, i, err)
		}
	}

	if g, w := itemsJSON(t, got.Items), itemsJSON(t, want.Items); g != w {
		t.Errorf("%s: items with memo differ from ParseFeed:\n got %s\nwant %s", name, g, w)
	}
	if g, w := fmt.Sprint(got.Rejected), fmt.Sprint(want.Rejected); g != w {
		t.Errorf("%s: rejected with memo %s, ParseFeed %s", name, g, w)
	}
	if got.RepeatedGUIDs != want.RepeatedGUIDs {
		t.Errorf("%s: repeated guids with memo %v, ParseFeed %v", name, got.RepeatedGUIDs, want.RepeatedGUIDs)
	}
	// Every item kept is in the next memo; an item listed twice is in it
	// once.
	if n, maxItems := got.Memo.Len(), len(got.Items)+countCleanedRejects(want); n < len(got.Items) || n > maxItems {
		t.Errorf("%s: next memo holds %d items, want %d to %d", name, n, len(got.Items), maxItems)
	}
	return partial
}

// countCleanedRejects counts the rejected items that cleaning accepted
// and only the identity check dropped: the memo holds those too.
func countCleanedRejects(res *ParseResult) int {
	n := 0
	for _, rj := range res.Rejected {
		if strings.Contains(rj.Err.Error(), "same identity as item") {
			n++
		}
	}
	return n
}

func partialFields(it Item) string {
	return fmt.Sprintf("%s %s %s %s %s %s %v %s %s %d %v", it.ID, it.Partner, it.Feed, it.FeedURL, it.GUID, it.URL,
		it.Published, it.DateSource, it.ContentHash, it.RulesVersion, it.Updated)
}

func itemsJSON(t *testing.T, items []Item) string {
	t.Helper()
	b, err := json.Marshal(items)
	if err != nil {
		t.Fatalf("encoding items: %v", err)
	}
	return string(b)
}

// TestParseMemoSameDocument parses every testdata document and, when the
// shared corpus is present, every corpus document twice. The second
// parse takes every cleaned item from the memo and must still give
// ParseFeed's items once they are completed.
func TestParseMemoSameDocument(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "*.*"))
	if err != nil {
		t.Fatal(err)
	}
	if corpus, err := filepath.Glob(filepath.Join(corpusDir, "*")); err == nil {
		paths = append(paths, corpus...)
	}
	reused := 0
	for _, p := range paths {
		body, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		first, err := ParseFeed(body, "", memoSource, fetchTime)
		if err != nil {
			continue
		}
		n := parseWithMemo(t, p, body, body, memoSource, memoSource)
		if want := len(first.Items); n != want {
			t.Errorf("%s: %d of %d items came from the memo", p, n, want)
		}
		reused += n
	}
	// The testdata documents alone give 43 items, so the check holds on a
	// checkout without the shared corpus too.
	if reused < 40 {
		t.Fatalf("only %d items came from the memo over all documents", reused)
	}
}

func rssItem(guid, link, title, body, date string) string {
	s := "<item>"
	if guid != "" {
		s += "<guid isPermaLink=\"false\">" + guid + "</guid>"
	}
	if link != "" {
		s += "<link>" + link + "</link>"
	}
	s += "<title>" + title + "</title><description><![CDATA[<p>" + body + "</p>]]></description>"
	if date != "" {
		s += "<pubDate>" + date + "</pubDate>"
	}
	return s + "</item>"
}

func rssDoc(items ...string) []byte {
	return []byte(`<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Izba</title><link>https://partner.example/</link>` +
		strings.Join(items, "") + `</channel></rss>`)
}

// TestParseMemoDocumentChecks covers the rules that look across a
// document's items. An item from the memo must get the identity and
// flags that cleaning it would give in the new document, even when a
// new item changes them.
func TestParseMemoDocumentChecks(t *testing.T) {
	const date = "Tue, 01 Dec 2026 09:00:00 +0000"
	a := rssItem("", "https://partner.example/news/a", "Targi eksportowe", "Zapraszamy na targi.", date)
	b := rssItem("", "https://partner.example/news/b", "Szkolenie", "Szkolenie z eksportu.", date)
	sharedA := rssItem("", "https://partner.example/news/a", "Inny tytuł", "Ten sam link.", date)
	undated := rssItem("", "", "Bez daty", "Wpis bez daty i linku.", "")
	g1 := rssItem("g-1", "https://partner.example/news/g1", "Pierwszy", "Jeden.", date)
	g1other := rssItem("g-1", "https://partner.example/news/g2", "Drugi", "Dwa.", date)
	edited := rssItem("", "https://partner.example/news/a", "Targi eksportowe", "Zapraszamy na targi w maju.", date)
	home := rssItem("", "https://partner.example/", "Na stronie głównej", "Link do strony.", date)
	tests := []struct {
		name          string
		before, after []byte
		reused        int
	}{
		{"link becomes shared", rssDoc(a, b), rssDoc(a, b, sharedA), 2},
		{"link stops being shared", rssDoc(a, b, sharedA), rssDoc(a, b), 2},
		{"guid becomes repeated", rssDoc(g1, a), rssDoc(g1, a, g1other), 2},
		{"guid stops being repeated", rssDoc(g1, g1other, a), rssDoc(g1, a), 2},
		{"same item listed twice", rssDoc(a, b), rssDoc(a, a, b), 2},
		{"undated item gets this fetch's time", rssDoc(undated, a), rssDoc(undated, a), 2},
		{"home page link", rssDoc(home, a), rssDoc(home, a, b), 2},
		{"item text changes", rssDoc(a, b), rssDoc(edited, b), 1},
		{"window slides", rssDoc(a, b, undated), rssDoc(b, undated, g1), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n := parseWithMemo(t, tt.name, tt.before, tt.after, memoSource, memoSource); n != tt.reused {
				t.Errorf("%d items came from the memo, want %d", n, tt.reused)
			}
		})
	}
}

// TestParseMemoSettingsChange checks that a memo built under other
// partner settings supplies nothing.
func TestParseMemoSettingsChange(t *testing.T) {
	doc := rssDoc(rssItem("", "https://partner.example/news/a", "Targi", "Zapraszamy.", ""))
	other := []Source{memoSource, memoSource, memoSource}
	other[0].Language = "de"
	other[1].Location = time.FixedZone("CET", 3600)
	other[2].FeedURL = "https://partner.example/rss2"
	for i, src := range other {
		if n := parseWithMemo(t, fmt.Sprint("settings ", i), doc, doc, memoSource, src); n != 0 {
			t.Errorf("settings %d: %d items came from a memo of other settings", i, n)
		}
	}
	linkKeys := memoSource
	linkKeys.LinkKeys = true
	if n := parseWithMemo(t, "link keys", doc, doc, memoSource, linkKeys); n != 1 {
		t.Errorf("link keys: %d items came from the memo, want 1 (the identity is worked out again)", n)
	}
}

// FuzzParseMemo parses a document with the memo of another and checks the
// completed items against ParseFeed.
func FuzzParseMemo(f *testing.F) {
	const date = "Tue, 01 Dec 2026 09:00:00 +0000"
	a := rssItem("", "https://partner.example/news/a", "Targi", "Zapraszamy.", date)
	b := rssItem("g", "https://partner.example/news/b", "Szkolenie", "Eksport.", "")
	f.Add(rssDoc(a, b), rssDoc(b, a, a))
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.*"))
	for i, p := range paths {
		body, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		other, _ := os.ReadFile(paths[(i+1)%len(paths)])
		f.Add(body, body)
		f.Add(body, other)
	}
	f.Fuzz(func(t *testing.T, before, after []byte) {
		parseWithMemo(t, "fuzz", before, after, memoSource, memoSource)
		parseWithMemo(t, "fuzz same", after, after, memoSource, memoSource)
	})
}
