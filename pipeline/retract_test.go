package pipeline_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

func TestRetract(t *testing.T) {
	for _, kind := range cacheKinds {
		t.Run(kind, func(t *testing.T) {
			env := newIngestEnv(t, kind)
			cache := env.newRC()
			g := env.ingester(cache, nil)
			r := pipeline.NewRetractor(g, env.stream)
			ctx := context.Background()
			mustIngest(t, g, testItem("a1", "h1"), pipeline.ResultCreated)
			mustIngest(t, g, testItem("a1", "h2"), pipeline.ResultUpdated)

			state, published, err := r.Retract(ctx, "wipk", "a1")
			if err != nil {
				t.Fatalf("retracting: %v", err)
			}
			if !published {
				t.Error("first retraction published nothing")
			}
			if state.Event.Kind != pipeline.KindRetracted || state.Event.Revision != 3 {
				t.Errorf("retraction = kind %q revision %d, want retracted 3", state.Event.Kind, state.Event.Revision)
			}
			evs := env.events(t)
			if len(evs) != 3 {
				t.Fatalf("stream has %d events, want 3", len(evs))
			}
			last := evs[2]
			if last.Kind != pipeline.KindRetracted || last.Revision != 3 || last.Title != "Export training h2" {
				t.Errorf("stored retraction = %q rev %d title %q, want retracted rev 3 with the last title", last.Kind, last.Revision, last.Title)
			}

			_, again, err := r.Retract(ctx, "wipk", "a1")
			if err != nil || again {
				t.Errorf("second retraction = published %v, err %v; want nothing published", again, err)
			}
			got, err := r.State(ctx, "", "a1")
			if err != nil || !got.Retracted() {
				t.Errorf("state after retraction = %+v, %v; want retracted", got.Event.Kind, err)
			}
			// The same content again stays retracted; changed content
			// brings the item back one revision higher.
			mustIngest(t, g, testItem("a1", "h2"), pipeline.ResultDuplicate)
			mustIngest(t, g, testItem("a1", "h3"), pipeline.ResultUpdated)
			evs = env.events(t)
			if n := len(evs); n != 4 || evs[3].Revision != 4 {
				t.Errorf("stream after re-publish has %d events, last revision %d; want 4 and 4", n, evs[n-1].Revision)
			}
		})
	}
}

func TestRetractRejectsUnknownAndForeignItems(t *testing.T) {
	env := newIngestEnv(t, "embedded")
	g := env.ingester(env.newRC(), nil)
	r := pipeline.NewRetractor(g, env.stream)
	mustIngest(t, g, testItem("a1", "h1"), pipeline.ResultCreated)
	cases := []struct {
		name, partner, id string
	}{
		{"unknown id", "wipk", "nope"},
		{"another partner's item", "other", "a1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, published, err := r.Retract(context.Background(), c.partner, c.id)
			if !errors.Is(err, pipeline.ErrItemNotFound) {
				t.Errorf("error = %v, want ErrItemNotFound", err)
			}
			if published {
				t.Error("a rejected retraction published an event")
			}
		})
	}
	if n := len(env.events(t)); n != 1 {
		t.Errorf("stream has %d events, want 1", n)
	}
}

func TestRetractWaitsForReservation(t *testing.T) {
	env := newIngestEnv(t, "embedded")
	cache := env.newRC()
	g := env.ingester(cache, nil)
	r := pipeline.NewRetractor(g, env.stream)
	mustIngest(t, g, testItem("a1", "h1"), pipeline.ResultCreated)
	ctx := context.Background()
	if won, err := cache.Reserve(ctx, "reserve:a1", "other", time.Minute); err != nil || !won {
		t.Fatalf("reserving as another writer = %v, %v", won, err)
	}
	_, _, err := r.Retract(ctx, "wipk", "a1")
	if !errors.Is(err, pipeline.ErrReserved) {
		t.Errorf("error = %v, want ErrReserved", err)
	}
}

func TestPushedItemIDMatchesGUIDIdentity(t *testing.T) {
	it := pipeline.Item{GUID: "HTTP://Partner.Example/n/1", Title: "t"}
	src := pipeline.Source{Partner: "wipk", Feed: "push", FeedURL: "push"}
	if err := pipeline.NormaliseItem(&it, src, time.Now()); err != nil {
		t.Fatalf("normalising: %v", err)
	}
	if got := pipeline.PushedItemID("wipk", "HTTP://Partner.Example/n/1"); got != it.ID {
		t.Errorf("PushedItemID = %s, want the normalised id %s", got, it.ID)
	}
}

// TestRetractKeepsGrouping checks that an update after a retraction stays
// in the item's story and keeps its duplicate mark.
func TestRetractKeepsGrouping(t *testing.T) {
	env := newIngestEnv(t, "embedded")
	g := clusterIngester(t, env)
	r := pipeline.NewRetractor(g, env.stream)
	ctx := context.Background()
	origin := storyItem(t, "chamber", "en", "https://chamber.example/news/fair", "Export fair in Vilnius", fairText, "")
	copied := storyItem(t, "cluster", "en", "https://cluster.example/fair", "Export fair in Vilnius",
		fairText+" Source: regional chamber.", "")
	mustIngest(t, g, origin, pipeline.ResultCreated)
	mustIngest(t, g, copied, pipeline.ResultCreated)
	if copied.ClusterID != origin.ID || copied.DuplicateOf != origin.ID {
		t.Fatalf("copy grouped as cluster %q, duplicate of %q; want both %q", copied.ClusterID, copied.DuplicateOf, origin.ID)
	}
	if _, published, err := r.Retract(ctx, "cluster", copied.ID); err != nil || !published {
		t.Fatalf("retracting the copy: published %v, %v", published, err)
	}

	changed := storyItem(t, "cluster", "en", "https://cluster.example/fair", "Export fair in Vilnius",
		fairText+" Source: regional chamber. Registration closes on 1 June.", "")
	mustIngest(t, g, changed, pipeline.ResultUpdated)
	if changed.ClusterID != origin.ID {
		t.Errorf("update after the retraction is in cluster %q, want %q", changed.ClusterID, origin.ID)
	}
	if changed.DuplicateOf != origin.ID {
		t.Errorf("update after the retraction is a duplicate of %q, want %q", changed.DuplicateOf, origin.ID)
	}
}
