package feeds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/feedcheck"
	"github.com/syndic-network/syndic/pipeline"
)

// memoryStore is a SubscriptionStore in a map.
type memoryStore struct {
	mu   sync.Mutex
	subs map[string]Subscription
}

func newMemoryStore() *memoryStore { return &memoryStore{subs: map[string]Subscription{}} }

func (m *memoryStore) Put(_ context.Context, s Subscription) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.subs[s.Key()] = s
	return nil
}

func (m *memoryStore) Get(_ context.Context, key string) (Subscription, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.subs[key]
	if !ok {
		return Subscription{}, fmt.Errorf("key %s: %w", key, ErrSubscriptionNotFound)
	}
	return s, nil
}

func (m *memoryStore) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.subs, key)
	return nil
}

func (m *memoryStore) List(context.Context) ([]Subscription, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Subscription, 0, len(m.subs))
	for _, s := range m.subs {
		out = append(out, s)
	}
	return out, nil
}

func (m *memoryStore) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.subs)
}

// subscriber is a WebSub subscriber on a local test server. It echoes the
// challenge unless refuse is set and records every delivery.
type subscriber struct {
	srv        *httptest.Server
	mu         sync.Mutex
	refuse     bool
	status     int
	verified   []url.Values
	deliveries []*http.Request
	bodies     [][]byte
}

func newSubscriber(t *testing.T) *subscriber {
	t.Helper()
	s := &subscriber{status: http.StatusNoContent}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *subscriber) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Method == http.MethodGet {
		s.verified = append(s.verified, r.URL.Query())
		if s.refuse {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, r.URL.Query().Get("hub.challenge"))
		return
	}
	body, _ := io.ReadAll(r.Body)
	s.deliveries = append(s.deliveries, r)
	s.bodies = append(s.bodies, body)
	w.WriteHeader(s.status)
}

func (s *subscriber) verifications() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.verified)
}

const hubTopic = "https://hub.example.org/feeds/all.atom"

func newTestHub(t *testing.T, store SubscriptionStore, now func() time.Time) *Hub {
	t.Helper()
	hub, err := NewHub(HubOptions{
		Store:    store,
		Client:   &http.Client{Timeout: 5 * time.Second},
		BaseURL:  "https://hub.example.org/",
		Channels: []Channel{{ID: "all", Title: "Everything"}, {ID: "fr", Title: "French", Filter: Filter{Languages: []string{"fr"}}}},
		Meta:     HubMeta{TagAuthority: "hub.example.org,2026-12-04"},
		Now:      now,
	})
	if err != nil {
		t.Fatalf("creating hub: %v", err)
	}
	t.Cleanup(hub.Close)
	return hub
}

func postHub(t *testing.T, hub http.Handler, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/hub", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	hub.ServeHTTP(rec, req)
	return rec
}

// waitUntil polls cond until it holds or five seconds pass.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func subscribeForm(callback string) url.Values {
	return url.Values{
		"hub.mode": {"subscribe"}, "hub.topic": {hubTopic}, "hub.callback": {callback},
		"hub.secret": {"s3cret"}, "hub.lease_seconds": {"86400"},
	}
}

func TestHubSubscribeVerifiesIntent(t *testing.T) {
	store := newMemoryStore()
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	hub := newTestHub(t, store, func() time.Time { return now })
	sub := newSubscriber(t)

	rec := postHub(t, hub, subscribeForm(sub.srv.URL+"/cb?x=1"))
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status = %d, want 202: %s", rec.Code, rec.Body)
	}
	waitUntil(t, "the subscription", func() bool { return store.len() == 1 })
	sub.mu.Lock()
	q := sub.verified[0]
	sub.mu.Unlock()
	if q.Get("hub.mode") != "subscribe" || q.Get("hub.topic") != hubTopic || q.Get("x") != "1" {
		t.Errorf("verification query = %v, want mode, topic and the callback's own query", q)
	}
	if q.Get("hub.lease_seconds") != "86400" {
		t.Errorf("lease_seconds = %q, want 86400", q.Get("hub.lease_seconds"))
	}
	got, err := store.List(context.Background())
	if err != nil {
		t.Fatalf("listing: %v", err)
	}
	if !got[0].Expires.Equal(now.Add(24 * time.Hour)) {
		t.Errorf("expires = %v, want one day later", got[0].Expires)
	}
	if got[0].Secret != "s3cret" {
		t.Errorf("secret = %q, want the one sent", got[0].Secret)
	}

	unsub := subscribeForm(sub.srv.URL + "/cb?x=1")
	unsub.Set("hub.mode", "unsubscribe")
	if rec := postHub(t, hub, unsub); rec.Code != http.StatusAccepted {
		t.Fatalf("unsubscribe status = %d, want 202", rec.Code)
	}
	waitUntil(t, "the unsubscription", func() bool { return store.len() == 0 })
}

func TestHubRefusedVerificationStoresNothing(t *testing.T) {
	store := newMemoryStore()
	hub := newTestHub(t, store, nil)
	sub := newSubscriber(t)
	sub.refuse = true
	postHub(t, hub, subscribeForm(sub.srv.URL))
	waitUntil(t, "the verification request", func() bool { return sub.verifications() == 1 })
	hub.Close()
	if n := store.len(); n != 0 {
		t.Errorf("subscriptions = %d, want 0", n)
	}
}

func TestHubRejectsInvalidRequests(t *testing.T) {
	hub := newTestHub(t, newMemoryStore(), nil)
	tests := []struct {
		name  string
		edit  func(url.Values)
		field string
	}{
		{"unknown mode", func(v url.Values) { v.Set("hub.mode", "publish") }, "hub.mode"},
		{"foreign topic", func(v url.Values) { v.Set("hub.topic", "https://other.example/feed") }, "hub.topic"},
		{"narrowed feed is no topic", func(v url.Values) { v.Set("hub.topic", hubTopic+"?lang=pl") }, "hub.topic"},
		{"relative callback", func(v url.Values) { v.Set("hub.callback", "/cb") }, "hub.callback"},
		{"ftp callback", func(v url.Values) { v.Set("hub.callback", "ftp://x.example/cb") }, "hub.callback"},
		{"callback with password", func(v url.Values) { v.Set("hub.callback", "https://a:b@x.example/cb") }, "hub.callback"},
		{"secret of 200 bytes", func(v url.Values) { v.Set("hub.secret", strings.Repeat("s", 200)) }, "hub.secret"},
		{"negative lease", func(v url.Values) { v.Set("hub.lease_seconds", "-1") }, "hub.lease_seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := subscribeForm("https://reader.example/cb")
			tt.edit(form)
			rec := postHub(t, hub, form)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400", rec.Code)
			}
			if !strings.Contains(rec.Body.String(), `"`+tt.field+`"`) {
				t.Errorf("body = %s, want a problem for %s", rec.Body, tt.field)
			}
		})
	}
}

func TestParseLeaseBounds(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want time.Duration
	}{
		{"empty gives the default", "", defaultLease},
		{"short lease is raised", "60", minLease},
		{"long lease is lowered", "99999999999", maxLease},
		{"lease beyond int64 is lowered", "999999999999999999999", maxLease},
		{"lease in bounds is kept", "7200", 2 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseLease(tt.raw)
			if err != nil {
				t.Fatalf("parseLease(%q): %v", tt.raw, err)
			}
			if got != tt.want {
				t.Errorf("parseLease(%q) = %v, want %v", tt.raw, got, tt.want)
			}
		})
	}
}

func TestHubRateLimitsPerCallbackHost(t *testing.T) {
	hub, err := NewHub(HubOptions{
		Store: newMemoryStore(), Client: http.DefaultClient, BaseURL: "https://hub.example.org",
		Channels:          []Channel{{ID: "all", Title: "Everything"}},
		ClientLimit:       RateLimit{Every: time.Hour, Burst: 100},
		CallbackHostLimit: RateLimit{Every: time.Hour, Burst: 2},
	})
	if err != nil {
		t.Fatalf("creating hub: %v", err)
	}
	defer hub.Close()
	// The callback host does not exist, so verifications fail fast.
	for i, want := range []int{http.StatusAccepted, http.StatusAccepted, http.StatusTooManyRequests} {
		rec := postHub(t, hub, subscribeForm(fmt.Sprintf("http://reader.invalid/cb/%d", i)))
		if rec.Code != want {
			t.Errorf("request %d: status = %d, want %d", i, rec.Code, want)
		}
	}
	if rec := postHub(t, hub, subscribeForm("http://other.invalid/cb")); rec.Code != http.StatusAccepted {
		t.Errorf("other host: status = %d, want 202", rec.Code)
	}
	// The same host spelt in another case or with a trailing dot shares
	// the limit.
	for _, cb := range []string{"http://READER.invalid/cb/x", "http://Reader.Invalid./cb/y"} {
		if rec := postHub(t, hub, subscribeForm(cb)); rec.Code != http.StatusTooManyRequests {
			t.Errorf("%s: status = %d, want 429", cb, rec.Code)
		}
	}
}

func TestHubRateLimitsIPSpellingsAsOneHost(t *testing.T) {
	// Each group spells one address several ways. The first two requests
	// of a group use the burst of 2, and the others must share it.
	groups := map[string][]string{
		"ipv6 loopback": {"[::1]", "[0::1]", "[0:0::1]", "[0000:0000:0000:0000:0000:0000:0000:0001]"},
		"ipv4 loopback": {"127.0.0.1", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[::FFFF:7F00:0001]"},
		"link-local":    {"[fe80::1%25eth0]", "[FE80::1]", "[fe80:0::1%25eth1]"},
	}
	for name, hosts := range groups {
		t.Run(name, func(t *testing.T) {
			hub, err := NewHub(HubOptions{
				Store: newMemoryStore(), Client: noDialClient(), BaseURL: "https://hub.example.org",
				Channels:          []Channel{{ID: "all", Title: "Everything"}},
				ClientLimit:       RateLimit{Every: time.Hour, Burst: 100},
				CallbackHostLimit: RateLimit{Every: time.Hour, Burst: 2},
			})
			if err != nil {
				t.Fatalf("creating hub: %v", err)
			}
			defer hub.Close()
			for i, host := range hosts {
				want := http.StatusAccepted
				if i >= 2 {
					want = http.StatusTooManyRequests
				}
				cb := fmt.Sprintf("http://%s:18781/cb/%d", host, i)
				if rec := postHub(t, hub, subscribeForm(cb)); rec.Code != want {
					t.Errorf("%s: status = %d, want %d", cb, rec.Code, want)
				}
			}
		})
	}
}

// noDialClient returns an HTTP client whose requests fail before they
// connect, so that verifications send nothing.
func noDialClient() *http.Client {
	dial := func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("this test does not connect")
	}
	return &http.Client{Transport: &http.Transport{DialContext: dial}}
}

func TestHubRateLimitsPerClient(t *testing.T) {
	hub, err := NewHub(HubOptions{
		Store: newMemoryStore(), Client: http.DefaultClient, BaseURL: "https://hub.example.org",
		Channels:    []Channel{{ID: "all", Title: "Everything"}},
		ClientLimit: RateLimit{Every: time.Hour, Burst: 1},
	})
	if err != nil {
		t.Fatalf("creating hub: %v", err)
	}
	defer hub.Close()
	if rec := postHub(t, hub, subscribeForm("http://a.invalid/cb")); rec.Code != http.StatusAccepted {
		t.Errorf("first request: status = %d, want 202", rec.Code)
	}
	if rec := postHub(t, hub, subscribeForm("http://b.invalid/cb")); rec.Code != http.StatusTooManyRequests {
		t.Errorf("second request: status = %d, want 429", rec.Code)
	}
}

func TestHubJobsFollowChannelFilters(t *testing.T) {
	store := newMemoryStore()
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	hub := newTestHub(t, store, func() time.Time { return now })
	ctx := context.Background()
	put := func(topic, callback string, expires time.Time) string {
		s := Subscription{Topic: topic, Callback: callback, Expires: expires}
		if err := store.Put(ctx, s); err != nil {
			t.Fatalf("storing: %v", err)
		}
		return s.Key()
	}
	all := put(hubTopic, "https://a.example/cb", now.Add(time.Hour))
	put("https://hub.example.org/feeds/fr.json", "https://b.example/cb", now.Add(time.Hour))
	put(hubTopic, "https://expired.example/cb", now.Add(-time.Second))

	en := event("en", now)
	en.Language = "en"
	hub.opts.Meta.Owners = NewPartnerDomains(map[string][]string{"northwind": {"https://northwind.example.com/"}})
	copied := en
	copied.DuplicateOf = "origin"
	copied.Partner = "southwind"
	owned := en
	owned.DuplicateOf = "origin"
	retracted := en
	retracted.Kind = pipeline.KindRetracted
	tests := []struct {
		name string
		ev   pipeline.Event
		want []string
	}{
		{"only matching channels", en, []string{all}},
		{"copies make no jobs", copied, nil},
		{"a copy from the link's owner makes jobs", owned, []string{all}},
		{"retractions make no jobs", retracted, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jobs, err := hub.Jobs(ctx, tt.ev)
			if err != nil {
				t.Fatalf("jobs: %v", err)
			}
			var keys []string
			for _, j := range jobs {
				keys = append(keys, j.Key)
			}
			if fmt.Sprint(keys) != fmt.Sprint(tt.want) {
				t.Errorf("job keys = %v, want %v", keys, tt.want)
			}
		})
	}
	if n := store.len(); n != 2 {
		t.Errorf("subscriptions after listing = %d, want 2 with the expired one deleted", n)
	}
}

func TestHubDeliverSignsBody(t *testing.T) {
	store := newMemoryStore()
	hub := newTestHub(t, store, nil)
	sub := newSubscriber(t)
	s := Subscription{Topic: hubTopic, Callback: sub.srv.URL + "/cb", Secret: "s3cret", Expires: time.Now().Add(time.Hour)}
	if err := store.Put(context.Background(), s); err != nil {
		t.Fatalf("storing: %v", err)
	}
	ev := event("fresh", time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC))
	if err := hub.Deliver(context.Background(), HubJob{Key: s.Key(), Event: ev}); err != nil {
		t.Fatalf("delivering: %v", err)
	}
	if len(sub.deliveries) != 1 {
		t.Fatalf("deliveries = %d, want 1", len(sub.deliveries))
	}
	req, body := sub.deliveries[0], sub.bodies[0]
	if got, want := req.Header.Get("X-Hub-Signature"), Signature("s3cret", body); got != want {
		t.Errorf("X-Hub-Signature = %q, want %q", got, want)
	}
	if !strings.HasPrefix(req.Header.Get("X-Hub-Signature"), "sha256=") {
		t.Errorf("X-Hub-Signature = %q, want the sha256= form", req.Header.Get("X-Hub-Signature"))
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/atom+xml; charset=utf-8" {
		t.Errorf("Content-Type = %q, want the topic's", ct)
	}
	links := strings.Join(req.Header.Values("Link"), ", ")
	if !strings.Contains(links, `<https://hub.example.org/hub>; rel="hub"`) || !strings.Contains(links, `<`+hubTopic+`>; rel="self"`) {
		t.Errorf("Link = %q, want hub and self", links)
	}
	feedcheck.CheckAtom(t, body)
	d := decodeAtom(t, body)
	if len(d.Entries) != 1 || !strings.HasSuffix(d.Entries[0].ID, ":fresh") {
		t.Errorf("delivered entries = %+v, want only the new one", d.Entries)
	}
}

func TestHubDeliverOutcomes(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		expired    bool
		wantErr    bool
		wantStored bool
		wantPosts  int
	}{
		{"accepted", http.StatusAccepted, false, false, true, 1},
		{"server error is retried", http.StatusInternalServerError, false, true, true, 1},
		{"redirect is retried", http.StatusFound, false, true, true, 1},
		{"gone ends the subscription", http.StatusGone, false, false, false, 1},
		{"expired lease sends nothing", http.StatusOK, true, false, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newMemoryStore()
			hub := newTestHub(t, store, nil)
			sub := newSubscriber(t)
			sub.status = tt.status
			expires := time.Now().Add(time.Hour)
			if tt.expired {
				expires = time.Now().Add(-time.Minute)
			}
			s := Subscription{Topic: hubTopic, Callback: sub.srv.URL, Expires: expires}
			if err := store.Put(context.Background(), s); err != nil {
				t.Fatalf("storing: %v", err)
			}
			err := hub.Deliver(context.Background(), HubJob{Key: s.Key(), Event: event("x", time.Now())})
			if (err != nil) != tt.wantErr {
				t.Errorf("error = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrCallbackFailed) {
				t.Errorf("error = %v, want ErrCallbackFailed", err)
			}
			if got := store.len() == 1; got != tt.wantStored {
				t.Errorf("stored = %v, want %v", got, tt.wantStored)
			}
			if len(sub.deliveries) != tt.wantPosts {
				t.Errorf("posts = %d, want %d", len(sub.deliveries), tt.wantPosts)
			}
		})
	}
	t.Run("missing subscription sends nothing", func(t *testing.T) {
		hub := newTestHub(t, newMemoryStore(), nil)
		if err := hub.Deliver(context.Background(), HubJob{Key: "none", Event: event("x", time.Now())}); err != nil {
			t.Errorf("error = %v, want nil", err)
		}
	})
}

func TestHubDeliverTimesOut(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })

	store := newMemoryStore()
	hub, err := NewHub(HubOptions{
		Store: store, Client: &http.Client{}, BaseURL: "https://hub.example.org",
		Channels:       []Channel{{ID: "all", Title: "Everything"}},
		DeliverTimeout: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("creating hub: %v", err)
	}
	t.Cleanup(hub.Close)
	s := Subscription{Topic: hubTopic, Callback: slow.URL, Expires: time.Now().Add(time.Hour)}
	if err := store.Put(context.Background(), s); err != nil {
		t.Fatalf("storing: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = hub.Deliver(ctx, HubJob{Key: s.Key(), Event: event("x", time.Now())})
	if !errors.Is(err, ErrCallbackFailed) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want ErrCallbackFailed after the delivery timeout", err)
	}
	if ctx.Err() != nil {
		t.Error("delivery ran until the test's deadline, want it cut at DeliverTimeout")
	}
}

func TestHubJobHost(t *testing.T) {
	store := newMemoryStore()
	hub := newTestHub(t, store, nil)
	ctx := context.Background()
	s := Subscription{Topic: hubTopic, Callback: "https://Reader.Example./cb?x=1", Expires: time.Now().Add(time.Hour)}
	if err := store.Put(ctx, s); err != nil {
		t.Fatalf("storing: %v", err)
	}
	jobs, err := hub.Jobs(ctx, event("x", time.Now()))
	if err != nil {
		t.Fatalf("jobs: %v", err)
	}
	if len(jobs) != 1 || jobs[0].Host != "reader.example" {
		t.Fatalf("jobs = %+v, want one with host reader.example", jobs)
	}
	if got := hub.JobHost(ctx, HubJob{Key: s.Key()}); got != "reader.example" {
		t.Errorf("host of a job without one = %q, want the stored callback's reader.example", got)
	}

	// An IP address is keyed in its canonical form, however it is written.
	for callback, want := range map[string]string{
		"http://[0:0::1]:8080/cb":        "::1",
		"http://[::FFFF:127.0.0.1]/cb":   "127.0.0.1",
		"http://[::ffff:7f00:1]/cb":      "127.0.0.1",
		"http://[fe80::1%25eth0]/cb":     "fe80::1",
		"http://127.0.0.1:8080/cb?x=ip4": "127.0.0.1",
	} {
		sub := Subscription{Topic: hubTopic, Callback: callback, Expires: time.Now().Add(time.Hour)}
		if err := store.Put(ctx, sub); err != nil {
			t.Fatalf("storing: %v", err)
		}
		if got := hub.JobHost(ctx, HubJob{Key: sub.Key()}); got != want {
			t.Errorf("host of a job to %s = %q, want %q", callback, got, want)
		}
		if err := store.Delete(ctx, sub.Key()); err != nil {
			t.Fatalf("deleting: %v", err)
		}
	}

	if got := hub.JobHost(ctx, HubJob{Key: "missing"}); got != "" {
		t.Errorf("host of a job whose subscription is gone = %q, want empty", got)
	}
	if err := hub.EndSubscription(ctx, s.Key()); err != nil {
		t.Fatalf("ending the subscription: %v", err)
	}
	if store.len() != 0 {
		t.Errorf("subscriptions after EndSubscription = %d, want 0", store.len())
	}
}

func TestHandlerAdvertisesHub(t *testing.T) {
	v := NewView(10)
	v.Apply(event("a", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)))
	h := NewHandler(HandlerOptions{
		View: v, Channels: []Channel{{ID: "all", Title: "Everything"}},
		BaseURL: "https://hub.example.org", TagAuthority: "hub.example.org,2026-12-04",
		HubURL: "https://hub.example.org/hub",
	})
	rec := serve(t, h, http.MethodGet, "/feeds/all.atom", nil)
	if got := linkHref(decodeAtom(t, rec.Body.Bytes()).Links, "hub"); got != "https://hub.example.org/hub" {
		t.Errorf("atom hub link = %q, want the hub", got)
	}
	if links := strings.Join(rec.Header().Values("Link"), ", "); !strings.Contains(links, `rel="hub"`) {
		t.Errorf("Link header = %q, want rel=hub", links)
	}
	feedcheck.CheckAtom(t, rec.Body.Bytes())
	rssDoc := serve(t, h, http.MethodGet, "/feeds/all.rss", nil).Body.Bytes()
	feedcheck.CheckRSS(t, rssDoc)
	rss := decodeRSS(t, rssDoc)
	if got := linkHref(rss.Channel.AtomLinks, "hub"); got != "https://hub.example.org/hub" {
		t.Errorf("rss hub link = %q, want the hub", got)
	}
	narrowed := serve(t, h, http.MethodGet, "/feeds/all.atom?q=x", nil)
	if got := linkHref(decodeAtom(t, narrowed.Body.Bytes()).Links, "hub"); got != "" {
		t.Errorf("narrowed feed hub link = %q, want none", got)
	}
}

func TestHubRejectsGuardedCallbackIP(t *testing.T) {
	store := newMemoryStore()
	hub, err := NewHub(HubOptions{
		Store:    store,
		Client:   &http.Client{Timeout: 5 * time.Second},
		BaseURL:  "https://hub.example.org/",
		Channels: []Channel{{ID: "all", Title: "Everything"}},
		Meta:     HubMeta{TagAuthority: "hub.example.org,2026-12-04"},
		CheckCallbackIP: func(ip netip.Addr) error {
			if ip.Unmap().IsLoopback() {
				return errors.New(ip.String() + " is a loopback address")
			}
			return nil
		},
	})
	if err != nil {
		t.Fatalf("creating hub: %v", err)
	}
	t.Cleanup(hub.Close)
	for _, cb := range []string{"http://127.0.0.1:9/cb", "http://[::1]/cb", "http://[::ffff:127.0.0.1]/cb"} {
		rec := postHub(t, hub, subscribeForm(cb))
		if rec.Code != http.StatusBadRequest {
			t.Errorf("callback %s: status = %d, want 400", cb, rec.Code)
			continue
		}
		if body := rec.Body.String(); !strings.Contains(body, `"hub.callback"`) || !strings.Contains(body, "loopback") {
			t.Errorf("callback %s: body = %s, want a hub.callback problem naming the loopback address", cb, body)
		}
	}
	if rec := postHub(t, hub, subscribeForm("https://reader.example/cb")); rec.Code != http.StatusAccepted {
		t.Errorf("callback by host name: status = %d, want 202", rec.Code)
	}
}
