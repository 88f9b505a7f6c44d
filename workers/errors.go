package workers

import "errors"

// ErrFeedTooLarge is wrapped in FetchResult.Err, with OutcomePermanent, when
// a feed body is larger than FetcherOptions.MaxBody on the wire or after
// any decompression step. The fetcher never returns the truncated bytes.
var ErrFeedTooLarge = errors.New("feed too large")

// ErrPrivateAddress is returned, with OutcomePermanent, when a dial (the
// first request or any redirect hop) would reach a loopback, private,
// link-local, shared (CGNAT), unspecified, multicast, reserved or cloud
// metadata address and private networks are not allowed. Metadata
// addresses are rejected even when private networks are allowed.
var ErrPrivateAddress = errors.New("address not allowed")

// ErrFileURLsDisabled is returned, with OutcomePermanent, for a file:// feed
// URL when FetcherOptions.AllowFileURLs is false.
var ErrFileURLsDisabled = errors.New("file URLs are disabled")

// ErrTooManyRedirects is returned, with OutcomePermanent, when a poll needs
// more redirects than FetcherOptions.MaxRedirects.
var ErrTooManyRedirects = errors.New("too many redirects")

// ErrRedirectLoop is returned, with OutcomePermanent, when a redirect points
// back to a URL already requested during the same poll.
var ErrRedirectLoop = errors.New("redirect loop")

// ErrUnsupportedScheme is returned, with OutcomePermanent, when a feed URL or
// a redirect target uses a scheme other than http, https or (when enabled)
// file.
var ErrUnsupportedScheme = errors.New("unsupported URL scheme")

// ErrContentDecoding is returned, with OutcomePermanent, when a body cannot
// be decoded according to its Content-Encoding (an unknown coding or a
// corrupt gzip, deflate or brotli stream), so the caller can tell it apart
// from a feed that does not parse.
var ErrContentDecoding = errors.New("content decoding failed")

// ErrFeedGone is returned in PollReport.Err, with OutcomeGone, when a feed
// returned 410 on an earlier poll. The poller does not fetch it again until
// Poller.Reset (`syndic feeds reset`) clears the state.
var ErrFeedGone = errors.New("feed is gone")

// ErrUnknownFeed is returned by Poller.Reset for a feed with no stored
// state, which usually means a misspelt "partner/feed" name.
var ErrUnknownFeed = errors.New("no state stored for feed")

// ErrHostBusy is returned by HostLimiter.TryAcquire when every slot of a
// host is taken.
var ErrHostBusy = errors.New("host has no free fetch slot")

// ErrNoFeedFound is returned by Fetcher.Discover when a URL serves an HTML
// page without a <link rel="alternate"> to a feed.
var ErrNoFeedFound = errors.New("no feed link found on the page")

// ErrInvalidOPML is returned by ParseOPML for a document that is not OPML
// or lists no feed.
var ErrInvalidOPML = errors.New("invalid OPML")
