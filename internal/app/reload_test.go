package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/syndic-network/syndic/digests"
	"github.com/syndic-network/syndic/internal/config"
	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/workers"
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
	if !strings.Contains(f.logs.String(), "changed_keys=[fetch]") {
		t.Errorf("the warning does not name fetch as the changed key:\n%s", f.logs.String())
	}
}

// adminFeedTotal returns the total of GET /api/v1/feeds on the admin
// handler of a.
func adminFeedTotal(t *testing.T, a *App) int {
	t.Helper()
	rec := httptest.NewRecorder()
	a.AdminHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/feeds", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /api/v1/feeds = %d, want 200; body %s", rec.Code, rec.Body)
	}
	var body struct {
		Total int `json:"total"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("decoding feed health: %v\n%s", err, rec.Body)
	}
	return body.Total
}

func TestReloadReachesAdminAndWorkers(t *testing.T) {
	f := newReloadFixture(t)
	// Built before the reload, as `syndic run` builds it at start.
	admin := f.app.AdminHandler()
	if got := adminFeedTotal(t, f.app); got != 1 {
		t.Fatalf("admin feed total before reload = %d, want 1", got)
	}

	// The new partner goes before channels:, so the partner list stays
	// one YAML list.
	f.write(t, strings.Replace(reloadPartners, "channels:", `  - {id: extra, name: Extra, language: en, timezone: UTC, contact: "ops@extra.example",
     feeds: [{id: x1, url: "http://127.0.0.1:9/x1"}]}
channels:`, 1)+`  - {id: farm-only, title: Farm only, filter: {partners: [farm]}}
`)
	hup := make(chan os.Signal, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f.reloader.reloadOn(ctx, hup)
	hup <- syscall.SIGHUP
	waitFor(t, 10*time.Second, "the reload to apply", func() bool {
		return strings.Contains(f.logs.String(), "configuration reloaded")
	})

	rec := httptest.NewRecorder()
	admin.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/feeds", nil))
	if !strings.Contains(rec.Body.String(), `"total": 2`) {
		t.Errorf("admin handler built before the reload lists the old feeds:\n%s", rec.Body)
	}
	if got := adminFeedTotal(t, f.app); got != 2 {
		t.Errorf("admin feed total after reload = %d, want 2", got)
	}
	if to, name, ok := f.app.incidentContact("extra"); !ok || to != "ops@extra.example" || name != "Extra" {
		t.Errorf("incident contact of a partner added by the reload = %q, %q, %v; want ops@extra.example, Extra", to, name, ok)
	}
	if name := f.app.partnerNames()["extra"]; name != "Extra" {
		t.Errorf("digest partner name of a partner added by the reload = %q, want Extra", name)
	}
	d := &Digests{app: f.app}
	dg := d.withCurrentFilter(digests.Digest{ID: "daily", Channel: "farm-only"})
	if !slices.Equal(dg.Filter.Partners, []string{"farm"}) {
		t.Errorf("digest filter of a channel added by the reload = %v, want partners [farm]", dg.Filter.Partners)
	}
}

func TestReloadPollsChangedFeedAtOnce(t *testing.T) {
	var brokenHits, fixedHits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fixed" {
			fixedHits.Add(1)
			w.Header().Set("Content-Type", "application/rss+xml")
			_, _ = io.WriteString(w, `<rss version="2.0"><channel><title>Farm</title><link>https://farm.example/</link>`+
				`<item><title>Open day</title><link>https://farm.example/open-day</link></item></channel></rss>`)
			return
		}
		brokenHits.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	partners := `
partners:
  - {id: farm, name: Farm, language: en, timezone: UTC,
     feeds: [{id: f1, url: "%s", interval: 1h}]}
channels:
  - {id: all, title: All}
`
	f := newReloadFixture(t)
	f.write(t, fmt.Sprintf(partners, srv.URL+"/broken"))
	if err := f.reloader.Reload(context.Background()); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.app.RunPollers(ctx, time.Second, f.reloader.PollerReloads(), f.reloader.Feeds)
	}()
	t.Cleanup(func() { cancel(); <-done })

	feed := f.reloader.Feeds()[0]
	waitFor(t, 10*time.Second, "the 404 to be stored", func() bool {
		rows, err := f.app.Poller.Health(context.Background(), []workers.Feed{feed})
		return err == nil && rows[0].ConsecutiveFailures == 1
	})
	rows, _ := f.app.Poller.Health(context.Background(), []workers.Feed{feed})
	if wait := time.Until(rows[0].NextAttempt); wait < time.Minute {
		t.Fatalf("next poll after the 404 in %v, want the back-off of minutes this test relies on", wait)
	}

	f.write(t, fmt.Sprintf(partners, srv.URL+"/fixed"))
	if err := f.reloader.Reload(context.Background()); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	waitFor(t, 10*time.Second, "the feed with the new URL to be polled", func() bool {
		return fixedHits.Load() > 0
	})
	if n := brokenHits.Load(); n != 1 {
		t.Errorf("the old URL saw %d requests, want 1", n)
	}
}
