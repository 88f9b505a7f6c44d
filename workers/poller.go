package workers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/syndic-network/syndic/pipeline"
)

var (
	pollsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "syndic_polls_total",
		Help: "Feed polls by outcome (not_modified, new_content, retry_later, permanent, gone, parse_error).",
	}, []string{"outcome"})
	pollSeconds = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:    "syndic_poll_duration_seconds",
		Help:    "Time from the start of a fetch to the last item published.",
		Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
	})
)

// Feed is one partner feed to poll.
type Feed struct {
	Partner string
	// ID is the feed's configured id; item identity uses it, never the URL.
	ID                  string
	URL                 string
	Interval            time.Duration
	AllowPrivateNetwork bool
	// Language and Location are the partner's fallbacks for items that give
	// no language or a date without a zone.
	Language string
	Location *time.Location
}

// Key returns "partner/feed", the feed's name in logs and state keys.
func (f Feed) Key() string { return f.Partner + "/" + f.ID }

// fetchState is what the poller remembers about a feed between polls. It
// is rebuildable: losing it costs one unconditional fetch.
type fetchState struct {
	Validators Validators `json:"validators"`
	NextPoll   time.Time  `json:"next_poll"`
	Failures   int        `json:"failures,omitempty"`
}

// PollReport is the result of one poll of one feed.
type PollReport struct {
	Feed      Feed
	Outcome   Outcome
	New       int
	Updated   int
	Duplicate int
	// Retry counts items left for the next poll (reserved by another writer
	// or not published because of a store or stream failure).
	Retry    int
	Rejected int
	// Err is set when the feed could not be fetched or parsed, or when some
	// item was left for retry.
	Err error
}

// Failed reports whether the poll did not complete: the fetch or parse
// failed, or some item is left for the next poll.
func (r PollReport) Failed() bool {
	return r.Err != nil
}

// PollerOptions configures a Poller.
type PollerOptions struct {
	Fetcher  *Fetcher
	Ingester *pipeline.Ingester
	// State stores validators and next-poll times under "fetch:" keys.
	State    pipeline.Cache
	Policies *pipeline.Policies
	// MinInterval and MaxInterval bound every schedule, including backoff
	// after failures.
	MinInterval time.Duration
	MaxInterval time.Duration
	// Concurrency is the number of feeds polled at once.
	Concurrency int
	Logger      *slog.Logger
	Now         func() time.Time
}

// Poller fetches feeds, parses them and hands their items to the ingester.
type Poller struct {
	o PollerOptions
}

// NewPoller returns a poller with o.
func NewPoller(o PollerOptions) *Poller {
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxInterval <= 0 {
		o.MaxInterval = 24 * time.Hour
	}
	return &Poller{o: o}
}

// stateTTL keeps a feed's fetch state a little longer than the longest
// schedule, so a feed polled at the maximum interval never loses it.
func (p *Poller) stateTTL() time.Duration { return 2 * p.o.MaxInterval }

func stateKey(f Feed) string { return "fetch:" + f.Key() }

func (p *Poller) loadState(ctx context.Context, f Feed) fetchState {
	var st fetchState
	raw, ok, err := p.o.State.Get(ctx, stateKey(f))
	if err != nil || !ok {
		return st
	}
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		p.o.Logger.Warn("discarding unreadable fetch state", "feed_id", f.Key(), "error", err)
		return fetchState{}
	}
	return st
}

func (p *Poller) saveState(ctx context.Context, f Feed, st fetchState) {
	data, err := json.Marshal(st)
	if err != nil {
		return
	}
	if err := p.o.State.Set(ctx, stateKey(f), string(data), p.stateTTL()); err != nil {
		p.o.Logger.Warn("storing fetch state failed", "feed_id", f.Key(), "error", err)
	}
}

// Poll fetches f once, ingests its items and stores its next fetch state.
// The HTTP validators of the response are stored only when every item was
// published, found duplicate or rejected, so a failed publish makes the
// next poll fetch the whole document again.
func (p *Poller) Poll(ctx context.Context, f Feed) PollReport {
	start := p.o.Now()
	log := p.o.Logger.With("partner", f.Partner, "feed_id", f.Key(), "feed_url", f.URL)
	st := p.loadState(ctx, f)
	res := p.o.Fetcher.Fetch(ctx, FetchRequest{
		URL:                 f.URL,
		Validators:          st.Validators,
		AllowPrivateNetwork: f.AllowPrivateNetwork,
	})
	rep := PollReport{Feed: f, Outcome: res.Outcome, Err: res.Err}
	switch res.Outcome {
	case OutcomeNotModified:
	case OutcomeNewContent:
		rep = p.ingest(ctx, f, res, log)
	default:
		log.Warn("feed fetch failed", "outcome", res.Outcome.String(), "status", res.StatusCode, "error", res.Err)
	}
	outcome := rep.Outcome.String()
	if rep.Outcome == OutcomeNewContent && rep.Err != nil && rep.Retry == 0 {
		outcome = "parse_error"
	}
	pollsTotal.WithLabelValues(outcome).Inc()
	pollSeconds.Observe(p.o.Now().Sub(start).Seconds())
	p.saveState(ctx, f, p.nextState(f, st, res, rep))
	return rep
}

func (p *Poller) ingest(ctx context.Context, f Feed, res FetchResult, log *slog.Logger) PollReport {
	rep := PollReport{Feed: f, Outcome: OutcomeNewContent}
	linkKeys, err := p.o.Policies.LinkKeys(ctx, f.Partner, f.ID)
	if err != nil {
		rep.Err = err
		rep.Retry = 1
		return rep
	}
	src := pipeline.Source{
		Partner: f.Partner, Feed: f.ID, FeedURL: f.URL,
		Language: f.Language, Location: f.Location, LinkKeys: linkKeys,
	}
	parsed, err := pipeline.ParseFeed(res.Body, res.ContentType, src, p.o.Now())
	if err != nil {
		rep.Err = fmt.Errorf("parsing feed %s: %w", f.URL, err)
		log.Warn("feed unreadable", "error", err, "hint", "check that the URL returns an RSS, Atom or JSON feed")
		return rep
	}
	if len(parsed.Recoveries) > 0 {
		log.Debug("feed repaired", "recoveries", parsed.Recoveries)
	}
	if parsed.RepeatedGUIDs && !linkKeys {
		if err := p.o.Policies.SetLinkKeys(ctx, f.Partner, f.ID); err != nil {
			log.Warn("storing identity policy failed", "error", err)
		}
	}
	for _, rj := range parsed.Rejected {
		rep.Rejected++
		log.Warn("item rejected", "item_guid", rj.GUID, "item_index", rj.Index, "error", rj.Err)
	}
	var retryErr error
	for i := range parsed.Items {
		result, err := p.o.Ingester.Ingest(ctx, &parsed.Items[i])
		switch {
		case err != nil:
			rep.Retry++
			retryErr = err
		case result == pipeline.ResultCreated:
			rep.New++
		case result == pipeline.ResultUpdated:
			rep.Updated++
		default:
			rep.Duplicate++
		}
	}
	if retryErr != nil {
		rep.Err = fmt.Errorf("%d items of feed %s left for the next poll: %w", rep.Retry, f.URL, retryErr)
		log.Warn("items left for the next poll", "count", rep.Retry, "error", retryErr)
	}
	return rep
}

// nextState computes the state to store after a poll. Validators change
// only after a complete ingest; failures back off exponentially up to the
// maximum interval, and Retry-After is honoured when the server sent one.
func (p *Poller) nextState(f Feed, prev fetchState, res FetchResult, rep PollReport) fetchState {
	now := p.o.Now()
	next := prev
	interval := p.clamp(f.Interval)
	switch {
	case rep.Outcome == OutcomeNotModified:
		next.Failures = 0
	case rep.Outcome == OutcomeNewContent && rep.Err == nil:
		next.Validators = res.Validators
		next.Failures = 0
	case rep.Outcome == OutcomeNewContent && rep.Retry > 0:
		// Items are waiting: poll again soon, without validators.
		next.Validators = Validators{}
		interval = p.clamp(p.o.MinInterval)
	default:
		next.Failures++
		interval = p.backoff(interval, next.Failures)
		if res.RetryAfter > interval {
			interval = min(res.RetryAfter, p.o.MaxInterval)
		}
		if rep.Outcome == OutcomePermanent || rep.Outcome == OutcomeGone {
			interval = p.o.MaxInterval
		}
	}
	next.NextPoll = now.Add(interval)
	return next
}

func (p *Poller) backoff(base time.Duration, failures int) time.Duration {
	d := base
	for i := 1; i < failures && d < p.o.MaxInterval; i++ {
		d *= 2
	}
	return p.clamp(d)
}

func (p *Poller) clamp(d time.Duration) time.Duration {
	if d < p.o.MinInterval {
		d = p.o.MinInterval
	}
	if d > p.o.MaxInterval {
		d = p.o.MaxInterval
	}
	if d <= 0 {
		d = 15 * time.Minute
	}
	return d
}

// PollAll polls every feed once with bounded concurrency and returns the
// reports in the order of feeds. progress, when not nil, is called after
// each poll from the polling goroutine.
func (p *Poller) PollAll(ctx context.Context, feeds []Feed, progress func(PollReport)) []PollReport {
	reports := make([]PollReport, len(feeds))
	sem := make(chan struct{}, p.o.Concurrency)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, f := range feeds {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			r := p.Poll(ctx, f)
			reports[i] = r
			if progress != nil {
				mu.Lock()
				progress(r)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return reports
}

// Run polls each feed when it is due until ctx is cancelled, then waits for
// the polls in flight. A feed's first poll happens at its stored next-poll
// time, or at once when none is stored.
func (p *Poller) Run(ctx context.Context, feeds []Feed) {
	due := make([]time.Time, len(feeds))
	for i, f := range feeds {
		due[i] = p.loadState(ctx, f).NextPoll
	}
	busy := make([]bool, len(feeds))
	done := make(chan int, len(feeds))
	sem := make(chan struct{}, p.o.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case i := <-done:
			busy[i] = false
			due[i] = p.loadState(ctx, feeds[i]).NextPoll
			if due[i].IsZero() {
				due[i] = p.o.Now().Add(p.clamp(feeds[i].Interval))
			}
		case <-timer.C:
		}
		wait := p.dispatch(ctx, feeds, due, busy, sem, done, &wg)
		resetTimer(timer, wait)
	}
}

// dispatch starts a poll for every due feed that is not in flight while a
// concurrency slot is free, and returns how long until the next feed is
// due.
func (p *Poller) dispatch(ctx context.Context, feeds []Feed, due []time.Time, busy []bool,
	sem chan struct{}, done chan int, wg *sync.WaitGroup,
) time.Duration {
	now := p.o.Now()
	wait := p.o.MaxInterval
	for i, f := range feeds {
		if busy[i] {
			continue
		}
		if until := due[i].Sub(now); until > 0 {
			wait = min(wait, until)
			continue
		}
		select {
		case sem <- struct{}{}:
		default:
			// Every slot is busy: look again when one frees.
			return wait
		}
		busy[i] = true
		wg.Go(func() {
			defer func() { <-sem }()
			p.Poll(ctx, f)
			done <- i
		})
	}
	return wait
}

func resetTimer(t *time.Timer, d time.Duration) {
	if !t.Stop() {
		select {
		case <-t.C:
		default:
		}
	}
	t.Reset(d)
}
