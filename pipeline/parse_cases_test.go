package pipeline

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var fetchTime = time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)

func parseFixture(t *testing.T, name string, src Source, now time.Time) *ParseResult {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("reading fixture: %v", err)
	}
	if src.Partner == "" {
		src.Partner = "partner"
	}
	if src.Feed == "" {
		src.Feed = strings.TrimSuffix(name, filepath.Ext(name))
	}
	res, err := ParseFeed(body, "", src, now)
	if err != nil {
		t.Fatalf("ParseFeed(%s): %v", name, err)
	}
	return res
}

func itemTitles(items []Item) []string {
	var titles []string
	for _, it := range items {
		titles = append(titles, it.Title)
	}
	return titles
}

func TestParseFeedEncodings(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		title   string
		summary string
	}{
		{"utf-8 bom is dropped", "bom-utf8-prolog.xml", "Déploiement réussi", "Premier article."},
		{"utf-16le bom is honoured", "bom-utf16le-prolog.xml", "Déploiement réussi", "Premier article."},
		{"utf-16be without bom is sniffed", "utf16be-no-bom.xml", "Déploiement réussi", "Premier article."},
		{"utf-32le bom is honoured", "utf32le-bom.xml", "Déploiement réussi", "Premier article."},
		{"utf-32be bom is honoured", "utf32be-bom.xml", "Déploiement réussi", "Premier article."},
		{"windows-1251 applies to cdata", "windows1251-single-quoted.xml", "Привет, мир", "Проверка кодировки: ёжик в тумане."},
		{"iso-8859-2 is not latin-1", "iso88592-prolog.xml", "Szőke Tisza: új epizód", "Árvíztűrő tükörfúrógép"},
		{"windows-1250 keeps czech and polish", "windows1250-prolog.xml", "Příliš žluťoučký kůň úpěl ďábelské ódy", "Šťastný Šimon – „uvozovky“ i zażółć gęślą jaźń"},
		{"windows-1257 keeps lithuanian", "windows1257-lithuanian.xml", "Ąžuolas ir ūsai – Šiauliai", "Čia įrašas apie ąžuolą."},
		{"koi8-r is decoded", "koi8r-prolog.xml", "Новости дня", "Текст"},
		{"iso-8859-1 is read as windows-1252", "iso88591-declared-c1-bytes.xml", "Café “quoted” – dash", "Über"},
		{"undeclared latin-1 falls back to windows-1252", "latin1-no-declaration.xml", "Größe", ""},
		{"utf-8 bytes beat a latin-1 label", "latin1-declared-utf8-bytes.xml", "Übersicht", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := parseFixture(t, tt.fixture, Source{}, fetchTime)
			if len(res.Items) != 1 {
				t.Fatalf("items = %d, want 1", len(res.Items))
			}
			it := res.Items[0]
			if it.Title != tt.title {
				t.Errorf("title = %q, want %q", it.Title, tt.title)
			}
			if it.Summary != tt.summary {
				t.Errorf("summary = %q, want %q", it.Summary, tt.summary)
			}
			if strings.ContainsRune(it.Title+it.Summary+res.Title, '\uFEFF') {
				t.Errorf("a field keeps U+FEFF")
			}
		})
	}
}

func TestParseFeedHTTPCharsetWins(t *testing.T) {
	body := []byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel><title>t</title>" +
		"<item><title>\xcf\xf0\xe8\xe2\xe5\xf2</title><link>https://ru.example.com/1</link></item></channel></rss>")
	res, err := ParseFeed(body, "application/rss+xml; charset=windows-1251", Source{Partner: "p"}, fetchTime)
	if err != nil {
		t.Fatalf("ParseFeed: %v", err)
	}
	if got := res.Items[0].Title; got != "Привет" {
		t.Errorf("title = %q, want %q", got, "Привет")
	}
}

func TestParseFeedRecoveries(t *testing.T) {
	tests := []struct {
		name     string
		fixture  string
		recovery string
		titles   []string
	}{
		{"bom before prolog", "bom-utf8-prolog.xml", recoveryBOM, []string{"Déploiement réussi"}},
		{"blank lines before prolog", "leading-blank-lines.xml", recoveryLeadingSpace, []string{"After blanks"}},
		{"bare ampersand in title and link", "bare-ampersand.xml", recoveryBareAmpersand,
			[]string{`Indie studio: "We run D&D sessions over video chat"`, "Quarterly sales round-up"}},
		{"html entities", "html-entities.xml", recoveryHTMLEntity, []string{"München heute & morgen ©"}},
		{"control characters", "control-chars.xml", recoveryIllegalChars, []string{"Titlewith separator", "Second post"}},
		{"truncated after an item", "truncated-after-item.xml", recoveryTruncated, []string{"Complete one"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := parseFixture(t, tt.fixture, Source{}, fetchTime)
			if !slices.Contains(res.Recoveries, tt.recovery) {
				t.Errorf("recoveries = %q, want %q among them", res.Recoveries, tt.recovery)
			}
			if got := itemTitles(res.Items); !slices.Equal(got, tt.titles) {
				t.Errorf("titles = %q, want %q", got, tt.titles)
			}
		})
	}
}

func TestParseFeedRepairedFields(t *testing.T) {
	res := parseFixture(t, "bare-ampersand.xml", Source{}, fetchTime)
	if got, want := res.Items[1].URL, "https://games.example.com/articles/q2?id=5&ref=rss"; got != want {
		t.Errorf("link = %q, want %q", got, want)
	}
	res = parseFixture(t, "control-chars.xml", Source{}, fetchTime)
	if got, want := res.Items[0].Content, "<p>disabled and other checks — a wrongly nested group</p>"; got != want {
		t.Errorf("content = %q, want %q", got, want)
	}
	if got, want := res.Items[1].Summary, "Verticaltab and backspace and nul."; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
	res = parseFixture(t, "html-entities.xml", Source{}, fetchTime)
	if got, want := res.Items[0].Summary, "Café – x"; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
}

func TestParseFeedFailures(t *testing.T) {
	tests := []struct {
		name string
		body string
		want error
	}{
		{"empty body", "  \n", ErrNotAFeed},
		{"html page", "not-a-feed.html", ErrNotAFeed},
		{"unrelated xml", `<?xml version="1.0"?><note><to>x</to></note>`, ErrNotAFeed},
		{"plain text", "hello", ErrNotAFeed},
		{"json that is not a feed", `{"name": "x"}`, ErrNotAFeed},
		{"truncated json", `{"version": "https://jsonfeed.org/version/1", "items": [{"id": "1", "title": "cut`, ErrUnparseable},
		{"truncated before any item", "truncated-before-item.xml", ErrUnparseable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.body)
			if strings.HasSuffix(tt.body, ".xml") || strings.HasSuffix(tt.body, ".html") {
				var err error
				if body, err = os.ReadFile(filepath.Join("testdata", tt.body)); err != nil {
					t.Fatalf("reading fixture: %v", err)
				}
			}
			_, err := ParseFeed(body, "", Source{FeedURL: "https://x.example.com/feed"}, fetchTime)
			if !errors.Is(err, tt.want) {
				t.Errorf("error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseFeedDates(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skipf("time zone database missing: %v", err)
	}
	tests := []struct {
		name string
		loc  *time.Location
		want []string
	}{
		{"partner zone applies", berlin, []string{"2024-12-15T11:15:00Z", "2023-10-28T18:28:28Z"}},
		{"no partner zone means utc", nil, []string{"2024-12-15T12:15:00Z", "2023-10-28T20:28:28Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := parseFixture(t, "twelve-hour-no-zone.xml", Source{Location: tt.loc}, fetchTime)
			for k, want := range tt.want {
				it := res.Items[k]
				if got := it.Published.Format(time.RFC3339); got != want {
					t.Errorf("item %d published = %s, want %s", k, got, want)
				}
				if it.DateSource != DateFromFeed {
					t.Errorf("item %d date source = %s, want %s", k, it.DateSource, DateFromFeed)
				}
			}
		})
	}
}

func TestParseFeedFutureDate(t *testing.T) {
	now := time.Date(2015, 10, 18, 12, 0, 0, 0, time.UTC)
	res := parseFixture(t, "future-date.xml", Source{}, now)
	future, past := res.Items[0], res.Items[1]
	if !future.Published.Equal(now) || future.DateSource != DateFirstSeen {
		t.Errorf("future item = %s (%s), want %s (%s)", future.Published, future.DateSource, now, DateFirstSeen)
	}
	if want := time.Date(2015, 10, 15, 16, 0, 0, 0, time.UTC); !past.Published.Equal(want) {
		t.Errorf("past item published = %s, want %s", past.Published, want)
	}
	if past.DateSource != DateFromFeed {
		t.Errorf("past item date source = %s, want %s", past.DateSource, DateFromFeed)
	}
}

func TestParseFeedMissingGUID(t *testing.T) {
	first := parseFixture(t, "missing-guid.xml", Source{}, fetchTime)
	second := parseFixture(t, "missing-guid.xml", Source{}, fetchTime.Add(time.Hour))
	if len(first.Items) != 3 {
		t.Fatalf("items = %d, want 3", len(first.Items))
	}
	for k := range first.Items {
		if first.Items[k].ID == "" {
			t.Errorf("item %d has an empty ID", k)
		}
		if first.Items[k].ID != second.Items[k].ID {
			t.Errorf("item %d ID changed between polls", k)
		}
		if first.Items[k].ContentHash != second.Items[k].ContentHash {
			t.Errorf("item %d content hash changed between polls", k)
		}
	}
	if want := ItemID("partner", "https://novels.example.com/river/c14"); first.Items[0].ID != want {
		t.Errorf("linked item ID = %s, want the link key %s", first.Items[0].ID, want)
	}
}

func TestParseFeedRepeatedGUID(t *testing.T) {
	res := parseFixture(t, "repeated-guid.xml", Source{}, fetchTime)
	if !res.RepeatedGUIDs {
		t.Errorf("RepeatedGUIDs = false, want true")
	}
	if len(res.Items) != 3 {
		t.Fatalf("items = %d, want 3", len(res.Items))
	}
	for k, it := range res.Items {
		if want := ItemID("partner", httpsKey(it.URL)); it.ID != want {
			t.Errorf("item %d ID = %s, want link key ID %s", k, it.ID, want)
		}
	}
	again := parseFixture(t, "missing-guid.xml", Source{LinkKeys: true}, fetchTime)
	if again.RepeatedGUIDs {
		t.Errorf("RepeatedGUIDs = true for a document without GUIDs")
	}
}

func TestParseFeedLinksAndImages(t *testing.T) {
	res := parseFixture(t, "tracking-link.xml", Source{}, fetchTime)
	if got, want := res.Items[0].URL, "https://www.example.org/2013/05/31/folk-tale-early-access/?page=2"; got != want {
		t.Errorf("url = %q, want %q", got, want)
	}
	res = parseFixture(t, "relative-image.xml", Source{FeedURL: "https://blog.example.net/index.xml"}, fetchTime)
	content := res.Items[0].Content
	for _, want := range []string{
		`src="https://blog.example.net/blog/choosing-a-library/wheels.png"`,
		`srcset="https://blog.example.net/blog/choosing-a-library/wheels.png 1x, https://blog.example.net/blog/choosing-a-library/wheels@2x.png 2x"`,
		`href="https://blog.example.net/blog/maintainers/"`,
		`href="https://blog.example.net/about/"`,
		`rel="nofollow noopener"`,
	} {
		if !strings.Contains(content, want) {
			t.Errorf("content lacks %s:\n%s", want, content)
		}
	}
	if strings.Contains(content, "onclick") {
		t.Errorf("content keeps an event handler:\n%s", content)
	}
}

func TestParseFeedLazyImages(t *testing.T) {
	res := parseFixture(t, "lazy-images.xml", Source{}, fetchTime)
	content := res.Items[0].Content
	for _, want := range []string{
		`src="https://mag.example.de/media/cover-720x.png"`,
		`srcset="https://mag.example.de/media/cover-360x.png 360w, https://mag.example.de/media/cover-720x.png 720w"`,
		`src="https://mag.example.de/media/map.jpg"`,
		`<figcaption>Cover</figcaption>`,
	} {
		if !strings.Contains(content, want) {
			t.Errorf("content lacks %s:\n%s", want, content)
		}
	}
	for _, banned := range []string{"data:", "data-", "class=", "<script", "lazyLoad", "<iframe", "pixel.gif", "<noscript"} {
		if strings.Contains(content, banned) {
			t.Errorf("content keeps %q:\n%s", banned, content)
		}
	}
	if n := strings.Count(content, "map.jpg"); n != 1 {
		t.Errorf("map image appears %d times, want 1", n)
	}
}

func TestParseFeedEnclosures(t *testing.T) {
	res := parseFixture(t, "enclosure-no-type.xml", Source{FeedURL: "https://lectures.example.edu/feed.xml"}, fetchTime)
	want := []Enclosure{
		{URL: "https://lectures.example.edu/media/week1.mp3", Type: "audio/mpeg", Length: 48213011},
		{URL: "https://lectures.example.edu/media/week2.m4v", Type: "video/x-m4v"},
		{URL: "https://lectures.example.edu/media/notes.bin", Type: "application/octet-stream"},
	}
	for k, it := range res.Items {
		if len(it.Enclosures) != 1 || it.Enclosures[0] != want[k] {
			t.Errorf("item %d enclosures = %+v, want %+v", k, it.Enclosures, want[k])
		}
	}
}

func TestParseFeedSameArticleTwoFeeds(t *testing.T) {
	home := parseFixture(t, "same-article-home.xml", Source{Feed: "home"}, fetchTime)
	section := parseFixture(t, "same-article-section.xml", Source{Feed: "companies"}, fetchTime)
	wantURLs := []string{
		"https://www.example-news.com/content/3f2a-chipmaker",
		"https://www.example-news.com/content/9c1d-rates",
	}
	for k, want := range wantURLs {
		if home.Items[k].URL != want || section.Items[k].URL != want {
			t.Errorf("item %d urls = %q and %q, want %q", k, home.Items[k].URL, section.Items[k].URL, want)
		}
	}
	if home.Items[0].ID != section.Items[0].ID {
		t.Errorf("same opaque GUID gives different IDs")
	}
}

func TestParseFeedAtomAndJSON(t *testing.T) {
	res := parseFixture(t, "websub-hub.atom.xml", Source{FeedURL: "https://atom.example.com/feed"}, fetchTime)
	if !slices.Equal(res.Hubs, []string{"https://hub.example.com/"}) {
		t.Errorf("hubs = %q", res.Hubs)
	}
	it := res.Items[0]
	if it.Title != "Bold entry" {
		t.Errorf("title = %q, want %q", it.Title, "Bold entry")
	}
	if it.URL != "https://atom.example.com/blog/posts/1" {
		t.Errorf("url = %q, want the xml:base resolved link", it.URL)
	}
	if !strings.Contains(it.Content, `src="https://atom.example.com/blog/img/a.png"`) {
		t.Errorf("content = %q, want an image resolved against xml:base", it.Content)
	}
	if it.Updated == nil || !it.Updated.Equal(time.Date(2024, 1, 3, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("updated = %v, want 2024-01-03", it.Updated)
	}
	if !slices.Equal(it.Categories, []string{"Go"}) {
		t.Errorf("categories = %q, want [Go]", it.Categories)
	}
	js := parseFixture(t, "json-feed.json", Source{}, fetchTime)
	if js.Language != "pl" || js.Items[0].Language != "pl" {
		t.Errorf("languages = %q and %q, want pl", js.Language, js.Items[0].Language)
	}
	if want := time.Date(2020, 1, 2, 2, 4, 5, 0, time.UTC); !js.Items[0].Published.Equal(want) {
		t.Errorf("published = %s, want %s", js.Items[0].Published, want)
	}
}

func TestParseFeedItemWithoutImageHasNone(t *testing.T) {
	doc := `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://partner.example/</link>
<item><title>No picture</title><link>https://partner.example/news/1</link><description>Plain text only.</description></item>
</channel></rss>`
	res, err := ParseFeed([]byte(doc), "application/rss+xml", Source{Partner: "p", Feed: "f", FeedURL: "https://partner.example/rss"}, time.Now())
	if err != nil {
		t.Fatalf("parsing feed: %v", err)
	}
	if len(res.Items) != 1 {
		t.Fatalf("parsed %d items, want 1", len(res.Items))
	}
	if got := res.Items[0].Image; got != "" {
		t.Errorf("image = %q, want none (the item link must not become the image)", got)
	}
}
