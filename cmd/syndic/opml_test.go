package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// runImportOPML writes opml to a file and runs `syndic partners
// import-opml` on it with a configuration that allows private networks.
func runImportOPML(t *testing.T, opml string) (code int, stdout, stderr *bytes.Buffer) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "partners.opml")
	if err := os.WriteFile(path, []byte(opml), 0o600); err != nil {
		t.Fatalf("writing OPML: %v", err)
	}
	cfg := filepath.Join(t.TempDir(), "syndic.yaml")
	cfgText := "fetch: {allow_private_networks: true}\npartners:\n  - {id: p, name: P, language: en, feeds: [{id: news, url: \"https://p.example/rss\"}]}\n"
	if err := os.WriteFile(cfg, []byte(cfgText), 0o600); err != nil {
		t.Fatalf("writing config: %v", err)
	}
	stdout, stderr = &bytes.Buffer{}, &bytes.Buffer{}
	c := &cli{stdout: stdout, stderr: stderr}
	code = c.partners(context.Background(), []string{"import-opml", path, "--config", cfg})
	return code, stdout, stderr
}

func TestImportOPML(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/home":
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte(`<html><head><link rel="alternate" type="application/atom+xml" href="/atom"></head></html>`))
		case "/plain":
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte(`<html><body>no feed</body></html>`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	opml := `<opml version="2.0"><body>
  <outline text="Wiadomości Kraków">
    <outline text="Kraj" xmlUrl="https://wipk.example/kraj.xml"/>
    <outline text="Kraj" xmlUrl="https://wipk.example/kraj2.xml"/>
    <outline text="Strona" htmlUrl="` + srv.URL + `/home"/>
    <outline text="Bez kanału" htmlUrl="` + srv.URL + `/plain"/>
  </outline>
  <outline text="Kurier" xmlUrl="https://kurier.example/rss"/>
</body></opml>`
	code, stdout, stderr := runImportOPML(t, opml)
	if code != 1 {
		t.Errorf("exit code = %d, want 1 for the unresolved outline; stderr %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), `skipping "Bez kanału"`) {
		t.Errorf("stderr = %q, want the unresolved outline named", stderr.String())
	}
	var got struct {
		Partners []importedPartner `yaml:"partners"`
	}
	if err := yaml.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("decoding output: %v\n%s", err, stdout.String())
	}
	want := []importedPartner{
		{ID: "wiadomosci-krakow", Name: "Wiadomości Kraków", Feeds: []importedFeed{
			{ID: "kraj", URL: "https://wipk.example/kraj.xml"},
			{ID: "kraj-2", URL: "https://wipk.example/kraj2.xml"},
			{ID: "strona", URL: srv.URL + "/atom"},
		}},
		{ID: "kurier", Name: "Kurier", Feeds: []importedFeed{{ID: "kurier", URL: "https://kurier.example/rss"}}},
	}
	if len(got.Partners) != len(want) {
		t.Fatalf("got %d partners, want %d:\n%s", len(got.Partners), len(want), stdout.String())
	}
	for i := range want {
		if got.Partners[i].ID != want[i].ID || got.Partners[i].Name != want[i].Name {
			t.Errorf("partner %d = %s %q, want %s %q", i, got.Partners[i].ID, got.Partners[i].Name, want[i].ID, want[i].Name)
		}
		if len(got.Partners[i].Feeds) != len(want[i].Feeds) {
			t.Errorf("partner %s feeds = %+v, want %+v", want[i].ID, got.Partners[i].Feeds, want[i].Feeds)
			continue
		}
		for j, f := range want[i].Feeds {
			if got.Partners[i].Feeds[j] != f {
				t.Errorf("partner %s feed %d = %+v, want %+v", want[i].ID, j, got.Partners[i].Feeds[j], f)
			}
		}
	}
}

func TestSlugID(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"lower case and dashes", "Local News", "local-news"},
		{"punctuation collapses", "News -- & Views!", "news-views"},
		{"accents are stripped", "Łódź Wiadomości", "lodz-wiadomosci"},
		{"only non-ascii gives feed", "Новости", "feed"},
		{"long titles are cut", strings.Repeat("abc ", 20), "abc-abc-abc-abc-abc-abc-abc-abc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := slugID(tc.in); got != tc.want {
				t.Errorf("slugID(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestImportOPMLSkipsUnsafeAndRepeatedURLs(t *testing.T) {
	opml := `<opml version="2.0"><body>
  <outline text="Chamber">
    <outline text="News" xmlUrl="https://chamber.example/rss"/>
    <outline text="Script" xmlUrl="javascript:alert(1)"/>
    <outline text="Passwords" xmlUrl="file:///etc/passwd"/>
    <outline text="News again" xmlUrl="https://CHAMBER.example/rss"/>
    <outline text="Data page" htmlUrl="data:text/html,hi"/>
  </outline>
</body></opml>`
	code, stdout, stderr := runImportOPML(t, opml)
	if code != 1 {
		t.Errorf("exit code = %d, want 1 for the skipped URLs; stderr %s", code, stderr.String())
	}
	for _, want := range []string{
		`skipping "Script": feed URL "javascript:alert(1)"`,
		`skipping "Passwords": feed URL "file:///etc/passwd"`,
		`skipping "News again": feed URL https://CHAMBER.example/rss is already imported from "News"`,
		`skipping "Data page": page URL "data:text/html,hi"`,
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr = %q, want it to contain %q", stderr.String(), want)
		}
	}
	summary := "1 feeds, 0 unresolved, 3 with an invalid URL, 1 duplicates."
	if !strings.Contains(stdout.String(), summary) {
		t.Errorf("stdout = %q, want the summary %q", stdout.String(), summary)
	}
	for _, bad := range []string{"javascript:", "file:", "data:", "CHAMBER"} {
		if strings.Contains(stdout.String(), bad) {
			t.Errorf("stdout contains %q:\n%s", bad, stdout.String())
		}
	}
	var got struct {
		Partners []importedPartner `yaml:"partners"`
	}
	if err := yaml.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("decoding output: %v\n%s", err, stdout.String())
	}
	if len(got.Partners) != 1 || len(got.Partners[0].Feeds) != 1 {
		t.Fatalf("partners = %+v, want one partner with one feed", got.Partners)
	}
	if feed := got.Partners[0].Feeds[0]; feed.URL != "https://chamber.example/rss" {
		t.Errorf("feed = %+v, want https://chamber.example/rss", feed)
	}
}
