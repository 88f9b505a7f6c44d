package pipeline

import (
	"errors"
	"fmt"
)

var (
	// ErrNotAFeed is returned by ParseFeed when the body is empty, an HTML
	// page, or XML or JSON of some other kind. Fetching the same URL again
	// gives the same answer, so callers treat it as a permanent failure.
	ErrNotAFeed = errors.New("document is not a feed")

	// ErrEmptyBody wraps ErrNotAFeed for a body of nothing but
	// whitespace.
	ErrEmptyBody = fmt.Errorf("%w: empty body", ErrNotAFeed)

	// ErrUnparseable is returned by ParseFeed when the body looks like a
	// feed but stays broken after every repair, for example a document cut
	// off before its first complete item.
	ErrUnparseable = errors.New("feed is unparseable")

	// ErrInvalidItem is wrapped by the per-item errors in
	// ParseResult.Rejected and returned by NormaliseItem for an item that
	// has neither a title, a link nor any content. ParseFeed also wraps it
	// for an item whose identity repeats an earlier item of the document.
	ErrInvalidItem = errors.New("invalid item")

	// ErrReserved means the item's key is reserved by another writer; retry
	// later, it is not a duplicate.
	ErrReserved = errors.New("item key reserved by another writer")

	// ErrItemNotFound is returned by Retractor.State and Retractor.Retract
	// when the item is unknown, aged out of the stream or belongs to
	// another partner.
	ErrItemNotFound = errors.New("item not found")
)

// ErrItemTooLarge means an item's event cannot fit in one NATS message
// even with its content shortened. Retrying gives the same result, so the
// item is rejected.
var ErrItemTooLarge = errors.New("item too large")
