package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"

	"golang.org/x/sync/errgroup"
	"golang.org/x/term"

	"github.com/syndic-network/syndic/internal/app"
	"github.com/syndic-network/syndic/internal/config"
	"github.com/syndic-network/syndic/workers"
)

type cli struct {
	env            []string
	stdout, stderr io.Writer
}

func versionString() string { return app.Version }

// flags parses the common --config flag plus extra flags.
func (c *cli) flags(name string, args []string, extra func(*flag.FlagSet)) (*config.Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	path := fs.String("config", c.getenv("SYNDIC_CONFIG"), "configuration file (YAML)")
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, unexpectedArgument(fs.Arg(0))
	}
	if *path == "" && c.getenv("SYNDIC_PARTNERS") == "" {
		// Without a file or partners from the environment, Syndic would
		// start with nothing to poll and nothing to serve.
		return nil, errors.New("no configuration: use --config FILE, set SYNDIC_CONFIG, or set SYNDIC_PARTNERS")
	}
	return config.Load(*path, c.env)
}

func (c *cli) getenv(key string) string {
	for _, kv := range c.env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}

func (c *cli) logger(cfg *config.Config) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.Log.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" || (cfg.Log.Format == "auto" && !c.stderrIsTerminal()) {
		return slog.New(slog.NewJSONHandler(c.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(c.stderr, opts))
}

// stderrIsTerminal reports whether stderr is a terminal, where people read
// the logs, rather than a pipe or file that a log collector reads.
func (c *cli) stderrIsTerminal() bool {
	f, ok := c.stderr.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// fail prints err and returns exit code 1, or 0 for --help, whose usage
// the flag set has printed already.
func (c *cli) fail(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(c.stderr, "syndic: %v\n", err)
	return 1
}

// unexpectedArgument returns the error for a positional argument that a
// command does not take. A YAML file name is most likely the
// configuration file given without --config.
func unexpectedArgument(arg string) error {
	if strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml") {
		return fmt.Errorf("unexpected argument %q: name the configuration file with --config %s", arg, arg)
	}
	return fmt.Errorf("unexpected argument %q", arg)
}

// checkConfig implements `syndic check-config [--config] FILE`: the file
// may also be given as the only positional argument.
func (c *cli) checkConfig(args []string) int {
	args, err := positionalConfig(args)
	if err != nil {
		fmt.Fprintf(c.stderr, "syndic check-config: %v\n", err)
		return 2
	}
	cfg, err := c.flags("check-config", args, nil)
	if err != nil {
		return c.fail(err)
	}
	out, err := cfg.Masked()
	if err != nil {
		return c.fail(err)
	}
	_, _ = c.stdout.Write(out)
	for _, w := range privateFeedWarnings(cfg) {
		fmt.Fprintf(c.stderr, "syndic check-config: warning: %s\n", w)
	}
	feeds := 0
	for _, p := range cfg.Partners {
		feeds += len(p.Feeds)
	}
	// On stderr, so the masked configuration on stdout stays valid YAML.
	fmt.Fprintf(c.stderr, "syndic check-config: the configuration is valid (partners: %d, feeds: %d, channels: %d)\n",
		len(cfg.Partners), feeds, len(cfg.Channels))
	return 0
}

// parts selects what a long-running process does. serve and intake are
// the route groups of the public listener on http.addr, which opens when
// either is set.
type parts struct {
	poll, serve bool
	intake      bool
	digest      bool
	owner       bool
}

func (c *cli) runAll(ctx context.Context, args []string) int {
	return c.longRunning(ctx, "run", args, parts{poll: true, serve: true, intake: true, digest: true, owner: true})
}

func (c *cli) ingest(ctx context.Context, args []string) int {
	return c.longRunning(ctx, "ingest", args, parts{poll: true, intake: true, owner: true})
}

func (c *cli) serve(ctx context.Context, args []string) int {
	return c.longRunning(ctx, "serve", args, parts{serve: true, owner: true})
}

// setMemoryLimit gives the Go runtime the soft memory limit of
// memory_limit (app.SetMemoryLimit), or warns on log that it runs
// without one. The long-running commands call it, and the one-shot
// commands that load a whole deployment at once: in a container they
// share the limit that the long-running ones were sized for.
func (c *cli) setMemoryLimit(cfg *config.Config, log *slog.Logger) app.MemoryLimit {
	limit, err := app.SetMemoryLimit(cfg.MemoryLimit, c.getenv("GOMEMLIMIT"), nil)
	if err != nil {
		log.Warn("the Go runtime runs without a memory limit", "error", err)
	}
	return limit
}

func (c *cli) longRunning(ctx context.Context, name string, args []string, p parts) int {
	cfg, err := c.flags(name, args, nil)
	if err != nil {
		return c.fail(err)
	}
	log := c.logger(cfg)
	memLimit := c.setMemoryLimit(cfg, log)
	if p.owner && cfg.NATS.URL == "" {
		// A second run on the same data_dir would otherwise report the
		// first one's port as busy.
		if err := app.CheckDataDirFree(cfg.DataDir); err != nil {
			return c.fail(err)
		}
	}
	if (p.serve || p.intake) && localBaseURLElsewhere(cfg.HTTP.Addr, cfg.HTTP.BaseURL) {
		log.Warn("http.base_url names this machine on another port than http.addr, so links in feeds and pages lead elsewhere; set SYNDIC_HTTP_BASE_URL together with SYNDIC_HTTP_ADDR",
			"http_addr", cfg.HTTP.Addr, "base_url", cfg.HTTP.BaseURL)
	}
	// Listen before anything starts, so a busy port fails at once with its
	// configuration key instead of cancelling the start-up half-way.
	adminLn, err := app.Listen("http.admin_addr", cfg.HTTP.AdminAddr)
	if err != nil {
		return c.fail(err)
	}
	defer adminLn.Close()
	var publicLn net.Listener
	if p.serve || p.intake {
		if publicLn, err = app.Listen("http.addr", cfg.HTTP.Addr); err != nil {
			return c.fail(err)
		}
		defer publicLn.Close()
	}
	// startFailed returns the exit code for a start-up step that failed.
	// A stop signal during start-up cancels ctx, and that is a stop, not
	// a failure.
	startFailed := func(err error) int {
		if ctx.Err() != nil {
			log.Info("syndic stopped during start-up", "command", name)
			return 0
		}
		return c.fail(err)
	}
	a, err := app.Open(ctx, cfg, log, app.OpenOptions{Owner: p.owner})
	if err != nil {
		return startFailed(err)
	}
	defer a.Close(context.WithoutCancel(ctx))
	started := []any{"command", name, "version", app.Version}
	if publicLn != nil {
		// Only serve and the intake listen on http.addr, so digest names
		// the admin address alone.
		started = append(started, "url", cfg.HTTP.BaseURL+"/", "http_addr", cfg.HTTP.Addr)
	}
	started = append(started, "admin_addr", cfg.HTTP.AdminAddr,
		"feeds", len(a.Feeds()), "embedded_nats", cfg.NATS.URL == "", "embedded_cache", cfg.Redis.URL == "",
		"memory_limit", memLimit.String(), "memory_limit_source", memLimit.Source)
	log.Info("syndic started", started...)
	g, gctx := errgroup.WithContext(ctx)
	reloader := app.NewReloader(a, func() (*config.Config, error) { return c.flags(name, args, nil) })
	g.Go(func() error { reloader.Run(gctx); return nil })
	if p.digest {
		a.ExpectHubDeliveries()
	}
	g.Go(func() error { return app.ServeListener(gctx, adminLn, a.AdminHandler(), cfg.ShutdownGrace) })
	if p.serve || p.intake {
		var views *app.Views
		if p.serve {
			views, err = a.StartViews(gctx)
			if err != nil {
				return startFailed(err)
			}
			defer views.Stop()
		}
		h, err := reloader.Handler(gctx, views, app.Mounts{Feeds: p.serve, Intake: p.intake})
		if err != nil {
			return startFailed(err)
		}
		g.Go(func() error { return app.ServeListener(gctx, publicLn, h, cfg.ShutdownGrace) })
	}
	if p.digest {
		g.Go(func() error { return a.RunDigests(gctx) })
		g.Go(func() error { return a.RunHubDeliveries(gctx, reloader.HubReloads(), reloader.Config) })
	}
	if p.poll {
		g.Go(func() error {
			a.RunPollers(gctx, cfg.ShutdownGrace, reloader.PollerReloads(), reloader.Feeds)
			return nil
		})
	}
	err = g.Wait()
	log.Info("syndic stopped", "command", name)
	if err != nil && !errors.Is(err, context.Canceled) {
		return c.fail(err)
	}
	return 0
}

// localBaseURLElsewhere reports whether baseURL names a loopback host on
// another port than addr listens on. A public base URL can differ from
// the listener behind a proxy, but a loopback one reaches this machine
// only, so a different port there is a mistake.
func localBaseURLElsewhere(addr, baseURL string) bool {
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" {
		return false
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return false
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	_, listenPort, err := net.SplitHostPort(addr)
	// Port 0 picks a free port, which the configuration cannot know.
	return err == nil && listenPort != "0" && listenPort != port
}

// poll implements `syndic poll --once`: exit 0 when every feed was fine, 1
// when some failed, 2 when none could be polled.
func (c *cli) poll(ctx context.Context, args []string) int {
	var once bool
	cfg, err := c.flags("poll", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&once, "once", false, "poll every feed once and exit (required)")
	})
	if err != nil {
		if c.fail(err) == 0 {
			return 0
		}
		return 2
	}
	if !once {
		fmt.Fprintln(c.stderr, "syndic poll: only --once is supported; use `syndic ingest` to poll continuously")
		return 2
	}
	log := c.logger(cfg)
	c.setMemoryLimit(cfg, log)
	a, err := app.Open(ctx, cfg, log, app.OpenOptions{})
	if err != nil {
		c.fail(err)
		return 2
	}
	defer a.Close(context.WithoutCancel(ctx))
	feeds := a.Feeds()
	if len(feeds) == 0 {
		fmt.Fprintln(c.stderr, "syndic poll: no feeds configured; add partners[].feeds to the configuration")
		return 2
	}
	progress := c.progress(len(feeds))
	reports := a.Poller.PollAll(ctx, feeds, progress)
	return printSummary(c.stdout, reports)
}

// progress returns a callback that redraws a one-line progress bar when
// stderr is a terminal, and nil otherwise.
func (c *cli) progress(total int) func(workers.PollReport) {
	f, ok := c.stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	done := 0
	return func(workers.PollReport) {
		done++
		const width = 30
		filled := done * width / total
		fmt.Fprintf(f, "\r[%s%s] %d/%d feeds", strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, total)
		if done == total {
			fmt.Fprintln(f)
		}
	}
}

func printSummary(w io.Writer, reports []workers.PollReport) int {
	var ok, notModified, failed, created, updated, dup, rejected int
	for _, r := range reports {
		switch {
		case r.Failed():
			failed++
			fmt.Fprintf(w, "FAILED %s (%s): %v\n", r.Feed.Key(), r.Feed.URL, r.Err)
		case r.Outcome == workers.OutcomeNotModified:
			notModified++
		default:
			ok++
		}
		created += r.New
		updated += r.Updated
		dup += r.Duplicate
		rejected += r.Rejected
	}
	fmt.Fprintf(w, "feeds: %d ok, %d not modified, %d failed\n", ok, notModified, failed)
	fmt.Fprintf(w, "items: %d new, %d updated, %d duplicate, %d rejected\n", created, updated, dup, rejected)
	switch {
	case failed == 0:
		return 0
	case failed == len(reports):
		return 2
	default:
		return 1
	}
}
