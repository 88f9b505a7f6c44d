package digests

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixedNow is the clock of the rendering tests, so links and dates are
// the same on every run.
var fixedNow = time.Date(2026, 3, 30, 5, 0, 0, 0, time.UTC)

func testLinks() Links {
	return Links{BaseURL: "https://news.example.org", Signer: NewSigner(strings.Repeat("k", 32))}
}

func sampleItems() []pipeline.Item {
	return []pipeline.Item{
		{
			ID: "wipk/news/1", Partner: "wipk", Title: "Targi innowacji w Bydgoszczy",
			URL: "https://wipk.example.org/targi", Summary: "Zapraszamy na targi.",
			Content:    `<p>Zapraszamy na <b>targi</b>. <a href="https://wipk.example.org/program">Program</a></p><p><img src="https://wipk.example.org/hall.jpg"></p>`,
			Categories: []string{"events"}, Language: "pl",
			// Europe switched to summer time at 01:00 UTC on 29 March 2026.
			Published: time.Date(2026, 3, 29, 6, 30, 0, 0, time.UTC),
		},
		{
			ID: "cci/feed-1/9", Partner: "cci", Title: "Export grants open",
			URL: "https://cci.example.org/grants", Summary: "Applications close in May.",
			Categories: []string{"funding"}, Language: "en",
			Published: time.Date(2026, 3, 28, 23, 30, 0, 0, time.UTC),
			Image:     "https://cci.example.org/grants.png",
		},
	}
}

func sampleIssue(locale, zone string) Issue {
	now := fixedNow
	links := testLinks()
	sub := &Subscriber{Digest: "daily", Email: "reader@example.net", Locale: locale, TimeZone: zone}
	return Issue{
		Subscriber: sub, GroupBy: "partner",
		Partners:       map[string]string{"wipk": "Izba Przemysłowo-Handlowa", "cci": "Chamber of Commerce"},
		Items:          sampleItems(),
		Due:            time.Date(2026, 3, 30, 5, 0, 0, 0, time.UTC),
		ChannelURL:     links.ChannelFeed("all"),
		ManageURL:      links.Manage("daily", sub.Email, now),
		UnsubscribeURL: links.Unsubscribe("daily", sub.Email, now),
	}
}

// assertGolden compares got with testdata/name, or rewrites the file
// under -update.
func assertGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatalf("writing %s: %v", path, err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v (run go test -update to create it)", path, err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the rendered output (run go test -update after checking the change):\n%s", path, got)
	}
}

func TestRenderGolden(t *testing.T) {
	maxIssue := sampleIssue("en", "UTC")
	maxIssue.Items = nil
	for i := range 200 {
		maxIssue.Items = append(maxIssue.Items, pipeline.Item{
			ID: fmt.Sprintf("cci/feed-1/%d", i), Partner: "cci", Title: fmt.Sprintf("Item %d", i),
			URL:       fmt.Sprintf("https://cci.example.org/items/%d", i),
			Summary:   "A short summary of the item, as most partner feeds give one.",
			Content:   "<p>A paragraph of sanitised HTML content, as partner feeds give for an item.</p>",
			Published: time.Date(2026, 3, 29, 12, 0, 0, 0, time.UTC).Add(-time.Duration(i) * time.Minute),
		})
	}
	maxIssue.More = 5
	tests := []struct {
		name  string
		issue Issue
	}{
		{"en", sampleIssue("en", "Europe/London")},
		{"pl", sampleIssue("pl", "Europe/Warsaw")},
		{"max-items", maxIssue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Render(tt.issue)
			if err != nil {
				t.Fatalf("Render returned error: %v", err)
			}
			assertGolden(t, "digest-"+tt.name+".html", r.HTML)
			assertGolden(t, "digest-"+tt.name+".txt", "Subject: "+r.Subject+"\n\n"+r.Text)
			if len(r.HTML) > MaxHTMLBytes {
				t.Errorf("HTML part has %d bytes, want at most %d", len(r.HTML), MaxHTMLBytes)
			}
		})
	}
}

func TestRenderLocales(t *testing.T) {
	tests := []struct {
		locale, zone, subject, date string
	}{
		{"en", "Europe/London", "Partner news, 30 March 2026", "29 March 2026, 07:30 BST"},
		{"pl", "Europe/Warsaw", "Wiadomości partnerów, 30 marca 2026", "29 marca 2026, 08:30 CEST"},
		{"fr", "Europe/Paris", "Actualités des partenaires, 30 mars 2026", "29 mars 2026, 08:30 CEST"},
		{"lt", "Europe/Vilnius", "Partnerių naujienos, 2026 m. kovo 30 d.", "2026 m. kovo 29 d., 09:30 EEST"},
		{"de", "Europe/Berlin", "Neuigkeiten der Partner, 30. März 2026", "29. März 2026, 08:30 CEST"},
	}
	for _, tt := range tests {
		t.Run(tt.locale, func(t *testing.T) {
			r, err := Render(sampleIssue(tt.locale, tt.zone))
			if err != nil {
				t.Fatalf("Render returned error: %v", err)
			}
			if r.Subject != tt.subject {
				t.Errorf("subject = %q, want %q", r.Subject, tt.subject)
			}
			if !strings.Contains(r.Text, tt.date) {
				t.Errorf("text part lacks the date after the DST change %q:\n%s", tt.date, r.Text)
			}
			if !strings.Contains(r.HTML, `lang="`+tt.locale+`"`) {
				t.Errorf("HTML part lacks lang=%q", tt.locale)
			}
		})
	}
}

func TestRenderDateBeforeDSTChange(t *testing.T) {
	issue := sampleIssue("pl", "Europe/Warsaw")
	r, err := Render(issue)
	if err != nil {
		t.Fatalf("Render returned error: %v", err)
	}
	// 23:30 UTC on 28 March is 00:30 CET, still winter time in Warsaw.
	if want := "29 marca 2026, 00:30 CET"; !strings.Contains(r.Text, want) {
		t.Errorf("text part lacks %q:\n%s", want, r.Text)
	}
}

func TestRenderConfiguredSubject(t *testing.T) {
	issue := sampleIssue("pl", "Europe/Warsaw")
	issue.Subject = "Przegląd z {date}"
	r, err := Render(issue)
	if err != nil {
		t.Fatalf("Render returned error: %v", err)
	}
	if want := "Przegląd z 30 marca 2026"; r.Subject != want {
		t.Errorf("subject = %q, want %q", r.Subject, want)
	}
}

func TestRenderGroupsByCategory(t *testing.T) {
	issue := sampleIssue("en", "UTC")
	issue.GroupBy = "category"
	issue.Items = append(issue.Items, pipeline.Item{ID: "x", Partner: "cci", Title: "Uncategorised", URL: "https://cci.example.org/x", Published: fixedNow})
	r, err := Render(issue)
	if err != nil {
		t.Fatalf("Render returned error: %v", err)
	}
	for _, heading := range []string{"== events ==", "== funding ==", "== Other news =="} {
		if !strings.Contains(r.Text, heading) {
			t.Errorf("text part lacks group %q", heading)
		}
	}
}

func TestRenderImages(t *testing.T) {
	r, err := Render(sampleIssue("en", "UTC"))
	if err != nil {
		t.Fatalf("Render returned error: %v", err)
	}
	for _, img := range imageTags(r.HTML) {
		if !strings.Contains(img, " alt=") {
			t.Errorf("image without alt: %s", img)
		}
		if !strings.Contains(img, ` width="`) {
			t.Errorf("image without width: %s", img)
		}
	}
	if n := len(imageTags(r.HTML)); n != 2 {
		t.Errorf("HTML part has %d images, want 2", n)
	}
}

func imageTags(html string) []string {
	var tags []string
	for rest := html; ; {
		i := strings.Index(rest, "<img")
		if i < 0 {
			return tags
		}
		end := strings.Index(rest[i:], ">")
		tags = append(tags, rest[i:i+end+1])
		rest = rest[i+end+1:]
	}
}

func TestRenderShrinksToSizeLimit(t *testing.T) {
	issue := sampleIssue("en", "UTC")
	big := strings.Repeat("<p>"+strings.Repeat("word ", 200)+"</p>", 60)
	for i := range issue.Items {
		issue.Items[i].Content = big
	}
	r, err := Render(issue)
	if err != nil {
		t.Fatalf("Render returned error: %v", err)
	}
	if len(r.HTML) > MaxHTMLBytes {
		t.Errorf("HTML part has %d bytes, want at most %d", len(r.HTML), MaxHTMLBytes)
	}
	if !strings.Contains(r.HTML, "Zapraszamy na targi.") {
		t.Error("HTML part lacks the plain summary that replaces oversized content")
	}
}

func TestEmailHTMLKeepsContentWithoutImages(t *testing.T) {
	in := `<p>Stocks <b>up</b>. <a href="https://brief.example.org/a?x=1&amp;y=2">more</a></p>`
	got, links := emailHTML(in)
	if got != in {
		t.Errorf("emailHTML changed HTML without images:\n got %s\nwant %s", got, in)
	}
	if len(links) != 1 || links[0] != "https://brief.example.org/a?x=1&y=2" {
		t.Errorf("links = %q", links)
	}
}

func TestTextFromHTML(t *testing.T) {
	if got := textFromHTML("<p>Stocks <b>up</b>.</p><p>Rain</p>"); got != "Stocks up. Rain" {
		t.Errorf("textFromHTML = %q", got)
	}
}
