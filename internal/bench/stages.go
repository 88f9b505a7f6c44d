package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/app"
	"github.com/syndic-network/syndic/pipeline"
	"github.com/syndic-network/syndic/workers"
)

// StageCosts is the CPU time per item of each pipeline stage, in seconds,
// measured one stage at a time over the same documents.
type StageCosts struct {
	Items int `json:"items"`
	// Fetch is the HTTP GET of every document, without validators.
	Fetch float64 `json:"fetch"`
	// Parse is gofeed alone on the fetched bytes.
	Parse float64 `json:"parse"`
	// Normalise is pipeline.ParseFeed (decoding, repair, gofeed, then
	// sanitising, language, identity and hashes) minus Parse.
	Normalise float64 `json:"normalise"`
	// Publish is one JetStream publish with PubAck of each item's event.
	Publish float64 `json:"publish"`
	// Dedup is Ingester.Ingest of each new item minus Publish: the cache
	// and index look-ups, the reservation, clustering and the index and
	// cache writes.
	Dedup float64 `json:"dedup"`
	// Known is Ingester.Ingest of an item already recorded: a cache hit
	// and the refresh of its seen key.
	Known float64 `json:"known"`
	// NewMessages and KnownMessages are the NATS messages (round trips)
	// Ingester.Ingest sent per new and per known item.
	NewMessages   float64 `json:"new_messages"`
	KnownMessages float64 `json:"known_messages"`
}

// Sum returns the cost of one new item through every stage.
func (s StageCosts) Sum() float64 {
	return s.Fetch + s.Parse + s.Normalise + s.Publish + s.Dedup
}

// fetched is one fetched document.
type fetched struct {
	feed        workers.Feed
	body        []byte
	contentType string
}

// MeasureStages opens a fresh Syndic on the farm's feeds and runs each
// stage over every document or item before starting the next, with
// o.Concurrency goroutines for the stages that wait on the network.
func MeasureStages(ctx context.Context, o Options) (StageCosts, error) {
	o = o.withDefaults()
	var sc StageCosts
	urls, err := o.Farm.URLs(ctx)
	if err != nil {
		return sc, err
	}
	a, cleanup, err := openApp(ctx, urls, o)
	if err != nil {
		return sc, err
	}
	defer cleanup()
	docs, fetchCPU, err := fetchAll(ctx, a, o.Concurrency)
	if err != nil {
		return sc, err
	}
	pipeline.ResetMemos()
	parseCPU, err := timeCPU(func() error { return parseAll(docs) })
	if err != nil {
		return sc, err
	}
	var items []pipeline.Item
	normaliseCPU, err := timeCPU(func() (err error) {
		items, err = normaliseAll(docs)
		return err
	})
	if err != nil {
		return sc, err
	}
	n := float64(len(items))
	sc = StageCosts{Items: len(items), Fetch: fetchCPU / n, Parse: parseCPU / n, Normalise: (normaliseCPU - parseCPU) / n}
	return measureIngest(ctx, a, items, o.Concurrency, sc)
}

func measureIngest(ctx context.Context, a *app.App, items []pipeline.Item, conc int, sc StageCosts) (StageCosts, error) {
	n := float64(len(items))
	publishCPU, err := timeCPU(func() error { return publishAll(ctx, a, items, conc) })
	if err != nil {
		return sc, err
	}
	msgs0 := a.Conn.Stats().OutMsgs
	ingestCPU, err := timeCPU(func() error { return ingestAll(ctx, a, items, conc, pipeline.ResultCreated) })
	if err != nil {
		return sc, err
	}
	msgs1 := a.Conn.Stats().OutMsgs
	knownCPU, err := timeCPU(func() error { return ingestAll(ctx, a, items, conc, pipeline.ResultDuplicate) })
	if err != nil {
		return sc, err
	}
	sc.NewMessages = float64(msgs1-msgs0) / n
	sc.KnownMessages = float64(a.Conn.Stats().OutMsgs-msgs1) / n
	sc.Publish = publishCPU / n
	sc.Dedup = (ingestCPU - publishCPU) / n
	sc.Known = knownCPU / n
	return sc, nil
}

// timeCPU runs fn and returns the process CPU seconds it took.
func timeCPU(fn func() error) (float64, error) {
	start := cpuTime()
	err := fn()
	return (cpuTime() - start).Seconds(), err
}

// forEach calls fn for 0..n-1 on conc goroutines and returns the first
// error.
func forEach(n, conc int, fn func(i int) error) error {
	var next atomic.Int64
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for range min(conc, n) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

func fetchAll(ctx context.Context, a *app.App, conc int) ([]fetched, float64, error) {
	feeds := a.Feeds()
	docs := make([]fetched, len(feeds))
	cpu, err := timeCPU(func() error {
		return forEach(len(feeds), conc, func(i int) error {
			f := feeds[i]
			res := a.Fetcher.Fetch(ctx, workers.FetchRequest{URL: f.URL, AllowPrivateNetwork: true})
			if res.Outcome != workers.OutcomeNewContent {
				return fmt.Errorf("fetching %s: outcome %s: %w", f.URL, res.Outcome, res.Err)
			}
			docs[i] = fetched{feed: f, body: res.Body, contentType: res.ContentType}
			return nil
		})
	})
	return docs, cpu, err
}

func parseAll(docs []fetched) error {
	for _, d := range docs {
		if _, err := gofeed.NewParser().Parse(bytes.NewReader(d.body)); err != nil {
			return fmt.Errorf("parsing %s with gofeed: %w", d.feed.URL, err)
		}
	}
	return nil
}

func normaliseAll(docs []fetched) ([]pipeline.Item, error) {
	var items []pipeline.Item
	now := time.Now()
	for _, d := range docs {
		src := pipeline.Source{
			Partner: d.feed.Partner, Feed: d.feed.ID, FeedURL: d.feed.URL,
			Language: d.feed.Language, Location: d.feed.Location,
		}
		res, err := pipeline.ParseFeed(d.body, d.contentType, src, now)
		if err != nil {
			return nil, fmt.Errorf("normalising %s: %w", d.feed.URL, err)
		}
		items = append(items, res.Items...)
	}
	return items, nil
}

// publishAll publishes each item's event to a subject of the stream that
// no view reads, with its own message ids, so the Ingest that follows
// still sees every item as new.
func publishAll(ctx context.Context, a *app.App, items []pipeline.Item, conc int) error {
	subject := a.Config.NATS.SubjectPrefix + ".stagebench"
	return forEach(len(items), conc, func(i int) error {
		ev := pipeline.Event{Version: pipeline.EventVersion, Kind: pipeline.KindCreated, Revision: 1, Item: items[i], IngestedAt: time.Now().UTC()}
		data, err := json.Marshal(ev)
		if err != nil {
			return fmt.Errorf("encoding event of item %s: %w", items[i].ID, err)
		}
		msg := nats.NewMsg(subject)
		msg.Data = data
		if _, err := a.JS.PublishMsg(ctx, msg, jetstream.WithMsgID("stagebench-"+items[i].ID)); err != nil {
			return fmt.Errorf("publishing event of item %s: %w", items[i].ID, err)
		}
		return nil
	})
}

func ingestAll(ctx context.Context, a *app.App, items []pipeline.Item, conc int, want pipeline.Result) error {
	return forEach(len(items), conc, func(i int) error {
		it := items[i]
		got, err := a.Ingester.Ingest(ctx, &it)
		if err != nil {
			return fmt.Errorf("ingesting item %s: %w", it.ID, err)
		}
		if got != want {
			return fmt.Errorf("ingesting item %s: result %s, want %s", it.ID, got, want)
		}
		return nil
	})
}
