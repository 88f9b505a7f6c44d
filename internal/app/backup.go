package app

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Backup files under the backup directory. Each .jsonl file has one JSON
// object per line, so a large stream never has to fit in memory.
const (
	manifestFile  = "manifest.json"
	streamFile    = "stream.jsonl"
	membersFile   = "members.jsonl"
	bucketsDir    = "kv"
	backupFormat  = 1
	backupBatch   = 500
	backupMaxWait = 2 * time.Second
)

// skippedBuckets are the bucket suffixes a backup leaves out: the cache
// and the leases hold only what a running system rebuilds.
var skippedBuckets = []string{"_CACHE", "_LEASES"}

// Manifest describes a backup.
type Manifest struct {
	Format  int            `json:"format"`
	Created time.Time      `json:"created"`
	Version string         `json:"syndic_version"`
	Stream  StreamManifest `json:"stream"`
	// Members describes the grouping records in members.jsonl. Backups
	// of releases that kept them in a KV bucket have none.
	Members *StreamManifest `json:"members,omitempty"`
	Buckets []BucketInfo    `json:"buckets"`
}

// StreamManifest describes the stream part of a backup.
type StreamManifest struct {
	Name     string `json:"name"`
	FirstSeq uint64 `json:"first_seq"`
	LastSeq  uint64 `json:"last_seq"`
	Msgs     uint64 `json:"msgs"`
}

// BucketInfo describes one KV bucket of a backup.
type BucketInfo struct {
	Name    string        `json:"name"`
	History uint8         `json:"history"`
	TTL     time.Duration `json:"ttl"`
	Keys    int           `json:"keys"`
}

// backupMsg is one stream message in stream.jsonl.
type backupMsg struct {
	Seq     uint64      `json:"seq"`
	Subject string      `json:"subject"`
	Time    time.Time   `json:"time"`
	Header  nats.Header `json:"header,omitempty"`
	Data    []byte      `json:"data"`
}

// backupEntry is one KV entry in kv/<bucket>.jsonl.
type backupEntry struct {
	Key   string `json:"key"`
	Value []byte `json:"value"`
}

// Backup writes the item stream, the log of grouping records and the KV
// buckets named <kv_prefix>_* (except the cache and the leases) to dir,
// which must not exist or be empty. Messages keep their sequence numbers
// in the file, so Restore can put them back where the item index expects
// them. Writers may keep publishing: the backup holds the stream up to
// its last sequence at the start.
func (a *App) Backup(ctx context.Context, dir string) (*Manifest, error) {
	if err := emptyDir(dir); err != nil {
		return nil, err
	}
	info, err := a.Stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading stream info: %w", err)
	}
	m := &Manifest{Format: backupFormat, Created: time.Now().UTC(), Version: Version,
		Stream: StreamManifest{Name: info.Config.Name, FirstSeq: info.State.FirstSeq, LastSeq: info.State.LastSeq}}
	if m.Stream.Msgs, err = backupMessages(ctx, a.Stream, filepath.Join(dir, streamFile), info.State); err != nil {
		return nil, err
	}
	if m.Members, err = a.backupMembers(ctx, dir); err != nil {
		return nil, err
	}
	if m.Buckets, err = a.backupBuckets(ctx, dir); err != nil {
		return nil, err
	}
	return m, writeJSONFile(filepath.Join(dir, manifestFile), m)
}

func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("reading backup directory %s: %w", dir, err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("backup directory %s is not empty: choose a new directory", dir)
	}
	if err := os.MkdirAll(filepath.Join(dir, bucketsDir), 0o700); err != nil {
		return fmt.Errorf("creating backup directory %s: %w", dir, err)
	}
	return nil
}

// backupMembers copies the log of grouping records into members.jsonl.
// Restore appends them again: their sequences need not be kept, because
// every process reads them from the start.
func (a *App) backupMembers(ctx context.Context, dir string) (*StreamManifest, error) {
	stream, err := a.JS.Stream(ctx, a.Members.Stream())
	if err != nil {
		return nil, fmt.Errorf("opening stream %s: %w", a.Members.Stream(), err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading stream %s: %w", a.Members.Stream(), err)
	}
	m := &StreamManifest{Name: info.Config.Name, FirstSeq: info.State.FirstSeq, LastSeq: info.State.LastSeq}
	m.Msgs, err = backupMessages(ctx, stream, filepath.Join(dir, membersFile), info.State)
	return m, err
}

// backupMessages copies the messages of stream up to state.LastSeq into
// the file at path through an ordered consumer and returns how many it
// wrote.
func backupMessages(ctx context.Context, stream jetstream.Stream, path string, state jetstream.StreamState) (uint64, error) {
	w, err := newJSONLWriter(path)
	if err != nil {
		return 0, err
	}
	defer w.close()
	if state.Msgs == 0 {
		return 0, w.close()
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   state.FirstSeq,
	})
	if err != nil {
		return 0, fmt.Errorf("creating backup consumer: %w", err)
	}
	var n, last uint64
	for last < state.LastSeq {
		batch, err := cons.Fetch(backupBatch, jetstream.FetchMaxWait(backupMaxWait))
		if err != nil {
			return n, fmt.Errorf("reading stream for backup: %w", err)
		}
		got := 0
		for msg := range batch.Messages() {
			got++
			md, err := msg.Metadata()
			if err != nil {
				return n, fmt.Errorf("reading message metadata: %w", err)
			}
			last = md.Sequence.Stream
			if last > state.LastSeq {
				break
			}
			rec := backupMsg{Seq: last, Subject: msg.Subject(), Time: md.Timestamp, Header: msg.Headers(), Data: msg.Data()}
			if err := w.write(rec); err != nil {
				return n, err
			}
			n++
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return n, fmt.Errorf("reading stream for backup: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return n, err
		}
		if got == 0 {
			// The messages after the last one read were deleted.
			break
		}
	}
	return n, w.close()
}

// backupBuckets copies every bucket of this deployment except the
// skipped ones into kv/<bucket>.jsonl.
func (a *App) backupBuckets(ctx context.Context, dir string) ([]BucketInfo, error) {
	names, err := a.bucketNames(ctx)
	if err != nil {
		return nil, err
	}
	var out []BucketInfo
	for _, name := range names {
		info, err := a.backupBucket(ctx, dir, name)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

func (a *App) bucketNames(ctx context.Context) ([]string, error) {
	prefix := a.Config.NATS.KVPrefix + "_"
	lister := a.JS.KeyValueStoreNames(ctx)
	var names []string
	for name := range lister.Name() {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		if slices.ContainsFunc(skippedBuckets, func(s string) bool { return name == a.Config.NATS.KVPrefix+s }) {
			continue
		}
		names = append(names, name)
	}
	if err := lister.Error(); err != nil {
		return nil, fmt.Errorf("listing kv buckets: %w", err)
	}
	slices.Sort(names)
	return names, nil
}

func (a *App) backupBucket(ctx context.Context, dir, name string) (BucketInfo, error) {
	kv, err := a.JS.KeyValue(ctx, name)
	if err != nil {
		return BucketInfo{}, fmt.Errorf("opening kv bucket %s: %w", name, err)
	}
	status, err := kv.Status(ctx)
	if err != nil {
		return BucketInfo{}, fmt.Errorf("reading kv bucket %s: %w", name, err)
	}
	info := BucketInfo{Name: name, History: uint8(status.History()), TTL: status.TTL()}
	w, err := newJSONLWriter(filepath.Join(dir, bucketsDir, name+".jsonl"))
	if err != nil {
		return info, err
	}
	defer w.close()
	keys, err := kv.ListKeys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return info, w.close()
	}
	if err != nil {
		return info, fmt.Errorf("listing keys of %s: %w", name, err)
	}
	defer func() { _ = keys.Stop() }()
	for key := range keys.Keys() {
		entry, err := kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // expired or deleted since the listing
		}
		if err != nil {
			return info, fmt.Errorf("reading %s in %s: %w", key, name, err)
		}
		if err := w.write(backupEntry{Key: key, Value: entry.Value()}); err != nil {
			return info, err
		}
		info.Keys++
	}
	return info, w.close()
}

// jsonlWriter writes one JSON object per line to a file.
type jsonlWriter struct {
	f      *os.File
	buf    *bufio.Writer
	enc    *json.Encoder
	closed bool
}

func newJSONLWriter(path string) (*jsonlWriter, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating backup file: %w", err)
	}
	buf := bufio.NewWriter(f)
	return &jsonlWriter{f: f, buf: buf, enc: json.NewEncoder(buf)}, nil
}

func (w *jsonlWriter) write(v any) error {
	if err := w.enc.Encode(v); err != nil {
		return fmt.Errorf("writing %s: %w", w.f.Name(), err)
	}
	return nil
}

// close flushes, syncs and closes the file once; later calls return nil.
func (w *jsonlWriter) close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	err := errors.Join(w.buf.Flush(), w.f.Sync(), w.f.Close())
	if err != nil {
		return fmt.Errorf("closing %s: %w", w.f.Name(), err)
	}
	return nil
}

func writeJSONFile(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
