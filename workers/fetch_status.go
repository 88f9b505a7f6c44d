package workers

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxRetryAfter caps the delay taken from a Retry-After header. A server
// asking for more than 30 days is in effect gone, and the cap keeps the
// seconds-to-Duration conversion from overflowing.
const maxRetryAfter = 30 * 24 * time.Hour

// statusOutcome maps the status of a final (non-redirect) response to an
// outcome. Only 304 means not modified, even if a 200 carries the same
// validators as the request.
func statusOutcome(code int) Outcome {
	switch {
	case code == http.StatusNotModified:
		return OutcomeNotModified
	case code >= 200 && code < 300:
		return OutcomeNewContent
	case code == http.StatusGone:
		return OutcomeGone
	case code == http.StatusRequestTimeout,
		code == http.StatusTooEarly,
		code == http.StatusTooManyRequests:
		return OutcomeRetryLater
	case code >= 500:
		// Includes 501 and the 52x codes of CDNs: a broken origin is
		// usually repaired, and backing off costs little.
		return OutcomeRetryLater
	}
	// Other 4xx, and 3xx responses the client did not follow (no Location).
	return OutcomePermanent
}

// classifyTransportError decides the outcome of an error returned by
// http.Client.Do. The guard and redirect sentinels are permanent. Anything
// else (timeouts, refused or reset connections, TLS failures, DNS errors)
// is worth retrying.
func classifyTransportError(err error) FetchResult {
	res := FetchResult{Outcome: OutcomeRetryLater}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		res.FinalURL = urlErr.URL
	}
	for _, sentinel := range []error{
		ErrPrivateAddress, ErrTooManyRedirects, ErrRedirectLoop, ErrUnsupportedScheme,
	} {
		if errors.Is(err, sentinel) {
			res.Outcome = OutcomePermanent
		}
	}
	return res
}

// parseRetryAfter returns the delay requested by a Retry-After header
// value, given as delay-seconds or as an HTTP date (RFC 9110, section
// 10.2.3). Invalid values and dates in the past give 0, and delays are
// capped at maxRetryAfter.
func parseRetryAfter(value string, now time.Time) time.Duration {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0
	}
	if isDigits(value) {
		return retryAfterSeconds(value)
	}
	when, err := http.ParseTime(value)
	if err != nil {
		return 0
	}
	return min(max(when.Sub(now), 0), maxRetryAfter)
}

func retryAfterSeconds(digits string) time.Duration {
	seconds, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || seconds > uint64(maxRetryAfter/time.Second) {
		// Only ErrRange is possible for a string of digits.
		return maxRetryAfter
	}
	return time.Duration(seconds) * time.Second
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
