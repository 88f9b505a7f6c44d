package digests

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/syndic-network/syndic/pipeline"
)

func TestCutText(t *testing.T) {
	tests := []struct {
		name, in string
		limit    int
		want     string
	}{
		{"short text unchanged", "Export grants open", 20, "Export grants open"},
		{"exact length unchanged", "abcde", 5, "abcde"},
		{"cut at the last space", "Export grants open in May", 18, "Export grants…"},
		{"cut before a space keeps the word", "Export grants open", 14, "Export grants…"},
		{"no space cuts mid-word", strings.Repeat("T", 30), 10, strings.Repeat("T", 9) + "…"},
		{"multibyte runes counted once", "Zażółć gęślą jaźń", 8, "Zażółć…"},
		{"trailing blanks dropped", "one   two three", 9, "one…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cutText(tt.in, tt.limit)
			if got != tt.want {
				t.Errorf("cutText(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
			}
			if n := utf8.RuneCountInString(got); n > tt.limit {
				t.Errorf("cutText result has %d runes, over the limit of %d", n, tt.limit)
			}
		})
	}
}

// TestRenderCutsHugeTitle pins a digest that failed for every subscriber
// because one pushed item had a 300,000-character title.
func TestRenderCutsHugeTitle(t *testing.T) {
	issue := sampleIssue("en", "UTC")
	issue.Items[1].Title = strings.Repeat("T", 300_000)
	r, err := Render(issue)
	if err != nil {
		t.Fatalf("Render returned error: %v", err)
	}
	if len(r.HTML) > MaxHTMLBytes {
		t.Errorf("HTML part has %d bytes, want at most %d", len(r.HTML), MaxHTMLBytes)
	}
	cut := strings.Repeat("T", maxTitleRunes-1) + "…"
	if !strings.Contains(r.HTML, ">"+cut+"</a>") {
		t.Error("HTML part lacks the title cut to maxTitleRunes with an ellipsis")
	}
	if !strings.Contains(r.Text, "* "+cut+"\n") {
		t.Error("text part lacks the title cut to maxTitleRunes with an ellipsis")
	}
	if strings.Contains(r.Text, strings.Repeat("T", maxTitleRunes)) {
		t.Error("text part has a title run longer than maxTitleRunes")
	}
	if len(r.Omitted) != 0 {
		t.Errorf("Omitted = %d items, want none: the cut title fits", len(r.Omitted))
	}
	if !strings.Contains(r.Text, "Targi innowacji w Bydgoszczy") {
		t.Error("text part lacks the other item")
	}
}

func TestRenderCutsLongSummaryAtWord(t *testing.T) {
	issue := sampleIssue("en", "UTC")
	issue.Items[1].Summary = strings.Repeat("grant ", 40_000)
	r, err := Render(issue)
	if err != nil {
		t.Fatalf("Render returned error: %v", err)
	}
	// 100 words end at rune 599, so the ellipsis is rune 600.
	want := strings.TrimSpace(strings.Repeat("grant ", 100)) + "…"
	if !strings.Contains(r.Text, "  "+want+"\n") {
		t.Errorf("text part lacks the summary cut after a whole word:\n%.400s", r.Text)
	}
	if !strings.Contains(r.HTML, want+"</p>") {
		t.Error("HTML part lacks the summary cut after a whole word")
	}
}

func TestRenderCutsLongCategoryHeading(t *testing.T) {
	issue := sampleIssue("en", "UTC")
	issue.GroupBy = "category"
	issue.Items[1].Categories = []string{strings.Repeat("c", 200_000)}
	r, err := Render(issue)
	if err != nil {
		t.Fatalf("Render returned error: %v", err)
	}
	if want := "== " + strings.Repeat("c", maxTitleRunes-1) + "… =="; !strings.Contains(r.Text, want) {
		t.Error("text part lacks the category heading cut to maxTitleRunes")
	}
}

// TestRenderLeavesOutItemThatCannotFit covers an item too large even with
// a cut title: a link is never cut, since a cut link leads nowhere.
func TestRenderLeavesOutItemThatCannotFit(t *testing.T) {
	issue := sampleIssue("en", "UTC")
	huge := pipeline.Item{
		ID: "wipk/news/huge", Partner: "wipk", Title: "Huge link",
		URL: "https://wipk.example.org/" + strings.Repeat("a", MaxHTMLBytes), Published: fixedNow,
	}
	// Newest first, as the collector sorts them.
	issue.Items = append([]pipeline.Item{huge}, issue.Items...)
	r, err := Render(issue)
	if err != nil {
		t.Fatalf("Render returned error: %v", err)
	}
	if len(r.HTML) > MaxHTMLBytes {
		t.Errorf("HTML part has %d bytes, want at most %d", len(r.HTML), MaxHTMLBytes)
	}
	if len(r.Omitted) != 1 || r.Omitted[0].ID != huge.ID {
		t.Fatalf("Omitted = %+v, want only %s", r.Omitted, huge.ID)
	}
	for _, title := range []string{"Targi innowacji w Bydgoszczy", "Export grants open"} {
		if !strings.Contains(r.Text, title) {
			t.Errorf("text part lacks %q, which fits", title)
		}
	}
	if strings.Contains(r.Text, "Huge link") {
		t.Error("text part shows the item that was left out")
	}
	if !strings.Contains(r.Text, "1 more") {
		t.Errorf("text part does not count the left-out item among the items in the feed:\n%s", r.Text)
	}
}

func TestRenderWithNoItemThatFits(t *testing.T) {
	issue := sampleIssue("en", "UTC")
	for i := range issue.Items {
		issue.Items[i].Image = "https://cci.example.org/" + strings.Repeat("i", MaxHTMLBytes)
	}
	r, err := Render(issue)
	if err != nil {
		t.Fatalf("Render returned error: %v", err)
	}
	if len(r.Omitted) != len(issue.Items) {
		t.Errorf("Omitted = %d items, want all %d", len(r.Omitted), len(issue.Items))
	}
	if len(r.HTML) > MaxHTMLBytes {
		t.Errorf("HTML part has %d bytes, want at most %d", len(r.HTML), MaxHTMLBytes)
	}
}
