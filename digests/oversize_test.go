package digests

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

// logBuffer collects slog text output for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) lines(substr string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for line := range strings.SplitSeq(b.buf.String(), "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return out
}

func (e *digestEnv) loggedRunner(t *testing.T) (*Runner, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	r := e.runner(t, "worker-1")
	r.o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return r, logs
}

// storeSubscriber stores s as it is, with the defaults of addConfirmed.
func (e *digestEnv) storeSubscriber(t *testing.T, email, status string, undeliverable bool) {
	t.Helper()
	since := time.Now().Add(-time.Hour)
	s := &Subscriber{Digest: "daily", Email: email, Locale: "en", TimeZone: "UTC", Status: status,
		CreatedAt: since, CoveredUntil: since, Undeliverable: undeliverable}
	if status == StatusConfirmed {
		s.ConfirmedAt = &since
	}
	if _, err := e.Store.Put(testContext(t), s, 0); err != nil {
		t.Fatalf("storing subscriber %s: %v", email, err)
	}
}

// TestOversizedItemsDoNotStopDigest pins a digest that failed for every
// subscriber, every 10 minutes, because one item rendered to more than
// MaxHTMLBytes, with an error that named the subscriber but not the item.
func TestOversizedItemsDoNotStopDigest(t *testing.T) {
	e := newDigestEnv(t)
	ctx := testContext(t)
	e.storeSubscriber(t, "ann@example.net", StatusConfirmed, false)
	e.storeSubscriber(t, "bob@example.net", StatusConfirmed, false)
	e.storeSubscriber(t, "carol@example.net", StatusPending, false)
	e.storeSubscriber(t, "dave@example.net", StatusConfirmed, true)

	normal := item("normal", "cci", "Export grants open")
	longTitle := item("long-title", "wipk", strings.Repeat("T", 300_000))
	longLink := item("long-link", "wipk", "Link too long")
	longLink.URL = "https://wipk.example.org/" + strings.Repeat("a", 200_000)
	for _, it := range []pipeline.Item{normal, longTitle, longLink} {
		e.publish(t, event(pipeline.KindCreated, 1, it))
	}

	r, logs := e.loggedRunner(t)
	rep, err := r.Run(ctx, time.Now())
	if err != nil {
		t.Fatalf("Run returned error: %v", err)
	}
	want := Report{Sent: 2, Unconfirmed: 1, Undeliverable: 1}
	if rep != want {
		t.Errorf("report = %+v, want %+v", rep, want)
	}
	got := e.Sink.waitFor(t, 2)
	if len(got) != 2 {
		t.Fatalf("received %d messages, want one each to ann and bob", len(got))
	}
	text := parseMessage(t, got[0].Data).Parts["text/plain"].Body
	if !strings.Contains(text, "Export grants open") {
		t.Error("digest lacks the item of normal size")
	}
	if !strings.Contains(text, strings.Repeat("T", maxTitleRunes-1)+"…") {
		t.Error("digest lacks the long title cut with an ellipsis")
	}
	if strings.Contains(text, "Link too long") {
		t.Error("digest shows the item whose link cannot fit")
	}

	warnings := logs.lines("item_id=long-link")
	if len(warnings) != 1 {
		t.Fatalf("logged %d lines naming the left-out item for two subscribers, want 1:\n%s", len(warnings), strings.Join(warnings, "\n"))
	}
	for _, part := range []string{"level=WARN", "partner=wipk", "syndic items retract long-link"} {
		if !strings.Contains(warnings[0], part) {
			t.Errorf("warning lacks %q: %s", part, warnings[0])
		}
	}
	if errs := logs.lines("level=ERROR"); len(errs) != 0 {
		t.Errorf("run logged errors: %s", strings.Join(errs, "\n"))
	}
}

func TestDigestWithNoItemThatFitsIsEmpty(t *testing.T) {
	e := newDigestEnv(t)
	e.storeSubscriber(t, "ann@example.net", StatusConfirmed, false)
	huge := item("huge-image", "wipk", "Huge image")
	huge.Image = "https://wipk.example.org/" + strings.Repeat("i", MaxHTMLBytes)
	e.publish(t, event(pipeline.KindCreated, 1, huge))

	r, logs := e.loggedRunner(t)
	rep, err := r.Run(testContext(t), time.Now())
	if err != nil {
		t.Fatalf("Run returned error: %v", err)
	}
	if want := (Report{Empty: 1}); rep != want {
		t.Errorf("report = %+v, want %+v: nothing to send, and nothing to retry", rep, want)
	}
	if n := len(e.Sink.all()); n != 0 {
		t.Errorf("sent %d messages with no item in them", n)
	}
	if n := len(logs.lines("item_id=huge-image")); n != 1 {
		t.Errorf("logged %d warnings naming the item, want 1", n)
	}
}
