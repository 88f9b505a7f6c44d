package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"

	"github.com/syndic-network/syndic/internal/broker"
	"github.com/syndic-network/syndic/internal/testenv"
)

// partnerFeed is a loopback partner site whose RSS document a test can
// change between polls. It answers If-None-Match with 304 and records
// whether each request was conditional.
type partnerFeed struct {
	mu          sync.Mutex
	doc         string
	conditional []bool
	srv         *httptest.Server
}

func newPartnerFeed(t *testing.T, items ...string) *partnerFeed {
	t.Helper()
	p := &partnerFeed{doc: partnerRSS(items...)}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		etag := fmt.Sprintf(`"%x"`, len(p.doc))
		inm := r.Header.Get("If-None-Match")
		p.conditional = append(p.conditional, inm != "")
		if inm == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		_, _ = io.WriteString(w, p.doc)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *partnerFeed) set(items ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.doc = partnerRSS(items...)
}

// partnerRSS builds an RSS document; an item "3:v2" is item 3 with
// changed text.
func partnerRSS(items ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Klaster</title><link>https://partner.example/</link><language>pl</language>`)
	for _, it := range items {
		id, version, _ := strings.Cut(it, ":")
		fmt.Fprintf(&b, `<item><guid>https://partner.example/n/%s</guid><title>Wiadomość %s %s</title>
<link>https://partner.example/n/%s?utm_source=rss</link><description>&lt;p&gt;Treść %s %s&lt;/p&gt;</description>
<pubDate>Mon, 30 Nov 2026 0%s:00:00 +0100</pubDate></item>`, id, id, version, id, id, version, id)
	}
	b.WriteString("</channel></rss>")
	return b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// instance is one configuration of Syndic under test: a data directory,
// two HTTP addresses and an environment.
type instance struct {
	t      *testing.T
	config string
	addr   string
	env    []string
}

func newInstance(t *testing.T, partnerURL string, env ...string) *instance {
	t.Helper()
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := fmt.Sprintf(`data_dir: %s
log: {level: warn}
nats: {sync_always: false}
http: {addr: "%s", base_url: "http://%s", admin_addr: "%s"}
fetch: {allow_private_networks: true, timeout: 5s}
partners:
  - id: wipk
    name: Izba Przemysłowo-Handlowa
    language: pl
    timezone: Europe/Warsaw
    feeds: [{id: news, url: "%s"}]
channels:
  - {id: all, title: All partner news, max_items: 50}
`, filepath.Join(dir, "data"), addr, addr, freeAddr(t), partnerURL)
	path := filepath.Join(dir, "syndic.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatalf("writing config: %v", err)
	}
	return &instance{t: t, config: path, addr: addr, env: env}
}

// command runs one syndic command to completion and returns its exit code
// and standard output.
func (in *instance) command(ctx context.Context, args ...string) (int, string) {
	var out, errOut bytes.Buffer
	code := run(ctx, append(args, "--config", in.config), in.env, &out, &errOut)
	if errOut.Len() > 0 {
		in.t.Logf("syndic %s stderr:\n%s", args[0], errOut.String())
	}
	return code, out.String()
}

func (in *instance) pollOnce(wantCode int, wantSummary ...string) {
	in.t.Helper()
	code, out := in.command(context.Background(), "poll", "--once")
	if code != wantCode {
		in.t.Fatalf("poll --once exit code = %d, want %d; output:\n%s", code, wantCode, out)
	}
	for _, want := range wantSummary {
		if !strings.Contains(out, want) {
			in.t.Errorf("poll --once output lacks %q:\n%s", want, out)
		}
	}
}

// serve starts `syndic run` and returns a stop function that waits for it
// to exit.
func (in *instance) serve() func() {
	in.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		code, _ := in.command(ctx, "run")
		done <- code
	}()
	stop := func() {
		cancel()
		if code := <-done; code != 0 {
			in.t.Errorf("syndic run exit code = %d, want 0", code)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + in.addr + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return stop
			}
		}
		select {
		case code := <-done:
			in.t.Fatalf("syndic run exited with %d before it was ready", code)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			in.t.Fatal("syndic run not ready after 20s")
		}
	}
}

type jsonFeed struct {
	Items []struct {
		ID    string `json:"id"`
		URL   string `json:"url"`
		Title string `json:"title"`
	} `json:"items"`
}

// items fetches the merged JSON feed, waiting until it holds want items.
func (in *instance) items(want int) jsonFeed {
	in.t.Helper()
	var feed jsonFeed
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + in.addr + "/feeds/all.json")
		if err != nil {
			in.t.Fatalf("fetching merged feed: %v", err)
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			in.t.Fatalf("merged feed status %d, err %v: %s", resp.StatusCode, err, body)
		}
		feed = jsonFeed{}
		if err := json.Unmarshal(body, &feed); err != nil {
			in.t.Fatalf("decoding merged feed: %v", err)
		}
		if len(feed.Items) >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(feed.Items) != want {
		in.t.Fatalf("merged feed has %d items, want %d", len(feed.Items), want)
	}
	ids, urls := map[string]bool{}, map[string]bool{}
	for _, it := range feed.Items {
		if ids[it.ID] || urls[it.URL] {
			in.t.Errorf("merged feed repeats item %s (%s)", it.ID, it.URL)
		}
		ids[it.ID], urls[it.URL] = true, true
		if strings.Contains(it.URL, "utm_") {
			in.t.Errorf("item url %s keeps a tracking parameter", it.URL)
		}
	}
	return feed
}

func TestEndToEnd(t *testing.T) {
	cases := map[string]func(t *testing.T) []string{
		"embedded cache": func(*testing.T) []string { return nil },
		"redis cache": func(t *testing.T) []string {
			url, prefix := testenv.Redis(t)
			return []string{"SYNDIC_REDIS_URL=" + url, "SYNDIC_REDIS_PREFIX=" + prefix}
		},
	}
	for name, env := range cases {
		t.Run(name, func(t *testing.T) {
			partner := newPartnerFeed(t, "1", "2", "3")
			in := newInstance(t, partner.srv.URL, env(t)...)

			in.pollOnce(0, "items: 3 new, 0 updated, 0 duplicate")
			in.pollOnce(0, "feeds: 0 ok, 1 not modified, 0 failed")

			partner.set("1", "2", "3:v2", "4")
			in.pollOnce(0, "items: 1 new, 1 updated, 2 duplicate")

			stop := in.serve()
			feed := in.items(4)
			if !containsTitle(feed, "Wiadomość 3 v2") {
				t.Errorf("merged feed lacks the updated title of item 3: %+v", feed.Items)
			}
			stop()

			// A restart keeps everything and reads it back from the stream.
			stop = in.serve()
			in.items(4)
			// A poll against the running process goes through its
			// embedded server and changes nothing.
			partner.set("1", "2", "3:v2", "4")
			in.pollOnce(0, "feeds: 0 ok, 1 not modified, 0 failed")
			stop()
		})
	}
}

func TestEndToEndRedisFlushMakesNoDuplicate(t *testing.T) {
	url, prefix := testenv.Redis(t)
	partner := newPartnerFeed(t, "1", "2")
	in := newInstance(t, partner.srv.URL, "SYNDIC_REDIS_URL="+url, "SYNDIC_REDIS_PREFIX="+prefix)
	in.pollOnce(0, "items: 2 new")

	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("parsing redis url: %v", err)
	}
	rc := redis.NewClient(opts)
	defer rc.Close()
	ctx := context.Background()
	keys, err := rc.Keys(ctx, prefix+"*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("listing keys under %s = %d keys, %v; want some", prefix, len(keys), err)
	}
	if err := rc.Del(ctx, keys...).Err(); err != nil {
		t.Fatalf("flushing test keys: %v", err)
	}

	// Without validators the poll fetches everything again; the durable
	// index must classify both items as duplicates.
	in.pollOnce(0, "items: 0 new, 0 updated, 2 duplicate")
	if last := partner.conditional[len(partner.conditional)-1]; last {
		t.Error("poll after a flush sent a conditional request; the flush should have dropped the validators")
	}
	stop := in.serve()
	in.items(2)
	stop()
}

func containsTitle(f jsonFeed, title string) bool {
	for _, it := range f.Items {
		if it.Title == title {
			return true
		}
	}
	return false
}

// storedEvents returns how many events the item stream of the running
// `syndic run` holds, read through the URL file of its embedded server.
func (in *instance) storedEvents() uint64 {
	in.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url, err := broker.ReadURLFile(filepath.Join(filepath.Dir(in.config), "data"))
	if err != nil {
		in.t.Fatalf("reading the embedded server's URL: %v", err)
	}
	nc, err := nats.Connect(url)
	if err != nil {
		in.t.Fatalf("connecting to the embedded server: %v", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		in.t.Fatalf("opening JetStream: %v", err)
	}
	s, err := js.Stream(ctx, broker.DefaultStream)
	if err != nil {
		in.t.Fatalf("opening the item stream: %v", err)
	}
	return s.CachedInfo().State.Msgs
}
