package workers

import (
	"bytes"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

// Outcome classes stored in the fetch state and shown by feed health. They
// are the Outcome names plus classParseError, for a document fetched with
// a 2xx status that could not be parsed.
const (
	classParseError = "parse_error"
	// classItemsLeft marks a poll whose document parsed but some items were
	// left for the next poll (store or stream failure).
	classItemsLeft = "items_left"
)

// scheduleInput contains the results of one poll that the scheduler reads.
type scheduleInput struct {
	class string
	res   FetchResult
	// items are the items of a parsed document, nil for other outcomes.
	items []pipeline.Item
	// ttl is the RSS <ttl> of the document, 0 when absent.
	ttl time.Duration
	// digest is the documentDigest of a fetched document.
	digest string
}

// schedule holds the scheduling rules of a Poller.
type schedule struct {
	min, max time.Duration
	// jitter returns a random duration in [0, d).
	jitter func(d time.Duration) time.Duration
}

// interval returns the wait before the next poll of a feed whose state is
// st (already updated for this poll) and whose configured interval is
// configured. The rules, first match wins:
//
//   - retry later, or a permanent failure or unparseable document of a
//     feed not yet flagged: exponential back-off from the minimum
//     interval with equal jitter, but never before Retry-After;
//   - permanent failure or unparseable document of a flagged feed (see
//     trackPermanent): the maximum interval;
//   - items left for the next poll: the minimum interval;
//   - success: the feed's publishing interval (or the configured one
//     until dates are known), raised to the server's freshness lifetime
//     or RSS ttl when those are longer.
//
// Every result lies between the minimum and the maximum interval. Gone
// feeds are not scheduled at all (see nextState).
func (s schedule) interval(st *fetchState, configured time.Duration, in scheduleInput) time.Duration {
	switch in.class {
	case OutcomePermanent.String(), classParseError:
		if st.Flagged {
			return s.max
		}
		return s.clamp(max(s.backoff(st.Failures), in.res.RetryAfter))
	case OutcomeRetryLater.String():
		return s.clamp(max(s.backoff(st.Failures), in.res.RetryAfter))
	case classItemsLeft:
		return s.min
	}
	base := configured
	if st.PublishInterval > 0 {
		base = st.PublishInterval
	}
	hint := max(in.res.Freshness, in.ttl)
	return s.clamp(max(base, hint))
}

// backoff returns min·2^(failures-1), capped at the maximum, with equal
// jitter: a random point in its upper half. The jitter spreads feeds that
// failed together, such as every feed of one host, so their retries do not
// arrive at once.
func (s schedule) backoff(failures int) time.Duration {
	d := s.min
	for i := 1; i < failures && d < s.max; i++ {
		d *= 2
	}
	d = min(d, s.max)
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + s.jitter(half+1)
}

func (s schedule) clamp(d time.Duration) time.Duration {
	return min(max(d, s.min), s.max)
}

// publishingWindow is the number of newest dated items whose spacing
// estimates how often a feed publishes. Twenty covers a few days of a
// busy news feed without reaching back to an archive.
const publishingWindow = 20

// publishInterval estimates how often a feed publishes from the dates of
// its items: the mean gap between the newest dated items. When the newest
// item is older than two such gaps the feed has gone quiet, and half the
// time since its last item is used instead, so a dormant feed is polled
// less and less. It returns 0 when fewer than two items carry a date from
// the feed.
func publishInterval(items []pipeline.Item, now time.Time) time.Duration {
	var dates []time.Time
	for _, it := range items {
		if it.DateSource == pipeline.DateFromFeed && !it.Published.IsZero() {
			dates = append(dates, it.Published)
		}
	}
	if len(dates) < 2 {
		return 0
	}
	slices.SortFunc(dates, func(a, b time.Time) int { return b.Compare(a) })
	dates = dates[:min(len(dates), publishingWindow)]
	newest, oldest := dates[0], dates[len(dates)-1]
	gap := newest.Sub(oldest) / time.Duration(len(dates)-1)
	if quiet := now.Sub(newest); gap > 0 && quiet > 2*gap {
		return quiet / 2
	}
	return gap
}

// rssTTL matches the channel's <ttl> element, in minutes (RSS 2.0). Only
// the part before the first item is searched, so an item extension with
// the same name does not count.
var rssTTL = regexp.MustCompile(`<ttl>\s*(\d{1,7})\s*</ttl>`)

// channelTTL returns the RSS ttl of a raw document, or 0 when it has none.
// NOTE: a UTF-16 document is not searched, because its ASCII is not
// byte-contiguous; such feeds are scheduled without their ttl.
func channelTTL(body []byte) time.Duration {
	head := body
	if i := bytes.Index(head, []byte("<item")); i >= 0 {
		head = head[:i]
	}
	m := rssTTL.FindSubmatch(head)
	if m == nil {
		return 0
	}
	minutes, err := strconv.Atoi(string(m[1]))
	if err != nil {
		return 0
	}
	return min(time.Duration(minutes)*time.Minute, maxRetryAfter)
}
