package broker

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/testenv"
)

// newTestRecordLog creates a record log with a name unique to the test.
func newTestRecordLog(t *testing.T, js jetstream.JetStream) *RecordLog {
	t.Helper()
	name := testenv.Name(t)
	l, err := EnsureRecordLog(testContext(t), js, RecordLogOptions{
		Stream:  name,
		Subject: "records." + strings.ToLower(name),
	})
	if err != nil {
		t.Fatalf("EnsureRecordLog: %v", err)
	}
	return l
}

func recordValue(k int) []byte {
	return fmt.Appendf(nil, "record-%d", k)
}

// appendRecords appends n records and returns their sequences in order.
func appendRecords(t *testing.T, l *RecordLog, n int) []uint64 {
	t.Helper()
	ctx := testContext(t)
	seqs := make([]uint64, n)
	for k := range n {
		seq, err := l.Append(ctx, recordValue(k), "", time.Time{})
		if err != nil {
			t.Fatalf("appending record %d: %v", k, err)
		}
		seqs[k] = seq
	}
	return seqs
}

func TestRecordLogRead(t *testing.T) {
	js := testJetStream(t)
	ctx := testContext(t)
	l := newTestRecordLog(t, js)
	// More records than one round of requests.
	seqs := appendRecords(t, l, 1000)
	deleted := seqs[7]
	s, err := js.Stream(ctx, l.Stream())
	if err != nil {
		t.Fatalf("opening stream: %v", err)
	}
	if err := s.DeleteMsg(ctx, deleted); err != nil {
		t.Fatalf("deleting record %d: %v", deleted, err)
	}
	last := seqs[len(seqs)-1]

	t.Run("absent and repeated sequences", func(t *testing.T) {
		ask := []uint64{seqs[3], 0, seqs[3], deleted, last + 5, seqs[9], last}
		got, err := l.Read(ctx, ask)
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		want := map[uint64]string{seqs[3]: "record-3", seqs[9]: "record-9", last: "record-999"}
		if len(got) != len(want) {
			t.Errorf("Read returned %d records, want %d", len(got), len(want))
		}
		for seq, v := range want {
			if string(got[seq]) != v {
				t.Errorf("record %d = %q, want %q", seq, got[seq], v)
			}
		}
	})
	t.Run("all records in several rounds", func(t *testing.T) {
		got, err := l.Read(ctx, seqs)
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if len(got) != len(seqs)-1 {
			t.Errorf("Read returned %d records, want %d", len(got), len(seqs)-1)
		}
		for k, seq := range seqs {
			if seq == deleted {
				if _, ok := got[seq]; ok {
					t.Errorf("deleted record %d returned", seq)
				}
				continue
			}
			if string(got[seq]) != string(recordValue(k)) {
				t.Errorf("record %d = %q, want %q", seq, got[seq], recordValue(k))
			}
		}
	})
	t.Run("many readers at once", func(t *testing.T) {
		var wg sync.WaitGroup
		for r := range 16 {
			wg.Go(func() {
				k := (r * 37) % len(seqs)
				got, err := l.Read(ctx, []uint64{seqs[k], seqs[k+1]})
				if err != nil {
					t.Errorf("reader %d: Read: %v", r, err)
					return
				}
				if string(got[seqs[k+1]]) != string(recordValue(k+1)) {
					t.Errorf("reader %d: record %d = %q, want %q", r, seqs[k+1], got[seqs[k+1]], recordValue(k+1))
				}
			})
		}
		wg.Wait()
	})
	t.Run("no sequences", func(t *testing.T) {
		got, err := l.Read(ctx, nil)
		if err != nil {
			t.Fatalf("Read(nil): %v", err)
		}
		if len(got) != 0 {
			t.Errorf("Read(nil) returned %d records, want none", len(got))
		}
	})
}

func TestRecordLogReadDeletedStream(t *testing.T) {
	js := testJetStream(t)
	ctx := testContext(t)
	l := newTestRecordLog(t, js)
	seqs := appendRecords(t, l, 3)
	if err := js.DeleteStream(ctx, l.Stream()); err != nil {
		t.Fatalf("deleting stream: %v", err)
	}
	_, err := l.Read(ctx, seqs)
	if err == nil {
		t.Fatal("Read of a deleted log returned no error")
	}
	if !strings.Contains(err.Error(), l.Stream()) {
		t.Errorf("Read error %q does not name the stream", err)
	}
	if !errors.Is(err, nats.ErrNoResponders) {
		t.Errorf("Read error %q, want nats.ErrNoResponders", err)
	}
}

func TestRecordLogAppendDeduplicates(t *testing.T) {
	ctx := testContext(t)
	l := newTestRecordLog(t, testJetStream(t))
	first, err := l.Append(ctx, []byte("one"), "id-1", time.Time{})
	if err != nil {
		t.Fatalf("first Append: %v", err)
	}
	if _, err := l.Append(ctx, []byte("other"), "id-2", time.Time{}); err != nil {
		t.Fatalf("Append of another id: %v", err)
	}
	again, err := l.Append(ctx, []byte("two"), "id-1", time.Time{})
	if err != nil {
		t.Fatalf("repeated Append: %v", err)
	}
	if again != first {
		t.Errorf("repeated Append returned sequence %d, want the first one's %d", again, first)
	}
	got, err := l.Read(ctx, []uint64{first})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if string(got[first]) != "one" {
		t.Errorf("record %d = %q, want the first value %q", first, got[first], "one")
	}
}

// followed records what Follow delivered.
type followed struct {
	mu      sync.Mutex
	seqs    []uint64
	values  []string
	stored  []time.Time
	early   int // records applied after loaded was closed among the first
	initial int // records stored before Follow started
}

// apply returns the apply func of Follow. It counts the records among
// the first f.initial that arrive after loaded is closed.
func (f *followed) apply(loaded <-chan struct{}) func(uint64, []byte, time.Time) {
	return func(seq uint64, value []byte, stored time.Time) {
		f.mu.Lock()
		defer f.mu.Unlock()
		select {
		case <-loaded:
			if len(f.seqs) < f.initial {
				f.early++
			}
		default:
		}
		f.seqs = append(f.seqs, seq)
		f.values = append(f.values, string(value))
		f.stored = append(f.stored, stored)
	}
}

func (f *followed) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.seqs)
}

// waitFor polls until cond holds or the test's deadline passes.
func waitFor(t *testing.T, condition string, cond func() bool) {
	t.Helper()
	ctx := testContext(t)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", condition, ctx.Err())
		case <-tick.C:
		}
	}
}

func waitClosed(t *testing.T, channel string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-testContext(t).Done():
		t.Fatalf("%s not closed", channel)
	}
}

func TestRecordLogFollow(t *testing.T) {
	ctx := testContext(t)
	l := newTestRecordLog(t, testJetStream(t))
	before := appendRecords(t, l, 500)
	loaded := make(chan struct{})
	got := &followed{initial: len(before)}
	fctx, stop := context.WithCancel(ctx)
	defer stop()
	start := time.Now()
	done, err := l.Follow(fctx, got.apply(loaded), loaded)
	if err != nil {
		t.Fatalf("Follow: %v", err)
	}
	waitClosed(t, "loaded", loaded)
	if n := got.count(); n != len(before) {
		t.Errorf("%d records applied when loaded closed, want %d", n, len(before))
	}
	got.mu.Lock()
	if got.early != 0 {
		t.Errorf("loaded closed before %d of the first records were applied", got.early)
	}
	got.mu.Unlock()

	copied := time.Date(2024, 3, 1, 12, 0, 0, 123456789, time.UTC)
	seqCopied, err := l.Append(ctx, []byte("copied"), "", copied)
	if err != nil {
		t.Fatalf("appending copied record: %v", err)
	}
	seqNew, err := l.Append(ctx, []byte("new"), "", time.Time{})
	if err != nil {
		t.Fatalf("appending new record: %v", err)
	}
	waitFor(t, "records appended after loaded", func() bool { return got.count() == len(before)+2 })

	got.mu.Lock()
	wantSeqs := append(before, seqCopied, seqNew)
	for k, seq := range wantSeqs {
		if got.seqs[k] != seq {
			t.Fatalf("record %d has sequence %d, want %d", k, got.seqs[k], seq)
		}
	}
	for k, want := range map[int]string{7: "record-7", 500: "copied", 501: "new"} {
		if got.values[k] != want {
			t.Errorf("record %d = %q, want %q", k, got.values[k], want)
		}
	}
	if !got.stored[500].Equal(copied) {
		t.Errorf("copied record stored at %v, want the header's %v", got.stored[500], copied)
	}
	if s := got.stored[501]; s.Before(start.Add(-time.Minute)) || s.After(time.Now().Add(time.Minute)) {
		t.Errorf("new record stored at %v, want about now", s)
	}
	got.mu.Unlock()

	stop()
	waitClosed(t, "done after cancel", done)
}

func TestRecordLogFollowEmpty(t *testing.T) {
	ctx, stop := context.WithCancel(testContext(t))
	defer stop()
	l := newTestRecordLog(t, testJetStream(t))
	loaded := make(chan struct{})
	got := &followed{}
	done, err := l.Follow(ctx, got.apply(loaded), loaded)
	if err != nil {
		t.Fatalf("Follow: %v", err)
	}
	waitClosed(t, "loaded of an empty log", loaded)
	stop()
	waitClosed(t, "done after cancel", done)

	info, err := l.stream.Info(testContext(t))
	if err != nil {
		t.Fatalf("reading stream info: %v", err)
	}
	if info.State.Consumers != 0 {
		t.Errorf("%d consumers left after Follow stopped, want 0", info.State.Consumers)
	}
}

func TestRecordLogFollowStopsOnDelete(t *testing.T) {
	js := testJetStream(t)
	ctx := testContext(t)
	l := newTestRecordLog(t, js)
	appendRecords(t, l, 3)
	got := &followed{}
	done, err := l.Follow(ctx, got.apply(nil), nil)
	if err != nil {
		t.Fatalf("Follow: %v", err)
	}
	waitFor(t, "records", func() bool { return got.count() == 3 })
	if err := js.DeleteStream(ctx, l.Stream()); err != nil {
		t.Fatalf("deleting stream: %v", err)
	}
	waitClosed(t, "done after the stream was deleted", done)
}

func TestEnsureRecordLog(t *testing.T) {
	js := testJetStream(t)
	ctx := testContext(t)
	o := RecordLogOptions{Stream: testenv.Name(t), Subject: "records.ensure", MaxAge: time.Hour}
	l, err := EnsureRecordLog(ctx, js, o)
	if err != nil {
		t.Fatalf("EnsureRecordLog: %v", err)
	}
	first := recordStreamConfig(t, js, o.Stream)
	if first.PersistMode != jetstream.AsyncPersistMode {
		t.Errorf("persist mode %v, want async", first.PersistMode)
	}
	if !first.AllowDirect {
		t.Error("direct get not allowed")
	}
	if first.Duplicates != 2*time.Minute {
		t.Errorf("duplicate window %v, want 2m", first.Duplicates)
	}
	if first.MaxAge != time.Hour {
		t.Errorf("max age %v, want 1h", first.MaxAge)
	}
	if first.Discard != jetstream.DiscardOld {
		t.Errorf("discard policy %v, want old", first.Discard)
	}
	if first.Storage != jetstream.FileStorage {
		t.Errorf("storage %v, want file", first.Storage)
	}
	if first.MaxMsgsPerSubject != -1 {
		t.Errorf("max messages per subject %d, want -1", first.MaxMsgsPerSubject)
	}
	created, err := l.Created(ctx)
	if err != nil {
		t.Fatalf("Created: %v", err)
	}
	if created.IsZero() {
		t.Error("Created returned the zero time")
	}

	if _, err := EnsureRecordLog(ctx, js, o); err != nil {
		t.Fatalf("second EnsureRecordLog: %v", err)
	}
	if again := recordStreamConfig(t, js, o.Stream); !configsEqual(again, first) || again.PersistMode != first.PersistMode {
		t.Errorf("second EnsureRecordLog changed the config:\n got %+v\nwant %+v", again, first)
	}

	o.MaxAge = time.Minute
	l, err = EnsureRecordLog(ctx, js, o)
	if err != nil {
		t.Fatalf("EnsureRecordLog with a new max age: %v", err)
	}
	changed := recordStreamConfig(t, js, o.Stream)
	if changed.MaxAge != time.Minute {
		t.Errorf("max age %v after update, want 1m", changed.MaxAge)
	}
	if changed.Duplicates != time.Minute {
		t.Errorf("duplicate window %v after update, want the max age of 1m", changed.Duplicates)
	}
	if l.MaxAge() != time.Minute {
		t.Errorf("MaxAge() = %v, want 1m", l.MaxAge())
	}
	if changed.PersistMode != jetstream.AsyncPersistMode {
		t.Errorf("update changed persist mode to %v", changed.PersistMode)
	}
	updated, err := l.Created(ctx)
	if err != nil {
		t.Fatalf("Created after update: %v", err)
	}
	if !updated.Equal(created) {
		t.Errorf("Created after update = %v, want %v", updated, created)
	}
}

func TestEnsureRecordLogKeepsPersistMode(t *testing.T) {
	js := testJetStream(t)
	ctx := testContext(t)
	name := testenv.Name(t)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{"records.old"}}); err != nil {
		t.Fatalf("creating stream: %v", err)
	}
	if _, err := EnsureRecordLog(ctx, js, RecordLogOptions{Stream: name, Subject: "records.old"}); err != nil {
		t.Fatalf("EnsureRecordLog on an existing stream: %v", err)
	}
	cfg := recordStreamConfig(t, js, name)
	if cfg.PersistMode != jetstream.DefaultPersistMode {
		t.Errorf("persist mode %v, want default", cfg.PersistMode)
	}
	if !cfg.AllowDirect {
		t.Error("direct get not allowed after update")
	}
}

func TestEnsureRecordLogRejectsBadSubject(t *testing.T) {
	js := testJetStream(t)
	for _, tc := range []struct {
		name    string
		subject string
	}{
		{"empty subject", ""},
		{"single-token wildcard", "records.*"},
		{"full wildcard", "records.>"},
		{"space", "records. log"},
		{"empty token", "records..log"},
		{"trailing dot", "records."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := testenv.Name(t)
			_, err := EnsureRecordLog(testContext(t), js, RecordLogOptions{Stream: name, Subject: tc.subject})
			if err == nil {
				t.Fatalf("subject %q accepted", tc.subject)
			}
			if !strings.Contains(err.Error(), name) {
				t.Errorf("error %q does not name stream %s", err, name)
			}
		})
	}
	t.Run("empty stream name", func(t *testing.T) {
		if _, err := EnsureRecordLog(testContext(t), js, RecordLogOptions{Subject: "records.x"}); err == nil {
			t.Error("no error for an empty stream name")
		}
	})
}

func TestRecordLogSkipsOtherSubject(t *testing.T) {
	js := testJetStream(t)
	ctx := testContext(t)
	o := RecordLogOptions{Stream: testenv.Name(t), Subject: "records.old"}
	l, err := EnsureRecordLog(ctx, js, o)
	if err != nil {
		t.Fatalf("EnsureRecordLog: %v", err)
	}
	old := appendRecords(t, l, 2)
	o.Subject = "records.new"
	if l, err = EnsureRecordLog(ctx, js, o); err != nil {
		t.Fatalf("EnsureRecordLog with a new subject: %v", err)
	}
	seq, err := l.Append(ctx, []byte("new"), "", time.Time{})
	if err != nil {
		t.Fatalf("Append: %v", err)
	}

	got, err := l.Read(ctx, append(old, seq))
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if len(got) != 1 {
		t.Errorf("Read returned %d records, want only the one on the new subject", len(got))
	}
	if string(got[seq]) != "new" {
		t.Errorf("record %d = %q, want %q", seq, got[seq], "new")
	}

	loaded := make(chan struct{})
	followed := &followed{}
	fctx, stop := context.WithCancel(ctx)
	defer stop()
	if _, err := l.Follow(fctx, followed.apply(loaded), loaded); err != nil {
		t.Fatalf("Follow: %v", err)
	}
	waitClosed(t, "loaded", loaded)
	followed.mu.Lock()
	defer followed.mu.Unlock()
	if len(followed.seqs) != 1 || followed.seqs[0] != seq {
		t.Errorf("Follow applied sequences %v, want only %d", followed.seqs, seq)
	}
}

func TestRecordLogConfigReplicated(t *testing.T) {
	cfg, err := recordLogConfig(RecordLogOptions{Stream: "LOG", Subject: "records.log", Replicas: 3})
	if err != nil {
		t.Fatalf("recordLogConfig: %v", err)
	}
	if cfg.PersistMode != jetstream.DefaultPersistMode {
		t.Errorf("persist mode %v for 3 replicas, want default", cfg.PersistMode)
	}
	if cfg.Replicas != 3 {
		t.Errorf("replicas %d, want 3", cfg.Replicas)
	}
}

func recordStreamConfig(t *testing.T, js jetstream.JetStream, name string) jetstream.StreamConfig {
	t.Helper()
	s, err := js.Stream(testContext(t), name)
	if err != nil {
		t.Fatalf("reading stream %s: %v", name, err)
	}
	return s.CachedInfo().Config
}

// benchRecords is the size of the logs of the benchmarks.
const benchRecords = 100_000

// benchRecordLog starts a server and fills a record log with benchRecords
// records of 300 bytes, about a grouping member record.
func benchRecordLog(b *testing.B) (*RecordLog, []uint64) {
	b.Helper()
	ctx := context.Background()
	srv := testenv.NATS(b)
	js, err := jetstream.New(testenv.Conn(b, srv.URL))
	if err != nil {
		b.Fatalf("opening JetStream: %v", err)
	}
	l, err := EnsureRecordLog(ctx, js, RecordLogOptions{Stream: testenv.Name(b), Subject: "records.bench"})
	if err != nil {
		b.Fatalf("EnsureRecordLog: %v", err)
	}
	value := make([]byte, 300)
	futures := make([]jetstream.PubAckFuture, benchRecords)
	for k := range futures {
		if futures[k], err = js.PublishAsync("records.bench", value); err != nil {
			b.Fatalf("publishing record %d: %v", k, err)
		}
	}
	seqs := make([]uint64, benchRecords)
	for k, f := range futures {
		select {
		case ack := <-f.Ok():
			seqs[k] = ack.Sequence
		case err := <-f.Err():
			b.Fatalf("storing record %d: %v", k, err)
		}
	}
	return l, seqs
}

func BenchmarkRecordLogRead(b *testing.B) {
	l, seqs := benchRecordLog(b)
	ctx := context.Background()
	ask := make([]uint64, 8)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for k := range ask {
			ask[k] = seqs[rand.IntN(len(seqs))]
		}
		got, err := l.Read(ctx, ask)
		if err != nil {
			b.Fatalf("Read: %v", err)
		}
		if len(got) == 0 {
			b.Fatal("Read returned no records")
		}
	}
}

func BenchmarkRecordLogFollow(b *testing.B) {
	l, _ := benchRecordLog(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		ctx, stop := context.WithCancel(context.Background())
		loaded := make(chan struct{})
		n := 0
		done, err := l.Follow(ctx, func(uint64, []byte, time.Time) { n++ }, loaded)
		if err != nil {
			b.Fatalf("Follow: %v", err)
		}
		<-loaded
		stop()
		<-done
		if n != benchRecords {
			b.Fatalf("followed %d records, want %d", n, benchRecords)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchRecords), "ns/record")
}
