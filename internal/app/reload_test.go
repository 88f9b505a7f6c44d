package app

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/config"
	"github.com/syndic-network/syndic/internal/testenv"
)

// reloadFixture is a process configuration in a file that a test rewrites
// between reloads.
type reloadFixture struct {
	path, head string
	app        *App
	reloader   *Reloader
	handler    http.Handler
	logs       *syncBuffer
}

// syncBuffer is a bytes.Buffer that a logger and a test may use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

const reloadPartners = `
partners:
  - {id: farm, name: Farm, language: en, timezone: UTC,
     feeds: [{id: f1, url: "http://127.0.0.1:9/f1", interval: 1h}]}
channels:
  - {id: all, title: All}
`

func newReloadFixture(t *testing.T) *reloadFixture {
	t.Helper()
	ns := testenv.NATS(t)
	name := testenv.Name(t)
	f := &reloadFixture{
		path: filepath.Join(t.TempDir(), "syndic.yaml"),
		head: fmt.Sprintf("data_dir: %s\nnats: {url: %q, stream: %s, subject_prefix: t.%s, kv_prefix: %s}\nfetch: {allow_private_networks: true}\n",
			t.TempDir(), ns.URL, name, strings.ToLower(name), name),
		logs: &syncBuffer{},
	}
	f.write(t, reloadPartners)
	cfg, err := config.Load(f.path, nil)
	if err != nil {
		t.Fatalf("loading the first configuration: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	a, err := Open(ctx, cfg, slog.New(slog.NewTextHandler(f.logs, nil)), OpenOptions{})
	if err != nil {
		t.Fatalf("opening app: %v", err)
	}
	t.Cleanup(func() { a.Close(context.Background()) })
	f.app = a
	f.reloader = NewReloader(a, func() (*config.Config, error) { return config.Load(f.path, nil) })
	views, err := a.StartViews(ctx)
	if err != nil {
		t.Fatalf("starting views: %v", err)
	}
	t.Cleanup(views.Stop)
	f.handler, err = f.reloader.FeedHandler(ctx, views)
	if err != nil {
		t.Fatalf("building the feed handler: %v", err)
	}
	return f
}

func (f *reloadFixture) write(t *testing.T, rest string) {
	t.Helper()
	if err := os.WriteFile(f.path, []byte(f.head+rest), 0o600); err != nil {
		t.Fatalf("writing configuration: %v", err)
	}
}

// status returns the status code of a GET of path on the feed handler.
func (f *reloadFixture) status(path string) int {
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code
}

func feedKeys(r *Reloader) []string {
	var keys []string
	for _, feed := range r.Feeds() {
		keys = append(keys, feed.Key())
	}
	return keys
}

func TestReloadAppliesPartnersAndChannels(t *testing.T) {
	f := newReloadFixture(t)
	if code := f.status("/feeds/extra.json"); code != http.StatusNotFound {
		t.Fatalf("GET /feeds/extra.json before reload = %d, want 404", code)
	}
	f.write(t, strings.Replace(reloadPartners, `interval: 1h}]`, `interval: 1h}, {id: f2, url: "http://127.0.0.1:9/f2"}]`, 1)+`
  - {id: extra, title: Extra}
`)
	if err := f.reloader.Reload(context.Background()); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if got := strings.Join(feedKeys(f.reloader), " "); got != "farm/f1 farm/f2" {
		t.Errorf("feeds after reload = %q, want farm/f1 farm/f2", got)
	}
	if code := f.status("/feeds/extra.json"); code != http.StatusOK {
		t.Errorf("GET /feeds/extra.json after reload = %d, want 200", code)
	}
	select {
	case <-f.reloader.PollerReloads():
	default:
		t.Error("reload did not notify the pollers")
	}
}

func TestReloadKeepsConfigOnBadFile(t *testing.T) {
	tests := []struct {
		name, file, want string
	}{
		{"broken yaml", "partners: [", "yaml"},
		{"unknown partner in filter", reloadPartners + "  - {id: pl, title: PL, filter: {partners: [nobody]}}\n", `unknown partner "nobody"`},
		{"duplicate feed id", strings.Replace(reloadPartners, `interval: 1h}]`, `interval: 1h}, {id: f1, url: "http://127.0.0.1:9/x"}]`, 1), `duplicate id "f1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newReloadFixture(t)
			f.write(t, tt.file)
			err := f.reloader.Reload(context.Background())
			if err == nil {
				t.Fatal("Reload accepted a bad file")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Reload error does not contain %q: %v", tt.want, err)
			}
			if got := strings.Join(feedKeys(f.reloader), " "); got != "farm/f1" {
				t.Errorf("feeds after a failed reload = %q, want the old farm/f1", got)
			}
			if code := f.status("/feeds/all.json"); code != http.StatusOK {
				t.Errorf("GET /feeds/all.json after a failed reload = %d, want 200", code)
			}
		})
	}
}

func TestReloadLogsFailureAndKeepsRunning(t *testing.T) {
	f := newReloadFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hup := make(chan os.Signal)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.reloader.reloadOn(ctx, hup)
	}()

	f.write(t, "partners: [")
	hup <- syscall.SIGHUP
	waitFor(t, 10*time.Second, "the failed reload to be logged", func() bool {
		return strings.Contains(f.logs.String(), "configuration reload failed; keeping the previous configuration")
	})

	f.write(t, strings.Replace(reloadPartners, "id: f1,", "id: f3,", 1))
	hup <- syscall.SIGHUP
	waitFor(t, 10*time.Second, "the second reload to apply", func() bool {
		return strings.Join(feedKeys(f.reloader), " ") == "farm/f3"
	})
	cancel()
	<-done
}

func TestReloadIgnoresOtherKeys(t *testing.T) {
	f := newReloadFixture(t)
	f.head = strings.Replace(f.head, "fetch: {allow_private_networks: true}", "fetch: {allow_private_networks: true, timeout: 7s}", 1)
	f.write(t, reloadPartners)
	if err := f.reloader.Reload(context.Background()); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if got := f.reloader.Config().Fetch.Timeout; got == 7*time.Second {
		t.Errorf("fetch.timeout changed to %s by a reload, want the value from start-up", got)
	}
	if !strings.Contains(f.logs.String(), "need a restart") {
		t.Errorf("no warning about keys that need a restart in the log:\n%s", f.logs.String())
	}
}
