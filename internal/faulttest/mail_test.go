package faulttest

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// mailbox is a loopback SMTP server (emersion/go-smtp) that keeps every
// message it accepts, with its envelope recipients.
type mailbox struct {
	port int

	mu       sync.Mutex
	messages []mailMessage
}

// mailMessage is one accepted message.
type mailMessage struct {
	to   []string
	data []byte
}

func newMailbox(t *testing.T) *mailbox {
	t.Helper()
	box := &mailbox{}
	srv := smtp.NewServer(box)
	srv.Domain = "localhost"
	// The test checks the messages, so the server's own log of dropped
	// connections would only add noise.
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening for SMTP: %v", err)
	}
	box.port = ln.Addr().(*net.TCPAddr).Port
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return box
}

func (b *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &mailSession{box: b}, nil
}

func (b *mailbox) all() []mailMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]mailMessage(nil), b.messages...)
}

type mailSession struct {
	box *mailbox
	to  []string
}

func (s *mailSession) Reset()                               { s.to = nil }
func (s *mailSession) Logout() error                        { return nil }
func (s *mailSession) Mail(string, *smtp.MailOptions) error { return nil }

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.box.mu.Lock()
	defer s.box.mu.Unlock()
	s.box.messages = append(s.box.messages, mailMessage{to: s.to, data: data})
	return nil
}

// textBody returns the decoded text/plain part of a message, looking
// into nested multipart bodies.
func textBody(data []byte) (string, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("parsing message: %w", err)
	}
	return findText(msg.Header.Get("Content-Type"), msg.Body)
}

func findText(contentType string, body io.Reader) (string, error) {
	media, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", fmt.Errorf("parsing content type %q: %w", contentType, err)
	}
	if media == "text/plain" {
		text, err := io.ReadAll(body)
		return string(text), err
	}
	if !strings.HasPrefix(media, "multipart/") {
		return "", nil
	}
	// multipart.Reader decodes quoted-printable parts itself.
	parts := multipart.NewReader(body, params["boundary"])
	for {
		part, err := parts.NextPart()
		if err == io.EOF {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("reading %s part: %w", media, err)
		}
		text, err := findText(part.Header.Get("Content-Type"), part)
		if err != nil || text != "" {
			return text, err
		}
	}
}
