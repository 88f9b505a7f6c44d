package faulttest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// hubSubscriber is a loopback WebSub subscriber of the channel's JSON
// Feed. It confirms every verification request and counts how often each
// item URL is delivered.
type hubSubscriber struct {
	mu         sync.Mutex
	deliveries int
	items      map[string]int
	srv        *httptest.Server
}

func newHubSubscriber(t *testing.T) *hubSubscriber {
	t.Helper()
	s := &hubSubscriber{items: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *hubSubscriber) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		_, _ = io.WriteString(w, r.URL.Query().Get("hub.challenge"))
		return
	}
	var doc struct {
		Items []struct {
			URL string `json:"url"`
		} `json:"items"`
	}
	if err := json.NewDecoder(r.Body).Decode(&doc); err != nil {
		// A 400 makes the hub retry, and the test reports the item as
		// lost if it never decodes.
		http.Error(w, "undecodable JSON Feed: "+err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deliveries++
	for _, it := range doc.Items {
		s.items[it.URL]++
	}
}

// counts returns the number of deliveries and a copy of the per-item
// counts.
func (s *hubSubscriber) counts() (int, map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	items := make(map[string]int, len(s.items))
	for u, n := range s.items {
		items[u] = n
	}
	return s.deliveries, items
}

// subscribe sends a subscription request for the channel's JSON Feed to
// the hub of the feed server at addr. It waits until the subscription is
// stored in the WebSub bucket, so every item published afterwards is
// delivered.
func (d *deployment) subscribe(t *testing.T, addr string, s *hubSubscriber) {
	t.Helper()
	form := url.Values{
		"hub.mode":     {"subscribe"},
		"hub.topic":    {baseURL + "/feeds/all.json"},
		"hub.callback": {s.srv.URL + "/callback"},
	}
	resp, err := http.PostForm("http://"+addr+"/hub", form)
	if err != nil {
		t.Fatalf("subscribing at the hub: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("hub subscribe status = %d %s, want 202", resp.StatusCode, body)
	}
	js, err := jetstream.New(connect(t, d.natsURL()))
	if err != nil {
		t.Fatalf("creating jetstream context: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !d.hasSubscription(js) {
		if time.Now().After(deadline) {
			t.Fatal("hub stored no subscription within 30s")
		}
		waitDuration(200 * time.Millisecond)
	}
}

func (d *deployment) hasSubscription(js jetstream.JetStream) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	kv, err := js.KeyValue(ctx, "SYNDIC_WEBSUB")
	if err != nil {
		return false
	}
	keys, err := kv.ListKeys(ctx)
	if err != nil {
		return false
	}
	defer func() { _ = keys.Stop() }()
	for range keys.Keys() {
		return true
	}
	return false
}

// waitForDeliveries waits until the subscriber got every published item
// or convergeWithin passes, and returns its counts.
func (s *hubSubscriber) waitForDeliveries(published map[string]bool) (int, map[string]int) {
	deadline := time.Now().Add(convergeWithin)
	for {
		total, items := s.counts()
		missing := 0
		for u := range published {
			if items[u] == 0 {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			return total, items
		}
		waitDuration(time.Second)
	}
}

// hubCounts sums up the subscriber's deliveries.
type hubCounts struct {
	deliveries, duplicates, lost int
	lostURLs                     map[string]bool
}

// checkHub waits for the hub deliveries and checks that the subscriber
// got every published item exactly once.
func checkHub(t *testing.T, s *hubSubscriber, published map[string]bool) hubCounts {
	t.Helper()
	var c hubCounts
	total, items := s.waitForDeliveries(published)
	c.deliveries = total
	for u, n := range items {
		if !published[u] {
			t.Errorf("hub delivered %s, which the farm never published", u)
		}
		if n > 1 {
			c.duplicates += n - 1
			t.Errorf("hub delivered %s %d times", u, n)
		}
	}
	for u := range published {
		if items[u] == 0 {
			c.lost++
			if c.lostURLs == nil {
				c.lostURLs = map[string]bool{}
			}
			c.lostURLs[u] = true
			t.Errorf("hub never delivered %s", u)
		}
	}
	return c
}

// deliveredMetric is the counter line of successful WebSub deliveries in
// a process's Prometheus output.
const deliveredMetric = `syndic_websub_deliveries_total{result="delivered"}`

// checkHubSenders checks, through each process's admin /metrics, that the
// digest process sent every delivery the subscriber got, and that the
// feed servers, which take the subscription requests, and the ingest
// workers sent none.
func (d *deployment) checkHubSenders(t *testing.T, hub hubCounts) {
	t.Helper()
	for _, name := range slices.Sorted(maps.Keys(d.admins)) {
		admin := d.admins[name]
		sent, err := scrapeCounter(admin, deliveredMetric)
		if err != nil {
			t.Errorf("%s: reading %s: %v", name, deliveredMetric, err)
			continue
		}
		want := 0
		if name == "digest" {
			want = hub.deliveries
		}
		if sent != want {
			t.Errorf("%s sent %d WebSub deliveries, want %d", name, sent, want)
		}
		fmt.Printf("fault test: %s sent %d hub deliveries\n", name, sent)
	}
	// A lost item may be a delivery still waiting for its next retry or
	// one never fanned out. The retry counters tell the two apart.
	if admin, ok := d.admins["digest"]; ok && len(hub.lostURLs) > 0 {
		retried, retriedErr := scrapeCounter(admin, `syndic_websub_deliveries_total{result="retried"}`)
		failed, failedErr := scrapeCounter(admin, `syndic_websub_deliveries_total{result="failed"}`)
		t.Logf("digest: %d WebSub deliveries retried (%v), %d given up (%v)", retried, retriedErr, failed, failedErr)
		d.logHubConsumers(t, hub.lostURLs)
	}
}

// logHubConsumers logs the state of the hub's two durable consumers and
// of the deliveries stream, which show where a lost item stopped.
func (d *deployment) logHubConsumers(t *testing.T, lost map[string]bool) {
	t.Helper()
	js, err := jetstream.New(connect(t, d.natsURL()))
	if err != nil {
		t.Logf("creating jetstream context: %v", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, c := range []struct{ stream, consumer string }{
		{"SYNDIC_ITEMS", "feeds-hub-fanout"}, {"SYNDIC_ITEMS_WEBSUB", "feeds-hub-deliver"},
	} {
		info, err := js.Consumer(ctx, c.stream, c.consumer)
		if err != nil {
			t.Logf("consumer %s on %s: %v", c.consumer, c.stream, err)
			continue
		}
		ci := info.CachedInfo()
		t.Logf("consumer %s on %s: delivered stream seq %d, ack floor %d, pending %d, ack pending %d, redelivered %d, waiting %d",
			c.consumer, c.stream, ci.Delivered.Stream, ci.AckFloor.Stream, ci.NumPending, ci.NumAckPending, ci.NumRedelivered, ci.NumWaiting)
	}
	if s, err := js.Stream(ctx, "SYNDIC_ITEMS_WEBSUB"); err == nil {
		st := s.CachedInfo().State
		t.Logf("stream SYNDIC_ITEMS_WEBSUB: %d jobs queued, sequences %d to %d", st.Msgs, st.FirstSeq, st.LastSeq)
	}
	d.logEvents(ctx, t, js, lost)
}

// logEvents logs the stream sequence and the fields that decide a
// WebSub fan-out of each event whose item URL is in urls.
func (d *deployment) logEvents(ctx context.Context, t *testing.T, js jetstream.JetStream, urls map[string]bool) {
	t.Helper()
	stream, err := js.Stream(ctx, "SYNDIC_ITEMS")
	if err != nil {
		t.Logf("opening stream: %v", err)
		return
	}
	last := stream.CachedInfo().State.LastSeq
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Logf("creating consumer: %v", err)
		return
	}
	var seq uint64
	for seq < last && ctx.Err() == nil {
		batch, err := cons.Fetch(500, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			// A server of the cluster may still be placing the consumer.
			waitDuration(200 * time.Millisecond)
			continue
		}
		for msg := range batch.Messages() {
			md, _ := msg.Metadata()
			if md != nil {
				seq = md.Sequence.Stream
			}
			var ev struct {
				URL         string    `json:"url"`
				Kind        string    `json:"kind"`
				Backfill    bool      `json:"backfill"`
				DuplicateOf string    `json:"duplicate_of"`
				Published   time.Time `json:"published"`
				IngestedAt  time.Time `json:"ingested_at"`
			}
			if json.Unmarshal(msg.Data(), &ev) == nil && urls[ev.URL] {
				t.Logf("event %d of %s: kind %s, backfill %t, duplicate of %q, published %s, ingested %s",
					seq, ev.URL, ev.Kind, ev.Backfill, ev.DuplicateOf, ev.Published.Format(time.TimeOnly), ev.IngestedAt.Format(time.TimeOnly))
			}
		}
	}
}

// scrapeCounter returns the value of the counter line named metric on the
// admin address, or 0 when the process never incremented it.
func scrapeCounter(admin, metric string) (int, error) {
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		value, ok := strings.CutPrefix(sc.Text(), metric+" ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return 0, fmt.Errorf("parsing %q: %w", sc.Text(), err)
		}
		return int(f), nil
	}
	return 0, sc.Err()
}
