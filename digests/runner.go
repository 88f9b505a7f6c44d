package digests

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
	"golang.org/x/time/rate"

	"github.com/syndic-network/syndic/pipeline"
)

// maxWindow bounds how far back one digest reaches. A subscriber whose
// last digest is older (after long downtime, or a quiet channel) gets the
// items of the last maxWindow only: five weeks cover a weekly digest and
// one missed issue.
const maxWindow = 35 * 24 * time.Hour

// RunnerOptions configures a Runner.
type RunnerOptions struct {
	Digest    Digest
	Store     *Store
	SendLog   *SendLog
	Collector *Collector
	Mailer    Mailer
	Links     Links
	// Partners maps partner ids to display names.
	Partners map[string]string
	// Owner names this worker in claims, such as host name and PID.
	Owner string
	// Lease is how long a claim lasts before another worker may take the
	// period over. It must exceed the longest send with its retries.
	Lease time.Duration
	// RatePerMinute bounds the messages sent per minute.
	RatePerMinute int
	// Retries and Backoff apply to temporary failures (4xx, connection
	// errors): attempt n waits Backoff·2ⁿ⁻¹ first.
	Retries int
	Backoff time.Duration
	Logger  *slog.Logger
	// Now returns the current time; nil uses time.Now.
	Now func() time.Time
	// AfterClaim, when set, is called after each claim is written and
	// before the message is sent. Crash tests use it to stop the worker
	// at that step.
	AfterClaim func(key string)
}

// Runner sends the digests of one digest id for one period.
type Runner struct {
	o       RunnerOptions
	limiter *rate.Limiter

	// omittedMu guards omitted, the ids of the items already logged as
	// left out, so that each is logged once per runner, not once per
	// subscriber.
	omittedMu sync.Mutex
	omitted   map[string]bool
}

// NewRunner returns a runner.
func NewRunner(o RunnerOptions) *Runner {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RatePerMinute <= 0 {
		o.RatePerMinute = 60
	}
	if o.Lease <= 0 {
		o.Lease = 10 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Runner{
		o:       o,
		limiter: rate.NewLimiter(rate.Every(time.Minute/time.Duration(o.RatePerMinute)), 1),
		omitted: map[string]bool{},
	}
}

// Report counts the subscribers of one run by outcome.
type Report struct {
	Sent int
	// Empty had nothing new, or only items too large for a message.
	Empty int
	// Skipped were sent the period already or are claimed by another
	// worker.
	Skipped int
	// Failed were rejected by the relay in this run.
	Failed int
	// Deferred are retried in a later run.
	Deferred int
	// Unconfirmed sign-ups and Undeliverable addresses (rejected in an
	// earlier run) get no digest, so they are counted apart.
	Unconfirmed, Undeliverable int
}

// Run sends the digest of the period whose send time is due to every
// confirmed subscriber whose last digest is older, with the items up to
// due. Subscribers whose period another worker claimed or sent are
// skipped. A permanent rejection marks the address undeliverable and the
// run goes on. Run returns an error only when it cannot list subscribers
// or read the stream, or ctx ends.
func (r *Runner) Run(ctx context.Context, due time.Time) (Report, error) {
	return r.run(ctx, issue{send: due, until: due})
}

// SendNow sends the next period's digest early, with the items up to now.
// The scheduled run of that period then finds it sent and sends nothing,
// and the following period starts at now.
func (r *Runner) SendNow(ctx context.Context, now time.Time) (Report, error) {
	return r.run(ctx, issue{send: r.o.Digest.Schedule.Next(now), until: now})
}

// issue names one period: its send time, which gives the period id and
// the date in the subject, and the end of the items it covers.
type issue struct {
	send, until time.Time
}

func (r *Runner) run(ctx context.Context, is issue) (Report, error) {
	var rep Report
	d := r.o.Digest
	log := r.o.Logger.With("digest", d.ID, "period", d.Schedule.Period(is.send))
	subs, err := r.o.Store.List(ctx, d.ID)
	if err != nil {
		return rep, err
	}
	since, ok := windowStart(subs, is.until)
	if !ok {
		return rep, nil
	}
	window, err := r.o.Collector.Collect(ctx, since, is.until)
	if err != nil {
		return rep, fmt.Errorf("collecting items for digest %s: %w", d.ID, err)
	}
	for _, s := range subs {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		r.runOne(ctx, log, window, s, is, &rep)
	}
	countReport(rep)
	log.Info("digest run finished", "sent", rep.Sent, "empty", rep.Empty, "skipped", rep.Skipped,
		"failed", rep.Failed, "deferred", rep.Deferred,
		"unconfirmed", rep.Unconfirmed, "undeliverable", rep.Undeliverable)
	return rep, nil
}

// windowStart returns the oldest covered-until time among the subscribers
// due a digest, bounded by maxWindow, and false when none is due.
func windowStart(subs []*Subscriber, due time.Time) (time.Time, bool) {
	var since time.Time
	found := false
	for _, s := range subs {
		if !isDue(s, due) {
			continue
		}
		if !found || s.CoveredUntil.Before(since) {
			since = s.CoveredUntil
		}
		found = true
	}
	return later(since, due.Add(-maxWindow)), found
}

func isDue(s *Subscriber, due time.Time) bool {
	return s.Status == StatusConfirmed && !s.Undeliverable && s.CoveredUntil.Before(due)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (r *Runner) runOne(ctx context.Context, log *slog.Logger, w *Window, s *Subscriber, is issue, rep *Report) {
	switch {
	case s.Status != StatusConfirmed:
		rep.Unconfirmed++
		return
	case s.Undeliverable:
		rep.Undeliverable++
		return
	case !isDue(s, is.until):
		rep.Skipped++
		return
	}

	items := w.Select(later(s.CoveredUntil, is.until.Add(-maxWindow)), r.keep(s))
	if len(items) == 0 {
		rep.Empty++
		return
	}

	d := r.o.Digest
	period := d.Schedule.Period(is.send)
	key := LogKey(d.ID, period, s.Email)
	msgID := MessageID(d.ID, period, s.Email, d.From)
	claim, err := r.o.SendLog.Claim(ctx, key, r.o.Owner, msgID, r.o.Lease, r.o.Now())
	switch {
	case errors.Is(err, ErrPeriodDone):
		// Another run sent it and may have crashed before advancing.
		rep.Skipped++
		r.advance(ctx, log, s, is.until)
		return
	case errors.Is(err, ErrClaimed):
		// The covered-until time stays, so that a later run sends the
		// period if the claim's owner dies.
		rep.Skipped++
		return
	}
	if err != nil {
		log.Warn("claiming digest period failed", "subscriber", s.Key(), "error", err)
		rep.Deferred++
		return
	}
	if r.o.AfterClaim != nil {
		r.o.AfterClaim(key)
	}
	r.deliver(ctx, log, claim, s, items, is, rep)
}

// keep returns the filter of the channel and of the subscriber.
func (r *Runner) keep(s *Subscriber) func(pipeline.Event) bool {
	own := subscriberFilter(s)
	return func(ev pipeline.Event) bool {
		return r.o.Digest.Filter.Match(ev) && own.Match(ev)
	}
}

func (r *Runner) deliver(ctx context.Context, log *slog.Logger, claim *Claim, s *Subscriber, items []pipeline.Item, is issue, rep *Report) {
	msg, err := r.compose(s, items, is.send, claim.Entry.MessageID)
	if err != nil {
		log.Error("rendering digest failed", "subscriber", s.Key(), "error", err)
		r.finish(ctx, log, claim, StateReleased)
		rep.Deferred++
		return
	}
	r.logOmitted(log, msg.rendered.Omitted)
	if msg.showsNoItem() {
		// The covered-until time stays, so the next period sends the
		// items of this one that fit.
		r.finish(ctx, log, claim, StateReleased)
		rep.Empty++
		return
	}
	err = r.sendWithRetry(ctx, log, msg)
	switch {
	case err == nil:
		r.finish(ctx, log, claim, StateSent)
		r.advance(ctx, log, s, is.until)
		rep.Sent++
	case errors.Is(err, ErrPermanent):
		log.Warn("relay rejected subscriber permanently", "subscriber", s.Key(), "error", err)
		r.finish(ctx, log, claim, StateFailed)
		r.markUndeliverable(ctx, log, s)
		rep.Failed++
	default:
		log.Warn("sending digest deferred to the next run", "subscriber", s.Key(), "error", err)
		r.finish(ctx, log, claim, StateReleased)
		rep.Deferred++
	}
}

// logOmitted logs one warning for each item left out of a digest that
// was not logged before by this runner.
func (r *Runner) logOmitted(log *slog.Logger, items []pipeline.Item) {
	r.omittedMu.Lock()
	defer r.omittedMu.Unlock()
	for _, it := range items {
		if r.omitted[it.ID] {
			continue
		}
		r.omitted[it.ID] = true
		log.Warn("item left out of digests: too large for one message",
			"item_id", it.ID, "partner", it.Partner, "max_html_bytes", MaxHTMLBytes,
			"hint", "its link, image URL or partner name is too long; retract it with `syndic items retract "+it.ID+"` or ask the partner to shorten it")
	}
}

func (r *Runner) sendWithRetry(ctx context.Context, log *slog.Logger, msg *messageToSend) error {
	var err error
	for attempt := 1; attempt <= r.o.Retries+1; attempt++ {
		if attempt > 1 {
			wait := r.o.Backoff << (attempt - 2)
			log.Debug("retrying digest", "attempt", attempt, "wait_ms", wait.Milliseconds(), "error", err)
			if werr := sleepContext(ctx, wait); werr != nil {
				return werr
			}
		}
		if werr := r.limiter.Wait(ctx); werr != nil {
			return werr
		}
		m, berr := msg.build()
		if berr != nil {
			return berr
		}
		err = r.o.Mailer.Send(ctx, m)
		if err == nil || errors.Is(err, ErrPermanent) {
			return err
		}
	}
	return err
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (r *Runner) finish(ctx context.Context, log *slog.Logger, claim *Claim, state string) {
	if err := r.o.SendLog.Finish(ctx, claim, state, r.o.Now()); err != nil {
		log.Error("updating send log failed", "key", claim.Key, "state", state, "error", err)
	}
}

// advance moves the subscriber's covered-until time to due, so the next
// period starts after it. A concurrent change (preferences, another
// worker) is read again once.
func (r *Runner) advance(ctx context.Context, log *slog.Logger, s *Subscriber, due time.Time) {
	r.update(ctx, log, s, func(cur *Subscriber) bool {
		if !cur.CoveredUntil.Before(due) {
			return false
		}
		cur.CoveredUntil = due
		return true
	})
}

func (r *Runner) markUndeliverable(ctx context.Context, log *slog.Logger, s *Subscriber) {
	r.update(ctx, log, s, func(cur *Subscriber) bool {
		cur.Undeliverable = true
		return true
	})
}

func (r *Runner) update(ctx context.Context, log *slog.Logger, s *Subscriber, change func(*Subscriber) bool) {
	for range 3 {
		cur, rev, err := r.o.Store.Get(ctx, s.Key())
		if errors.Is(err, ErrNotFound) {
			return // unsubscribed meanwhile
		}
		if err == nil {
			if !change(cur) {
				return
			}
			if _, err = r.o.Store.Put(ctx, cur, rev); err == nil {
				return
			}
		}
		log.Debug("updating subscriber conflicted", "subscriber", s.Key(), "error", err)
	}
	log.Warn("updating subscriber failed", "subscriber", s.Key())
}

// Preview renders the digest that the subscriber with email would get if
// the next period were sent at now, without claiming or sending it. It
// returns ErrNotFound for an unknown subscriber, and a message with no
// items when nothing is new.
func (r *Runner) Preview(ctx context.Context, email string, now time.Time) (*gomail.Msg, error) {
	d := r.o.Digest
	s, _, err := r.o.Store.Find(ctx, d.ID, email)
	if err != nil {
		return nil, err
	}
	send := d.Schedule.Next(now)
	since := later(s.CoveredUntil, now.Add(-maxWindow))
	window, err := r.o.Collector.Collect(ctx, since, now)
	if err != nil {
		return nil, fmt.Errorf("collecting items for digest %s: %w", d.ID, err)
	}
	period := d.Schedule.Period(send)
	msg, err := r.compose(s, window.Select(since, r.keep(s)), send, MessageID(d.ID, period, s.Email, d.From))
	if err != nil {
		return nil, err
	}
	r.logOmitted(r.o.Logger.With("digest", d.ID), msg.rendered.Omitted)
	return msg.build()
}
