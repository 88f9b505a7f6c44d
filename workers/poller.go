package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/syndic-network/syndic/pipeline"
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
	// Charset is the partner's fallback character set; see
	// pipeline.Source.Charset.
	Charset  string
	Location *time.Location
}

// Key returns "partner/feed", the feed's name in logs and state keys.
func (f Feed) Key() string { return f.Partner + "/" + f.ID }

// PollReport is the result of one poll of one feed.
type PollReport struct {
	Feed    Feed
	Outcome Outcome
	// Class is the outcome class stored in the feed's health: the Outcome
	// name, "parse_error" for a document that did not parse, or
	// "items_left" when some items were left for the next poll.
	Class     string
	New       int
	Updated   int
	Duplicate int
	// Retry counts items left for the next poll (reserved by another writer
	// or not published because of a store or stream failure).
	Retry    int
	Rejected int
	// Backfill counts the items of this poll marked as backfill.
	Backfill int
	// Recoveries names the repairs the document needed (see
	// pipeline.ParseResult.Recoveries).
	Recoveries []string
	// Warnings names faults of the document that the pipeline worked
	// around but the partner should fix, such as WarningDuplicateGUID.
	Warnings []string
	// NextPoll is when the feed is due again, zero for a gone feed.
	NextPoll time.Time
	// Discovered is the feed URL that the HTML page served at the feed URL
	// links to. The state now polls it, so the next poll reads the feed.
	Discovered string
	// policyUnsaved is set when the identity policy this document calls
	// for could not be stored, so the next poll must read it again.
	policyUnsaved bool
	// Err is set when the feed could not be fetched or parsed, or when some
	// item was left for retry. It wraps ErrFeedGone for a feed that is not
	// fetched because it returned 410 earlier.
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
	// State stores the fetch state of each feed under "fetch:" keys and the
	// per-host fetch slots under "fetch:slot:" keys.
	State    pipeline.Cache
	Policies *pipeline.Policies
	// MinInterval and MaxInterval bound every schedule, including backoff
	// after failures.
	MinInterval time.Duration
	MaxInterval time.Duration
	// Concurrency is the number of feeds polled at once (default 16).
	Concurrency int
	// PerHost is the number of fetches in flight to one host name across
	// every process sharing State (default 2), or within this process
	// alone when LocalHostSlots is set.
	PerHost int
	// LocalHostSlots keeps the PerHost limit in this process instead of
	// State. Set it only when no other process polls through State.
	LocalHostSlots bool
	// AdoptRedirectAfter is the number of consecutive polls that must
	// return the same 301 or 308 before its target is polled instead of
	// the configured URL (default 2).
	AdoptRedirectAfter int
	// BackfillMaxAge marks items older than this as backfill on a feed's
	// first complete poll. Zero marks none.
	BackfillMaxAge time.Duration
	// MaxItems is the most items taken from one document, the newest
	// first (see capItems). Zero takes all.
	MaxItems int
	// ParseMemoBytes bounds the memory of what cleaning made of each
	// item of every feed's last document (see parseMemos). Zero means
	// DefaultParseMemoBytes, and below zero keeps none.
	ParseMemoBytes int64
	// IncidentAfter is how long a feed must keep failing before OnIncident
	// is called for it, once per run of failures. Zero or a nil
	// OnIncident reports nothing.
	IncidentAfter time.Duration
	OnIncident    IncidentFunc
	Logger        *slog.Logger
	Now           func() time.Time
	// Jitter returns a random duration in [0, d) for the back-off after
	// failures (default math/rand/v2).
	Jitter func(d time.Duration) time.Duration
	// Claim, when set, is asked by Run before each poll whether this
	// process may poll the feed now; see claim.go. Nil polls every feed.
	Claim ClaimFunc
	// Subscriptions, when set, stretches the schedule of feeds whose
	// WebSub hub pushes their items to a slow safety interval, and is told
	// what each such poll found. Nil polls every feed on its own schedule.
	Subscriptions SubscriptionPolicy
}

// SubscriptionPolicy is the part of WebSub the scheduler needs. Both
// methods are safe for concurrent use; errors are logged by the caller
// and never stop a poll.
type SubscriptionPolicy interface {
	// PollInterval returns the safety interval and true when a reliable
	// hub currently pushes the feed's items, and false otherwise.
	PollInterval(ctx context.Context, partner, feed string) (time.Duration, bool)
	// SafetyPolled records that a poll of a subscribed feed found newItems
	// items the hub had not delivered.
	SafetyPolled(ctx context.Context, partner, feed string, newItems int) error
}

// Poller fetches feeds, parses them and hands their items to the ingester.
// It is safe for concurrent use.
type Poller struct {
	o     PollerOptions
	sched schedule
	hosts *hostLimiter
	memos parseMemos
}

// SetSubscriptions sets the WebSub policy after construction, because the
// subscriptions need the ingester the poller was built beside. Call it
// before Run.
func (p *Poller) SetSubscriptions(s SubscriptionPolicy) {
	p.o.Subscriptions = s
}

// NewPoller returns a poller with o.
func NewPoller(o PollerOptions) *Poller {
	if o.Concurrency <= 0 {
		o.Concurrency = 16
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
	if o.MinInterval <= 0 || o.MinInterval > o.MaxInterval {
		o.MinInterval = min(15*time.Minute, o.MaxInterval)
	}
	if o.AdoptRedirectAfter <= 0 {
		o.AdoptRedirectAfter = 2
	}
	if o.Jitter == nil {
		o.Jitter = func(d time.Duration) time.Duration { return rand.N(d) }
	}
	if o.ParseMemoBytes == 0 {
		o.ParseMemoBytes = DefaultParseMemoBytes
	}
	var timeout time.Duration
	if o.Fetcher != nil {
		timeout = o.Fetcher.opts.Timeout
	}
	return &Poller{
		o:     o,
		sched: schedule{min: o.MinInterval, max: o.MaxInterval, jitter: o.Jitter},
		hosts: newHostLimiter(o.State, o.PerHost, timeout, o.LocalHostSlots),
		memos: parseMemos{limit: o.ParseMemoBytes},
	}
}

// Poll fetches f once, ingests its items and stores its next fetch state.
// It waits for a free fetch slot of the feed's host first. A feed that
// returned 410 earlier is not fetched: the report wraps ErrFeedGone. When
// the feed URL serves an HTML page that links to its feed, the feed is
// adopted and polled at once.
//
// The HTTP validators of the response are stored only when every item was
// published, found duplicate or rejected, so a failed publish makes the
// next poll fetch the whole document again.
func (p *Poller) Poll(ctx context.Context, f Feed) PollReport {
	rep := p.pollOnce(ctx, f)
	if rep.Discovered != "" {
		rep = p.pollOnce(ctx, f)
	}
	return rep
}

func (p *Poller) pollOnce(ctx context.Context, f Feed) PollReport {
	st := p.loadState(ctx, f)
	if st.Gone {
		return p.goneReport(f)
	}
	release, err := p.hosts.acquire(ctx, hostOf(pollURL(f, st)))
	if err != nil && ctx.Err() != nil {
		return PollReport{Feed: f, Outcome: OutcomeRetryLater, Class: OutcomeRetryLater.String(), Err: err}
	}
	return p.pollWithSlot(ctx, f, st, p.slotRelease(f, release, err))
}

// tryPoll is Poll without waiting: it returns false, having done nothing,
// when the feed's host has no free fetch slot.
func (p *Poller) tryPoll(ctx context.Context, f Feed, st fetchState) (PollReport, bool) {
	if st.Gone {
		return p.goneReport(f), true
	}
	release, err := p.hosts.tryAcquire(ctx, hostOf(pollURL(f, st)))
	if errors.Is(err, ErrHostBusy) {
		hostBusyTotal.Inc()
		return PollReport{}, false
	}
	rep := p.pollWithSlot(ctx, f, st, p.slotRelease(f, release, err))
	if rep.Discovered != "" {
		rep = p.pollOnce(ctx, f)
	}
	return rep, true
}

// slotRelease logs a failed slot reservation and returns a no-op release:
// when the cache is unreachable the fetch goes ahead without the per-host
// limit, because skipping it would stop all polling.
func (p *Poller) slotRelease(f Feed, release func(), err error) func() {
	if err == nil {
		return release
	}
	p.o.Logger.Warn("fetching without a host slot", "feed_id", f.Key(), "error", err)
	return func() {}
}

func (p *Poller) goneReport(f Feed) PollReport {
	return PollReport{
		Feed: f, Outcome: OutcomeGone, Class: OutcomeGone.String(),
		NextPoll: p.o.Now().Add(p.o.MinInterval),
		Err:      fmt.Errorf("polling feed %s: %w; run `syndic feeds reset %s` once it is back", f.Key(), ErrFeedGone, f.Key()),
	}
}

func (p *Poller) pollWithSlot(ctx context.Context, f Feed, st fetchState, release func()) PollReport {
	start := p.o.Now()
	target := pollURL(f, st)
	log := p.o.Logger.With("partner", f.Partner, "feed_id", f.Key(), "feed_url", pipeline.PublicFeedURL(target))
	res := p.o.Fetcher.Fetch(ctx, FetchRequest{
		URL:        target,
		Validators: st.Validators,
		// An adopted redirect or a feed found on the page keeps the allow
		// only on the configured URL's origin, as a redirect does.
		AllowPrivateNetwork: f.AllowPrivateNetwork && sameOrigin(target, f.URL),
	})
	release()
	fetchSeconds.WithLabelValues(res.Outcome.String()).Observe(p.o.Now().Sub(start).Seconds())
	fetchBytes.Add(float64(len(res.Body)))
	res.Err = withPrivateNetworkHint(f, res.Err)

	in := scheduleInput{res: res}
	if res.Outcome == OutcomeNewContent {
		var same bool
		if in.digest, same = unchangedBody(f, st, res); same {
			unchangedBodiesTotal.Inc()
			in.res.Outcome = OutcomeNotModified
			in.ttl = channelTTL(res.Body)
		}
	}
	rep := PollReport{Feed: f, Outcome: in.res.Outcome, Err: res.Err}
	if ctx.Err() != nil && in.res.Outcome != OutcomeNotModified && in.res.Outcome != OutcomeNewContent {
		// A stop cancelled the fetch. The feed did nothing wrong, so no
		// failure is counted and its state stays as it was: the next
		// start polls it when it was due.
		log.Info("feed poll cancelled by shutdown", "error", res.Err)
		rep.Class = pollClass(rep)
		rep.NextPoll = st.NextPoll
		return rep
	}
	switch in.res.Outcome {
	case OutcomeNotModified:
	case OutcomeNewContent:
		rep, in.items = p.ingest(ctx, f, st, res, log)
		in.ttl = channelTTL(res.Body)
	case OutcomeGone:
		// Logged once: later polls do not fetch until the feed is reset.
		log.Error("feed gone, polling stopped", "status", res.StatusCode, "error", res.Err,
			"hint", "run `syndic feeds reset "+f.Key()+"` when the partner restores it")
	default:
		log.Warn("feed fetch failed", "outcome", res.Outcome.String(), "status", res.StatusCode, "error", res.Err)
	}
	rep.Class = pollClass(rep)
	in.class = rep.Class
	pollsTotal.WithLabelValues(rep.Class).Inc()
	countItems(rep)

	next := p.nextState(f, st, in, rep, start, log)
	if link := discoveredFeed(rep, res, target); link != "" {
		next = p.adoptDiscovered(next, link, log)
		rep.Discovered = link
	}
	rep.NextPoll = next.NextPoll
	incident := p.o.OnIncident != nil && trackIncident(&next, p.o.Now(), p.o.IncidentAfter)
	p.saveState(ctx, f, next)
	if incident {
		p.o.OnIncident(ctx, f, healthOf(f, next))
	}
	pollSeconds.Observe(p.o.Now().Sub(start).Seconds())
	return rep
}

// pollClass returns the outcome class of a finished poll.
func pollClass(rep PollReport) string {
	switch {
	case rep.Outcome != OutcomeNewContent || rep.Err == nil:
		return rep.Outcome.String()
	case rep.Retry > 0:
		return classItemsLeft
	default:
		return classParseError
	}
}

// ingest parses a fetched document and hands its items to the ingester.
// It returns the report and the parsed items, which the scheduler reads
// for the feed's publishing interval.
func (p *Poller) ingest(ctx context.Context, f Feed, st fetchState, res FetchResult, log *slog.Logger) (PollReport, []pipeline.Item) {
	rep := PollReport{Feed: f, Outcome: OutcomeNewContent}
	linkKeys, err := p.o.Policies.LinkKeys(ctx, f.Partner, f.ID)
	if err != nil {
		rep.Err = err
		rep.Retry = 1
		return rep, nil
	}
	src := pipeline.Source{
		Partner: f.Partner, Feed: f.ID, FeedURL: pollURL(f, st),
		Language: f.Language, Location: f.Location, LinkKeys: linkKeys, Charset: f.Charset,
	}
	parsed, err := pipeline.ParseFeedMemo(res.Body, res.ContentType, src, p.o.Now(), p.memos.get(f.Key()))
	if err != nil {
		rep.Err = fmt.Errorf("parsing feed %s: %w", pipeline.PublicFeedURL(src.FeedURL), err)
		log.Warn("feed unreadable", "error", err, "hint", "check that the URL returns an RSS, Atom or JSON feed")
		return rep, nil
	}
	// A feed polled at least every MaxInterval keeps its memo.
	p.memos.put(f.Key(), parsed.Memo, p.o.Now(), 2*p.o.MaxInterval)
	p.noteParse(ctx, f, parsed, linkKeys, st.Warnings, log, &rep)
	p.capItems(parsed, st.Warnings, log, &rep)
	if !st.Seeded {
		rep.Backfill = markBackfill(parsed.Items, p.o.Now(), p.o.BackfillMaxAge)
	}
	p.publish(ctx, f, parsed.Items, log, &rep)
	return rep, parsed.Items
}

// WarningDuplicateGUID is the warning recorded for a feed whose document
// gives one GUID to items with different links or titles.
const WarningDuplicateGUID = "duplicate guid in feed"

// WarningCharsetGuessed is the warning recorded for a feed whose body is
// not UTF-8, whatever it declares, while its partner sets no charset, so
// Syndic read it as windows-1252 and may show wrong letters.
const WarningCharsetGuessed = "feed is not utf-8 and was read as windows-1252; set partners[].charset"

// WarningItemsRejected is the warning recorded for a feed whose latest
// document had items that could not be read, so that feed health shows
// it and not only the log.
const WarningItemsRejected = "items of the feed were rejected"

// noteParse records the repairs, the identity policy and the rejected
// items of a parsed document. previous are the warnings of the feed's
// last document, so a warning is logged when it first appears.
func (p *Poller) noteParse(ctx context.Context, f Feed, parsed *pipeline.ParseResult, linkKeys bool, previous []string, log *slog.Logger, rep *PollReport) {
	guessedCharset := false
	for _, kind := range parsed.Recoveries {
		recoveriesTotal.WithLabelValues(kind).Inc()
		guessedCharset = guessedCharset || kind == pipeline.RecoveryDefaultCharset
	}
	if len(parsed.Recoveries) > 0 {
		log.Debug("feed repaired", "recoveries", parsed.Recoveries)
	}
	if parsed.RepeatedGUIDs {
		warnFeed(rep, previous, log, WarningDuplicateGUID,
			"the feed gives one guid to different items; Syndic keys them by link instead, and the partner should give each item its own guid")
	}
	if guessedCharset {
		warnFeed(rep, previous, log, WarningCharsetGuessed,
			"set partners[].charset of this partner to the feed's real encoding, such as windows-1250 for Polish or Czech text")
	}
	if parsed.RepeatedGUIDs && !linkKeys {
		if err := p.o.Policies.SetLinkKeys(ctx, f.Partner, f.ID); err != nil {
			log.Warn("storing identity policy failed", "error", err)
			rep.policyUnsaved = true
		}
	}
	for _, rj := range parsed.Rejected {
		rep.Rejected++
		log.Warn("item rejected", "item_guid", rj.GUID, "item_index", rj.Index, "error", rj.Err)
	}
	pipeline.CountRejected(len(parsed.Rejected))
	if len(parsed.Rejected) > 0 {
		warnFeed(rep, previous, log, WarningItemsRejected,
			"the other items were taken in; each \"item rejected\" line of the log names one item and why")
	}
	rep.Recoveries = parsed.Recoveries
}

// warnFeed adds warning to the poll report and its metric, and logs it
// with hint only when the feed's previous warnings lack it, because the
// feed health keeps showing it on every later poll.
func warnFeed(rep *PollReport, previous []string, log *slog.Logger, warning, hint string, args ...any) {
	rep.Warnings = append(rep.Warnings, warning)
	warningsTotal.WithLabelValues(warning).Inc()
	if !slices.Contains(previous, warning) {
		log.Warn(warning, append(args, "hint", hint)...)
	}
}

func (p *Poller) publish(ctx context.Context, f Feed, items []pipeline.Item, log *slog.Logger, rep *PollReport) {
	var retryErr error
	for i, o := range p.o.Ingester.IngestBatch(ctx, items) {
		result, err := o.Result, o.Err
		switch {
		case result == pipeline.ResultRejected:
			rep.Rejected++
			log.Warn("item rejected", "item_id", items[i].ID, "error", err)
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
		rep.Err = fmt.Errorf("%d items of feed %s left for the next poll: %w", rep.Retry, f.Key(), retryErr)
		log.Warn("items left for the next poll", "count", rep.Retry, "error", retryErr)
	}
}

// markBackfill sets Backfill on every item published before now-maxAge
// and returns how many it marked. Items dated by first sight are never
// old, so they are not marked.
func markBackfill(items []pipeline.Item, now time.Time, maxAge time.Duration) int {
	if maxAge <= 0 {
		return 0
	}
	cutoff := now.Add(-maxAge)
	n := 0
	for i := range items {
		if items[i].DateSource == pipeline.DateFromFeed && items[i].Published.Before(cutoff) {
			items[i].Backfill = true
			n++
		}
	}
	return n
}
