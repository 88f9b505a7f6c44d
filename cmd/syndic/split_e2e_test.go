package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/testenv"
)

// process is a long-running syndic command started with run in a
// goroutine.
type process struct {
	name   string
	addr   string
	cancel context.CancelFunc
	done   chan int
	stderr bytes.Buffer
}

// startProcess runs `syndic command --config cfg` with its own listen
// addresses and data directory until the test stops it.
func startProcess(t *testing.T, command, cfg string, env ...string) *process {
	t.Helper()
	p := &process{name: command, addr: freeAddr(t), done: make(chan int, 1)}
	env = append(env, "SYNDIC_HTTP_ADDR="+p.addr, "SYNDIC_HTTP_ADMIN_ADDR="+freeAddr(t),
		"SYNDIC_DATA_DIR="+t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go func() {
		var out bytes.Buffer
		p.done <- run(ctx, []string{command, "--config", cfg}, env, &out, &p.stderr)
	}()
	t.Cleanup(func() { p.stop(t) })
	return p
}

// stop cancels the process, as SIGTERM does, and fails the test unless it
// exits with 0 within 30 seconds.
func (p *process) stop(t *testing.T) {
	t.Helper()
	if p.done == nil {
		return
	}
	p.cancel()
	select {
	case code := <-p.done:
		if code != 0 {
			t.Errorf("syndic %s exit code = %d, want 0; stderr:\n%s", p.name, code, p.stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Errorf("syndic %s did not exit within 30s of the stop", p.name)
	}
	p.done = nil
}

// waitOK polls GET path on the process until it returns 200, for up to
// 30 seconds.
func (p *process) waitOK(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + p.addr + path)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case code := <-p.done:
			t.Fatalf("syndic %s exited with %d before %s returned 200; stderr:\n%s", p.name, code, path, p.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("syndic %s: GET %s not 200 after 30s: %v", p.name, path, err)
		}
	}
}

// splitConfig writes the configuration that an ingest and a serve process
// share: one NATS server, Redis and the intake API on.
func splitConfig(t *testing.T, natsURL, feedURL string) string {
	t.Helper()
	name := testenv.Name(t)
	redisURL, redisPrefix := testenv.Redis(t)
	path := filepath.Join(t.TempDir(), "syndic.yaml")
	cfg := fmt.Sprintf(`log: {level: warn}
nats: {url: %q, stream: %s, subject_prefix: t.%s, kv_prefix: %s}
redis: {url: %q, prefix: %q}
fetch: {allow_private_networks: true}
push: {enabled: true}
shutdown_grace: 5s
partners:
  - {id: wipk, name: Klaster, language: pl, timezone: Europe/Warsaw,
     feeds: [{id: news, url: %q}]}
channels:
  - {id: all, title: All}
`, natsURL, name, strings.ToLower(name), name, redisURL, redisPrefix, feedURL)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatalf("writing config: %v", err)
	}
	return path
}

func TestIngestTakesPushServeDoesNot(t *testing.T) {
	partner := newPartnerFeed(t, "1")
	cfg := splitConfig(t, testenv.NATS(t).URL, partner.srv.URL)
	out, code := runSyndic(t, "partners", "token", "issue", "wipk", "--config", cfg)
	if code != 0 {
		t.Fatalf("token issue exit code = %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	token := lines[len(lines)-1]

	ingest := startProcess(t, "ingest", cfg)
	ingest.waitOK(t, "/healthz")
	ingest.waitOK(t, "/readyz")
	serve := startProcess(t, "serve", cfg)
	serve.waitOK(t, "/readyz")
	ingestAPI := &instance{t: t, addr: ingest.addr}
	serveAPI := &instance{t: t, addr: serve.addr}

	status, body := ingestAPI.api(http.MethodPost, "/api/v1/items", token,
		`{"id":"s-1","title":"Pushed to ingest","url":"https://partner.example/s/1"}`)
	if status != http.StatusOK || !strings.Contains(body, `"created"`) {
		t.Fatalf("ingest POST /api/v1/items = %d %s, want 200 created", status, body)
	}
	serveAPI.feedWhere("the pushed item listed", func(f jsonFeed) bool { return containsTitle(f, "Pushed to ingest") })
	if status, body := serveAPI.api(http.MethodPost, "/api/v1/items", token,
		`{"id":"s-2","title":"Pushed to serve","url":"https://partner.example/s/2"}`); status != http.StatusNotFound {
		t.Errorf("serve POST /api/v1/items = %d %s, want 404", status, body)
	}
	if status, _ := ingestAPI.api(http.MethodGet, "/feeds/all.json", "", ""); status != http.StatusNotFound {
		t.Errorf("ingest GET /feeds/all.json = %d, want 404", status)
	}

	// Both exit 0 once stopped, within shutdown_grace.
	ingest.stop(t)
	serve.stop(t)
}
