package digests

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Envelope is who a message is from and to, and its fixed headers.
type Envelope struct {
	From string
	To   string
	// MessageID is the Message-ID without angle brackets.
	MessageID string
	Date      time.Time
	// UnsubscribeURL is the one-click unsubscribe endpoint for the
	// List-Unsubscribe header, or "" for messages that are not a digest.
	UnsubscribeURL string
}

// MessageID returns the Message-ID of one subscriber's digest for one
// period: the same on every attempt, so a receiving system can drop a
// repeat after a crash, and distinct for every other subscriber, digest or
// period. The right side is the domain of from.
func MessageID(digest, period, email, from string) string {
	sum := sha256.Sum256([]byte(digest + "\x00" + period + "\x00" + strings.ToLower(email)))
	return "digest." + digest + "." + period + "." + hex.EncodeToString(sum[:12]) + "@" + domainOf(from)
}

func domainOf(from string) string {
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return "syndic.invalid"
	}
	_, domain, ok := strings.Cut(addr.Address, "@")
	if !ok || domain == "" {
		return "syndic.invalid"
	}
	return strings.ToLower(domain)
}

// NewMessage builds a multipart/alternative message with a text/plain and
// a text/html part, both UTF-8 and quoted-printable, so no body line
// exceeds 76 octets. go-mail encodes the subject per RFC 2047 when it is
// not plain ASCII.
func NewMessage(env Envelope, r Rendered) (*gomail.Msg, error) {
	m := gomail.NewMsg(gomail.WithEncoding(gomail.EncodingQP), gomail.WithCharset(gomail.CharsetUTF8), gomail.WithNoDefaultUserAgent())
	if err := m.From(env.From); err != nil {
		return nil, fmt.Errorf("setting From %q: %w", env.From, err)
	}
	if err := m.To(env.To); err != nil {
		return nil, fmt.Errorf("setting To: %w", err)
	}
	m.Subject(r.Subject)
	m.SetMessageIDWithValue(env.MessageID)
	m.SetDateWithValue(env.Date)
	if env.UnsubscribeURL != "" {
		// RFC 8058: the POST target must be in List-Unsubscribe, and
		// List-Unsubscribe-Post lets the client POST to it without
		// asking the reader again.
		m.SetGenHeaderPreformatted(gomail.HeaderListUnsubscribe, "<"+env.UnsubscribeURL+">")
		m.SetGenHeaderPreformatted(gomail.HeaderListUnsubscribePost, "List-Unsubscribe=One-Click")
		m.SetBulk()
	}
	m.SetBodyString(gomail.TypeTextPlain, r.Text)
	m.AddAlternativeString(gomail.TypeTextHTML, r.HTML)
	return m, nil
}
