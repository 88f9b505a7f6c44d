package pipeline_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

// clusterIngester returns an ingester on env with a fingerprint bucket and
// the stream as its event reader.
func clusterIngester(t *testing.T, env *ingestEnv) *pipeline.Ingester {
	t.Helper()
	log := memberLog(t, env)
	return pipeline.NewIngester(pipeline.IngesterOptions{
		Cache: env.newRC(), Index: env.index, Publisher: env.js, SubjectPrefix: env.prefix,
		SeenTTL: time.Hour, ReserveTTL: 10 * time.Second,
		Events: env.stream, Clusters: pipeline.NewClusterer(log),
	})
}

// storyItem normalises a pushed item of partner with the given fields.
func storyItem(t *testing.T, partner, lang, link, title, body, image string) *pipeline.Item {
	t.Helper()
	it := &pipeline.Item{
		URL: link, Title: title, Content: "<p>" + body + "</p>", Language: lang, Image: image,
		Published: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC),
	}
	src := pipeline.Source{Partner: partner, Feed: "news", FeedURL: "https://" + partner + ".example/rss"}
	if err := pipeline.NormaliseItem(it, src, time.Date(2026, 5, 5, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatalf("normalising item of %s: %v", partner, err)
	}
	return it
}

const fairText = "The regional chamber of commerce opens registration for the export fair in Vilnius " +
	"on 12 June. Forty companies from the food and furniture sectors will meet buyers from " +
	"Scandinavia, and the chamber covers half of the stand fee for its members."

func TestIngestGroupsCopiesAndTranslations(t *testing.T) {
	env := newIngestEnv(t, "embedded")
	g := clusterIngester(t, env)
	img := "https://cdn.chamber.example/fair.jpg"
	origin := storyItem(t, "chamber", "en", "https://chamber.example/news/fair", "Export fair in Vilnius", fairText, img)
	sameLink := storyItem(t, "agency", "en", "https://chamber.example/news/fair?utm_source=agency", "Fair: register now", "Short note about the fair.", "")
	copied := storyItem(t, "cluster", "en", "https://cluster.example/fair", "Export fair in Vilnius",
		fairText+" Source: regional chamber.", "")
	translated := storyItem(t, "izba", "pl", "https://izba.example/targi", "Targi eksportowe w Wilnie",
		"Regionalna izba handlowa otwiera rejestrację na targi eksportowe w Wilnie 12 czerwca.", img)
	other := storyItem(t, "other", "en", "https://other.example/rates", "Rates held steady",
		"The central bank kept its main rate unchanged for the third month in a row, citing slower inflation in services.", "")
	for _, it := range []*pipeline.Item{origin, sameLink, copied, translated, other} {
		mustIngest(t, g, it, pipeline.ResultCreated)
	}
	update := *origin
	update.Content = "<p>" + fairText + " Registration closes on 1 June.</p>"
	update.ContentHash = pipeline.ContentHash(&update)
	mustIngest(t, g, &update, pipeline.ResultUpdated)

	events := env.events(t)
	if len(events) != 6 {
		t.Fatalf("events = %d, want 6", len(events))
	}
	tests := []struct {
		name        string
		ev          pipeline.Event
		cluster     string
		duplicateOf string
	}{
		{"first copy starts the cluster", events[0], origin.ID, ""},
		{"same canonical link is a duplicate", events[1], origin.ID, origin.ID},
		{"near-identical text is a duplicate", events[2], origin.ID, origin.ID},
		{"shared image across languages is a translation", events[3], origin.ID, ""},
		{"other story starts its own cluster", events[4], other.ID, ""},
		{"update keeps its grouping", events[5], origin.ID, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.ev.ClusterID != tt.cluster {
				t.Errorf("cluster_id = %q, want %q", tt.ev.ClusterID, tt.cluster)
			}
			if tt.ev.DuplicateOf != tt.duplicateOf {
				t.Errorf("duplicate_of = %q, want %q", tt.ev.DuplicateOf, tt.duplicateOf)
			}
		})
	}
}

func TestIngestRulesChangeIsNotUpdate(t *testing.T) {
	env := newIngestEnv(t, "embedded")
	g := clusterIngester(t, env)
	ctx := context.Background()

	// An entry written by rules version 1, which hashed the cleaned
	// fields as they were.
	hashed := storyItem(t, "p", "en", "https://p.example/a", "Fair", fairText, "")
	old := pipeline.IndexEntry{Hash: pipeline.ContentHashV1(hashed), Revision: 1, FirstSeen: time.Now()}
	if err := env.index.Put(ctx, hashed.ID, old); err != nil {
		t.Fatalf("writing old index entry: %v", err)
	}
	mustIngest(t, g, hashed, pipeline.ResultDuplicate)

	// An event stored by rules that kept a parameter today's rules strip:
	// only the stored event can show that the item did not change.
	stored := storyItem(t, "p", "en", "https://p.example/b", "Rates", fairText, "")
	stored.URL = "https://p.example/b?mc_eid=77"
	mustIngest(t, g, stored, pipeline.ResultCreated)
	entry, _, err := env.index.Get(ctx, stored.ID)
	if err != nil {
		t.Fatalf("reading index entry: %v", err)
	}
	entry.Hash, entry.Rules = pipeline.ContentHashV1(stored), 1
	if err := env.index.Put(ctx, stored.ID, entry); err != nil {
		t.Fatalf("rewriting index entry: %v", err)
	}
	fresh := storyItem(t, "p", "en", "https://p.example/b?mc_eid=77", "Rates", fairText, "")
	mustIngest(t, g, fresh, pipeline.ResultDuplicate)

	changed := storyItem(t, "p", "en", "https://p.example/a", "Fair", fairText+" New dates follow.", "")
	mustIngest(t, g, changed, pipeline.ResultUpdated)
	if n := len(env.events(t)); n != 2 {
		t.Errorf("events = %d, want 2: one created, one real update", n)
	}
}

func TestIngestPunctuationSpacingIsNotUpdate(t *testing.T) {
	env := newIngestEnv(t, "embedded")
	g := clusterIngester(t, env)
	ctx := context.Background()

	// Rules version 2 extracted summaries with a space before the full
	// stop when the last word was inside an inline tag.
	stored := storyItem(t, "p", "en", "https://p.example/c", "Grants", fairText, "")
	stored.Summary = "Grants for exporters are open ."
	mustIngest(t, g, stored, pipeline.ResultCreated)
	entry, _, err := env.index.Get(ctx, stored.ID)
	if err != nil {
		t.Fatalf("reading index entry: %v", err)
	}
	entry.Hash, entry.Rules = pipeline.ContentHashV2(stored), 2
	if err := env.index.Put(ctx, stored.ID, entry); err != nil {
		t.Fatalf("rewriting index entry: %v", err)
	}

	fresh := storyItem(t, "p", "en", "https://p.example/c", "Grants", fairText, "")
	fresh.Summary = "Grants for exporters are open."
	fresh.ContentHash = pipeline.ContentHash(fresh)
	mustIngest(t, g, fresh, pipeline.ResultDuplicate)
	if n := len(env.events(t)); n != 1 {
		t.Errorf("events = %d, want 1: the new summary spacing is no update", n)
	}
}

func TestIngestControlRemovalIsNotUpdate(t *testing.T) {
	env := newIngestEnv(t, "embedded")
	g := clusterIngester(t, env)
	ctx := context.Background()

	// An event stored by rules version 4, which kept bidirectional and
	// C1 controls in titles, summaries and content.
	title := "Export \u202efair\u0080 opens"
	stored := storyItem(t, "p", "en", "https://p.example/d", "Export fair opens", fairText, "")
	stored.Title = title
	stored.Summary = "\u2067" + fairText
	stored.Content = "<p>\u2067" + fairText + "</p>"
	stored.RulesVersion = 4
	stored.ContentHash = pipeline.ContentHashV4(stored)
	mustIngest(t, g, stored, pipeline.ResultCreated)
	entry, _, err := env.index.Get(ctx, stored.ID)
	if err != nil {
		t.Fatalf("reading index entry: %v", err)
	}
	entry.Hash, entry.Rules = stored.ContentHash, 4
	if err := env.index.Put(ctx, stored.ID, entry); err != nil {
		t.Fatalf("rewriting index entry: %v", err)
	}

	fresh := storyItem(t, "p", "en", "https://p.example/d", title, "\u2067"+fairText, "")
	if fresh.Title != "Export fair opens" {
		t.Fatalf("title = %q, want the controls removed", fresh.Title)
	}
	mustIngest(t, g, fresh, pipeline.ResultDuplicate)
	if n := len(env.events(t)); n != 1 {
		t.Errorf("events = %d, want 1: removing the controls is no update", n)
	}
}

// ingestFixture parses a fixture as feed of partner "p" and ingests every
// item, returning how many were created and updated.
func ingestFixture(t *testing.T, g *pipeline.Ingester, name, feed string, now time.Time) (created, updated int) {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("reading fixture: %v", err)
	}
	src := pipeline.Source{Partner: "p", Feed: feed, FeedURL: "https://p.example/" + feed}
	res, err := pipeline.ParseFeed(body, "", src, now)
	if err != nil {
		t.Fatalf("parsing %s: %v", name, err)
	}
	for i := range res.Items {
		result, err := g.Ingest(context.Background(), &res.Items[i])
		if err != nil {
			t.Fatalf("ingesting %s item %d: %v", name, i, err)
		}
		switch result {
		case pipeline.ResultCreated:
			created++
		case pipeline.ResultUpdated:
			updated++
		}
	}
	return created, updated
}

func TestPollTwiceCreatesNothingNew(t *testing.T) {
	tests := []struct {
		name     string
		fixtures []string
		created  int
	}{
		{"items without guid", []string{"missing-guid.xml"}, 3},
		{"one guid for every item", []string{"repeated-guid.xml"}, 3},
		{"tracking parameters in link", []string{"tracking-link.xml"}, 1},
		{"same article in two feeds", []string{"same-article-home.xml", "same-article-section.xml"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newIngestEnv(t, "embedded")
			g := clusterIngester(t, env)
			first := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
			created := 0
			for _, f := range tt.fixtures {
				n, _ := ingestFixture(t, g, f, strings.TrimSuffix(f, ".xml"), first)
				created += n
			}
			if created != tt.created {
				t.Errorf("first poll created %d items, want %d", created, tt.created)
			}
			for _, f := range tt.fixtures {
				n, u := ingestFixture(t, g, f, strings.TrimSuffix(f, ".xml"), first.Add(time.Hour))
				if n != 0 || u != 0 {
					t.Errorf("second poll of %s: %d created, %d updated, want none", f, n, u)
				}
			}
		})
	}
}

func TestUpdateKeepsFirstSeenDate(t *testing.T) {
	env := newIngestEnv(t, "embedded")
	g := clusterIngester(t, env)
	src := pipeline.Source{Partner: "p", Feed: "news", FeedURL: "https://p.example/rss"}
	first := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	for k, body := range []string{"First text.", "Edited text."} {
		it := &pipeline.Item{GUID: "undated-1", Title: "Undated", Content: "<p>" + body + "</p>"}
		if err := pipeline.NormaliseItem(it, src, first.Add(time.Duration(k)*24*time.Hour)); err != nil {
			t.Fatalf("normalising revision %d: %v", k+1, err)
		}
		if _, err := g.Ingest(context.Background(), it); err != nil {
			t.Fatalf("ingesting revision %d: %v", k+1, err)
		}
	}
	events := env.events(t)
	if len(events) != 2 {
		t.Fatalf("events = %d, want 2", len(events))
	}
	// The index records first-seen as the ingest time of the first event.
	if !events[1].Published.Equal(events[0].IngestedAt) {
		t.Errorf("update published = %s, want the first-seen %s", events[1].Published, events[0].IngestedAt)
	}
	if events[1].Updated == nil || events[1].Updated.Before(events[1].Published) {
		t.Errorf("update updated = %v, want a time after published %s", events[1].Updated, events[1].Published)
	}
	if events[0].Updated != nil {
		t.Errorf("created event updated = %v, want none", events[0].Updated)
	}
	if events[1].Kind != pipeline.KindUpdated {
		t.Errorf("second event kind = %s, want %s", events[1].Kind, pipeline.KindUpdated)
	}
}
