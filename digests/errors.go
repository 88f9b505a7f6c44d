package digests

import "errors"

var (
	// ErrInvalidToken is returned for a link token that is malformed, was
	// signed with another key or names another action.
	ErrInvalidToken = errors.New("invalid link token")
	// ErrExpiredToken is returned for a well-signed link token past its
	// expiry.
	ErrExpiredToken = errors.New("expired link token")
	// ErrNotFound is returned when no subscriber is stored under a key.
	ErrNotFound = errors.New("subscriber not found")
	// ErrSuppressed is returned when an import or send meets an address
	// that unsubscribed, was deleted or bounced.
	ErrSuppressed = errors.New("address is suppressed")
	// ErrInvalidSubscriber is returned for a sign-up or import with a bad
	// address, locale, time zone or filter; the wrapped text names the
	// field.
	ErrInvalidSubscriber = errors.New("invalid subscriber")
	// ErrRateLimited is returned when a client or an address made too many
	// sign-up requests in the current window.
	ErrRateLimited = errors.New("too many sign-up requests")
	// ErrUnknownDigest is returned for a digest id that is not configured.
	ErrUnknownDigest = errors.New("unknown digest")
	// ErrClaimed is returned when another worker holds a live claim on a
	// subscriber's period, or took the period over first.
	ErrClaimed = errors.New("period claimed by another worker")
	// ErrPeriodDone is returned when a subscriber's period was already
	// sent, or the relay rejected the address for it.
	ErrPeriodDone = errors.New("period already sent")
	// errConfirmationStale is returned by SendConfirmation for a request
	// that no longer needs a mail.
	errConfirmationStale = errors.New("confirmation no longer needed")
)
