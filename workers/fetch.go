package workers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

// Defaults for FetcherOptions fields left at zero.
const (
	// defaultTimeout bounds one whole poll (redirects, headers and body).
	// It is generous because old CMSs may render the feed on each request.
	defaultTimeout = 60 * time.Second
	// defaultMaxBody is several times the size of a large podcast feed
	// (681 episodes with 4 KB of show notes each come to 2.9 MB). A poll
	// can hold up to twice this in memory (raw and decoded bytes), which
	// bounds how many polls may run at once.
	defaultMaxBody = 16 << 20
	// defaultMaxRedirects covers an upgrade to https, a host move and a CDN
	// hop with room to spare. Longer chains usually mean a misconfiguration.
	defaultMaxRedirects = 5
	// defaultUserAgent names the crawler and where its operator can be found.
	defaultUserAgent = "Syndic/0.1 (+https://github.com/syndic-network/syndic)"
)

// Transport timeouts below the overall FetcherOptions.Timeout, so that a
// stalled step fails with a specific error instead of using up the poll.
const (
	tlsHandshakeTimeout   = 10 * time.Second
	responseHeaderTimeout = 30 * time.Second
	idleConnTimeout       = 90 * time.Second
)

// acceptEncoding lists the codings decodeBody supports. Setting the header
// ourselves also stops net/http from decoding gzip on its own, which it
// would do without checking the body size.
const acceptEncoding = "gzip, deflate, br"

// Validators are the HTTP cache validators of a feed response, sent back on
// the next poll as If-None-Match and If-Modified-Since.
type Validators struct {
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
}

// Outcome is the decision a poll ends with. Schedulers branch on it, never
// on error text.
type Outcome int

// Outcomes of a fetch.
const (
	// OutcomeNotModified: the server returned 304, or a file's modification
	// time equals the stored validator.
	OutcomeNotModified Outcome = iota + 1
	// OutcomeNewContent: a 2xx response, Body contains the decoded feed.
	OutcomeNewContent
	// OutcomeRetryLater: a transient failure (408, 425, 429, 5xx, timeout,
	// connection error). RetryAfter contains the server's hint if it sent one.
	OutcomeRetryLater
	// OutcomePermanent: retrying will not help until someone changes the
	// feed or its configuration (4xx, rejected address, oversized body,
	// redirect loop, undecodable body).
	OutcomePermanent
	// OutcomeGone: the server returned 410, so the feed was removed.
	OutcomeGone
)

// String returns the snake_case name used in logs and metric labels.
func (o Outcome) String() string {
	switch o {
	case OutcomeNotModified:
		return "not_modified"
	case OutcomeNewContent:
		return "new_content"
	case OutcomeRetryLater:
		return "retry_later"
	case OutcomePermanent:
		return "permanent"
	case OutcomeGone:
		return "gone"
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}

// FetchRequest describes one poll of one feed.
type FetchRequest struct {
	URL        string
	Validators Validators
	// AllowPrivateNetwork lets this feed reach private and loopback
	// addresses even when the Fetcher does not allow them, for a partner
	// CMS on an internal network. It covers the scheme, host and port of
	// URL, and redirects only while they stay there. Metadata addresses
	// stay rejected.
	AllowPrivateNetwork bool
}

// FetchResult is the result of one poll. Outcome is always set.
type FetchResult struct {
	Outcome Outcome
	// StatusCode is the HTTP status of the final response, or 0 when there
	// was none (file URLs, transport errors, rejected redirects).
	StatusCode int
	// Body contains the decompressed bytes exactly as served, with the
	// charset not decoded. It is set only for OutcomeNewContent.
	Body []byte
	// ContentType is the response Content-Type header, whose charset
	// parameter the parser uses. It is empty for file URLs.
	ContentType string
	// FinalURL is the URL after the redirects followed during this poll.
	FinalURL string
	// MovedTo is the target of a 301 or 308 returned for the first request.
	// It is set only when the redirect chain ended in an HTTP response, and
	// never for a move from https to http. The scheduler adopts it as the
	// feed URL after seeing it on enough polls.
	MovedTo string
	// Validators come from this response. On a 304 without validators the
	// request's validators are returned. Store them only after the items
	// are published, or a failed publish would hide those items for good.
	Validators Validators
	// RetryAfter is the delay from a Retry-After header (seconds or an HTTP
	// date) for OutcomeRetryLater, or 0 when the server sent none.
	RetryAfter time.Duration
	// Freshness is the lifetime the server gave a 2xx or 304 response with
	// Cache-Control max-age or Expires (see freshnessLifetime), or 0 when
	// it gave none. The scheduler does not poll again before it ends.
	Freshness time.Duration
	// Err explains every outcome other than NotModified and NewContent.
	Err error
}

// FetcherOptions configures a Fetcher. Zero fields take the defaults
// described on each field.
type FetcherOptions struct {
	// Timeout bounds one whole poll, including redirects and the body
	// (default 60s).
	Timeout time.Duration
	// MaxBody is the largest body accepted, in bytes, both on the wire and
	// after decompression (default 16 MiB).
	MaxBody int64
	// AllowPrivateNetworks lets every feed reach loopback and private
	// addresses. Metadata addresses stay rejected.
	AllowPrivateNetworks bool
	// AllowFileURLs enables file:// feed URLs, for development and tests.
	AllowFileURLs bool
	// UserAgent is sent on every request (default "Syndic/0.1 (+…)").
	UserAgent string
	// MaxRedirects is the maximum number of redirects followed in one poll
	// (default 5, also used for zero or negative values).
	MaxRedirects int
	// Logger receives one debug record per fetch (default: discarded).
	Logger *slog.Logger
}

// Fetcher polls feeds over HTTP(S) and, when enabled, from file URLs. It is
// safe for concurrent use by multiple goroutines.
type Fetcher struct {
	opts   FetcherOptions
	client *http.Client
	log    *slog.Logger
}

// NewFetcher builds a Fetcher with one HTTP client whose every dial passes
// the SSRF guard (see NewGuardedDialer).
func NewFetcher(o FetcherOptions) *Fetcher {
	o = withDefaults(o)
	f := &Fetcher{opts: o, log: o.Logger}
	f.client = &http.Client{
		Transport:     newRoutingTransport(o.AllowPrivateNetworks),
		CheckRedirect: f.checkRedirect,
		Timeout:       o.Timeout,
	}
	return f
}

func withDefaults(o FetcherOptions) FetcherOptions {
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.MaxBody <= 0 {
		o.MaxBody = defaultMaxBody
	}
	if o.MaxRedirects <= 0 {
		o.MaxRedirects = defaultMaxRedirects
	}
	if o.UserAgent == "" {
		o.UserAgent = defaultUserAgent
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Fetch polls r.URL once and classifies the result. It never panics on
// server input and always returns within FetcherOptions.Timeout (or when
// ctx ends). Err may wrap ErrFeedTooLarge, ErrPrivateAddress,
// ErrFileURLsDisabled, ErrTooManyRedirects, ErrRedirectLoop,
// ErrUnsupportedScheme or ErrContentDecoding.
func (f *Fetcher) Fetch(ctx context.Context, r FetchRequest) FetchResult {
	start := time.Now()
	res := f.fetch(ctx, r)
	f.log.DebugContext(ctx, "feed fetched",
		"feed_url", pipeline.PublicFeedURL(r.URL),
		"outcome", res.Outcome.String(),
		"status_code", res.StatusCode,
		"final_url", pipeline.PublicFeedURL(res.FinalURL),
		"duration_ms", time.Since(start).Milliseconds(),
		"error", res.Err)
	return res
}

func (f *Fetcher) fetch(ctx context.Context, r FetchRequest) FetchResult {
	u, err := url.Parse(r.URL)
	if err != nil {
		return permanent(fmt.Errorf("parsing feed URL %q: %w", r.URL, err))
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return f.fetchHTTP(ctx, u, r)
	case "file":
		return f.fetchFile(u, r.Validators)
	}
	return permanent(fmt.Errorf("fetching feed %q: %w", r.URL, ErrUnsupportedScheme))
}

func (f *Fetcher) fetchHTTP(ctx context.Context, u *url.URL, r FetchRequest) FetchResult {
	ctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	trace := &redirectTrace{}
	ctx = withRedirectTrace(ctx, trace)
	ctx = withPrivateNetwork(ctx, r.AllowPrivateNetwork)

	req, err := f.newRequest(ctx, u, r.Validators)
	if err != nil {
		return permanent(fmt.Errorf("building request for %q: %w", r.URL, err))
	}
	resp, err := f.client.Do(req)
	if err != nil {
		res := classifyTransportError(err)
		res.Err = fmt.Errorf("fetching feed %q: %w", r.URL, err)
		return res
	}
	defer resp.Body.Close()
	res := f.handleResponse(resp, r.Validators)
	res.MovedTo = trace.movedTo
	if res.Err != nil {
		res.Err = fmt.Errorf("fetching feed %q: %w", r.URL, res.Err)
	}
	return res
}

func (f *Fetcher) newRequest(ctx context.Context, u *url.URL, v Validators) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", f.opts.UserAgent)
	req.Header.Set("Accept-Encoding", acceptEncoding)
	req.Header.Set("Accept", "application/rss+xml, application/atom+xml, "+
		"application/feed+json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8")
	if v.ETag != "" {
		req.Header.Set("If-None-Match", v.ETag)
	}
	if v.LastModified != "" {
		req.Header.Set("If-Modified-Since", v.LastModified)
	}
	return req, nil
}

// handleResponse turns the final response of a redirect chain into a
// result. The caller closes the body.
func (f *Fetcher) handleResponse(resp *http.Response, sent Validators) FetchResult {
	res := FetchResult{
		StatusCode:  resp.StatusCode,
		ContentType: resp.Header.Get("Content-Type"),
		FinalURL:    resp.Request.URL.String(),
		Validators:  responseValidators(resp.Header),
	}
	res.Outcome = statusOutcome(resp.StatusCode)
	switch res.Outcome {
	case OutcomeNewContent:
		body, err := readBody(resp, f.opts.MaxBody)
		if err != nil {
			return bodyFailure(res, err)
		}
		res.Body = body
		res.Freshness = freshnessLifetime(resp.Header, time.Now())
	case OutcomeNotModified:
		res.Validators = keepValidators(res.Validators, sent)
		res.Freshness = freshnessLifetime(resp.Header, time.Now())
	case OutcomeRetryLater:
		res.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		res.Err = statusError(resp)
	default:
		res.Err = statusError(resp)
	}
	if res.Outcome != OutcomeNewContent {
		drainBody(resp.Body)
	}
	return res
}

// bodyFailure classifies an error met while reading or decoding a 2xx body.
func bodyFailure(res FetchResult, err error) FetchResult {
	res.Outcome = OutcomePermanent
	if !errors.Is(err, ErrFeedTooLarge) && !errors.Is(err, ErrContentDecoding) {
		res.Outcome = OutcomeRetryLater
	}
	res.Err = err
	return res
}

func responseValidators(h http.Header) Validators {
	return Validators{ETag: h.Get("ETag"), LastModified: h.Get("Last-Modified")}
}

// keepValidators fills in the validators that a 304 left out with the ones
// sent, because a 304 need not repeat them.
func keepValidators(got, sent Validators) Validators {
	if got.ETag == "" {
		got.ETag = sent.ETag
	}
	if got.LastModified == "" {
		got.LastModified = sent.LastModified
	}
	return got
}

func statusError(resp *http.Response) error {
	return fmt.Errorf("unexpected HTTP status %q", resp.Status)
}

// drainLimit is the number of bytes of an unused body read so that the
// connection can be reused. Dropping the connection is cheaper than
// reading a larger body.
const drainLimit = 64 << 10

func drainBody(body io.Reader) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, drainLimit))
}

func permanent(err error) FetchResult {
	return FetchResult{Outcome: OutcomePermanent, Err: err}
}
