package digests

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Link actions. Each token is valid for one action only, so a leaked
// confirmation link cannot unsubscribe and the reverse.
const (
	ActionConfirm     = "confirm"
	ActionUnsubscribe = "unsubscribe"
	ActionManage      = "manage"
)

// Link lifetimes. A confirmation link is short-lived because it proves
// control of the mailbox at sign-up. Unsubscribe and change links sit in
// every digest and must keep working for readers of old messages.
const (
	ConfirmTTL = 72 * time.Hour
	LinkTTL    = 400 * 24 * time.Hour
)

// Signer creates and checks the HMAC-SHA256 tokens of subscriber links.
// It is safe for concurrent use.
type Signer struct {
	key []byte
}

// NewSigner returns a signer with key, the configured digests_secret.
func NewSigner(key string) *Signer { return &Signer{key: []byte(key)} }

// Token is the content of a link token.
type Token struct {
	Action  string
	Digest  string
	Email   string
	Expires time.Time
}

// Sign returns the token as "<payload>.<signature>", both base64url. The
// payload contains the address, so the link works after the record moved
// keys and an operator can tell whom a token names.
func (s *Signer) Sign(t Token) string {
	payload := strings.Join([]string{"v1", t.Action, t.Digest, t.Email, strconv.FormatInt(t.Expires.Unix(), 10)}, "\n")
	enc := base64.RawURLEncoding.EncodeToString([]byte(payload))
	return enc + "." + base64.RawURLEncoding.EncodeToString(s.mac(enc))
}

func (s *Signer) mac(payload string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// Verify checks token for action at now and returns its content. It
// returns ErrInvalidToken for a bad signature, format or action, and
// ErrExpiredToken for a valid token past its expiry.
func (s *Signer) Verify(token, action string, now time.Time) (Token, error) {
	enc, sig, ok := strings.Cut(token, ".")
	if !ok {
		return Token{}, ErrInvalidToken
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac(enc)) {
		return Token{}, ErrInvalidToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return Token{}, ErrInvalidToken
	}
	fields := strings.Split(string(raw), "\n")
	if len(fields) != 5 || fields[0] != "v1" || fields[1] != action {
		return Token{}, ErrInvalidToken
	}
	unix, err := strconv.ParseInt(fields[4], 10, 64)
	if err != nil {
		return Token{}, ErrInvalidToken
	}
	t := Token{Action: fields[1], Digest: fields[2], Email: fields[3], Expires: time.Unix(unix, 0)}
	if !now.Before(t.Expires) {
		return t, fmt.Errorf("%w: expired at %s", ErrExpiredToken, t.Expires.UTC().Format(time.RFC3339))
	}
	return t, nil
}
