package feeds

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/feedcheck"
	"github.com/syndic-network/syndic/pipeline"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

type renderer struct {
	name   string
	render func(Meta, []pipeline.Event) ([]byte, error)
	check  func(testing.TB, []byte)
}

var renderers = []renderer{
	{"rss", RenderRSS, feedcheck.CheckRSS},
	{"atom", RenderAtom, feedcheck.CheckAtom},
	{"json", RenderJSON, feedcheck.CheckJSONFeed},
}

func TestRenderGolden(t *testing.T) {
	entries := fixtureEntries(t)
	tests := []struct {
		name    string
		entries []pipeline.Event
	}{
		{"merged", entries},
		{"empty", nil},
	}
	for _, tt := range tests {
		for _, r := range renderers {
			t.Run(tt.name+" "+r.name, func(t *testing.T) {
				m := testMeta()
				m.SelfURL = "https://hub.example.org/feeds/all." + r.name
				doc := mustRender(t, r.render, m, tt.entries)
				compareGolden(t, filepath.Join("testdata", "golden", tt.name+"."+r.name), doc)
				r.check(t, doc)
			})
		}
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("writing golden file: %v", err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test -update after checking the change):\n%s", path, got)
	}
}

func TestRSSDatesHaveFourDigitYear(t *testing.T) {
	doc := mustRender(t, RenderRSS, testMeta(), fixtureEntries(t))
	d := decodeRSS(t, doc)
	feedcheck.CheckRSS(t, doc)

	dates := []string{d.Channel.LastBuildDate}
	for _, it := range d.Channel.Items {
		if it.PubDate == nil {
			t.Fatalf("item %q has no pubDate", it.Title)
		}
		dates = append(dates, *it.PubDate)
	}
	for _, s := range dates {
		if _, err := time.Parse(time.RFC1123Z, s); err != nil {
			t.Errorf("date %q is not RFC 1123 with numeric zone: %v", s, err)
		}
	}
	if got, want := *d.Channel.Items[0].PubDate, "Mon, 30 Nov 2026 08:15:00 +0000"; got != want {
		t.Errorf("first pubDate = %q, want %q", got, want)
	}
}

func TestRSSGUIDIsNotPermaLink(t *testing.T) {
	m := testMeta()
	entries := fixtureEntries(t)
	d := decodeRSS(t, mustRender(t, RenderRSS, m, entries))
	for i, it := range d.Channel.Items {
		if it.GUID.IsPermaLink != "false" {
			t.Errorf("item %d guid isPermaLink = %q, want false", i, it.GUID.IsPermaLink)
		}
		if want := EntryID(m.TagAuthority, entries[i].ID); it.GUID.Value != want {
			t.Errorf("item %d guid = %q, want %q", i, it.GUID.Value, want)
		}
	}
}

func TestAtomIDsStableAcrossRenders(t *testing.T) {
	entries := fixtureEntries(t)
	undated := event("no-link", time.Time{})
	undated.URL = ""
	entries = append(entries, undated)

	first := mustRender(t, RenderAtom, testMeta(), entries)
	second := mustRender(t, RenderAtom, testMeta(), entries)
	if !bytes.Equal(first, second) {
		t.Fatal("two renders of the same entries differ")
	}
	d := decodeAtom(t, first)
	if want := "tag:hub.example.org,2026-12-04:feeds/all"; d.ID != want {
		t.Errorf("feed id = %q, want %q", d.ID, want)
	}
	for i, e := range d.Entries {
		if want := EntryID("hub.example.org,2026-12-04", entries[i].ID); e.ID != want {
			t.Errorf("entry %d id = %q, want %q", i, e.ID, want)
		}
	}
	feedcheck.CheckAtom(t, first)
}

func TestAtomEveryEntryHasUpdated(t *testing.T) {
	ingested := mustTime(t, "2015-11-22T05:00:00Z")
	undated := event("undated", time.Time{})
	undated.IngestedAt = ingested
	updated := event("updated", mustTime(t, "2015-11-20T10:00:00Z"))
	later := mustTime(t, "2015-11-21T09:30:00Z")
	updated.Updated = &later

	doc := mustRender(t, RenderAtom, testMeta(), []pipeline.Event{updated, undated})
	d := decodeAtom(t, doc)
	feedcheck.CheckAtom(t, doc)

	tests := []struct {
		name          string
		index         int
		wantUpdated   string
		wantPublished string
	}{
		{"updated date wins over published", 0, "2015-11-21T09:30:00Z", "2015-11-20T10:00:00Z"},
		{"undated entry falls back to ingest time", 1, "2015-11-22T05:00:00Z", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := d.Entries[tt.index]
			if e.Updated != tt.wantUpdated {
				t.Errorf("updated = %q, want %q", e.Updated, tt.wantUpdated)
			}
			if e.Published != tt.wantPublished {
				t.Errorf("published = %q, want %q", e.Published, tt.wantPublished)
			}
		})
	}
	if d.Updated != "2015-11-21T09:30:00Z" {
		t.Errorf("feed updated = %q, want the newest entry date 2015-11-21T09:30:00Z", d.Updated)
	}
}

func TestRenderRemovesControlCharacters(t *testing.T) {
	ev := event("ctl", mustTime(t, "2019-01-12T09:00:00Z"))
	ev.Title = "Bad\x00 \x1b[31mtitle\ufffe\x7f"
	ev.Summary = "sum\x0cmary"
	ev.Categories = []string{"cat\x01"}
	ev.Authors = []pipeline.Author{{Name: "Au\x02thor"}}
	for _, r := range renderers {
		t.Run(r.name, func(t *testing.T) {
			doc := mustRender(t, r.render, testMeta(), []pipeline.Event{ev})
			r.check(t, doc)
			for _, bad := range []string{"\x00", "\x1b", "\x0c", "\x01", "\x02", "\ufffe", "\x7f"} {
				if strings.Contains(string(doc), bad) {
					t.Errorf("output contains %q", bad)
				}
			}
			if !strings.Contains(string(doc), "Bad [31mtitle") {
				t.Errorf("output lost the legal characters of the title:\n%s", doc)
			}
		})
	}
}

func TestRenderEscapesAmpersandAndLessThan(t *testing.T) {
	ev := event("amp", mustTime(t, "2026-01-02T03:04:05Z"))
	ev.Title = "Tom & Jerry <3 ]]> end"
	ev.URL = "https://northwind.example.com/search?q=a&b=<c>"
	ev.Content = "<p>A &amp; B ]]> C</p>"
	ev.Summary = "x < y & z"

	t.Run("rss", func(t *testing.T) {
		doc := mustRender(t, RenderRSS, testMeta(), []pipeline.Event{ev})
		feedcheck.CheckRSS(t, doc)
		it := decodeRSS(t, doc).Channel.Items[0]
		if it.Title != ev.Title {
			t.Errorf("title = %q, want %q", it.Title, ev.Title)
		}
		if it.Link != ev.URL {
			t.Errorf("link = %q, want %q", it.Link, ev.URL)
		}
		if it.Encoded != ev.Content {
			t.Errorf("content:encoded = %q, want %q", it.Encoded, ev.Content)
		}
		if want := "x &lt; y &amp; z"; it.Description != want {
			t.Errorf("description = %q, want the summary as escaped HTML %q", it.Description, want)
		}
		if !strings.Contains(string(doc), "Tom &amp; Jerry &lt;3") {
			t.Errorf("raw title is not escaped:\n%s", doc)
		}
	})
	t.Run("atom", func(t *testing.T) {
		doc := mustRender(t, RenderAtom, testMeta(), []pipeline.Event{ev})
		feedcheck.CheckAtom(t, doc)
		e := decodeAtom(t, doc).Entries[0]
		if e.Title != ev.Title {
			t.Errorf("title = %q, want %q", e.Title, ev.Title)
		}
		if e.Content.Body != ev.Content {
			t.Errorf("content = %q, want %q", e.Content.Body, ev.Content)
		}
		if e.Links[0].Href != ev.URL {
			t.Errorf("alternate href = %q, want %q", e.Links[0].Href, ev.URL)
		}
	})
}

func TestJSONKeepsNonImageEnclosures(t *testing.T) {
	doc := mustRender(t, RenderJSON, testMeta(), fixtureEntries(t))
	feedcheck.CheckJSONFeed(t, doc)
	d := decodeJSON(t, doc)

	var podcast = -1
	for i, it := range d.Items {
		if strings.HasSuffix(it.ID, ":it-1002") {
			podcast = i
		}
	}
	if podcast < 0 {
		t.Fatal("podcast item it-1002 is missing")
	}
	got := d.Items[podcast].Attachments
	if len(got) != 2 {
		t.Fatalf("attachments = %+v, want 2", got)
	}
	if got[0].MIMEType != "audio/mpeg" || got[0].Size != 24117248 {
		t.Errorf("first attachment = %+v, want audio/mpeg of 24117248 bytes", got[0])
	}
	if got[1].MIMEType != defaultEnclosureType {
		t.Errorf("untyped attachment mime_type = %q, want %q", got[1].MIMEType, defaultEnclosureType)
	}
}

func TestRSSEnclosureWithoutTypeOrLength(t *testing.T) {
	ev := event("enc", mustTime(t, "2026-01-02T03:04:05Z"))
	ev.Enclosures = []pipeline.Enclosure{{URL: "https://northwind.example.com/a.bin"}}
	doc := mustRender(t, RenderRSS, testMeta(), []pipeline.Event{ev})
	feedcheck.CheckRSS(t, doc)
	enc := decodeRSS(t, doc).Channel.Items[0].Enclosure
	if enc == nil {
		t.Fatal("enclosure was dropped")
	}
	if enc.Type != defaultEnclosureType {
		t.Errorf("type = %q, want %q", enc.Type, defaultEnclosureType)
	}
	if enc.Length != "0" {
		t.Errorf("length = %q, want 0", enc.Length)
	}
}

func TestRenderSetsLanguage(t *testing.T) {
	m := testMeta()
	entries := fixtureEntries(t)

	rss := decodeRSS(t, mustRender(t, RenderRSS, m, entries))
	if rss.Channel.Language != "en" {
		t.Errorf("rss language = %q, want en", rss.Channel.Language)
	}
	atom := decodeAtom(t, mustRender(t, RenderAtom, m, entries))
	if atom.Lang != "en" {
		t.Errorf("atom feed xml:lang = %q, want en", atom.Lang)
	}
	json := decodeJSON(t, mustRender(t, RenderJSON, m, entries))
	if json.Language != "en" {
		t.Errorf("json feed language = %q, want en", json.Language)
	}
	for i, ev := range entries {
		if atom.Entries[i].Lang != ev.Language {
			t.Errorf("atom entry %d xml:lang = %q, want %q", i, atom.Entries[i].Lang, ev.Language)
		}
		if json.Items[i].Language != ev.Language {
			t.Errorf("json item %d language = %q, want %q", i, json.Items[i].Language, ev.Language)
		}
	}
	doc := string(mustRender(t, RenderRSS, m, entries))
	for _, ev := range entries {
		tag := "<dc:language>" + ev.Language + "</dc:language>"
		if ev.Language != "" && ev.Language != m.Language && !strings.Contains(doc, tag) {
			t.Errorf("rss lacks %s for item %s", tag, ev.ID)
		}
	}
}

func TestRenderSetsSelfLink(t *testing.T) {
	m := testMeta()
	rss := decodeRSS(t, mustRender(t, RenderRSS, m, nil))
	if len(rss.Channel.AtomLinks) != 1 || rss.Channel.AtomLinks[0].Rel != "self" || rss.Channel.AtomLinks[0].Href != m.SelfURL {
		t.Errorf("rss atom:link = %+v, want one rel=self to %s", rss.Channel.AtomLinks, m.SelfURL)
	}
	atom := decodeAtom(t, mustRender(t, RenderAtom, m, nil))
	if !hasLink(atom.Links, "self", m.SelfURL) {
		t.Errorf("atom links = %+v, want rel=self to %s", atom.Links, m.SelfURL)
	}
	if !hasLink(atom.Links, "alternate", m.SiteURL) {
		t.Errorf("atom links = %+v, want rel=alternate to %s", atom.Links, m.SiteURL)
	}
	json := decodeJSON(t, mustRender(t, RenderJSON, m, nil))
	if json.FeedURL != m.SelfURL {
		t.Errorf("json feed_url = %q, want %q", json.FeedURL, m.SelfURL)
	}
}

func hasLink(links []testLink, rel, href string) bool {
	for _, l := range links {
		if l.Rel == rel && l.Href == href {
			return true
		}
	}
	return false
}

func TestRenderWritesSource(t *testing.T) {
	entries := fixtureEntries(t)
	m := testMeta()
	tests := []struct {
		name        string
		id          string
		wantURL     string
		wantPartner string
	}{
		{"configured feed url", "it-1001", "https://northwind.example.com/news.rss", "Northwind Gazette"},
		{"fetched feed url", "it-1002", "https://radio-sud.example.net/podcast.xml", "Radio Sud"},
		{"pushed item uses partner site", "it-1003", "https://northwind.example.com/", "Northwind Gazette"},
	}
	rss := decodeRSS(t, mustRender(t, RenderRSS, m, entries))
	atom := decodeAtom(t, mustRender(t, RenderAtom, m, entries))
	json := decodeJSON(t, mustRender(t, RenderJSON, m, entries))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := indexOf(t, entries, tt.id)
			src := rss.Channel.Items[i].Source
			if src == nil || src.URL != tt.wantURL || src.Name != tt.wantPartner {
				t.Errorf("rss source = %+v, want %s at %s", src, tt.wantPartner, tt.wantURL)
			}
			asrc := atom.Entries[i].Source
			if asrc == nil || asrc.Title != tt.wantPartner {
				t.Errorf("atom source = %+v, want title %s", asrc, tt.wantPartner)
			}
			if got := json.Items[i].Syndic; got.Partner != entries[i].Partner || got.Feed != entries[i].Feed {
				t.Errorf("json _syndic = %+v, want partner %s feed %s", got, entries[i].Partner, entries[i].Feed)
			}
		})
	}
}

func indexOf(t *testing.T, entries []pipeline.Event, id string) int {
	t.Helper()
	for i, ev := range entries {
		if ev.ID == id {
			return i
		}
	}
	t.Fatalf("entry %s not found", id)
	return -1
}

func TestEntryID(t *testing.T) {
	tests := []struct {
		name string
		id   string
		want string
	}{
		{"plain id passes unchanged", "it-1001", "tag:example.org,2026-12-04:it-1001"},
		{"path characters pass unchanged", "a/b:c@d", "tag:example.org,2026-12-04:a/b:c@d"},
		{"space and percent are escaped", "a b%", "tag:example.org,2026-12-04:a%20b%25"},
		{"non-ASCII bytes are escaped", "é", "tag:example.org,2026-12-04:%C3%A9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EntryID("example.org,2026-12-04", tt.id); got != tt.want {
				t.Errorf("EntryID = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRenderNormalisesSchemaValues(t *testing.T) {
	ev := event("odd", mustTime(t, "2026-01-02T03:04:05Z"))
	ev.Language = "en_US"
	ev.Enclosures = []pipeline.Enclosure{{URL: "https://northwind.example.com/a.mp3", Type: "audio"}}
	ev.Authors = []pipeline.Author{{Name: "Ann", Email: "not an address"}}
	m := testMeta()
	m.Language = "not a tag!"

	atomDoc := mustRender(t, RenderAtom, m, []pipeline.Event{ev})
	feedcheck.CheckAtom(t, atomDoc)
	atom := decodeAtom(t, atomDoc)
	if atom.Lang != "" {
		t.Errorf("feed xml:lang = %q, want none for an invalid tag", atom.Lang)
	}
	if atom.Entries[0].Lang != "en-US" {
		t.Errorf("entry xml:lang = %q, want en-US", atom.Entries[0].Lang)
	}
	if got := atom.Entries[0].Links[1].Type; got != defaultEnclosureType {
		t.Errorf("enclosure type = %q, want %q", got, defaultEnclosureType)
	}
	if strings.Contains(string(atomDoc), "<email>") {
		t.Errorf("invalid e-mail address was written:\n%s", atomDoc)
	}

	jsonDoc := mustRender(t, RenderJSON, m, []pipeline.Event{ev})
	feedcheck.CheckJSONFeed(t, jsonDoc)
	if got := decodeJSON(t, jsonDoc).Items[0].Language; got != "en-US" {
		t.Errorf("json item language = %q, want en-US", got)
	}
}

func TestRenderSourceHidesFeedCredentials(t *testing.T) {
	m := testMeta()
	ev := event("it-secret", mustTime(t, "2026-12-01T10:00:00Z"))
	ev.Partner, ev.Feed = "radio-sud", "private"
	ev.FeedURL = "https://reader:pw@radio-sud.example.net/feed.xml?apikey=TOPSECRET&lang=fr"
	entries := []pipeline.Event{ev}
	for name, render := range map[string]func(Meta, []pipeline.Event) ([]byte, error){"rss": RenderRSS, "atom": RenderAtom, "json": RenderJSON} {
		out := string(mustRender(t, render, m, entries))
		if strings.Contains(out, "reader:pw") || strings.Contains(out, "TOPSECRET") {
			t.Errorf("%s output contains the feed's credentials:\n%s", name, out)
		}
	}
	src := decodeRSS(t, mustRender(t, RenderRSS, m, entries)).Channel.Items[0].Source
	if src == nil || src.URL != "https://radio-sud.example.net/feed.xml?lang=fr" {
		t.Errorf("rss source = %+v, want the feed URL without the credentials", src)
	}
}
