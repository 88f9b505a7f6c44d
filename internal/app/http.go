package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/syndic-network/syndic/feeds"
	"github.com/syndic-network/syndic/internal/apierror"
	"github.com/syndic-network/syndic/pipeline"
)

const tagAuthorityKey = "tag_authority"

// TagAuthority returns the authority of the tag: URIs used as entry ids,
// such as "news.example.org,2026-12-04". It is fixed at first start and
// stored in the meta bucket, so ids survive restarts and a move to another
// domain.
func (a *App) TagAuthority(ctx context.Context) (string, error) {
	got, err := a.Meta.Get(ctx, tagAuthorityKey)
	if err == nil {
		return string(got.Value()), nil
	}
	if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", fmt.Errorf("reading tag authority: %w", err)
	}
	host := "syndic.invalid"
	if u, perr := url.Parse(a.Config.HTTP.BaseURL); perr == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	auth := host + "," + time.Now().UTC().Format("2006-01-02")
	if _, err := a.Meta.Create(ctx, tagAuthorityKey, []byte(auth)); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return a.TagAuthority(ctx)
		}
		return "", fmt.Errorf("storing tag authority: %w", err)
	}
	return auth, nil
}

// Channels converts the configured channels for the feeds package.
func (a *App) Channels() []feeds.Channel {
	var out []feeds.Channel
	for _, c := range a.Config.Channels {
		out = append(out, feeds.Channel{
			ID: c.ID, Title: c.Title, Description: c.Description,
			MaxItems: c.MaxItems, MaxItemsPerPartner: c.MaxItemsPerPartner,
			Filter: feeds.Filter{
				Partners:        c.Filter.Partners,
				Languages:       c.Filter.Languages,
				Categories:      c.Filter.Categories,
				Keywords:        c.Filter.Keywords,
				ExcludeKeywords: c.Filter.ExcludeKeywords,
			},
		})
	}
	return out
}

// Mounts selects the route groups of a public handler. `syndic serve`
// mounts Feeds, `syndic ingest` mounts Intake and `syndic run` mounts both
// on one address.
type Mounts struct {
	// Feeds is the reader side: merged feeds, channel and index pages,
	// OPML, the WebSub hub's subscription endpoint, digest sign-up and
	// partner feed health.
	Feeds bool
	// Intake is the partner side that publishes items: the intake API
	// (push.enabled) and the WebSub callbacks (a public https base URL).
	Intake bool
}

// FeedHandler returns the public handler of a feed server: the Feeds
// routes plus /healthz and /readyz.
func (a *App) FeedHandler(ctx context.Context, v *Views) (http.Handler, error) {
	return a.PublicHandler(ctx, v, Mounts{Feeds: true})
}

// PublicHandler returns the handler of http.addr with the route groups of
// m, /healthz, /readyz and a JSON 404 for every other path. v is the feed
// views the Feeds routes read, nil when m.Feeds is false. Without feed
// views, /readyz checks the NATS connection and the item stream.
func (a *App) PublicHandler(ctx context.Context, v *Views, m Mounts) (http.Handler, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", a.healthz)
	if v != nil {
		mux.HandleFunc("GET /readyz", a.readyz(v))
	} else {
		mux.HandleFunc("GET /readyz", a.adminReadyz)
	}
	if m.Feeds {
		if err := a.mountFeeds(ctx, mux, v); err != nil {
			return nil, err
		}
	}
	if m.Intake {
		if err := a.mountIntake(ctx, mux); err != nil {
			return nil, err
		}
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		apierror.Write(w, http.StatusNotFound, "not_found", "no such page: "+r.URL.Path, nil)
	})
	return mux, nil
}

// mountFeeds adds the Feeds routes to mux.
func (a *App) mountFeeds(ctx context.Context, mux *http.ServeMux, v *Views) error {
	auth, err := a.TagAuthority(ctx)
	if err != nil {
		return err
	}
	partners, feedURLs := a.partnerLinks()
	fh := feeds.NewHandler(feeds.HandlerOptions{
		View:            v.View,
		Ready:           v.Ready,
		Channels:        a.Channels(),
		BaseURL:         a.Config.HTTP.BaseURL,
		TagAuthority:    auth,
		Partners:        partners,
		FeedURLs:        feedURLs,
		PartnerDomains:  a.partnerDomains(),
		QueryCacheSize:  a.Config.Feeds.QueryCacheSize,
		QueryCacheBytes: int64(a.Config.Feeds.QueryCacheBytes),
		SignUpURL:       a.signUpURL(),
		Archive:         a.archiveSource(),
		HubURL:          hubURL(a.Config.HTTP.BaseURL),
		Logger:          a.Log,
	})
	mux.Handle("/feeds/", fh)
	mux.Handle("/feeds", fh)
	mux.Handle("GET /{$}", fh)
	mux.Handle("/channels/", fh)
	mux.Handle("/opml", fh)
	hubMeta := feeds.HubMeta{TagAuthority: auth, Partners: partners, FeedURLs: feedURLs, Owners: a.partnerDomains()}
	if err := a.mountHub(ctx, mux, hubMeta); err != nil {
		return err
	}
	if err := a.mountDigests(ctx, mux); err != nil {
		return err
	}
	return a.mountPartnerHealth(ctx, mux)
}

// partnerLinks returns the partners' names and home pages by partner id,
// and the URLs of their feeds by "partner/feed".
func (a *App) partnerLinks() (map[string]feeds.PartnerInfo, map[string]string) {
	partners := map[string]feeds.PartnerInfo{}
	feedURLs := map[string]string{}
	for _, p := range a.Config.Partners {
		partners[p.ID] = feeds.PartnerInfo{Name: p.Name, URL: p.URL}
		for _, f := range p.Feeds {
			// Only web URLs are shown to readers: a file: URL would expose a
			// path on the server, and credentials are removed.
			if strings.HasPrefix(f.URL, "http://") || strings.HasPrefix(f.URL, "https://") {
				feedURLs[p.ID+"/"+f.ID] = pipeline.PublicFeedURL(f.URL)
			}
		}
	}
	return partners, feedURLs
}

// mountIntake adds the Intake routes to mux.
func (a *App) mountIntake(ctx context.Context, mux *http.ServeMux) error {
	if err := a.mountPush(ctx, mux); err != nil {
		return err
	}
	return a.mountWebSub(ctx, mux)
}

// AdminHandler returns the operator handler: Prometheus metrics and
// health, and Go's profiles when http.admin_pprof is on.
func (a *App) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.Handler())
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.HandleFunc("GET /readyz", a.adminReadyz)
	mux.HandleFunc("GET /api/v1/feeds", a.feedHealth)
	if a.Config != nil && a.Config.HTTP.AdminPprof {
		mountPprof(mux)
	}
	return mux
}

// mountPprof adds net/http/pprof's handlers to mux. They are named one by
// one because importing the package also registers them on
// http.DefaultServeMux, which no Syndic server uses.
func mountPprof(mux *http.ServeMux) {
	mux.HandleFunc("GET /debug/pprof/", endAtShutdown(pprof.Index))
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", endAtShutdown(pprof.Profile))
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", endAtShutdown(pprof.Trace))
}

// stoppingKey is the request context key of the channel that
// ServeListener closes when its server begins to shut down.
type stoppingKey struct{}

// endAtShutdown runs h with a request context that also ends when the
// server begins to shut down, because Shutdown waits for requests in flight
// and a profile may run longer than shutdown_grace. Ended early, a profile
// sends what it recorded.
func endAtShutdown(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		stopping, ok := r.Context().Value(stoppingKey{}).(<-chan struct{})
		if !ok {
			h(w, r)
			return
		}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		go func() {
			select {
			case <-stopping:
				cancel()
			case <-ctx.Done():
			}
		}()
		h(w, r.WithContext(ctx))
	}
}

func (a *App) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

func (a *App) readyz(v *Views) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		switch {
		case !a.Conn.IsConnected():
			apierror.Write(w, http.StatusServiceUnavailable, "not_ready", "not connected to NATS", nil)
		case v != nil && !v.Ready():
			apierror.Write(w, http.StatusServiceUnavailable, "not_ready", "feed views are still reading the stream", nil)
		default:
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write([]byte("ready\n"))
		}
	}
}

// Serve runs an HTTP server on addr until ctx ends, then shuts it down
// within grace.
func Serve(ctx context.Context, addr string, h http.Handler, grace time.Duration) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	return ServeListener(ctx, ln, h, grace)
}

// Listen opens the TCP listener of the configuration key key (such as
// "http.addr"). Its error names the key, the address and how to change it.
func Listen(key, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		env := "SYNDIC_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
		hint := ""
		if key == "http.addr" {
			// Links in feeds, pages and mails follow the base URL.
			hint = ", and http.base_url (SYNDIC_HTTP_BASE_URL) to match"
		}
		return nil, fmt.Errorf("listening on %s (%s): %w; stop the program using it or set %s or %s to a free address%s", addr, key, err, key, env, hint)
	}
	return ln, nil
}

// newServer returns the http.Server of every listener, with timeouts that
// stop slow or stalled clients from holding connections.
func newServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// A client that sends its body one byte at a time would otherwise
		// hold a connection for as long as it likes. A full push body
		// (1 MiB by default) arrives well within this on any working link.
		ReadTimeout: 60 * time.Second,
		// Without it a client that stops reading holds its connection
		// forever. The time runs from the end of the request headers and
		// includes the handler. The slowest handler is an intake request,
		// which publishes up to push.max_items items and waits for each
		// acknowledgement, and its response is small. Feed documents and
		// pages set their own deadline from their size (see feeds.NewHandler).
		WriteTimeout: 2 * time.Minute,
		IdleTimeout:  120 * time.Second,
	}
}

// ServeListener runs an HTTP server on ln until ctx ends, then shuts it
// down within grace.
func ServeListener(ctx context.Context, ln net.Listener, h http.Handler, grace time.Duration) error {
	addr := ln.Addr().String()
	srv := newServer(h)
	stopping := make(chan struct{})
	srv.BaseContext = func(net.Listener) context.Context {
		return context.WithValue(context.Background(), stoppingKey{}, (<-chan struct{})(stopping))
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving HTTP on %s: %w", addr, err)
	case <-ctx.Done():
	}
	close(stopping)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutting down HTTP on %s: %w", addr, err)
	}
	return nil
}
