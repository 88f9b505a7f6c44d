package workers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// fetchState is what the poller remembers about a feed between polls:
// scheduling data and the feed's health. It lives in the pipeline cache
// (Redis when configured) so it survives restarts and is shared by every
// ingest process. It is rebuildable: losing it costs one unconditional
// fetch, and no duplicates because the index still contains every item.
type fetchState struct {
	Validators Validators `json:"validators"`
	NextPoll   time.Time  `json:"next_poll"`
	// Failures counts consecutive polls that did not succeed.
	Failures int `json:"failures,omitempty"`
	// Source is the configured URL this state was written for, and
	// Settings the other fetch settings (fetchSettings). When the
	// configuration changes either, the failure state is dropped, and a
	// new URL also drops the redirect data (decodeState).
	Source   string `json:"source,omitempty"`
	Settings string `json:"settings,omitempty"`
	// MovedTo is the latest 301 or 308 target and MovedSeen the number of
	// consecutive polls that returned it.
	MovedTo   string `json:"moved_to,omitempty"`
	MovedSeen int    `json:"moved_seen,omitempty"`
	// Adopted is the URL polled in place of Source after the move was seen
	// on enough consecutive polls.
	Adopted string `json:"adopted,omitempty"`
	// Gone stops polling after a 410 until an operator resets the feed.
	Gone bool `json:"gone,omitempty"`
	// Flagged marks a permanent failure that persisted (trackPermanent)
	// and needs an operator or partner. A flagged feed is polled at the
	// maximum interval.
	Flagged bool `json:"flagged,omitempty"`
	// PermanentFailures counts the consecutive polls that failed
	// permanently (class permanent or parse_error), and PermanentSince is
	// when the first of them ran.
	PermanentFailures int       `json:"permanent_failures,omitempty"`
	PermanentSince    time.Time `json:"permanent_since,omitzero"`
	// Seeded is set after the first complete ingest. Until then, old items
	// are marked as backfill.
	Seeded bool `json:"seeded,omitempty"`
	// BodyDigest is the documentDigest of the last document whose items
	// were all ingested. The same body again is not parsed.
	BodyDigest string `json:"body_digest,omitempty"`

	// Class is the outcome class of the latest poll (an Outcome name,
	// "parse_error" or "items_left") and Since when it first took it.
	Class       string    `json:"class,omitempty"`
	Since       time.Time `json:"since,omitzero"`
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	// LastError is the latest failure in plain words, kept after recovery
	// so an operator can see what happened, and LastErrorAt the start of
	// the poll that failed with it.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	LastStatus  int       `json:"last_status,omitempty"`
	Recoveries  []string  `json:"recoveries,omitempty"`
	// Warnings are the warnings of the latest document read (see
	// PollReport.Warnings).
	Warnings []string `json:"warnings,omitempty"`
	// ItemsSeen counts the items this feed has published as new.
	ItemsSeen int `json:"items_seen,omitempty"`
	// PublishInterval is the latest estimate of how often the feed
	// publishes, and Interval the wait chosen after the latest poll.
	PublishInterval time.Duration `json:"publish_interval,omitempty"`
	Interval        time.Duration `json:"interval,omitempty"`
	// FailingSince is the first failed poll of the current run of
	// failures, and Reported whether IncidentFunc was called for it.
	FailingSince time.Time `json:"failing_since,omitzero"`
	Reported     bool      `json:"reported,omitempty"`
}

func stateKey(f Feed) string { return "fetch:" + f.Key() }

// stateTTL keeps a feed's fetch state a little longer than the longest
// schedule, so a feed polled at the maximum interval never loses it. A
// gone feed's state never expires, because losing it would resume polling.
func (p *Poller) stateTTL(st fetchState) time.Duration {
	if st.Gone {
		return 0
	}
	return 2 * p.o.MaxInterval
}

// readState returns the stored state of f, the zero state when none is
// stored, or a store error. An unreadable value counts as absent.
func (p *Poller) readState(ctx context.Context, f Feed) (fetchState, error) {
	raw, ok, err := p.o.State.Get(ctx, stateKey(f))
	if err != nil {
		return fetchState{}, fmt.Errorf("reading fetch state of %s: %w", f.Key(), err)
	}
	return p.decodeState(f, raw, ok), nil
}

// decodeState decodes the stored state raw of f; found is false when
// none is stored.
func (p *Poller) decodeState(f Feed, raw string, found bool) fetchState {
	var st fetchState
	if !found {
		return st
	}
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		p.o.Logger.Warn("discarding unreadable fetch state", "feed_id", f.Key(), "error", err)
		return fetchState{}
	}
	urlChanged := st.Source != "" && st.Source != f.URL
	if urlChanged {
		// The operator changed the URL: an earlier move no longer applies.
		st.MovedTo, st.MovedSeen, st.Adopted = "", 0, ""
	}
	// A state written before Settings existed has none, so only its URL
	// is compared.
	if urlChanged || (st.Settings != "" && st.Settings != p.fetchSettings(f)) {
		dropFailures(&st)
	}
	return st
}

// fetchSettings returns the settings of f, other than its URL, that
// decide whether a poll can succeed: whether it may reach a private
// address, counting fetch.allow_private_networks, and the partner's
// charset, which decides whether its document parses.
func (p *Poller) fetchSettings(f Feed) string {
	private := f.AllowPrivateNetwork
	if p.o.Fetcher != nil {
		private = private || p.o.Fetcher.opts.AllowPrivateNetworks
	}
	return fmt.Sprintf("allow_private_network=%t charset=%s", private, f.Charset)
}

// dropFailures makes a feed whose fetch settings changed due at once, as
// Reset does, because the failures, the flag and a 410 were responses to
// the old settings. The validators are dropped too, so the next poll reads
// the whole document with the new settings instead of taking a 304 for it.
// The body digest covers the URL and the charset, so it needs no reset.
func dropFailures(st *fetchState) {
	clearFailures(st)
	st.Validators = Validators{}
	st.Class, st.Since = "reset", time.Time{}
}

// clearFailures drops the failure state that Reset and a change of fetch
// settings both drop, and makes the feed due at once.
func clearFailures(st *fetchState) {
	st.Gone, st.Flagged, st.Failures = false, false, 0
	st.PermanentFailures, st.PermanentSince = 0, time.Time{}
	st.NextPoll = time.Time{}
}

// loadState is readState for the poll path, where a store failure is
// logged and costs one unconditional fetch.
func (p *Poller) loadState(ctx context.Context, f Feed) fetchState {
	st, err := p.readState(ctx, f)
	if err != nil {
		p.o.Logger.Warn("fetch state unavailable, polling unconditionally", "feed_id", f.Key(), "error", err)
	}
	return st
}

func (p *Poller) saveState(ctx context.Context, f Feed, st fetchState) {
	st.Source, st.Settings = f.URL, p.fetchSettings(f)
	data, err := json.Marshal(st)
	if err != nil {
		return
	}
	if err := p.o.State.Set(ctx, stateKey(f), string(data), p.stateTTL(st)); err != nil {
		p.o.Logger.Warn("storing fetch state failed", "feed_id", f.Key(), "error", err)
	}
}

// pollURL returns the URL to fetch: the adopted redirect target when there
// is one, else the configured URL.
func pollURL(f Feed, st fetchState) string {
	if st.Adopted != "" {
		return st.Adopted
	}
	return f.URL
}

// Reset clears a feed's failure state so that it is polled at once: a
// gone or flagged feed resumes, the back-off and any adopted redirect are
// dropped. Validators, the backfill marker and the item count are kept,
// so the next poll is still conditional and does not mark new items as
// backfill. It returns ErrUnknownFeed when no state is stored for f.
func (p *Poller) Reset(ctx context.Context, f Feed) error {
	st, err := p.readState(ctx, f)
	if err != nil {
		return err
	}
	if st.Class == "" && st.NextPoll.IsZero() {
		return fmt.Errorf("resetting feed %s: %w", f.Key(), ErrUnknownFeed)
	}
	clearFailures(&st)
	st.MovedTo, st.MovedSeen, st.Adopted = "", 0, ""
	st.Class, st.Since = "reset", p.o.Now()
	st.Source, st.Settings = f.URL, p.fetchSettings(f)
	data, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encoding fetch state of %s: %w", f.Key(), err)
	}
	if err := p.o.State.Set(ctx, stateKey(f), string(data), p.stateTTL(st)); err != nil {
		return fmt.Errorf("resetting feed %s: %w", f.Key(), err)
	}
	return nil
}
