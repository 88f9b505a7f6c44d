package pipeline_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/pipeline"
)

// orderedGate delays the publish of item then until the seen key of item
// first is written, the last step of its record. It is both the publisher
// and the cache of an ingester, and delays nothing until both ids are set.
type orderedGate struct {
	pipeline.Cache
	next        pipeline.Publisher
	first, then string
	once        sync.Once
	done        chan struct{}
}

func (o *orderedGate) PublishMsg(ctx context.Context, msg *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	if id := msgItemID(msg); id != "" && id == o.then {
		select {
		case <-o.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return o.next.PublishMsg(ctx, msg, opts...)
}

func (o *orderedGate) Set(ctx context.Context, key, value string, ttl time.Duration) error {
	err := o.Cache.Set(ctx, key, value, ttl)
	if o.first != "" && key == "seen:"+o.first {
		o.once.Do(func() { close(o.done) })
	}
	return err
}

// eqvCase is a feed document offered after the items of before were
// ingested one at a time. The publish of item hold[1] of doc waits until
// item hold[0] is recorded.
type eqvCase struct {
	name   string
	before []*pipeline.Item
	doc    []*pipeline.Item
	hold   [2]string
}

// TestBatchMatchesIngest checks that IngestBatch gives every item the
// results, events, grouping and index entry that Ingest gives the same
// items one at a time in document order, each on a fresh environment.
func TestBatchMatchesIngest(t *testing.T) {
	for _, tc := range equivalenceCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			wantRes, want := ingestOneByOne(t, tc)
			gotRes, got := ingestAsBatch(t, tc)
			t.Logf("one at a time: %q", want)
			for i := range tc.doc {
				if gotRes[i] != wantRes[i] {
					t.Errorf("item %d (%s): batch %s, one at a time %s", i, tc.doc[i].ID, gotRes[i], wantRes[i])
				}
			}
			for id, evs := range want {
				if !slices.Equal(got[id], evs) {
					t.Errorf("events of %s: batch %q, one at a time %q", id, got[id], evs)
				}
			}
			for id, evs := range got {
				if _, ok := want[id]; !ok {
					t.Errorf("events of %s: batch %q, one at a time none", id, evs)
				}
			}
		})
	}
}

func equivalenceCases(t *testing.T) []eqvCase {
	t.Helper()
	img := "https://cdn.chamber.example/fair.jpg"
	stock := "https://cdn.stock.example/handshake.jpg"
	origin := storyItem(t, "chamber", "en", "https://chamber.example/news/fair", "Export fair in Vilnius", fairText, img)
	copied := func(partner string) *pipeline.Item {
		return storyItem(t, partner, "en", "https://"+partner+".example/fair", "Export fair in Vilnius",
			fairText+" Source: regional chamber.", "")
	}
	translated := storyItem(t, "izba", "pl", "https://izba.example/targi", "Targi eksportowe w Wilnie",
		"Regionalna izba handlowa otwiera rejestrację na targi eksportowe w Wilnie 12 czerwca.", img)
	rates := storyItem(t, "other", "en", "https://other.example/rates", "Rates held steady",
		"The central bank kept its main rate unchanged for the third month in a row, citing slower inflation in services.", "")

	alternate := storyItem(t, "agency", "en", "https://agency.example/briefs/7", "Fair: register now", "Short note about the fair.", "")
	alternate.Alternates = []string{origin.URL}
	viaAlternate := storyItem(t, "digest", "en", "https://digest.example/d/7", "Fair note", "Another short note.", "")
	viaAlternate.Alternates = []string{alternate.URL}

	stockA := storyItem(t, "chamber", "en", "https://chamber.example/news/fair2", "Export fair in Vilnius", fairText, stock)
	stockB := storyItem(t, "other", "en", "https://other.example/rates2", "Rates held steady",
		"The central bank kept its main rate unchanged for the third month in a row, citing slower inflation in services.", stock)
	stockPL := storyItem(t, "izba", "pl", "https://izba.example/targi2", "Targi eksportowe w Wilnie",
		"Regionalna izba handlowa otwiera rejestrację na targi eksportowe w Wilnie 12 czerwca.", stock)

	edited := func(it *pipeline.Item, extra string) *pipeline.Item {
		e := storyItem(t, it.Partner, "en", it.URL, it.Title, fairText+extra, "")
		if e.ID != it.ID || e.ContentHash == it.ContentHash {
			t.Fatalf("edit of %s: id %s hash %s, want the same id and another hash", it.ID, e.ID, e.ContentHash)
		}
		return e
	}

	plain := storyItem(t, "wire", "en", "https://wire.example/fair", "Export fair in Vilnius", fairText, "")
	return []eqvCase{
		{name: "copy after its origin", doc: []*pipeline.Item{origin, rates, copied("cluster")}},
		{name: "translation through a shared image", doc: []*pipeline.Item{origin, rates, translated}},
		{name: "link named only as an alternate", doc: []*pipeline.Item{origin, alternate, viaAlternate}},
		{name: "image shared by two clusters", doc: []*pipeline.Item{stockA, stockB, stockPL}},
		{
			name: "copy of an updated item", before: []*pipeline.Item{origin},
			doc: []*pipeline.Item{edited(origin, " Registration closes on 1 June."), copied("cluster")},
		},
		{name: "chain of copies", doc: []*pipeline.Item{origin, copied("a"), copied("b"), copied("c"), translated}},
		{
			// The second edition goes back to the stored text: one at a
			// time it is a third revision, because the first edition
			// changed the seen key in between.
			name: "one id twice with the stored text last", before: []*pipeline.Item{plain},
			doc: []*pipeline.Item{
				edited(plain, " Registration closes on 1 June."),
				origin, copied("a"), copied("b"), copied("c"), plain,
			},
			hold: [2]string{plain.ID, origin.ID},
		},
	}
}

// ingestOneByOne runs tc with Ingest on a fresh environment and returns
// the results of doc and the state of each item as stateByID gives it.
func ingestOneByOne(t *testing.T, tc eqvCase) ([]pipeline.Result, map[string][]string) {
	t.Helper()
	env := newIngestEnv(t, "embedded")
	g := batchIngester(t, env, env.js)
	ingestBefore(t, g, tc.before)
	var out []pipeline.Result
	for _, it := range tc.doc {
		c := *it
		r, err := g.Ingest(context.Background(), &c)
		if err != nil {
			t.Fatalf("ingesting item %s: %v", it.ID, err)
		}
		out = append(out, r)
	}
	return out, stateByID(t, env, tc.doc)
}

// ingestAsBatch runs tc with IngestBatch on a fresh environment.
func ingestAsBatch(t *testing.T, tc eqvCase) ([]pipeline.Result, map[string][]string) {
	t.Helper()
	env := newIngestEnv(t, "embedded")
	gate := &orderedGate{Cache: env.newRC(), next: env.js, done: make(chan struct{})}
	log := memberLog(t, env)
	c := pipeline.NewClusterer(log)
	t.Cleanup(c.Close)
	g := pipeline.NewIngester(pipeline.IngesterOptions{
		Cache: gate, Index: env.index, Publisher: gate, SubjectPrefix: env.prefix,
		SeenTTL: time.Hour, ReserveTTL: 10 * time.Second, Events: env.stream, Clusters: c,
	})
	ingestBefore(t, g, tc.before)
	// The ids are set only now, so the items of before release nothing.
	gate.first, gate.then = tc.hold[0], tc.hold[1]
	items := make([]pipeline.Item, len(tc.doc))
	for i, it := range tc.doc {
		items[i] = *it
	}
	var out []pipeline.Result
	for i, o := range g.IngestBatch(context.Background(), items) {
		if o.Err != nil {
			t.Fatalf("batch item %d (%s): %v", i, items[i].ID, o.Err)
		}
		out = append(out, o.Result)
	}
	return out, stateByID(t, env, tc.doc)
}

func ingestBefore(t *testing.T, g *pipeline.Ingester, items []*pipeline.Item) {
	t.Helper()
	for _, it := range items {
		c := *it
		mustIngest(t, g, &c, pipeline.ResultCreated)
	}
}

// stateByID returns each item's events in revision order, as kind,
// revision, cluster and the item it duplicates, followed by the index
// entry of each item of doc.
func stateByID(t *testing.T, env *ingestEnv, doc []*pipeline.Item) map[string][]string {
	t.Helper()
	evs := env.events(t)
	slices.SortStableFunc(evs, func(a, b pipeline.Event) int { return a.Revision - b.Revision })
	out := map[string][]string{}
	for _, ev := range evs {
		out[ev.ID] = append(out[ev.ID], fmt.Sprintf("%s r%d c=%s d=%s", ev.Kind, ev.Revision, ev.ClusterID, ev.DuplicateOf))
	}
	read := map[string]bool{}
	for _, it := range doc {
		if read[it.ID] {
			continue
		}
		read[it.ID] = true
		e, found, err := env.index.Get(context.Background(), it.ID)
		if err != nil {
			t.Fatalf("reading index entry of %s: %v", it.ID, err)
		}
		if found {
			out[it.ID] = append(out[it.ID], fmt.Sprintf("index r%d h=%.8s c=%s d=%s", e.Revision, e.Hash, e.Cluster, e.DuplicateOf))
		}
	}
	return out
}
