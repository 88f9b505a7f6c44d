package digests

import (
	"context"
	"fmt"
	"net/mail"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/pipeline"
)

// Environment of the crash-test worker process.
const (
	envCrashChild   = "DIGESTS_CRASH_CHILD"
	envCrashNATS    = "DIGESTS_CRASH_NATS"
	envCrashSMTP    = "DIGESTS_CRASH_SMTP"
	envCrashDue     = "DIGESTS_CRASH_DUE"
	envCrashClaimNo = "DIGESTS_CRASH_AFTER_CLAIM"
)

// crashLease is the claim lease of the crash test: short, so a restarted
// worker takes over a dead worker's claim within the test.
const crashLease = time.Second

func TestMain(m *testing.M) {
	if os.Getenv(envCrashChild) != "" {
		os.Exit(runCrashChild())
	}
	os.Exit(m.Run())
}

// runCrashChild is the digest worker of the crash test, run as a separate
// process so that SIGKILL stops it at once, as a crash would. It kills
// itself after the claim numbered DIGESTS_CRASH_AFTER_CLAIM, when set.
func runCrashChild() int {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	nc, err := testenvConnect(os.Getenv(envCrashNATS))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	env, err := openCrashEnv(ctx, js)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	port, _ := strconv.Atoi(os.Getenv(envCrashSMTP))
	mailer, err := NewSMTPMailer(SMTPOptions{Host: "127.0.0.1", Port: port, TLS: "none", Timeout: 5 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	due, err := time.Parse(time.RFC3339Nano, os.Getenv(envCrashDue))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	killAt, _ := strconv.Atoi(os.Getenv(envCrashClaimNo))
	var claims atomic.Int64
	r := NewRunner(RunnerOptions{
		Digest: testDigest(), Store: env.Store, SendLog: env.SendLog, Collector: env.Collector,
		Mailer: mailer, Links: Links{BaseURL: "https://news.example.org", Signer: NewSigner(strings.Repeat("k", 32))},
		Owner: "pid-" + strconv.Itoa(os.Getpid()), Lease: crashLease, RatePerMinute: 1_000_000, Retries: 1, Backoff: time.Millisecond,
		AfterClaim: func(string) {
			if killAt > 0 && claims.Add(1) == int64(killAt) {
				_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			}
		},
	})
	if _, err := r.Run(ctx, due); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func TestCrashAtEachStepLosesNoSubscriber(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes for 1,000 subscribers")
	}
	const subscribers = 1000
	e := newNATSEnv(t)
	ctx := testContext(t)
	since := time.Now().Add(-time.Hour)
	for i := range subscribers {
		s := &Subscriber{Digest: "daily", Email: fmt.Sprintf("r%04d@example.net", i), Locale: "en", TimeZone: "UTC",
			Status: StatusConfirmed, CreatedAt: since, ConfirmedAt: &since, CoveredUntil: since}
		if _, err := e.Store.Put(ctx, s, 0); err != nil {
			t.Fatalf("storing subscriber %d: %v", i, err)
		}
	}
	e.publish(t, event(pipeline.KindCreated, 1, item("a", "wipk", "News")))
	due := time.Now()
	sink := newSMTPSink(t)
	nsURL := e.natsURL

	// First worker: SIGKILL right after its 300th claim.
	runWorker(t, nsURL, sink, due, 300, 0)
	// Second worker: SIGKILL from the SMTP server right after it stored
	// the 600th message, before the worker reads the reply to DATA.
	runWorker(t, nsURL, sink, due, 0, 600)
	// Restarted workers until every claim of the dead ones has expired
	// and been taken over.
	deadline := time.Now().Add(30 * time.Second)
	for !allSent(t, e, due, subscribers) {
		if time.Now().After(deadline) {
			t.Fatal("send log still has unsent periods after 30 s of restarted workers")
		}
		runWorker(t, nsURL, sink, due, 0, 0)
	}

	ids := map[string]map[string]bool{}
	for _, m := range sink.all() {
		msg, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
		if err != nil {
			t.Fatalf("parsing message: %v", err)
		}
		if ids[m.To[0]] == nil {
			ids[m.To[0]] = map[string]bool{}
		}
		ids[m.To[0]][msg.Header.Get("Message-Id")] = true
	}
	if len(ids) != subscribers {
		t.Errorf("%d subscribers received a digest, want all %d", len(ids), subscribers)
	}
	for rcpt, set := range ids {
		if len(set) > 1 {
			t.Errorf("%s received %d distinct Message-IDs, want 1", rcpt, len(set))
		}
	}
	// The worker killed after DATA sent one message twice, with one
	// Message-ID. The worker killed after its claim sent nothing for it.
	if n := len(sink.all()); n < subscribers || n > subscribers+1 {
		t.Errorf("relay received %d messages, want %d or %d", n, subscribers, subscribers+1)
	}
	t.Logf("%d messages for %d subscribers", len(sink.all()), len(ids))
}

// allSent reports whether the send log marks every subscriber's period
// sent.
func allSent(t *testing.T, e *natsEnv, due time.Time, subscribers int) bool {
	t.Helper()
	period := testDigest().Schedule.Period(due)
	for i := range subscribers {
		entry, err := e.SendLog.Get(testContext(t), LogKey("daily", period, fmt.Sprintf("r%04d@example.net", i)))
		if err != nil || entry.State != StateSent {
			return false
		}
	}
	return true
}

// runWorker runs one worker process to its end. killAfterClaim makes it
// kill itself after that claim; killAfterData makes the SMTP server kill
// it after storing that many messages in total.
func runWorker(t *testing.T, natsURL string, sink *smtpSink, due time.Time, killAfterClaim, killAfterData int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		envCrashChild+"=1", envCrashNATS+"="+natsURL, envCrashSMTP+"="+strconv.Itoa(sink.Port),
		envCrashDue+"="+due.Format(time.RFC3339Nano), envCrashClaimNo+"="+strconv.Itoa(killAfterClaim))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting worker: %v", err)
	}
	var once sync.Once
	if killAfterData > 0 {
		sink.setAfterData(func(total int) {
			if total == killAfterData {
				once.Do(func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
			}
		})
		defer sink.setAfterData(nil)
	}
	err := cmd.Wait()
	killed := false
	if ee, ok := err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			killed = true
		}
	}
	switch {
	case killAfterClaim > 0 || killAfterData > 0:
		if !killed {
			t.Fatalf("worker was not killed as planned: %v", err)
		}
	case err != nil:
		t.Fatalf("worker failed: %v", err)
	}
}
