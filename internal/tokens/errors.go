package tokens

import "errors"

var (
	// ErrInvalidToken is returned by Authenticate for a malformed, unknown
	// or revoked token. Callers respond with 401 and never tell which it was.
	ErrInvalidToken = errors.New("invalid token")

	// ErrTooManyTokens is returned by Issue when the partner already has
	// MaxLive tokens. Revoke one before issuing another.
	ErrTooManyTokens = errors.New("partner has the maximum number of live tokens")

	// ErrTokenNotFound is returned by Revoke when the partner has no token
	// with the given id, or no token at all.
	ErrTokenNotFound = errors.New("token not found")
)
