package app

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// maxBackupLine bounds one line of a backup file: an item event or KV
// value of up to 8 MiB, base64-encoded, with its JSON envelope. NATS
// messages default to 1 MiB, so this leaves room for raised limits.
const maxBackupLine = 12 << 20

// gapSubject is the subject of the filler messages that Restore publishes
// and deletes at once to keep sequence numbers aligned across gaps.
const gapSubject = "_restore_gap"

// Restore puts a backup made by Backup into this deployment: the stream
// messages at their original sequence numbers and the KV entries. The
// stream must be empty, so a restore never mixes two histories; KV
// entries overwrite keys of the same name. Message timestamps become the
// time of the restore, because JetStream assigns them on publish, which
// delays expiry by max age for old events.
//
// NOTE: per-key TTLs are not in the backup, so restored entries of a
// bucket with per-key TTLs, such as pending digest sign-ups, live until
// the bucket's own max age.
func (a *App) Restore(ctx context.Context, dir string) (*Manifest, error) {
	var m Manifest
	data, err := os.ReadFile(filepath.Join(dir, manifestFile))
	if err != nil {
		return nil, fmt.Errorf("reading backup manifest: %w", err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decoding backup manifest: %w", err)
	}
	if m.Format != backupFormat {
		return nil, fmt.Errorf("backup format %d is not supported: restore it with the syndic release that wrote it (%s)", m.Format, m.Version)
	}
	if err := a.restoreStream(ctx, dir, m.Stream); err != nil {
		return nil, err
	}
	if m.Members != nil {
		if err := a.restoreMembers(ctx, dir); err != nil {
			return nil, err
		}
	}
	for _, b := range m.Buckets {
		if err := a.restoreBucket(ctx, dir, b); err != nil {
			return nil, err
		}
	}
	return &m, nil
}

func (a *App) restoreStream(ctx context.Context, dir string, sm StreamManifest) error {
	info, err := a.Stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("reading stream info: %w", err)
	}
	if info.State.LastSeq != 0 {
		return fmt.Errorf("stream %s already holds messages up to sequence %d: restore into an empty deployment (on one machine, stop syndic run and move its data_dir aside; on a cluster, use a new cluster or stream name)", info.Config.Name, info.State.LastSeq)
	}
	if sm.FirstSeq > 1 {
		// Purging an empty stream up to a sequence moves its first
		// sequence there, so the leading gap costs no fillers.
		if err := a.Stream.Purge(ctx, jetstream.WithPurgeSequence(sm.FirstSeq)); err != nil {
			return fmt.Errorf("moving the first sequence of %s to %d: %w", info.Config.Name, sm.FirstSeq, err)
		}
	}
	next := max(sm.FirstSeq, 1)
	return readJSONL(filepath.Join(dir, streamFile), func(raw []byte) error {
		var rec backupMsg
		if err := json.Unmarshal(raw, &rec); err != nil {
			return fmt.Errorf("decoding stream backup: %w", err)
		}
		for ; next < rec.Seq; next++ {
			if err := a.fillGap(ctx, next); err != nil {
				return err
			}
		}
		if err := a.publishAt(ctx, &nats.Msg{Subject: rec.Subject, Header: rec.Header, Data: rec.Data}, rec.Seq); err != nil {
			return err
		}
		next = rec.Seq + 1
		return nil
	})
}

// restoreMembers appends the grouping records of members.jsonl to the
// log, stamped with the time of the restore. The restored events take
// that time too, so both expire a max age after the restore. A record
// that kept the first stored time in the backup would leave the grouping
// before its event leaves the stream.
func (a *App) restoreMembers(ctx context.Context, dir string) error {
	return readJSONL(filepath.Join(dir, membersFile), func(raw []byte) error {
		var rec backupMsg
		if err := json.Unmarshal(raw, &rec); err != nil {
			return fmt.Errorf("decoding grouping record backup: %w", err)
		}
		if _, err := a.Members.Append(ctx, rec.Data, "", time.Time{}); err != nil {
			return fmt.Errorf("restoring grouping record %d: %w", rec.Seq, err)
		}
		return nil
	})
}

// publishAt publishes msg and checks that it got sequence seq. The
// expected-last-sequence header makes a concurrent writer fail the
// publish instead of shifting every later sequence.
//
// A backup can hold two events with one Nats-Msg-Id: a writer that
// crashed between a publish and its index write sends the same revision
// again, and after the duplicate window the stream stores it twice. The
// restore publishes both within one window, where the stream drops the
// second as a duplicate without storing it. So publishAt publishes that
// copy again without the id, at the same sequence.
func (a *App) publishAt(ctx context.Context, msg *nats.Msg, seq uint64) error {
	ack, err := a.JS.PublishMsg(ctx, msg, jetstream.WithExpectLastSequence(seq-1))
	if err == nil && ack.Duplicate && msg.Header.Get(jetstream.MsgIDHeader) != "" {
		msg = &nats.Msg{Subject: msg.Subject, Header: maps.Clone(msg.Header), Data: msg.Data}
		msg.Header.Del(jetstream.MsgIDHeader)
		ack, err = a.JS.PublishMsg(ctx, msg, jetstream.WithExpectLastSequence(seq-1))
	}
	if err != nil {
		return fmt.Errorf("restoring message %d: %w", seq, err)
	}
	if ack.Sequence != seq || ack.Duplicate {
		return fmt.Errorf("restoring message %d: stored at sequence %d (duplicate %t), so sequences no longer match the item index", seq, ack.Sequence, ack.Duplicate)
	}
	return nil
}

// fillGap publishes a filler at seq and deletes it, recreating a gap left
// by a deleted message.
func (a *App) fillGap(ctx context.Context, seq uint64) error {
	msg := &nats.Msg{Subject: a.Config.NATS.SubjectPrefix + "." + gapSubject, Header: nats.Header{}}
	if err := a.publishAt(ctx, msg, seq); err != nil {
		return err
	}
	if err := a.Stream.DeleteMsg(ctx, seq); err != nil {
		return fmt.Errorf("deleting gap filler %d: %w", seq, err)
	}
	return nil
}

func (a *App) restoreBucket(ctx context.Context, dir string, b BucketInfo) error {
	kv, err := a.JS.KeyValue(ctx, b.Name)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = a.JS.CreateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: b.Name, History: b.History, TTL: b.TTL,
			Storage: jetstream.FileStorage, Replicas: max(a.Config.NATS.Replicas, 1),
		})
	}
	if err != nil {
		return fmt.Errorf("opening kv bucket %s: %w", b.Name, err)
	}
	return readJSONL(filepath.Join(dir, bucketsDir, b.Name+".jsonl"), func(raw []byte) error {
		var e backupEntry
		if err := json.Unmarshal(raw, &e); err != nil {
			return fmt.Errorf("decoding backup of %s: %w", b.Name, err)
		}
		if _, err := kv.Put(ctx, e.Key, e.Value); err != nil {
			return fmt.Errorf("restoring %s in %s: %w", e.Key, b.Name, err)
		}
		return nil
	})
}

// readJSONL calls fn with each line of the file at path.
func readJSONL(path string, fn func([]byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("opening backup file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxBackupLine)
	for sc.Scan() {
		if err := fn(sc.Bytes()); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return nil
}
