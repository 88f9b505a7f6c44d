package workers_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/broker"
	"github.com/syndic-network/syndic/internal/store"
	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/pipeline"
	"github.com/syndic-network/syndic/workers"
)

// loopbackHub records subscribe requests; the test then plays the hub's
// part of verification and delivery.
type loopbackHub struct {
	mu       sync.Mutex
	requests []url.Values
	srv      *httptest.Server
}

func newLoopbackHub(t *testing.T) *loopbackHub {
	t.Helper()
	h := &loopbackHub{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.requests = append(h.requests, r.PostForm)
		h.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *loopbackHub) last(t *testing.T) url.Values {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.requests) == 0 {
		t.Fatal("hub received no request")
	}
	return h.requests[len(h.requests)-1]
}

type websubEnv struct {
	sub      *workers.WebSub
	callback *httptest.Server
	stream   jetstream.Stream
	now      time.Time
}

func newWebSubEnv(t *testing.T) *websubEnv {
	t.Helper()
	ctx := context.Background()
	js, err := jetstream.New(testenv.Conn(t, testenv.NATS(t).URL))
	if err != nil {
		t.Fatalf("creating JetStream context: %v", err)
	}
	name := testenv.Name(t)
	stream, err := broker.EnsureStream(ctx, js, broker.StreamOptions{
		Stream: name, SubjectPrefix: "t." + name, Replicas: 1, MaxAge: time.Hour, DuplicateWindow: time.Minute,
	})
	if err != nil {
		t.Fatalf("creating stream: %v", err)
	}
	ing := pipeline.NewIngester(pipeline.IngesterOptions{
		Cache: store.NewKV(pushBucket(t, js, name+"_CACHE", true)), Index: pipeline.NewIndex(pushBucket(t, js, name+"_INDEX", false)),
		Publisher: js, SubjectPrefix: "t." + name,
	})
	env := &websubEnv{stream: stream, now: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)}
	var handler http.Handler = http.NotFoundHandler()
	env.callback = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(env.callback.Close)
	env.sub, err = workers.NewWebSub(workers.WebSubOptions{
		KV: pushBucket(t, js, name+"_WEBSUB", false), BaseURL: env.callback.URL,
		AllowInsecureCallback: true, AllowPrivateHubs: true, Ingester: ing,
		LeaseSeconds: 3600, SafetyInterval: 6 * time.Hour,
		Now: func() time.Time { return env.now },
	})
	if err != nil {
		t.Fatalf("creating subscriber: %v", err)
	}
	handler = env.sub.Handler()
	return env
}

func (e *websubEnv) streamLen(t *testing.T) uint64 {
	t.Helper()
	info, err := e.stream.Info(context.Background())
	if err != nil {
		t.Fatalf("reading stream info: %v", err)
	}
	return info.State.Msgs
}

// get sends the hub's verification request and returns status and body.
func get(t *testing.T, rawURL string) (int, string) {
	t.Helper()
	resp, err := http.Get(rawURL)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	return resp.StatusCode, string(body)
}

func deliver(t *testing.T, callback, signature, body string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, callback, strings.NewReader(body))
	if err != nil {
		t.Fatalf("building delivery: %v", err)
	}
	req.Header.Set("Content-Type", "application/rss+xml")
	if signature != "" {
		req.Header.Set("X-Hub-Signature", signature)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("delivering: %v", err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

func sign(secret, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// otherToken returns callback with the last hex digit of its token
// changed.
func otherToken(callback string) string {
	last := callback[len(callback)-1]
	if last == '0' {
		return callback[:len(callback)-1] + "1"
	}
	return callback[:len(callback)-1] + "0"
}

func verifyURL(callback string, q url.Values) string {
	return callback + "?" + q.Encode()
}

const hubRSS = `<?xml version="1.0"?><rss version="2.0"><channel><title>K</title><link>https://partner.example/</link>
<item><guid>https://partner.example/n/9</guid><title>Z huba</title><link>https://partner.example/n/9</link></item></channel></rss>`

func TestWebSubRoundTrip(t *testing.T) {
	env := newWebSubEnv(t)
	hub := newLoopbackHub(t)
	feed := workers.Feed{Partner: "wipk", ID: "news", URL: "https://partner.example/rss", Language: "pl", Location: time.UTC}
	ctx := context.Background()
	if err := env.sub.Subscribe(ctx, feed, hub.srv.URL, feed.URL); err != nil {
		t.Fatalf("subscribing: %v", err)
	}
	req := hub.last(t)
	callback, secret := req.Get("hub.callback"), req.Get("hub.secret")
	if req.Get("hub.mode") != "subscribe" || req.Get("hub.topic") != feed.URL || req.Get("hub.lease_seconds") != "3600" {
		t.Errorf("subscribe request = %v", req)
	}
	if !strings.HasPrefix(callback, env.callback.URL+"/websub/wipk/news/") || len(secret) < 32 {
		t.Fatalf("callback %q or secret of length %d is not as expected", callback, len(secret))
	}
	if _, ok := env.sub.PollInterval(ctx, "wipk", "news"); ok {
		t.Error("an unverified subscription slows polling down")
	}

	// Intent verification: a wrong topic or token is refused, the right
	// one gets the challenge back.
	q := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {"https://other.example/rss"}, "hub.challenge": {"c1"}, "hub.lease_seconds": {"600"}}
	if status, _ := get(t, verifyURL(callback, q)); status != http.StatusNotFound {
		t.Errorf("verification for another topic = %d, want 404", status)
	}
	q.Set("hub.topic", feed.URL)
	status, body := get(t, verifyURL(otherToken(callback), q))
	if status != http.StatusNotFound {
		t.Errorf("verification with a wrong token = %d, want 404", status)
	}
	if !strings.Contains(body, `"code":"not_found"`) {
		t.Errorf("wrong-token body = %q, want the JSON error body", body)
	}
	if status, body := get(t, env.callback.URL+"/websub/nothing"); status != http.StatusNotFound || !strings.Contains(body, `"code":"not_found"`) {
		t.Errorf("unknown callback path = %d %q, want 404 with the JSON error body", status, body)
	}
	status, body = get(t, verifyURL(callback, q))
	if status != http.StatusOK || body != "c1" {
		t.Fatalf("verification = %d %q, want 200 and the challenge", status, body)
	}
	if d, ok := env.sub.PollInterval(ctx, "wipk", "news"); !ok || d != 6*time.Hour {
		t.Errorf("poll interval after verification = %s, %v; want the safety interval", d, ok)
	}

	// Content distribution: only a correctly signed delivery is ingested.
	cases := []struct {
		name, signature string
		wantMsgs        uint64
	}{
		{"unsigned", "", 0},
		{"signed with another secret", sign("not-the-secret", hubRSS), 0},
		{"malformed signature", "sha256=zz", 0},
		{"signed", sign(secret, hubRSS), 1},
		{"signed again", sign(secret, hubRSS), 1},
	}
	for _, c := range cases {
		if status := deliver(t, callback, c.signature, hubRSS); status != http.StatusAccepted {
			t.Errorf("%s: delivery status = %d, want 202", c.name, status)
		}
		if n := env.streamLen(t); n != c.wantMsgs {
			t.Errorf("%s: stream has %d events, want %d", c.name, n, c.wantMsgs)
		}
	}

	// The lease runs out in 600 s; a renewal round inside the last tenth
	// of the requested lease subscribes again with the same callback.
	env.now = env.now.Add(300 * time.Second)
	if err := env.sub.Renew(ctx); err != nil {
		t.Fatalf("renewing: %v", err)
	}
	if got := hub.last(t).Get("hub.callback"); got != callback {
		t.Errorf("renewal callback = %q, want the same %q", got, callback)
	}
	if n := len(hub.requests); n != 2 {
		t.Errorf("hub received %d requests, want subscribe and renewal", n)
	}
}

func TestWebSubUnreliableHub(t *testing.T) {
	env := newWebSubEnv(t)
	hub := newLoopbackHub(t)
	feed := workers.Feed{Partner: "wipk", ID: "news", URL: "https://partner.example/rss"}
	ctx := context.Background()
	if err := env.sub.Subscribe(ctx, feed, hub.srv.URL, feed.URL); err != nil {
		t.Fatalf("subscribing: %v", err)
	}
	req := hub.last(t)
	q := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {feed.URL}, "hub.challenge": {"c"}, "hub.lease_seconds": {"3600"}}
	if status, _ := get(t, verifyURL(req.Get("hub.callback"), q)); status != http.StatusOK {
		t.Fatalf("verification = %d, want 200", status)
	}
	if err := env.sub.SafetyPolled(ctx, "wipk", "news", 0); err != nil {
		t.Fatalf("recording a quiet safety poll: %v", err)
	}
	if _, ok := env.sub.PollInterval(ctx, "wipk", "news"); !ok {
		t.Error("a safety poll without new items made the hub unreliable")
	}
	if err := env.sub.SafetyPolled(ctx, "wipk", "news", 2); err != nil {
		t.Fatalf("recording missed items: %v", err)
	}
	if _, ok := env.sub.PollInterval(ctx, "wipk", "news"); ok {
		t.Error("a hub that missed items still slows polling down")
	}
}

func TestWebSubCallbackMustBePublic(t *testing.T) {
	cases := []struct {
		name, base string
		ok         bool
	}{
		{"public https", "https://news.example.org", true},
		{"plain http", "http://news.example.org", false},
		{"localhost", "https://localhost:8080", false},
		{"loopback address", "https://127.0.0.1", false},
		{"private address", "https://10.1.2.3", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := workers.NewWebSub(workers.WebSubOptions{BaseURL: c.base})
			if c.ok && err != nil {
				t.Errorf("error = %v, want none", err)
			}
			if !c.ok && !errors.Is(err, workers.ErrCallbackNotPublic) {
				t.Errorf("error = %v, want ErrCallbackNotPublic", err)
			}
		})
	}
}

func TestWebSubHubRequestsAreGuarded(t *testing.T) {
	hub := newLoopbackHub(t)
	sub, err := workers.NewWebSub(workers.WebSubOptions{
		KV: websubBucket(t), BaseURL: "https://news.example.org",
	})
	if err != nil {
		t.Fatalf("creating subscriber: %v", err)
	}
	feed := workers.Feed{Partner: "wipk", ID: "news", URL: "https://partner.example/rss"}
	err = sub.Subscribe(context.Background(), feed, hub.srv.URL, feed.URL)
	if !errors.Is(err, workers.ErrPrivateAddress) {
		t.Errorf("subscribing at a loopback hub: error = %v, want ErrPrivateAddress", err)
	}
	if len(hub.requests) != 0 {
		t.Error("the loopback hub received a request")
	}
}

func websubBucket(t *testing.T) jetstream.KeyValue {
	t.Helper()
	js, err := jetstream.New(testenv.Conn(t, testenv.NATS(t).URL))
	if err != nil {
		t.Fatalf("creating JetStream context: %v", err)
	}
	return pushBucket(t, js, testenv.Name(t)+"_WEBSUB", false)
}

// TestWebSubGrantedLeaseIsBounded checks that a hub granting a lease
// longer than requested, or one past what a time.Duration holds, still
// gets a subscription that counts as active and is renewed in time.
func TestWebSubGrantedLeaseIsBounded(t *testing.T) {
	for _, granted := range []string{"9223372037", "9999999999999", "99999999999999999999", "abc", "-5"} {
		t.Run(granted, func(t *testing.T) {
			env := newWebSubEnv(t)
			hub := newLoopbackHub(t)
			feed := workers.Feed{Partner: "wipk", ID: "news", URL: "https://partner.example/rss"}
			ctx := context.Background()
			if err := env.sub.Subscribe(ctx, feed, hub.srv.URL, feed.URL); err != nil {
				t.Fatalf("subscribing: %v", err)
			}
			q := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {feed.URL}, "hub.challenge": {"c"}, "hub.lease_seconds": {granted}}
			if status, _ := get(t, verifyURL(hub.last(t).Get("hub.callback"), q)); status != http.StatusOK {
				t.Fatalf("verification = %d, want 200", status)
			}
			if _, ok := env.sub.PollInterval(ctx, "wipk", "news"); !ok {
				t.Error("the subscription does not count as active after verification")
			}
			// The requested lease is 3600 s; near its end a renewal
			// round must subscribe again.
			env.now = env.now.Add(3500 * time.Second)
			if err := env.sub.Renew(ctx); err != nil {
				t.Fatalf("renewing: %v", err)
			}
			if n := len(hub.requests); n != 2 {
				t.Errorf("hub received %d requests, want subscribe and renewal", n)
			}
		})
	}
}
