package workers

import (
	"log/slog"
	"time"
)

// nextState returns the state to store after a poll that started at
// start. Validators change only after a complete ingest, a 410 stops
// polling, a permanent failure that persists flags the feed
// (trackPermanent), and a 301 or 308 seen on enough consecutive
// successful polls is adopted as the URL to poll.
func (p *Poller) nextState(f Feed, prev fetchState, in scheduleInput, rep PollReport, start time.Time, log *slog.Logger) fetchState {
	now := p.o.Now()
	next := prev
	next.LastAttempt = start
	next.LastStatus = in.res.StatusCode
	if next.Class != in.class {
		next.Class, next.Since = in.class, now
	}
	p.applyOutcome(&next, in, rep, now)
	if prev.Failures > 0 && next.Failures == 0 && next.LastSuccess.Equal(now) {
		// The failures were logged one by one; the end of them is
		// worth a line too.
		log.Info("feed recovered", "failed_polls", prev.Failures, "last_error", prev.LastError)
	}
	p.trackMove(&next, in, log)
	if next.Gone {
		next.NextPoll, next.Interval = time.Time{}, 0
		return next
	}
	next.Interval = p.sched.interval(&next, p.sched.clamp(f.Interval), in)
	next.NextPoll = now.Add(next.Interval)
	return next
}

func (p *Poller) applyOutcome(next *fetchState, in scheduleInput, rep PollReport, now time.Time) {
	switch in.class {
	case OutcomeNotModified.String():
		next.Validators = in.res.Validators
		p.succeeded(next, now)
	case OutcomeNewContent.String():
		next.Validators = in.res.Validators
		next.BodyDigest = ""
		if skippable(rep) {
			next.BodyDigest = in.digest
		}
		next.Seeded = true
		next.ItemsSeen += rep.New
		next.Recoveries = rep.Recoveries
		next.Warnings = rep.Warnings
		if est := publishInterval(in.items, now); est > 0 {
			next.PublishInterval = est
		}
		p.succeeded(next, now)
	case classItemsLeft:
		// Items are waiting: poll again soon, without validators. This is
		// a store or stream failure, not the feed's, so it is no failure
		// of the feed either.
		next.Validators = Validators{}
		next.LastError = plainError(in.class, in.res, rep.Err)
		next.LastErrorAt = next.LastAttempt
	default:
		next.Failures++
		next.LastError = plainError(in.class, in.res, rep.Err)
		next.LastErrorAt = next.LastAttempt
		next.Gone = in.class == OutcomeGone.String()
		trackPermanent(next, in.class, now)
	}
}

// A feed is flagged once it has failed permanently on at least
// flagAfterFailures consecutive polls whose first was at least
// flagAfterSpan before the latest. A single 404 or 403 can come from a
// botched deployment or a configuration mistake that is repaired within
// the hour, so it backs off like a temporary failure instead. With the
// default 5-minute minimum interval, a feed that stays broken is flagged
// at its 8th or 9th failed poll, 6 to 17 hours (8 on average) after the
// first, by a simulation of 100,000 runs of the jittered back-off.
const (
	flagAfterFailures = 3
	flagAfterSpan     = 6 * time.Hour
)

// trackPermanent counts the run of consecutive permanent failures
// (class permanent or parse_error) and flags the feed when the run
// reaches flagAfterFailures polls over flagAfterSpan. Any other failure
// ends the run and the flag. An older release flagged a feed without
// counting, so a flag without a run is kept until the feed recovers or
// is reset.
func trackPermanent(next *fetchState, class string, now time.Time) {
	if class != OutcomePermanent.String() && class != classParseError {
		next.PermanentFailures, next.PermanentSince = 0, time.Time{}
		next.Flagged = false
		return
	}
	if next.PermanentFailures == 0 {
		next.PermanentSince = now
	}
	next.PermanentFailures++
	persisted := next.PermanentFailures >= flagAfterFailures && now.Sub(next.PermanentSince) >= flagAfterSpan
	next.Flagged = next.Flagged || persisted
}

func (p *Poller) succeeded(next *fetchState, now time.Time) {
	next.Failures = 0
	next.Flagged = false
	next.PermanentFailures, next.PermanentSince = 0, time.Time{}
	next.LastSuccess = now
}

// trackMove counts consecutive polls that returned the same permanent
// redirect and adopts its target after AdoptRedirectAfter of them. The
// fetcher reports a move only when the whole chain, every hop dialled
// through the SSRF guard, ended in a response, and never for a move from
// https to http, so an adopted URL is one the guard allowed.
func (p *Poller) trackMove(next *fetchState, in scheduleInput, log *slog.Logger) {
	ok := in.class == OutcomeNotModified.String() || in.class == OutcomeNewContent.String()
	switch {
	case in.res.MovedTo == "" || !ok:
		next.MovedTo, next.MovedSeen = "", 0
		return
	case in.res.MovedTo == next.MovedTo:
		next.MovedSeen++
	default:
		next.MovedTo, next.MovedSeen = in.res.MovedTo, 1
	}
	if next.MovedSeen >= p.o.AdoptRedirectAfter {
		log.Warn("feed moved permanently, polling the new URL",
			"moved_to", next.MovedTo, "polls", next.MovedSeen,
			"hint", "update the feed URL in the configuration")
		next.Adopted = next.MovedTo
		next.MovedTo, next.MovedSeen = "", 0
	}
}
