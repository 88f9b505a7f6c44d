package workers

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		value string
		want  time.Duration
	}{
		{"empty", "", 0},
		{"zero seconds", "0", 0},
		{"seconds", "120", 2 * time.Minute},
		{"seconds with spaces", " 30 ", 30 * time.Second},
		{"leading zeros", "0007", 7 * time.Second},
		{"imf-fixdate", "Mon, 02 Mar 2026 12:05:00 GMT", 5 * time.Minute},
		{"rfc 850 date", "Monday, 02-Mar-26 12:00:30 GMT", 30 * time.Second},
		{"asctime date", "Mon Mar  2 13:00:00 2026", time.Hour},
		{"date in the past", "Mon, 02 Mar 2026 11:00:00 GMT", 0},
		{"negative seconds", "-5", 0},
		{"fractional seconds", "1.5", 0},
		{"plus sign", "+10", 0},
		{"text", "later", 0},
		{"seconds over the cap", "99999999", maxRetryAfter},
		{"seconds overflowing int64", "99999999999999999999999", maxRetryAfter},
		{"date beyond the cap", "Fri, 01 Jan 2100 00:00:00 GMT", maxRetryAfter},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseRetryAfter(tc.value, now); got != tc.want {
				t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.value, got, tc.want)
			}
		})
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, seed := range []string{
		"", "0", "120", "-1", "1e3", "99999999999999999999",
		"Mon, 02 Mar 2026 12:05:00 GMT", "Monday, 02-Mar-26 12:00:30 GMT",
		"Mon Mar  2 13:00:00 2026", "Mon, 32 Mar 2026 12:05:00 GMT",
	} {
		f.Add(seed)
	}
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, value string) {
		got := parseRetryAfter(value, now)
		if got < 0 || got > maxRetryAfter {
			t.Fatalf("parseRetryAfter(%q) = %v, want within [0, %v]", value, got, maxRetryAfter)
		}
		seconds, err := strconv.ParseUint(value, 10, 64)
		if err == nil && seconds <= uint64(maxRetryAfter/time.Second) {
			if want := time.Duration(seconds) * time.Second; got != want {
				t.Fatalf("parseRetryAfter(%q) = %v, want %v", value, got, want)
			}
		}
	})
}

func TestStatusOutcome(t *testing.T) {
	tests := []struct {
		code int
		want Outcome
	}{
		{200, OutcomeNewContent},
		{204, OutcomeNewContent},
		{226, OutcomeNewContent},
		{300, OutcomePermanent},
		{301, OutcomePermanent},
		{304, OutcomeNotModified},
		{400, OutcomePermanent},
		{401, OutcomePermanent},
		{403, OutcomePermanent},
		{404, OutcomePermanent},
		{408, OutcomeRetryLater},
		{410, OutcomeGone},
		{425, OutcomeRetryLater},
		{429, OutcomeRetryLater},
		{451, OutcomePermanent},
		{500, OutcomeRetryLater},
		{501, OutcomeRetryLater},
		{502, OutcomeRetryLater},
		{503, OutcomeRetryLater},
		{504, OutcomeRetryLater},
		{522, OutcomeRetryLater},
	}
	for _, tc := range tests {
		t.Run(strconv.Itoa(tc.code), func(t *testing.T) {
			if got := statusOutcome(tc.code); got != tc.want {
				t.Errorf("statusOutcome(%d) = %v, want %v", tc.code, got, tc.want)
			}
		})
	}
}

func TestClassifyTransportError(t *testing.T) {
	wrap := func(err error) error {
		return &url.Error{Op: "Get", URL: "http://feed.example.com/rss", Err: err}
	}
	tests := []struct {
		name string
		err  error
		want Outcome
	}{
		{"private address", wrap(fmt.Errorf("dialing: %w", ErrPrivateAddress)), OutcomePermanent},
		{"too many redirects", wrap(ErrTooManyRedirects), OutcomePermanent},
		{"redirect loop", wrap(ErrRedirectLoop), OutcomePermanent},
		{"unsupported scheme", wrap(ErrUnsupportedScheme), OutcomePermanent},
		{"connection reset", wrap(errors.New("connection reset by peer")), OutcomeRetryLater},
		{"read deadline", wrap(os.ErrDeadlineExceeded), OutcomeRetryLater},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := classifyTransportError(tc.err)
			if res.Outcome != tc.want {
				t.Errorf("Outcome = %v, want %v", res.Outcome, tc.want)
			}
			if res.FinalURL != "http://feed.example.com/rss" {
				t.Errorf("FinalURL = %q, want the URL of the failed request", res.FinalURL)
			}
		})
	}
}
