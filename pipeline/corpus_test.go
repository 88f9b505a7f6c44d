package pipeline

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// corpusDir holds real feed documents shared by the team, outside the
// module. The test skips when it is absent.
const corpusDir = "../../shared/corpus/feeds"

type corpusOutcome string

const (
	outcomeOK          corpusOutcome = "ok"
	outcomeNotAFeed    corpusOutcome = "not-a-feed"
	outcomeUnparseable corpusOutcome = "unparseable"
)

// corpusExpectations lists every corpus file with its outcome and item
// count. A new, missing or changed file fails the test.
var corpusExpectations = []struct {
	file    string
	outcome corpusOutcome
	items   int
}{
	{"feeder-cowboyprogrammer.json", outcomeOK, 10},
	{"feeder-diskuse-cs.xml", outcomeOK, 1},
	{"feeder-golem-iso88591-de.xml", outcomeOK, 40},
	{"feeder-lemonde-fr.xml", outcomeOK, 21},
	{"feeder-londoner-large.xml", outcomeOK, 40},
	{"feeder-mediarss-noid-nodate.xml", outcomeOK, 20},
	{"feeder-myanimelist-uuml.xml", outcomeOK, 20},
	{"feeder-nixers-newsletter.xml", outcomeOK, 111},
	{"feeder-nixos.xml", outcomeOK, 99},
	{"feeder-research-rsc.atom.xml", outcomeOK, 17},
	{"feeder-theguardian-bareamp.xml", outcomeOK, 54},
	{"feeder-ukrnet-default-ns.xml", outcomeOK, 20},
	{"feedjira-a10-bom.xml", outcomeOK, 5},
	{"feedjira-cre-podcast-de.xml", outcomeOK, 30},
	{"feedjira-escaped-uris.json", outcomeOK, 30},
	{"feedjira-feedburner-xhtml.atom.xml", outcomeOK, 10},
	{"feedjira-invalid-date-truncated.xml", outcomeOK, 2},
	{"feedjira-not-a-feed.html", outcomeNotAFeed, 0},
	{"feedjira-samruby.atom.xml", outcomeOK, 20},
	{"feedjira-techcrunch.xml", outcomeOK, 20},
	{"feedparser-invalid-bytes-bom-synthetic.xml", outcomeOK, 0},
	{"feedparser-koi8r-nodecl-synthetic.xml", outcomeOK, 1},
	{"feedparser-utf16le-bom-synthetic.xml", outcomeOK, 0},
	{"feedparser-utf32be-bom-synthetic.xml", outcomeOK, 0},
	{"feedparser-x80-windows1250-synthetic.xml", outcomeOK, 0},
	{"feedparser-x80-windows1257-synthetic.xml", outcomeOK, 0},
	{"feedrs-dbengines-nbsp.xml", outcomeOK, 1},
	{"feedrs-ilmessaggero-it.xml", outcomeOK, 1},
	{"feedrs-jsonfeed-elastic.json", outcomeOK, 3},
	{"feedrs-nbcny-odd-date.xml", outcomeOK, 1},
	{"feedrs-reddit-media.atom.xml", outcomeOK, 25},
	{"feedrs-relurl.xml", outcomeOK, 2},
	{"feedrs-rss091-iso88591-ptbr.xml", outcomeOK, 1},
	{"feedrs-rss10-iso88591.rdf.xml", outcomeOK, 1},
	{"feedrs-spiegel-de.xml", outcomeOK, 1},
	{"feedrs-spreaker-pl.xml", outcomeOK, 1},
	{"feedrs-truncated.xml", outcomeUnparseable, 0},
	{"kde-bug411626-large.atom.xml", outcomeOK, 20},
	{"kde-chaosradio-podcast-de.xml", outcomeOK, 1},
	{"kde-linuxfr-fr.xml", outcomeOK, 20},
	{"kde-prolinux-rss091-doctype.xml", outcomeOK, 3},
	{"kde-schockwellenreiter-rss092.xml", outcomeOK, 1},
	{"kde-sueddeutsche-latin1.xml", outcomeOK, 3},
	{"kde-tagesschau-rss090-latin1.rdf.xml", outcomeOK, 3},
	{"kde-tbray-nested-xmlbase.atom.xml", outcomeOK, 1},
	{"kde-zeit-rss091-latin1.xml", outcomeOK, 3},
	{"laminas-lautde-latin1-decl-but-utf8.rdf.xml", outcomeOK, 20},
	{"laminas-wordpress-rss2.xml", outcomeOK, 10},
	{"miniflux-golem-iso88591-de.xml", outcomeOK, 40},
	{"miniflux-koi8r-synthetic.xml", outcomeOK, 2},
	{"miniflux-large-atom.xml", outcomeOK, 25},
	{"miniflux-latin1-decl-but-utf8-synthetic.xml", outcomeOK, 1},
	// Item 4 of 10 has an empty title, link and description: rejected.
	{"miniflux-nodecl-latin1.xml", outcomeOK, 9},
	{"miniflux-rdf-utf8.xml", outcomeOK, 60},
	{"miniflux-urdu.xml", outcomeOK, 26},
	{"miniflux-utf8-decl-but-latin1-synthetic.xml", outcomeNotAFeed, 0},
	{"miniflux-win1252-decl-but-utf8-synthetic.xml", outcomeOK, 0},
	{"miniflux-windows1251-ru.xml", outcomeOK, 50},
	{"nodefp-compressed.xml.gz", outcomeOK, 10},
	{"nodefp-guid-dupes.xml", outcomeOK, 1},
	{"nodefp-iconv-win1251.xml", outcomeOK, 10},
	{"nodefp-illegally-nested.xml", outcomeOK, 10},
	{"nodefp-intertwingly.atom.xml", outcomeOK, 20},
	{"nodefp-invalid-chars.xml.gz", outcomeOK, 25},
	{"nodefp-saxerror-bareamp.xml", outcomeOK, 3},
	{"nodefp-tpm-relative.atom.xml", outcomeOK, 20},
	{"picofeed-cerclepsy-nodecl-latin1-fr.xml", outcomeOK, 7},
	{"picofeed-egscomics-doctype.xml", outcomeOK, 20},
	{"picofeed-heise-de.rdf.xml", outcomeOK, 60},
	{"picofeed-ibash-win1251.xml", outcomeOK, 50},
	{"picofeed-iso885915-synthetic.xml", outcomeOK, 1},
	{"picofeed-jeuxlinux-fr.xml", outcomeOK, 20},
	{"picofeed-lagrange-fr.atom.xml", outcomeOK, 34},
	{"picofeed-lincolnloop-ctrlchar.xml", outcomeOK, 10},
	{"picofeed-nextinpact-fr.xml", outcomeOK, 45},
	{"picofeed-planetejquery-fr.rdf.xml", outcomeOK, 20},
	{"picofeed-podbean.xml", outcomeOK, 50},
	{"picofeed-resorts-leadingws.xml", outcomeOK, 1},
	{"picofeed-rue89-fr.xml", outcomeOK, 25},
	{"picofeed-sametmax-fr.xml", outcomeOK, 10},
	{"picofeed-universfreebox-fr-rss092.xml", outcomeOK, 30},
	{"picofeed-xakep-win1251.xml", outcomeOK, 25},
	{"rome-issue137-bad-ns.xml", outcomeOK, 4},
	{"rome-rsr-frch.xml", outcomeOK, 15},
	{"rome-rss091n-doctype.xml", outcomeOK, 2},
	{"rome-rss093.xml", outcomeOK, 2},
	{"rome-rss094.xml", outcomeOK, 2},
	{"rome-rss10-ns-on-channel.rdf.xml", outcomeOK, 44},
	{"rome-slashdot.rdf.xml", outcomeOK, 10},
	{"rome-sunnyvale-odd-date.xml", outcomeOK, 1},
	{"rome-yweather-cest.xml", outcomeOK, 1},
	{"rsparser-3960.json", outcomeOK, 20},
	{"rsparser-aktuality-sk.xml", outcomeOK, 30},
	{"rsparser-allthis-truncated.json", outcomeUnparseable, 0},
	{"rsparser-atp-podcast.xml", outcomeOK, 100},
	{"rsparser-bio.rdf.xml", outcomeOK, 30},
	{"rsparser-daringfireball.json", outcomeOK, 48},
	{"rsparser-donthitsave-bom.xml", outcomeOK, 10},
	{"rsparser-kc0011-gb2312.xml", outcomeOK, 20},
	{"rsparser-macworld-leadingws.xml", outcomeOK, 30},
	{"rsparser-phpxml-nl.xml", outcomeOK, 20},
	{"rsparser-scriptingnews-dupguid.xml", outcomeOK, 50},
	{"rss2email-bbc-chinese.atom.xml", outcomeOK, 2},
	{"rss2email-fastmailstatus.xml", outcomeOK, 10},
	{"rss2email-gmane.rdf.xml", outcomeOK, 5},
	{"rss2email-nodejs-poll1.xml", outcomeOK, 1},
	{"rss2email-nodejs-poll2.xml", outcomeOK, 1},
	{"rss2email-nodejs-poll3.xml", outcomeOK, 1},
	{"rss2email-quiltville.atom.xml", outcomeOK, 25},
	{"rssowl-bbc-technology-2006.xml", outcomeOK, 19},
	{"rssowl-betanews.xml", outcomeOK, 15},
	{"rssowl-cartoonbrew-atom03.xml", outcomeOK, 15},
	{"rssowl-cnnmoney.xml", outcomeOK, 10},
	{"rssowl-dailygame-rss091.xml", outcomeOK, 15},
	{"rssowl-engadget-2006.xml", outcomeOK, 40},
	{"rssowl-faz-net.xml", outcomeOK, 15},
	{"rssowl-instapundit.rdf.xml", outcomeOK, 15},
	{"rssowl-itconversations.xml", outcomeOK, 31},
	{"rssowl-itunes-justadded.xml", outcomeOK, 25},
	{"rssowl-jabtv-rss091.xml", outcomeOK, 12},
	{"rssowl-macslash-rss090.xml", outcomeOK, 10},
	{"rssowl-maennerblog.xml", outcomeOK, 10},
	{"rssowl-mindingtheplanet-atom10.xml", outcomeOK, 50},
	{"rssowl-n24-de.rdf.xml", outcomeOK, 9},
	{"rssowl-physicspost.rdf.xml", outcomeOK, 182},
	{"rssowl-rollingstone.xml", outcomeOK, 6},
	{"rssowl-sun-sdn-rss092.xml", outcomeOK, 197},
	{"rssowl-thinksecret.xml", outcomeOK, 10},
	{"rssowl-whitehouse-radio-podcast.xml", outcomeOK, 71},
	{"rssowl-zeit-de-rss091.xml", outcomeOK, 76},
	{"rssparser-craigslist.rdf.xml", outcomeOK, 25},
	{"rssparser-customfields-kannada.xml", outcomeOK, 15},
	{"rssparser-encoding-iso88591-pt.xml", outcomeOK, 40},
	{"rssparser-giantbomb-podcast.xml", outcomeOK, 730},
	{"rssparser-guardian.xml", outcomeOK, 55},
	{"rssparser-heise-atom.xml", outcomeOK, 15},
	{"rssparser-heraldsun-rss092.xml", outcomeOK, 2},
	{"rssparser-itunes-missing-image.xml", outcomeOK, 131},
	{"rssparser-latin2-pl-synthetic.xml", outcomeOK, 1},
	{"rssparser-many-links.atom.xml", outcomeOK, 25},
	{"rssparser-rss1-69items.rdf.xml", outcomeOK, 69},
	{"rssparser-uolnoticias-nodecl-latin1.xml", outcomeOK, 15},
	{"simplepie-100items.xml", outcomeOK, 100},
	{"simplepie-utf16be-nobom.xml", outcomeOK, 1},
	{"simplepie-utf16le-nobom.xml", outcomeOK, 1},
}

func TestParseFeedCorpus(t *testing.T) {
	entries, err := os.ReadDir(corpusDir)
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("corpus directory is absent")
	}
	if err != nil {
		t.Fatalf("reading corpus: %v", err)
	}
	srv := serveCorpus(t)
	want := map[string]bool{}
	for _, e := range corpusExpectations {
		want[e.file] = true
	}
	for _, e := range entries {
		if !want[e.Name()] {
			t.Errorf("corpus file %s has no expectation", e.Name())
		}
	}
	for _, exp := range corpusExpectations {
		t.Run(exp.file, func(t *testing.T) {
			body, contentType := fetchCorpusFile(t, srv.URL+"/"+exp.file)
			src := Source{Partner: "corpus", Feed: exp.file, FeedURL: srv.URL + "/" + exp.file}
			res, err := ParseFeed(body, contentType, src, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			checkOutcome(t, exp.outcome, err)
			if err != nil {
				return
			}
			if len(res.Items) != exp.items {
				t.Errorf("items = %d, want %d", len(res.Items), exp.items)
			}
			checkCorpusItems(t, res.Items)
		})
	}
}

func checkOutcome(t *testing.T, want corpusOutcome, err error) {
	t.Helper()
	got := outcomeOK
	switch {
	case errors.Is(err, ErrNotAFeed):
		got = outcomeNotAFeed
	case errors.Is(err, ErrUnparseable):
		got = outcomeUnparseable
	case err != nil:
		t.Fatalf("ParseFeed error matches no sentinel: %v", err)
	}
	if got != want {
		t.Fatalf("outcome = %s, want %s (error: %v)", got, want, err)
	}
}

func checkCorpusItems(t *testing.T, items []Item) {
	t.Helper()
	ids := map[string]int{}
	for k, it := range items {
		if it.ID == "" {
			t.Errorf("item %d has an empty ID", k)
		}
		if prev, dup := ids[it.ID]; dup {
			t.Errorf("items %d and %d share ID %s", prev, k, it.ID)
		}
		ids[it.ID] = k
		if it.Published.IsZero() {
			t.Errorf("item %d has a zero Published", k)
		}
		for name, v := range textFields(&it) {
			if !utf8.ValidString(v) {
				t.Errorf("item %d %s is not valid UTF-8", k, name)
			}
			if strings.ContainsFunc(v, notXMLChar) {
				t.Errorf("item %d %s holds a character XML forbids: %q", k, name, v)
			}
		}
	}
}

func textFields(it *Item) map[string]string {
	fields := map[string]string{
		"title": it.Title, "summary": it.Summary, "content": it.Content,
		"url": it.URL, "guid": it.GUID, "image": it.Image, "language": it.Language,
	}
	for _, a := range it.Authors {
		fields["authors"] += a.Name + a.Email + a.URL
	}
	fields["categories"] = strings.Join(it.Categories, " ")
	for _, e := range it.Enclosures {
		fields["enclosures"] += e.URL + e.Type
	}
	return fields
}

// serveCorpus serves the corpus files unchanged on 127.0.0.1. Compressed
// files go out with Content-Encoding: gzip, so the client decompresses
// them as it would a real response.
func serveCorpus(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := filepath.Base(r.URL.Path)
		body, err := os.ReadFile(filepath.Join(corpusDir, name))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if strings.HasSuffix(name, ".gz") {
			w.Header().Set("Content-Encoding", "gzip")
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// fetchCorpusFile gets a URL with a plain client, which decompresses gzip
// bodies, and returns the body. The server's Content-Type carries no
// charset, so the test passes an empty one as a feed without it would.
func fetchCorpusFile(t *testing.T, rawURL string) ([]byte, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatalf("building request: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("fetching %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("fetching %s: status %d", rawURL, resp.StatusCode)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading %s: %v", rawURL, err)
	}
	return body, ""
}
