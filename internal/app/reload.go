package app

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/syndic-network/syndic/internal/config"
	"github.com/syndic-network/syndic/workers"
)

// Reloader applies a changed configuration file on SIGHUP without a
// restart. Only partners (with their feeds) and channels take effect: the
// pollers restart with the new feed list, the WebSub deliveries with the
// new channels, and the public handler is rebuilt. The admin feed health,
// the digests and the incident mails read the configuration in effect on
// every use (App.configInEffect). Changes to other keys are logged and
// wait for a restart. A file that does not load or validate keeps the
// previous configuration.
//
// Reloader is safe for concurrent use.
type Reloader struct {
	app  *App
	load func() (*config.Config, error)

	// mu serialises reloads.
	mu      sync.Mutex
	current atomic.Pointer[config.Config]
	// pollers and hubs receive a value after each successful reload.
	pollers chan struct{}
	hubs    chan struct{}

	// handler is the current public handler, nil until Handler is
	// called. views and mounts are what it is built from.
	handler atomic.Pointer[http.Handler]
	views   *Views
	mounts  Mounts
	// stopHandler ends the background work of the current handler.
	stopHandler context.CancelFunc
}

// NewReloader returns a reloader for a that reads the configuration with
// load, usually config.Load on the file the process started with. From
// then on a's configInEffect follows the reloads. Call it before a's
// handlers and workers start.
func NewReloader(a *App, load func() (*config.Config, error)) *Reloader {
	r := &Reloader{app: a, load: load, pollers: make(chan struct{}, 1), hubs: make(chan struct{}, 1)}
	r.current.Store(a.Config)
	a.inEffect = r.Config
	return r
}

// Config returns the configuration in effect.
func (r *Reloader) Config() *config.Config { return r.current.Load() }

// Feeds returns the feeds of the configuration in effect.
func (r *Reloader) Feeds() []workers.Feed { return r.app.withConfig(r.Config()).Feeds() }

// PollerReloads returns the channel that RunPollers watches for reloads.
func (r *Reloader) PollerReloads() <-chan struct{} { return r.pollers }

// HubReloads returns the channel that RunHubDeliveries watches for
// reloads.
func (r *Reloader) HubReloads() <-chan struct{} { return r.hubs }

// FeedHandler returns Handler with the Feeds routes only.
func (r *Reloader) FeedHandler(ctx context.Context, v *Views) (http.Handler, error) {
	return r.Handler(ctx, v, Mounts{Feeds: true})
}

// Handler builds the public handler with the routes of m on v (see
// App.PublicHandler) and returns a handler that always serves the one
// built from the configuration in effect.
func (r *Reloader) Handler(ctx context.Context, v *Views, m Mounts) (http.Handler, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.views, r.mounts = v, m
	// The handler creates the buckets of the intake API, the WebSub hub
	// and the digests, which time out like the stream while several
	// processes start together.
	err := r.app.retryOnTimeout(ctx, "building the public handler", func() error {
		return r.rebuildHandler(ctx, r.Config())
	})
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		(*r.handler.Load()).ServeHTTP(w, req)
	}), nil
}

// rebuildHandler builds a handler for cfg and swaps it in. The caller
// holds mu.
func (r *Reloader) rebuildHandler(ctx context.Context, cfg *config.Config) error {
	hctx, cancel := context.WithCancel(ctx)
	h, err := r.app.withConfig(cfg).PublicHandler(hctx, r.views, r.mounts)
	if err != nil {
		cancel()
		return err
	}
	r.handler.Store(&h)
	if r.stopHandler != nil {
		r.stopHandler()
	}
	r.stopHandler = cancel
	return nil
}

// Reload reads the configuration again and applies its partners, feeds
// and channels. On any error the previous configuration stays in effect.
func (r *Reloader) Reload(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	next, err := r.load()
	if err != nil {
		return fmt.Errorf("reloading configuration: %w", err)
	}
	prev := r.Config()
	applied := reloadable(prev, next)
	if keys := restartKeys(prev, next); len(keys) > 0 {
		r.app.Log.Warn("configuration changes outside partners and channels need a restart; applying partners and channels only",
			"changed_keys", keys)
	}
	if r.handler.Load() != nil {
		if err := r.rebuildHandler(ctx, applied); err != nil {
			return fmt.Errorf("reloading configuration: building the public handler: %w", err)
		}
	}
	r.current.Store(applied)
	for _, c := range []chan struct{}{r.pollers, r.hubs} {
		select {
		case c <- struct{}{}:
		default:
			// A reload is already waiting; it will read the new
			// configuration.
		}
	}
	r.app.Log.Info("configuration reloaded", "partners", len(applied.Partners),
		"feeds", len(r.app.withConfig(applied).Feeds()), "channels", len(applied.Channels))
	return nil
}

// Run reloads on every SIGHUP until ctx ends. A failed reload is logged
// at error level, because the file on disk no longer matches what runs.
func (r *Reloader) Run(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	r.reloadOn(ctx, hup)
}

// reloadOn reloads on every value of hup until ctx ends.
func (r *Reloader) reloadOn(ctx context.Context, hup <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		if err := r.Reload(ctx); err != nil {
			r.app.Log.Error("configuration reload failed; keeping the previous configuration", "error", err)
		}
	}
}

// reloadable returns prev with the partners and channels of next.
func reloadable(prev, next *config.Config) *config.Config {
	applied := *prev
	applied.Partners = next.Partners
	applied.Channels = next.Channels
	return &applied
}

// restartKeys returns the top-level keys, such as "fetch", whose values
// differ between a and b, leaving out partners and channels, which a
// reload applies.
func restartKeys(a, b *config.Config) []string {
	va, vb := reflect.ValueOf(*a), reflect.ValueOf(*b)
	t := va.Type()
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || f.Name == "Partners" || f.Name == "Channels" {
			continue
		}
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			keys = append(keys, cmp.Or(name, f.Name))
		}
	}
	return keys
}

// withConfig returns a shallow copy of a that reads cfg, so a reload can
// build new handlers and feed lists while requests still read the old
// configuration. The copy shares every connection and store with a. Its
// configInEffect is cfg, because a handler built for cfg must not switch
// to another configuration before the reload swaps it in.
func (a *App) withConfig(cfg *config.Config) *App {
	c := *a
	c.Config = cfg
	c.inEffect = nil
	return &c
}
