package digests

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Mailer hands messages to a mail relay. Send returns nil when the relay
// accepted the message. An error wrapping ErrPermanent means the relay
// rejected the recipient or message for good (5xx), and retrying cannot
// help. Any other error is temporary (4xx, connection failures), and the
// caller may retry. Implementations need not be safe for concurrent use.
type Mailer interface {
	Send(ctx context.Context, m *gomail.Msg) error
	Close() error
}

// ErrPermanent wraps a relay's permanent rejection (reply code 5xx).
var ErrPermanent = errors.New("permanent delivery failure")

// SMTPOptions configures an SMTPMailer.
type SMTPOptions struct {
	Host     string
	Port     int
	Username string
	Password string
	// TLS is "none", "starttls" or "tls".
	TLS     string
	Timeout time.Duration
	// ClientOptions are added last, such as gomail.WithTLSConfig for a
	// relay with a private certificate authority.
	ClientOptions []gomail.Option
}

// SMTPMailer sends over one SMTP connection, opened on first use and
// opened again after an error. It is safe for concurrent use, but sends
// one message at a time.
type SMTPMailer struct {
	mu        sync.Mutex
	client    *gomail.Client
	connected bool
}

// NewSMTPMailer returns a mailer for the relay in o.
func NewSMTPMailer(o SMTPOptions) (*SMTPMailer, error) {
	opts := []gomail.Option{gomail.WithPort(o.Port), gomail.WithTimeout(o.Timeout)}
	switch o.TLS {
	case "tls":
		opts = append(opts, gomail.WithSSL())
	case "starttls":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if o.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(o.Username), gomail.WithPassword(o.Password))
	}
	opts = append(opts, o.ClientOptions...)
	c, err := gomail.NewClient(o.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("configuring SMTP client for %s: %w", o.Host, err)
	}
	return &SMTPMailer{client: c}, nil
}

// Send implements Mailer.
func (s *SMTPMailer) Send(ctx context.Context, m *gomail.Msg) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.connected {
		if err := s.client.DialWithContext(ctx); err != nil {
			return fmt.Errorf("connecting to SMTP relay %s: %w", s.client.ServerAddr(), err)
		}
		s.connected = true
	}
	err := s.client.Send(m)
	if err == nil {
		return nil
	}
	var se *gomail.SendError
	if errors.As(err, &se) && se.ErrorCode() >= 500 && se.ErrorCode() < 600 {
		// The session survives a rejected recipient: go-mail sends RSET
		// after each failed message.
		return fmt.Errorf("%w: %w", ErrPermanent, err)
	}
	// After other failures the session state is unknown, so the next
	// message starts a new connection.
	_ = s.client.Close()
	s.connected = false
	return fmt.Errorf("sending message: %w", err)
}

// Close ends the SMTP session.
func (s *SMTPMailer) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.connected {
		return nil
	}
	s.connected = false
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("closing SMTP session: %w", err)
	}
	return nil
}

var _ Mailer = (*SMTPMailer)(nil)
