package digests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/syndic-network/syndic/internal/broker"
	"github.com/syndic-network/syndic/internal/store"
	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/pipeline"
)

// received is one message accepted by the test SMTP server.
type received struct {
	From string
	To   []string
	Data []byte
}

// smtpSink is a real SMTP server (emersion/go-smtp) on 127.0.0.1 that
// stores every message it accepts. reject, when set, may fail RCPT TO.
type smtpSink struct {
	Addr string
	Port int

	mu        sync.Mutex
	messages  []received
	reject    func(rcpt string) error
	afterData func(total int)
}

func newSMTPSink(t testing.TB) *smtpSink {
	t.Helper()
	sink := &smtpSink{}
	srv := smtp.NewServer(sink)
	srv.Domain = "localhost"
	// Workers killed by the crash test reset their connections.
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening for SMTP: %v", err)
	}
	sink.Addr = ln.Addr().String()
	sink.Port = ln.Addr().(*net.TCPAddr).Port
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return sink
}

func (s *smtpSink) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{sink: s}, nil }

func (s *smtpSink) setReject(f func(rcpt string) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reject = f
}

// setAfterData sets a function called with the number of stored
// messages after each message is stored, before the reply to DATA.
func (s *smtpSink) setAfterData(f func(total int)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.afterData = f
}

func (s *smtpSink) all() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.messages...)
}

// waitFor polls until the sink holds n messages or the deadline passes.
func (s *smtpSink) waitFor(t *testing.T, n int) []received {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := s.all()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("SMTP server received %d messages, want %d", len(got), n)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition, not waiting out a delay
	}
}

type sinkSession struct {
	sink *smtpSink
	msg  received
}

func (ss *sinkSession) Reset()        { ss.msg = received{} }
func (ss *sinkSession) Logout() error { return nil }
func (ss *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	ss.msg.From = from
	return nil
}

func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.sink.mu.Lock()
	reject := ss.sink.reject
	ss.sink.mu.Unlock()
	if reject != nil {
		if err := reject(to); err != nil {
			return err
		}
	}
	ss.msg.To = append(ss.msg.To, to)
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.msg.Data = data
	ss.sink.mu.Lock()
	ss.sink.messages = append(ss.sink.messages, ss.msg)
	total, after := len(ss.sink.messages), ss.sink.afterData
	ss.sink.mu.Unlock()
	if after != nil {
		after(total)
	}
	return nil
}

func (s *smtpSink) mailer(t *testing.T) *SMTPMailer {
	t.Helper()
	m, err := NewSMTPMailer(SMTPOptions{Host: "127.0.0.1", Port: s.Port, TLS: "none", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("NewSMTPMailer returned error: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// parsedMessage is a received message taken apart with net/mail and
// mime/multipart.
type parsedMessage struct {
	Header  mail.Header
	Subject string
	Parts   map[string]parsedPart
	Raw     []byte
}

type parsedPart struct {
	Header   map[string][]string
	Body     string // decoded
	Encoded  []byte
	Charset  string
	Encoding string
}

func parseMessage(t *testing.T, raw []byte) parsedMessage {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parsing message: %v", err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("decoding subject: %v", err)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("parsing Content-Type: %v", err)
	}
	if mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type = %s, want multipart/alternative", mediaType)
	}
	p := parsedMessage{Header: msg.Header, Subject: subject, Parts: map[string]parsedPart{}, Raw: raw}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			return p
		}
		if err != nil {
			t.Fatalf("reading MIME part: %v", err)
		}
		p.addPart(t, part)
	}
}

func (p *parsedMessage) addPart(t *testing.T, part *multipart.Part) {
	t.Helper()
	encoded, err := io.ReadAll(part)
	if err != nil {
		t.Fatalf("reading MIME part: %v", err)
	}
	ct, params, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("parsing part Content-Type: %v", err)
	}
	enc := part.Header.Get("Content-Transfer-Encoding")
	body := encoded
	if strings.EqualFold(enc, "quoted-printable") {
		body, err = io.ReadAll(quotedprintable.NewReader(bytes.NewReader(encoded)))
		if err != nil {
			t.Fatalf("decoding quoted-printable %s part: %v", ct, err)
		}
	}
	p.Parts[ct] = parsedPart{Header: part.Header, Body: string(body), Encoded: encoded, Charset: params["charset"], Encoding: enc}
}

// natsEnv is a JetStream server with the item stream and the digest
// buckets.
type natsEnv struct {
	natsURL   string
	JS        jetstream.JetStream
	Stream    jetstream.Stream
	Store     *Store
	SendLog   *SendLog
	Cache     pipeline.Cache
	Collector *Collector
}

const testPrefix = "syndic.items"

func newNATSEnv(t *testing.T) *natsEnv {
	t.Helper()
	ns := testenv.NATS(t)
	js, err := jetstream.New(testenv.Conn(t, ns.URL))
	if err != nil {
		t.Fatalf("creating JetStream context: %v", err)
	}
	e, err := openCrashEnv(testContext(t), js)
	if err != nil {
		t.Fatalf("opening stream and buckets: %v", err)
	}
	e.natsURL = ns.URL
	return e
}

// openCrashEnv creates or opens the item stream and the digest buckets,
// for the tests and for the crash-test worker process.
func openCrashEnv(ctx context.Context, js jetstream.JetStream) (*natsEnv, error) {
	stream, err := broker.EnsureStream(ctx, js, broker.StreamOptions{
		Stream: "SYNDIC_ITEMS", SubjectPrefix: testPrefix, Replicas: 1, MaxAge: 24 * time.Hour, DuplicateWindow: time.Minute,
	})
	if err != nil {
		return nil, err
	}
	subs, err := broker.EnsureKV(ctx, js, "SYNDIC_SUBSCRIBERS", 1, 0, true)
	if err != nil {
		return nil, err
	}
	sendLog, err := broker.EnsureKV(ctx, js, "SYNDIC_SENDLOG", 1, 0, false)
	if err != nil {
		return nil, err
	}
	cache, err := broker.EnsureKV(ctx, js, "SYNDIC_CACHE", 1, 0, true)
	if err != nil {
		return nil, err
	}
	return &natsEnv{
		JS: js, Stream: stream, Store: NewStore(subs), SendLog: NewSendLog(sendLog), Cache: store.NewKV(cache),
		Collector: &Collector{Stream: stream, SubjectPrefix: testPrefix, FetchWait: time.Second},
	}, nil
}

func testenvConnect(url string) (*nats.Conn, error) {
	nc, err := nats.Connect(url)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", url, err)
	}
	return nc, nil
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// publish stores an item event as the pipeline would.
func (e *natsEnv) publish(t *testing.T, ev pipeline.Event) {
	t.Helper()
	if err := publishEvent(testContext(t), e.JS, ev); err != nil {
		t.Fatal(err)
	}
}

func publishEvent(ctx context.Context, js jetstream.JetStream, ev pipeline.Event) error {
	data, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encoding event: %w", err)
	}
	if _, err := js.Publish(ctx, testPrefix+"."+ev.Partner, data); err != nil {
		return fmt.Errorf("publishing event: %w", err)
	}
	return nil
}

func event(kind pipeline.Kind, rev int, it pipeline.Item) pipeline.Event {
	return pipeline.Event{Version: pipeline.EventVersion, Kind: kind, Revision: rev, Item: it, IngestedAt: time.Now().UTC()}
}

// counterValue returns the current value of a Prometheus counter.
func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatalf("reading counter: %v", err)
	}
	return m.GetCounter().GetValue()
}
