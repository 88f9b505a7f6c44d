package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/testenv"
)

// mailSink is an in-process SMTP server (emersion/go-smtp) that counts the
// recipients of accepted messages.
type mailSink struct {
	mu  sync.Mutex
	rcp []string
}

func (m *mailSink) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{sink: m}, nil }

type mailSession struct {
	sink *mailSink
	to   []string
}

func (s *mailSession) Reset()                                    { s.to = nil }
func (s *mailSession) Logout() error                             { return nil }
func (s *mailSession) Mail(string, *smtp.MailOptions) error      { return nil }
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = append(s.to, to); return nil }
func (s *mailSession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	s.sink.mu.Lock()
	defer s.sink.mu.Unlock()
	s.sink.rcp = append(s.sink.rcp, s.to...)
	return nil
}

func (m *mailSink) recipients() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.rcp...)
}

// waitFor polls until the sink has n recipients or 30 seconds pass, and
// returns the recipients.
func (m *mailSink) waitFor(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := m.recipients()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("relay received %q after 30s, want %d recipients", got, n)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, not waiting out a delay
	}
}

func startMailSink(t *testing.T) (*mailSink, int) {
	t.Helper()
	sink := &mailSink{}
	srv := smtp.NewServer(sink)
	srv.Domain = "localhost"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening for SMTP: %v", err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return sink, ln.Addr().(*net.TCPAddr).Port
}

// addDigestConfig appends a relay on port and one daily digest to the
// instance's configuration.
func addDigestConfig(t *testing.T, in *instance, port int) {
	t.Helper()
	appendDigestConfig(t, in.config, port)
}

// appendDigestConfig appends a relay on port and one daily digest to the
// configuration file at path.
func appendDigestConfig(t *testing.T, path string, port int) {
	t.Helper()
	extra := fmt.Sprintf(`smtp: {host: 127.0.0.1, port: %d, tls: none}
digests_secret: %s
digests:
  - {id: daily, channel: all, schedule: "daily 07:00", timezone: Europe/Warsaw, from: "News <news@example.org>"}
`, port, strings.Repeat("s", 32))
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("opening config: %v", err)
	}
	if _, err := f.WriteString(extra); err != nil {
		t.Fatalf("appending digest config: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("closing config: %v", err)
	}
}

func TestRunServesDigestSignUp(t *testing.T) {
	feed := newPartnerFeed(t, "1")
	in := newInstance(t, feed.srv.URL)
	sink, port := startMailSink(t)
	addDigestConfig(t, in, port)
	stop := in.serve()
	defer stop()
	resp, err := http.Post("http://"+in.addr+"/api/v1/digests/daily/subscribers", "application/json",
		strings.NewReader(`{"email": "ann@example.org", "locale": "pl"}`))
	if err != nil {
		t.Fatalf("POST sign-up: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("sign-up status = %d, want 202", resp.StatusCode)
	}
	if got := sink.waitFor(t, 1); len(got) != 1 || got[0] != "ann@example.org" {
		t.Errorf("relay received %q, want the confirmation to ann@example.org", got)
	}
	page, err := http.Get("http://" + in.addr + "/digests")
	if err != nil {
		t.Fatalf("GET /digests: %v", err)
	}
	_ = page.Body.Close()
	if page.StatusCode != http.StatusOK {
		t.Errorf("GET /digests status = %d, want 200", page.StatusCode)
	}
}

func TestDigestCommands(t *testing.T) {
	feed := newPartnerFeed(t, "1", "2")
	in := newInstance(t, feed.srv.URL)
	sink, port := startMailSink(t)
	addDigestConfig(t, in, port)
	dir := filepath.Dir(in.config)
	csvPath := filepath.Join(dir, "subscribers.csv")
	csv := "digest,email,locale,time_zone,languages,partners,categories,status,created_at,confirmed_at\n" +
		"daily,reader@example.net,pl,Europe/Warsaw,,,,confirmed,,2026-01-01T00:00:00Z\n"
	if err := os.WriteFile(csvPath, []byte(csv), 0o600); err != nil {
		t.Fatalf("writing CSV: %v", err)
	}
	ctx := context.Background()
	if code, out := in.command(ctx, "subscribers", "import", "--digest", "daily", "--file", csvPath); code != 0 || !strings.Contains(out, "1 added") {
		t.Fatalf("subscribers import = %d, %q", code, out)
	}
	in.pollOnce(0, "items: 2 new")

	code, out := in.command(ctx, "digest", "send", "--digest", "daily", "--now")
	if code != 0 || !strings.Contains(out, "1 sent") {
		t.Fatalf("first digest send = %d, %q, want one sent", code, out)
	}
	code, out = in.command(ctx, "digest", "send", "--digest", "daily", "--now")
	if code != 0 || !strings.Contains(out, "0 sent") {
		t.Errorf("second digest send = %d, %q, want nothing sent", code, out)
	}
	if got := sink.recipients(); len(got) != 1 || got[0] != "reader@example.net" {
		t.Errorf("relay received %q, want one message to reader@example.net", got)
	}

	preview := filepath.Join(dir, "preview")
	if code, out := in.command(ctx, "digest", "preview", "--digest", "daily", "--subscriber", "reader@example.net", "--out", preview); code != 0 {
		t.Fatalf("digest preview = %d, %q", code, out)
	}
	for _, ext := range []string{".eml", ".html"} {
		st, err := os.Stat(preview + ext)
		if err != nil || st.Size() == 0 {
			t.Errorf("preview file %s%s: %v", preview, ext, err)
			continue
		}
		// The files carry the subscriber's address and signed links.
		if perm := st.Mode().Perm(); perm != 0o600 {
			t.Errorf("preview file %s%s has mode %v, want 0600", preview, ext, perm)
		}
	}

	if code, out := in.command(ctx, "subscribers", "export", "--digest", "daily"); code != 0 || !strings.Contains(out, "reader@example.net") {
		t.Errorf("subscribers export = %d, %q", code, out)
	}
	if code, _ := in.command(ctx, "subscribers", "delete", "--digest", "daily", "--email", "reader@example.net"); code != 0 {
		t.Errorf("subscribers delete exit code = %d", code)
	}
	if code, out := in.command(ctx, "subscribers", "export", "--digest", "daily"); code != 0 || strings.Contains(out, "reader@example.net") {
		t.Errorf("export after delete = %d, %q, want the address gone", code, out)
	}
}

// TestServeQueuesConfirmationDigestSends runs the sign-up split across
// processes: serve stores the confirmation request in the queue stream and
// sends nothing, and the digest process sends the mail.
func TestServeQueuesConfirmationDigestSends(t *testing.T) {
	partner := newPartnerFeed(t, "1")
	ns := testenv.NATS(t)
	cfg := splitConfig(t, ns.URL, partner.srv.URL)
	sink, port := startMailSink(t)
	appendDigestConfig(t, cfg, port)

	serve := startProcess(t, "serve", cfg)
	serve.waitOK(t, "/readyz")
	resp, err := http.Post("http://"+serve.addr+"/api/v1/digests/daily/subscribers", "application/json",
		strings.NewReader(`{"email": "ann@example.org"}`))
	if err != nil {
		t.Fatalf("POST sign-up: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("sign-up status = %d, want 202", resp.StatusCode)
	}
	js, err := jetstream.New(testenv.Conn(t, ns.URL))
	if err != nil {
		t.Fatalf("creating JetStream context: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The server is this test's own, so the one stream named *_CONFIRM
	// is the queue of its configuration.
	var info *jetstream.StreamInfo
	streams := js.ListStreams(ctx)
	for si := range streams.Info() {
		if strings.HasSuffix(si.Config.Name, "_CONFIRM") {
			info = si
		}
	}
	if err := streams.Err(); err != nil {
		t.Fatalf("listing streams: %v", err)
	}
	if info == nil {
		t.Fatal("serve created no confirmation queue stream")
	}
	if info.State.Msgs != 1 {
		t.Errorf("queue holds %d requests after the sign-up, want 1", info.State.Msgs)
	}
	if got := sink.recipients(); len(got) != 0 {
		t.Errorf("serve sent mail to %q; only the digest process may", got)
	}

	digest := startProcess(t, "digest", cfg)
	if got := sink.waitFor(t, 1); len(got) != 1 || got[0] != "ann@example.org" {
		t.Errorf("relay received %q, want the confirmation to ann@example.org", got)
	}
	digest.stop(t)
	serve.stop(t)
}

// lockedWriter is a bytes.Buffer that a running command writes to while
// the test reads it.
type lockedWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestDigestStartLogOmitsHTTPAddr(t *testing.T) {
	in := newInstance(t, "http://127.0.0.1:1/feed.xml", "SYNDIC_LOG_LEVEL=info")
	ctx, cancel := context.WithCancel(context.Background())
	var stderr lockedWriter
	done := make(chan int, 1)
	go func() {
		var out bytes.Buffer
		done <- run(ctx, []string{"digest", "--config", in.config}, in.env, &out, &stderr)
	}()

	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stderr.String(), "syndic started") {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("syndic digest logged no start line within 20s; stderr:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("syndic digest exit code = %d, want 0", code)
	}

	var started string
	for line := range strings.SplitSeq(stderr.String(), "\n") {
		if strings.Contains(line, "syndic started") {
			started = line
		}
	}
	if strings.Contains(started, "http_addr") || strings.Contains(started, in.addr) {
		t.Errorf("digest start line names http.addr %s, where digest does not listen:\n%s", in.addr, started)
	}
	if !strings.Contains(started, "admin_addr") {
		t.Errorf("digest start line lacks admin_addr:\n%s", started)
	}
}
