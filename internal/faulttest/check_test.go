package faulttest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/testenv"
)

// channelURLs returns how often each item URL appears in the JSON Feed of
// the channel "all" at addr.
func channelURLs(addr string) (map[string]int, error) {
	resp, err := http.Get("http://" + addr + "/feeds/all.json")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /feeds/all.json: %s", resp.Status)
	}
	var doc struct {
		Items []struct {
			URL string `json:"url"`
		} `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return nil, fmt.Errorf("decoding /feeds/all.json: %w", err)
	}
	out := map[string]int{}
	for _, it := range doc.Items {
		out[it.URL]++
	}
	return out, nil
}

// waitForAll waits until every feed server lists every published item, or
// convergeWithin passes, and returns the last output of each.
func (d *deployment) waitForAll(t *testing.T, published map[string]bool) []map[string]int {
	t.Helper()
	deadline := time.Now().Add(convergeWithin)
	for {
		outputs := make([]map[string]int, len(d.serveAddrs))
		complete := true
		for i, addr := range d.serveAddrs {
			out, err := channelURLs(addr)
			if err != nil {
				t.Logf("serve-%d: %v", i+1, err)
				complete = false
				continue
			}
			outputs[i] = out
			for u := range published {
				if out[u] == 0 {
					complete = false
				}
			}
		}
		if complete || time.Now().After(deadline) {
			for i := range outputs {
				if outputs[i] == nil {
					outputs[i] = map[string]int{}
				}
			}
			return outputs
		}
		waitDuration(time.Second)
	}
}

// streamDuplicates reads every event of the item stream and returns how
// many repeat an (item id, content hash) pair seen before, and how many
// distinct items the stream holds.
func (d *deployment) streamDuplicates(t *testing.T) (dups, items int) {
	t.Helper()
	nc := connect(t, d.natsURL())
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("creating jetstream context: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stream, err := js.Stream(ctx, "SYNDIC_ITEMS")
	if err != nil {
		t.Fatalf("opening stream: %v", err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatalf("reading stream info: %v", err)
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatalf("creating consumer: %v", err)
	}
	seen := map[string]bool{}
	ids := map[string]bool{}
	var last uint64
	for last < info.State.LastSeq {
		batch, err := cons.Fetch(500, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			// Right after a server of the cluster restarted, a pull
			// request can find no responder until the consumer is placed
			// again. The ordered consumer resumes after the last message
			// it delivered, so the read is retried until ctx ends.
			if ctx.Err() != nil {
				t.Fatalf("reading stream: %v", err)
			}
			t.Logf("reading stream, retrying: %v", err)
			time.Sleep(200 * time.Millisecond)
			continue
		}
		got := 0
		for msg := range batch.Messages() {
			got++
			var ev struct {
				ID   string `json:"id"`
				Hash string `json:"content_hash"`
			}
			if err := json.Unmarshal(msg.Data(), &ev); err != nil {
				t.Errorf("undecodable event on %s: %v", msg.Subject(), err)
			}
			key := ev.ID + "/" + ev.Hash
			if seen[key] {
				dups++
			}
			seen[key] = true
			ids[ev.ID] = true
			if md, err := msg.Metadata(); err == nil {
				last = md.Sequence.Stream
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			if ctx.Err() != nil {
				t.Fatalf("reading stream: %v", err)
			}
			t.Logf("reading stream, retrying: %v", err)
			continue
		}
		if got == 0 {
			break
		}
	}
	return dups, len(ids)
}

// checkErrorLogs fails the test for every error-level line that is not an
// expected message logged within faultWindow of a fault.
func checkErrorLogs(t *testing.T, lines []logLine, faults []time.Time) {
	t.Helper()
	for _, l := range lines {
		if l.Level != "ERROR" {
			continue
		}
		near := slices.ContainsFunc(faults, func(f time.Time) bool {
			return l.Time.After(f) && l.Time.Sub(f) <= faultWindow
		})
		if !near || !slices.Contains(expectedErrors, l.Msg) {
			t.Errorf("unexpected error log from %s: %s", l.Process, l.Raw)
		}
	}
}

// flushPrefix deletes every Redis key under prefix, as an operator who
// flushes the cache would.
func flushPrefix(t *testing.T, url, prefix string) {
	t.Helper()
	client := testenv.RedisClient(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var keys []string
	iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("scanning redis keys: %v", err)
	}
	if len(keys) > 0 {
		if err := client.Del(ctx, keys...).Err(); err != nil {
			t.Fatalf("deleting %d redis keys: %v", len(keys), err)
		}
	}
	t.Logf("flushed %d redis keys under %s", len(keys), prefix)
}
