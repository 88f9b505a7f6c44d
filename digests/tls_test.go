package digests

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	gomail "github.com/wneessen/go-mail"
)

// testCertificate returns a self-signed certificate for 127.0.0.1 and a
// pool that trusts it.
func testCertificate(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generating key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("creating certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parsing certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// authBackend accepts PLAIN authentication with one user name and
// password, only over TLS, and stores messages in a smtpSink.
type authBackend struct {
	sink           *smtpSink
	user, password string
}

func (b *authBackend) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &authSession{sinkSession: sinkSession{sink: b.sink}, backend: b}, nil
}

type authSession struct {
	sinkSession
	backend *authBackend
	authed  bool
}

func (s *authSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *authSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, password string) error {
		if user != s.backend.user || password != s.backend.password {
			return errors.New("invalid credentials")
		}
		s.authed = true
		return nil
	}), nil
}

func (s *authSession) Mail(from string, opts *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	return s.sinkSession.Mail(from, opts)
}

// startSecureRelay starts a relay that requires TLS and authentication:
// STARTTLS on a plain listener when implicit is false, TLS from the first
// byte when it is true.
func startSecureRelay(t *testing.T, implicit bool, cert tls.Certificate) (*smtpSink, int) {
	t.Helper()
	sink := &smtpSink{}
	srv := smtp.NewServer(&authBackend{sink: sink, user: "news", password: "s3cret"})
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	var ln net.Listener
	var err error
	if implicit {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", srv.TLSConfig)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatalf("listening: %v", err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return sink, ln.Addr().(*net.TCPAddr).Port
}

func testMessage(t *testing.T) *gomail.Msg {
	t.Helper()
	m, err := NewMessage(Envelope{From: testFrom, To: "reader@example.net", MessageID: "test@example.org", Date: time.Now()},
		Rendered{Subject: "Test", HTML: "<p>Hi</p>", Text: "Hi"})
	if err != nil {
		t.Fatalf("NewMessage returned error: %v", err)
	}
	return m
}

func TestSMTPMailerSecureRelay(t *testing.T) {
	cert, pool := testCertificate(t)
	tests := []struct {
		name     string
		mode     string
		implicit bool
		password string
		wantSent bool
	}{
		{"starttls with auth", "starttls", false, "s3cret", true},
		{"implicit tls with auth", "tls", true, "s3cret", true},
		{"wrong password", "starttls", false, "guess", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink, port := startSecureRelay(t, tt.implicit, cert)
			m, err := NewSMTPMailer(SMTPOptions{
				Host: "127.0.0.1", Port: port, TLS: tt.mode, Username: "news", Password: tt.password, Timeout: 5 * time.Second,
				ClientOptions: []gomail.Option{gomail.WithTLSConfig(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})},
			})
			if err != nil {
				t.Fatalf("NewSMTPMailer returned error: %v", err)
			}
			defer m.Close()
			err = m.Send(testContext(t), testMessage(t))
			if sent := err == nil; sent != tt.wantSent {
				t.Fatalf("Send error = %v, want sent %v", err, tt.wantSent)
			}
			if n := len(sink.all()); tt.wantSent && n != 1 {
				t.Errorf("relay stored %d messages, want 1", n)
			}
		})
	}
}

func TestSMTPMailerRequiresSTARTTLS(t *testing.T) {
	sink := newSMTPSink(t) // offers no STARTTLS
	m, err := NewSMTPMailer(SMTPOptions{Host: "127.0.0.1", Port: sink.Port, TLS: "starttls", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("NewSMTPMailer returned error: %v", err)
	}
	defer m.Close()
	err = m.Send(testContext(t), testMessage(t))
	if err == nil {
		t.Fatal("Send succeeded over plain text although starttls was required")
	}
	if !strings.Contains(err.Error(), "STARTTLS") && !strings.Contains(strings.ToLower(err.Error()), "tls") {
		t.Errorf("error %q does not name the missing TLS", err)
	}
	if n := len(sink.all()); n != 0 {
		t.Errorf("relay stored %d messages in plain text", n)
	}
}
