package digests

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/pipeline"
)

// BenchmarkSendToSink renders and sends one period's digest to 10,000
// subscribers through a local SMTP server and reports digests per second.
// Run it with -benchtime=1x: each iteration is a whole run.
func BenchmarkSendToSink(b *testing.B) {
	const subscribers = 10_000
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	for range b.N {
		b.StopTimer()
		ns := testenv.NATS(b)
		js, err := jetstream.New(testenv.Conn(b, ns.URL))
		if err != nil {
			b.Fatalf("creating JetStream context: %v", err)
		}
		e, err := openCrashEnv(ctx, js)
		if err != nil {
			b.Fatalf("opening buckets: %v", err)
		}
		since := time.Now().Add(-time.Hour)
		for i := range subscribers {
			s := &Subscriber{Digest: "daily", Email: fmt.Sprintf("r%05d@example.net", i), Locale: Locales[i%len(Locales)],
				TimeZone: "Europe/Warsaw", Status: StatusConfirmed, CreatedAt: since, ConfirmedAt: &since, CoveredUntil: since}
			if _, err := e.Store.Put(ctx, s, 0); err != nil {
				b.Fatalf("storing subscriber: %v", err)
			}
		}
		for i := range 20 {
			it := item(fmt.Sprintf("i%d", i), []string{"wipk", "cci"}[i%2], fmt.Sprintf("Item %d", i))
			it.Content = "<p>A paragraph of partner news with a <a href=\"https://wipk.example.org/x\">link</a>.</p>"
			data := event(pipeline.KindCreated, 1, it)
			if err := publishEvent(ctx, js, data); err != nil {
				b.Fatalf("publishing: %v", err)
			}
		}
		sink := newSMTPSink(b)
		m, err := NewSMTPMailer(SMTPOptions{Host: "127.0.0.1", Port: sink.Port, TLS: "none", Timeout: 5 * time.Second})
		if err != nil {
			b.Fatalf("NewSMTPMailer returned error: %v", err)
		}
		r := NewRunner(RunnerOptions{
			Digest: testDigest(), Store: e.Store, SendLog: e.SendLog, Collector: e.Collector, Mailer: m,
			Links:    Links{BaseURL: "https://news.example.org", Signer: NewSigner("0123456789abcdef0123456789abcdef")},
			Partners: testPartners, Owner: "bench", Lease: time.Minute, RatePerMinute: 100_000_000,
		})
		b.StartTimer()
		start := time.Now()
		rep, err := r.Run(ctx, time.Now())
		elapsed := time.Since(start)
		if err != nil || rep.Sent != subscribers {
			b.Fatalf("Run = %+v, %v, want %d sent", rep, err, subscribers)
		}
		b.ReportMetric(float64(subscribers)/elapsed.Seconds(), "digests/s")
		_ = m.Close()
	}
}
