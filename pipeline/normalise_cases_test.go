package pipeline

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func mustLocation(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("time zone database missing: %v", err)
	}
	return loc
}

func TestTwelveHourDateWithoutZone(t *testing.T) {
	berlin := mustLocation(t, "Europe/Berlin")
	res := parseFixture(t, "twelve-hour-no-zone.xml", Source{Location: berlin}, fetchTime)
	for k, it := range res.Items {
		if !slices.Contains(it.Flags, FlagDateZoneAssumed) {
			t.Errorf("item %d flags = %q, want %s", k, it.Flags, FlagDateZoneAssumed)
		}
	}
	later := parseFixture(t, "twelve-hour-no-zone.xml", Source{Location: berlin}, fetchTime.Add(2*time.Hour))
	for k := range res.Items {
		if !res.Items[k].Published.Equal(later.Items[k].Published) {
			t.Errorf("item %d published moved with the poll time", k)
		}
	}
	got, assumed, ok := parseDate("Mon, 3 Mar 2025 7:05 am", berlin)
	if !ok {
		t.Fatalf("parseDate of a lower-case am date failed")
	}
	if want := time.Date(2025, 3, 3, 6, 5, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("published = %s, want %s", got, want)
	}
	if !assumed {
		t.Errorf("zone assumed = false, want true")
	}
}

func TestUnparseableDateFallsBackStably(t *testing.T) {
	d := &itemDraft{published: "sometime last week"}
	first := resolveDates(d, nil, fetchTime)
	second := resolveDates(d, nil, fetchTime.Add(time.Hour))
	if first.source != DateFirstSeen || !first.published.Equal(fetchTime) {
		t.Errorf("published = %s (%s), want the fetch time", first.published, first.source)
	}
	if !slices.Contains(first.flags, FlagDateMissing) {
		t.Errorf("flags = %q, want %s", first.flags, FlagDateMissing)
	}
	a := Item{Title: "t", Published: first.published}
	b := Item{Title: "t", Published: second.published}
	if ContentHash(&a) != ContentHash(&b) {
		t.Errorf("a new first-seen time changes the content hash, so a later poll would publish again")
	}
}

func TestFutureDateKeepsOriginal(t *testing.T) {
	now := time.Date(2015, 10, 18, 12, 0, 0, 0, time.UTC)
	res := parseFixture(t, "future-date.xml", Source{}, now)
	future := res.Items[0]
	if !future.Published.Equal(now) {
		t.Errorf("effective date = %s, want the first-seen time %s", future.Published, now)
	}
	want := time.Date(2015, 10, 31, 7, 0, 0, 0, time.UTC)
	if future.PublishedOriginal == nil || !future.PublishedOriginal.Equal(want) {
		t.Errorf("published_original = %v, want %s", future.PublishedOriginal, want)
	}
	if !slices.Contains(future.Flags, FlagDateInFuture) {
		t.Errorf("flags = %q, want %s", future.Flags, FlagDateInFuture)
	}
	if past := res.Items[1]; past.PublishedOriginal != nil || slices.Contains(past.Flags, FlagDateInFuture) {
		t.Errorf("past item flagged: %q, original %v", past.Flags, past.PublishedOriginal)
	}
	tests := []struct {
		name    string
		ahead   time.Duration
		flagged bool
	}{
		{"five minutes ahead is clock skew", 5 * time.Minute, false},
		{"twenty minutes ahead is future", 20 * time.Minute, true},
		{"two days ahead is future", 48 * time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &itemDraft{published: now.Add(tt.ahead).Format(time.RFC1123Z)}
			r := resolveDates(d, nil, now)
			if got := slices.Contains(r.flags, FlagDateInFuture); got != tt.flagged {
				t.Errorf("flagged = %v, want %v", got, tt.flagged)
			}
			if tt.flagged && !r.published.Equal(now) {
				t.Errorf("effective date = %s, want %s", r.published, now)
			}
		})
	}
}

func TestLocalisedDates(t *testing.T) {
	warsaw := mustLocation(t, "Europe/Warsaw")
	tests := []struct {
		name, raw, want string
		zone            zoneState
	}{
		{"polish genitive month", "12 czerwca 2026 10:00", "2026-06-12T08:00:00Z", zoneAssumed},
		{"polish weekday and abbreviation", "pt., 5 gru 2025 14:30", "2025-12-05T13:30:00Z", zoneAssumed},
		{"polish dotted numeric", "12.06.2026 10:00", "2026-06-12T08:00:00Z", zoneAssumed},
		{"lithuanian year first", "2026 m. birželio 12 d. 10:00", "2026-06-12T08:00:00Z", zoneAssumed},
		{"lithuanian weekday", "penktadienis, 2025 m. gruodžio 5 d.", "2025-12-04T23:00:00Z", zoneAssumed},
		{"french with à and h", "vendredi 12 juin 2026 à 10h00", "2026-06-12T08:00:00Z", zoneAssumed},
		{"german dotted day and uhr", "Freitag, 12. Juni 2026, 10:00 Uhr", "2026-06-12T08:00:00Z", zoneAssumed},
		{"german märz", "3. März 2026 09:15", "2026-03-03T08:15:00Z", zoneAssumed},
		{"dutch month", "vrijdag 12 juni 2026 10:00", "2026-06-12T08:00:00Z", zoneAssumed},
		{"dutch maart abbreviation", "3 mrt 2026 09:15", "2026-03-03T08:15:00Z", zoneAssumed},
		{"english with mest", "Fri, 12 Jun 2026 10:00:00 MEST", "2026-06-12T08:00:00Z", zoneGiven},
		{"english with est", "Fri, 12 Dec 2025 10:00:00 EST", "2025-12-12T15:00:00Z", zoneGiven},
		{"ambiguous ist is unknown", "Fri, 12 Jun 2026 10:00:00 IST", "2026-06-12T08:00:00Z", zoneUnknown},
		{"made-up zone is unknown", "Fri, 12 Jun 2026 10:00 XYZ", "2026-06-12T08:00:00Z", zoneUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, zone, ok := parseDateZone(tt.raw, warsaw)
			if !ok {
				t.Fatalf("parseDateZone(%q) failed", tt.raw)
			}
			if s := got.Format(time.RFC3339); s != tt.want {
				t.Errorf("parseDateZone(%q) = %s, want %s", tt.raw, s, tt.want)
			}
			if zone != tt.zone {
				t.Errorf("zone state = %d, want %d", zone, tt.zone)
			}
		})
	}
}

func TestUnknownZoneIsFlagged(t *testing.T) {
	d := &itemDraft{published: "Fri, 12 Jun 2026 10:00:00 IST"}
	r := resolveDates(d, nil, time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC))
	if !slices.Contains(r.flags, FlagDateZoneUnknown) {
		t.Errorf("flags = %q, want %s", r.flags, FlagDateZoneUnknown)
	}
	if r.source != DateFromFeed {
		t.Errorf("date source = %s, want %s", r.source, DateFromFeed)
	}
}

func TestEnclosureWithoutTypeIsKept(t *testing.T) {
	res := parseFixture(t, "enclosure-no-type.xml", Source{FeedURL: "https://lectures.example.edu/feed.xml"}, fetchTime)
	for k, it := range res.Items {
		if !slices.Contains(it.Flags, FlagEnclosureTypeInferred) {
			t.Errorf("item %d flags = %q, want %s", k, it.Flags, FlagEnclosureTypeInferred)
		}
	}
	base, err := url.Parse("https://pod.example/feed")
	if err != nil {
		t.Fatalf("parsing base: %v", err)
	}
	got := cleanEnclosures([]Enclosure{
		{URL: "/media/ep1.mp3"},
		{URL: "https://POD.example/media/ep1.mp3?utm_source=feed", Type: "audio/mpeg", Length: 1200},
		{URL: "https://pod.example/media/ep1.ogg", Type: "audio/ogg"},
	}, base)
	want := []Enclosure{
		{URL: "https://pod.example/media/ep1.mp3", Type: "audio/mpeg", Length: 1200},
		{URL: "https://pod.example/media/ep1.ogg", Type: "audio/ogg"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("enclosures = %+v, want %+v", got, want)
	}
	if enclosureTypeInferred([]Enclosure{{URL: "/a.mp3", Type: "audio/mpeg"}}, []Enclosure{{URL: "/a.mp3", Type: "audio/mpeg"}}) {
		t.Errorf("a given type counts as inferred")
	}
}

func TestLazyImagesAndPlaceholders(t *testing.T) {
	base, err := url.Parse("https://mag.example.de/2026/story/")
	if err != nil {
		t.Fatalf("parsing base: %v", err)
	}
	tests := []struct {
		name, in string
		want     []string
		banned   []string
	}{
		{"relative data-srcset made absolute",
			`<img data-srcset="a-360.png 360w, /img/a-720.png 720w" src="data:image/gif;base64,R0lGOD">`,
			[]string{`src="https://mag.example.de/img/a-720.png"`, `srcset="https://mag.example.de/2026/story/a-360.png 360w, https://mag.example.de/img/a-720.png 720w"`},
			[]string{"data:", "data-srcset"}},
		{"data-lazy-src promoted",
			`<img src="/spinner/loading.gif" data-lazy-src="photo.jpg" alt="p">`,
			[]string{`src="https://mag.example.de/2026/story/photo.jpg"`, `alt="p"`},
			[]string{"loading.gif"}},
		{"placeholder without real source dropped",
			`<p>Text<img src="https://mag.example.de/wp/blank.gif"></p>`,
			[]string{"<p>Text</p>"},
			[]string{"<img"}},
		{"non-http srcset candidate dropped",
			`<img src="/a.jpg" srcset="javascript:alert(1) 1x, /a@2x.jpg 2x">`,
			[]string{`srcset="https://mag.example.de/a@2x.jpg 2x"`},
			[]string{"javascript"}},
		{"ordinary image kept",
			`<img src="/media/gray-wolf.jpg">`,
			[]string{`src="https://mag.example.de/media/gray-wolf.jpg"`},
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sanitizeHTML(tt.in, base)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %s:\n%s", w, got)
				}
			}
			for _, b := range tt.banned {
				if strings.Contains(got, b) {
					t.Errorf("output keeps %q:\n%s", b, got)
				}
			}
		})
	}
}

func TestSameArticleTwoFeedsSameID(t *testing.T) {
	home := parseFixture(t, "same-article-home.xml", Source{Feed: "home"}, fetchTime)
	section := parseFixture(t, "same-article-section.xml", Source{Feed: "companies"}, fetchTime)
	for k := range home.Items {
		if home.Items[k].ID != section.Items[k].ID {
			t.Errorf("item %d ids differ between the two feeds: %s and %s", k, home.Items[k].ID, section.Items[k].ID)
		}
	}
}

func TestHreflangAlternatesKept(t *testing.T) {
	res := parseFixture(t, "hreflang-alternates.atom.xml", Source{FeedURL: "https://chamber.example/feed"}, fetchTime)
	if len(res.Items) != 1 {
		t.Fatalf("items = %d, want 1", len(res.Items))
	}
	it := res.Items[0]
	if it.URL != "https://chamber.example/en/fair" {
		t.Errorf("url = %q, want the first alternate link, canonical", it.URL)
	}
	want := []string{"https://chamber.example/pl/targi", "https://chamber.example/lt/muge"}
	if !slices.Equal(it.Alternates, want) {
		t.Errorf("alternates = %q, want %q", it.Alternates, want)
	}
	if it.Language != "en" {
		t.Errorf("language = %q, want the declared en", it.Language)
	}
}

func TestFlagSharedLinks(t *testing.T) {
	draft := func(title, link string) *itemDraft {
		d := &itemDraft{}
		d.Title, d.URL = title, link
		signDraft(d)
		return d
	}
	drafts := []*itemDraft{
		draft("Fair opens", "https://chamber.example/news/"),
		draft("Rates held", "https://chamber.example/news/"),
		draft("Own page", "https://chamber.example/news/own"),
		draft("Home link", "https://chamber.example/"),
		draft("Listed twice", "https://chamber.example/news/twice"),
		draft("Listed twice", "https://chamber.example/news/twice"),
	}
	flagSharedLinks(drafts, []string{"https://chamber.example/"})
	want := []bool{true, true, false, true, false, false}
	for k, d := range drafts {
		if got := slices.Contains(d.Flags, FlagLinkShared); got != want[k] {
			t.Errorf("draft %d (%s) flagged = %v, want %v", k, d.Title, got, want[k])
		}
	}
}
