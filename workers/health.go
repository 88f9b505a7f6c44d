package workers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

// Feed health statuses, from most to least urgent.
const (
	// StatusGone: the feed returned 410 and is not polled until reset.
	StatusGone = "gone"
	// StatusFlagged: a permanent failure, such as 401, 403, 404, a
	// private address or an unparseable document, persisted over several
	// polls and hours (trackPermanent). It needs the operator or the
	// partner, and the feed is polled at the maximum interval until it
	// recovers or is reset.
	StatusFlagged = "flagged"
	// StatusFailing: failures retried with back-off, including permanent
	// ones that have not persisted long enough to flag the feed.
	StatusFailing = "failing"
	// StatusPending: never polled, or reset and not polled since.
	StatusPending = "pending"
	// StatusOK: the latest poll succeeded.
	StatusOK = "ok"
)

// FeedHealth is the health of one feed as the admin API and `syndic feeds
// status` show it. Times are zero when the event never happened.
type FeedHealth struct {
	Feed    string `json:"feed"` // "partner/feed"
	Partner string `json:"partner"`
	URL     string `json:"url"`
	Status  string `json:"status"`
	// Outcome is the class of the latest poll: not_modified, new_content,
	// retry_later, permanent, gone, parse_error or items_left.
	Outcome     string    `json:"outcome,omitempty"`
	Since       time.Time `json:"since,omitzero"`
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	// LastError is the latest failure in plain words. It is kept after
	// the feed recovers, so an operator can still see what went wrong,
	// and LastErrorAt is when the poll that failed with it started: a
	// LastSuccess after it means the feed has recovered since.
	LastError           string    `json:"last_error,omitempty"`
	LastErrorAt         time.Time `json:"last_error_at,omitzero"`
	HTTPStatus          int       `json:"http_status,omitempty"`
	ConsecutiveFailures int       `json:"consecutive_failures"`
	ItemsSeen           int       `json:"items_seen"`
	// AverageIntervalSeconds is the estimated time between two items of
	// the feed, and PollIntervalSeconds the current wait between polls.
	AverageIntervalSeconds int64 `json:"average_interval_seconds,omitempty"`
	PollIntervalSeconds    int64 `json:"poll_interval_seconds,omitempty"`
	// RedirectTarget is the 301 or 308 target seen on recent polls but not
	// yet adopted, and AdoptedURL the target polled instead of URL.
	RedirectTarget string   `json:"redirect_target,omitempty"`
	AdoptedURL     string   `json:"adopted_url,omitempty"`
	Recoveries     []string `json:"recoveries,omitempty"`
	// Warnings are faults of the latest document that the partner should
	// fix, such as "duplicate guid in feed".
	Warnings []string `json:"warnings,omitempty"`
}

// Failing reports whether the feed needs attention.
func (h FeedHealth) Failing() bool {
	return h.Status != StatusOK && h.Status != StatusPending
}

// Health returns the health of feeds, failing feeds first (gone, flagged,
// failing), then by most consecutive failures, then by name. It fails only
// when the state store cannot be read.
func (p *Poller) Health(ctx context.Context, feeds []Feed) ([]FeedHealth, error) {
	out := make([]FeedHealth, 0, len(feeds))
	for _, f := range feeds {
		st, err := p.readState(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, healthOf(f, st))
	}
	slices.SortStableFunc(out, compareHealth)
	return out, nil
}

func healthOf(f Feed, st fetchState) FeedHealth {
	return FeedHealth{
		Feed: f.Key(), Partner: f.Partner, URL: f.URL,
		Status: statusOf(st), Outcome: st.Class, Since: st.Since,
		LastAttempt: st.LastAttempt, LastSuccess: st.LastSuccess, NextAttempt: st.NextPoll,
		LastError: st.LastError, LastErrorAt: st.LastErrorAt, HTTPStatus: st.LastStatus,
		ConsecutiveFailures: st.Failures, ItemsSeen: st.ItemsSeen,
		AverageIntervalSeconds: int64(st.PublishInterval / time.Second),
		PollIntervalSeconds:    int64(st.Interval / time.Second),
		RedirectTarget:         st.MovedTo, AdoptedURL: st.Adopted,
		Recoveries: st.Recoveries, Warnings: st.Warnings,
	}
}

func statusOf(st fetchState) string {
	switch {
	case st.Gone:
		return StatusGone
	case st.Flagged:
		return StatusFlagged
	case st.Failures > 0 || st.Class == classItemsLeft:
		return StatusFailing
	case st.LastAttempt.IsZero() || st.Class == "reset":
		return StatusPending
	}
	return StatusOK
}

var statusRank = map[string]int{
	StatusGone: 0, StatusFlagged: 1, StatusFailing: 2, StatusPending: 3, StatusOK: 4,
}

func compareHealth(a, b FeedHealth) int {
	if d := statusRank[a.Status] - statusRank[b.Status]; d != 0 {
		return d
	}
	if d := b.ConsecutiveFailures - a.ConsecutiveFailures; d != 0 {
		return d
	}
	return strings.Compare(a.Feed, b.Feed)
}

// plainError describes a failed poll in words an operator or a partner
// can act on, without Go error chains. class is the poll's outcome class.
func plainError(class string, res FetchResult, err error) string {
	switch class {
	case classParseError:
		return parseProblem(err)
	case classItemsLeft:
		return "some items could not be stored or published and will be retried on the next poll"
	}
	if msg := transportProblem(err); msg != "" {
		return msg
	}
	if res.StatusCode != 0 {
		return statusProblem(res)
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func parseProblem(err error) string {
	switch {
	case errors.Is(err, pipeline.ErrEmptyBody):
		return "the URL returned an empty body instead of a feed"
	case errors.Is(err, pipeline.ErrNotAFeed):
		return "the URL returned a document that is not an RSS, Atom or JSON feed (often an HTML page)"
	}
	return "the feed is malformed and could not be repaired"
}

func transportProblem(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrFeedTooLarge):
		return "the feed is larger than fetch.max_body"
	case errors.Is(err, errMetadataAddress):
		return "the feed URL or a redirect leads to a cloud metadata address, which is never allowed"
	case errors.As(err, new(privateNetworkHint)):
		return "the feed URL or a redirect leads to a private or internal address, which is not allowed; " +
			"if the feed's server is trusted, set allow_private_network: true on the feed"
	case errors.Is(err, ErrPrivateAddress):
		return "the feed URL or a redirect leads to a private or internal address, which is not allowed"
	case errors.Is(err, ErrRedirectLoop):
		return "the feed URL redirects in a loop"
	case errors.Is(err, ErrTooManyRedirects):
		return "the feed URL redirects too many times"
	case errors.Is(err, ErrContentDecoding):
		return "the server sent a compressed body that could not be decompressed"
	case errors.Is(err, ErrUnsupportedScheme):
		return "the feed URL or a redirect uses a scheme other than http or https"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "the server did not send the feed within fetch.timeout"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "the host name " + dnsErr.Name + " could not be resolved"
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return "the connection to the server failed (" + opErr.Err.Error() + ")"
	}
	return ""
}

func statusProblem(res FetchResult) string {
	code := res.StatusCode
	text := fmt.Sprintf("HTTP %d %s", code, http.StatusText(code))
	switch {
	case code == http.StatusGone:
		return "the server returned " + text + ": the feed was removed; polling stopped until `syndic feeds reset`"
	case code == http.StatusTooManyRequests:
		return "the server is rate limiting Syndic (" + text + ")" + retryHint(res.RetryAfter)
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return "the server refuses access to the feed (" + text + ")"
	case code == http.StatusNotFound:
		return "the feed URL was not found (" + text + ")"
	case code >= 500:
		return "the server failed (" + text + ")" + retryHint(res.RetryAfter)
	}
	return "the server returned " + text
}

func retryHint(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return fmt.Sprintf("; it asked to retry after %s", d)
}
