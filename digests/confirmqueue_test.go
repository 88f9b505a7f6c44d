package digests

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/nats-io/nats.go/jetstream"
	gomail "github.com/wneessen/go-mail"
)

// queueEnv is a sign-up service that queues confirmations, as `syndic
// serve` runs it, next to a loopback SMTP sink for the workers.
type queueEnv struct {
	*natsEnv
	Sink  *smtpSink
	HTTP  *httptest.Server
	Links Links
	Queue *JetStreamConfirmations
}

func newQueueEnv(t *testing.T) *queueEnv {
	t.Helper()
	e := &queueEnv{natsEnv: newNATSEnv(t), Sink: newSMTPSink(t)}
	q, err := OpenConfirmations(testContext(t), e.JS, ConfirmQueueOptions{
		Stream: "SYNDIC_CONFIRM", Subject: "syndic_digests.confirmations", Replicas: 1,
		Backoff: []time.Duration{10 * time.Millisecond, 10 * time.Millisecond},
	})
	if err != nil {
		t.Fatalf("OpenConfirmations returned error: %v", err)
	}
	e.Queue = q
	mux := http.NewServeMux()
	e.HTTP = httptest.NewServer(mux)
	t.Cleanup(e.HTTP.Close)
	e.Links = Links{BaseURL: e.HTTP.URL, Signer: NewSigner(strings.Repeat("k", 32))}
	// The sign-up side gets a mailer that fails the test when used.
	e.service(t, failingMailer{t: t}, q).Register(mux)
	return e
}

func (e *queueEnv) service(t *testing.T, m Mailer, q ConfirmationQueue) *Service {
	t.Helper()
	return NewService(ServiceOptions{
		Digests: []Digest{testDigest()}, Store: e.Store, Links: e.Links, Mailer: m,
		Cache: e.Cache, Partners: testPartners, Confirmations: q,
	})
}

// startWorker consumes the queue like a `syndic digest` process until the
// test ends.
func (e *queueEnv) startWorker(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := e.Queue.Consume(ctx, e.service(t, e.Sink.mailer(t), nil)); err != nil {
			t.Errorf("Consume returned error: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// waitDrained waits until the consumer has no request pending or
// unacknowledged.
func (e *queueEnv) waitDrained(t *testing.T) {
	t.Helper()
	ctx := testContext(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := e.Queue.stream.Info(ctx)
		if err == nil && info.State.Msgs == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("confirmation queue not drained after 10s: %+v, %v", info, err)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition, not waiting out a delay
	}
}

func (e *queueEnv) signUp(t *testing.T, email string) {
	t.Helper()
	resp, body := postJSON(t, e.HTTP.URL+"/api/v1/digests/daily/subscribers", `{"email": "`+email+`"}`)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("sign-up status = %d, want 202: %s", resp.StatusCode, body)
	}
}

type failingMailer struct{ t *testing.T }

func (m failingMailer) Send(context.Context, *gomail.Msg) error {
	m.t.Error("the sign-up side sent mail; it must only queue the request")
	return nil
}
func (failingMailer) Close() error { return nil }

func TestQueuedSignUpSendsOneConfirmation(t *testing.T) {
	e := newQueueEnv(t)
	e.signUp(t, "Reader@Example.NET")
	if n := len(e.Sink.all()); n != 0 {
		t.Fatalf("sign-up sent %d messages before any worker ran, want 0", n)
	}
	info, err := e.Queue.stream.Info(testContext(t))
	if err != nil {
		t.Fatalf("reading queue info: %v", err)
	}
	if info.State.Msgs != 1 {
		t.Fatalf("queue holds %d requests after one sign-up, want 1", info.State.Msgs)
	}

	sentBefore := counterValue(t, confirmationsTotal.WithLabelValues("sent"))
	e.startWorker(t)
	e.startWorker(t)
	msgs := e.Sink.waitFor(t, 1)
	e.waitDrained(t)
	if n := len(e.Sink.all()); n != 1 {
		t.Errorf("two workers sent %d confirmations, want 1", n)
	}
	if got := counterValue(t, confirmationsTotal.WithLabelValues("sent")) - sentBefore; got != 1 {
		t.Errorf("syndic_digest_confirmations_total{result=sent} rose by %v, want 1", got)
	}
	confirmation := parseMessage(t, msgs[0].Data)
	link := confirmLink.FindString(confirmation.Parts["text/plain"].Body)
	if link == "" {
		t.Fatalf("confirmation has no confirm link:\n%s", confirmation.Parts["text/plain"].Body)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatalf("parsing confirm link: %v", err)
	}
	resp := postForm(t, e.HTTP.URL+"/digests/confirm", url.Values{"token": {u.Query().Get("token")}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("confirm status = %d, want 200", resp.StatusCode)
	}
	sub, _, err := e.Store.Find(testContext(t), "daily", "reader@example.net")
	if err != nil {
		t.Fatalf("finding subscriber: %v", err)
	}
	if sub.Status != StatusConfirmed {
		t.Errorf("status after confirming = %q, want confirmed", sub.Status)
	}
}

func TestQueuedConfirmationRetriedAfterSMTPFailure(t *testing.T) {
	e := newQueueEnv(t)
	var attempts atomic.Int32
	e.Sink.setReject(func(string) error {
		if attempts.Add(1) <= 2 {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
		}
		return nil
	})
	retriedBefore := counterValue(t, confirmationsTotal.WithLabelValues("retried"))
	e.signUp(t, "slow@example.net")
	e.startWorker(t)
	e.Sink.waitFor(t, 1)
	e.waitDrained(t)
	if n := len(e.Sink.all()); n != 1 {
		t.Errorf("sink received %d confirmations, want 1", n)
	}
	if got := attempts.Load(); got != 3 {
		t.Errorf("relay saw %d attempts, want 3", got)
	}
	if got := counterValue(t, confirmationsTotal.WithLabelValues("retried")) - retriedBefore; got != 2 {
		t.Errorf("syndic_digest_confirmations_total{result=retried} rose by %v, want 2", got)
	}
}

func TestQueuedConfirmationGivesUpOnRejection(t *testing.T) {
	e := newQueueEnv(t)
	var attempts atomic.Int32
	e.Sink.setReject(func(string) error {
		attempts.Add(1)
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	})
	e.signUp(t, "nobody@example.net")
	e.startWorker(t)
	e.waitDrained(t)
	if got := attempts.Load(); got != 1 {
		t.Errorf("relay saw %d attempts of a 5xx-rejected address, want 1", got)
	}
}

func TestStaleConfirmationRequestsSendNothing(t *testing.T) {
	e := newQueueEnv(t)
	ctx := testContext(t)
	// A second sign-up of the same address replaces the pending record,
	// so the first request is stale and only the second one sends.
	e.signUp(t, "twice@example.net")
	e.signUp(t, "twice@example.net")
	// A request whose address confirmed before the worker ran.
	e.signUp(t, "quick@example.net")
	quick, rev, err := e.Store.Find(ctx, "daily", "quick@example.net")
	if err != nil {
		t.Fatalf("finding pending subscriber: %v", err)
	}
	quick.Status = StatusConfirmed
	if _, err := e.Store.Put(ctx, quick, rev); err != nil {
		t.Fatalf("confirming subscriber: %v", err)
	}
	// A request of a digest no longer configured.
	gone := ConfirmationRequest{Digest: "weekly", Email: "old@example.net", RequestedAt: time.Now().UTC()}
	if err := e.Queue.Enqueue(ctx, gone); err != nil {
		t.Fatalf("Enqueue returned error: %v", err)
	}

	skippedBefore := counterValue(t, confirmationsTotal.WithLabelValues("skipped"))
	e.startWorker(t)
	e.waitDrained(t)
	got := e.Sink.all()
	if len(got) != 1 {
		t.Fatalf("sink received %d confirmations, want 1", len(got))
	}
	if to := strings.Join(got[0].To, ","); to != "twice@example.net" {
		t.Errorf("confirmation went to %s, want twice@example.net", to)
	}
	if n := counterValue(t, confirmationsTotal.WithLabelValues("skipped")) - skippedBefore; n != 3 {
		t.Errorf("syndic_digest_confirmations_total{result=skipped} rose by %v, want 3", n)
	}
}

func TestEnqueueRepeatedStoresOneRequest(t *testing.T) {
	e := newQueueEnv(t)
	ctx := testContext(t)
	req := ConfirmationRequest{Digest: "daily", Email: "ann@example.net", RequestedAt: time.Now().UTC()}
	for range 2 {
		if err := e.Queue.Enqueue(ctx, req); err != nil {
			t.Fatalf("Enqueue returned error: %v", err)
		}
	}
	info, err := e.Queue.stream.Info(ctx)
	if err != nil {
		t.Fatalf("reading queue info: %v", err)
	}
	if info.State.Msgs != 1 {
		t.Errorf("queue holds %d requests, want 1", info.State.Msgs)
	}
	if info.Config.Retention != jetstream.WorkQueuePolicy {
		t.Errorf("queue retention = %v, want work queue", info.Config.Retention)
	}
}

// TestConsumeStopsQuietlyWhenCancelled checks that a worker whose context
// ends while it creates its consumer stops without an error, as it does
// once it consumes.
func TestConsumeStopsQuietlyWhenCancelled(t *testing.T) {
	e := newQueueEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.Queue.Consume(ctx, e.service(t, e.Sink.mailer(t), nil)); err != nil {
		t.Errorf("Consume with a cancelled context returned %v, want nil", err)
	}
}
