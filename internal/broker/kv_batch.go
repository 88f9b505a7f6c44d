package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// maxBatchKeys is the maximum number of keys in one batch request.
// nats-server sends at most 1,024 messages in reply to one multi_last
// request (checked in 2.15.3) and returns 413 beyond that, so larger
// reads are split.
const maxBatchKeys = 256

// batchReadTimeout bounds a batch read when ctx has no deadline, as the
// JetStream client's default API timeout does for single reads.
const batchReadTimeout = 5 * time.Second

// ErrBatchReadUnsupported means the server rejected the batch request,
// as a server without multi_last support does. The caller then reads key
// by key.
var ErrBatchReadUnsupported = errors.New("batch direct get not supported by the server")

// KVEntry is one key's latest value and revision as read.
type KVEntry struct {
	Value    []byte
	Revision uint64
}

// KVBatchReader reads the latest value of many keys of one KV bucket in a
// single request: a JetStream direct get with multi_last. The server
// replies with one message per key that exists and an end-of-batch status.
// The bucket must allow direct gets, as buckets created by nats.go do.
type KVBatchReader struct {
	nc      *nats.Conn
	subject string // $JS.API.DIRECT.GET.KV_<bucket>
	prefix  string // $KV.<bucket>.
}

// NewKVBatchReader returns a reader for bucket, sending its requests
// through js.
func NewKVBatchReader(js jetstream.JetStream, bucket string) KVBatchReader {
	return KVBatchReader{
		nc:      js.Conn(),
		subject: apiPrefix(js.Options()) + "DIRECT.GET.KV_" + bucket,
		prefix:  "$KV." + bucket + ".",
	}
}

// apiPrefix returns the JetStream API subject prefix the client uses,
// with its trailing dot.
func apiPrefix(o jetstream.JetStreamOptions) string {
	switch {
	case o.APIPrefix != "":
		return strings.TrimSuffix(o.APIPrefix, ".") + "."
	case o.Domain != "":
		return "$JS." + o.Domain + ".API."
	default:
		return jetstream.DefaultAPIPrefix
	}
}

// GetMany returns the live entries among keys. Absent keys, delete and
// purge markers are left out of the map.
func (r KVBatchReader) GetMany(ctx context.Context, keys []string) (map[string]KVEntry, error) {
	out := make(map[string]KVEntry, len(keys))
	for start := 0; start < len(keys); start += maxBatchKeys {
		chunk := keys[start:min(len(keys), start+maxBatchKeys)]
		if err := r.getChunk(ctx, chunk, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (r KVBatchReader) getChunk(ctx context.Context, keys []string, out map[string]KVEntry) error {
	subjects := make([]string, len(keys))
	for k, key := range keys {
		subjects[k] = r.prefix + key
	}
	req, err := json.Marshal(struct {
		MultiLast []string `json:"multi_last"`
	}{subjects})
	if err != nil {
		return fmt.Errorf("encoding batch read: %w", err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, batchReadTimeout)
		defer cancel()
	}
	// The server sends at most one message per key plus the end-of-batch
	// status, so a channel of that size never fills. SubscribeSync would
	// allocate a channel for 65,536 messages on every read.
	replies := make(chan *nats.Msg, len(keys)+1)
	inbox := r.nc.NewInbox()
	sub, err := r.nc.ChanSubscribe(inbox, replies)
	if err != nil {
		return fmt.Errorf("subscribing for batch read: %w", err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := r.nc.PublishRequest(r.subject, inbox, req); err != nil {
		return fmt.Errorf("sending batch read: %w", err)
	}
	for {
		select {
		case msg := <-replies:
			done, err := r.take(msg, out)
			if done || err != nil {
				return err
			}
		case <-ctx.Done():
			return fmt.Errorf("reading batch read reply: %w", ctx.Err())
		}
	}
}

// take stores one reply message in out and reports whether it ended the
// batch.
func (r KVBatchReader) take(msg *nats.Msg, out map[string]KVEntry) (bool, error) {
	switch status := msg.Header.Get("Status"); status {
	case "":
	case "204":
		// A pending count above zero means the server stopped early, at
		// its byte limit, and some keys went unread.
		if p := msg.Header.Get("Nats-Num-Pending"); p != "" && p != "0" {
			return true, fmt.Errorf("batch read stopped with %s keys pending", p)
		}
		return true, nil
	case "404":
		return true, nil
	case "408":
		return true, fmt.Errorf("%w: %s", ErrBatchReadUnsupported, msg.Header.Get("Description"))
	default:
		return true, fmt.Errorf("batch read failed with status %s %s", status, msg.Header.Get("Description"))
	}
	subject := msg.Header.Get(jetstream.SubjectHeader)
	key, ok := strings.CutPrefix(subject, r.prefix)
	if !ok {
		return false, fmt.Errorf("batch read returned subject %q outside the bucket", subject)
	}
	seq, err := strconv.ParseUint(msg.Header.Get(jetstream.SequenceHeader), 10, 64)
	if err != nil {
		return false, fmt.Errorf("batch read returned key %s without a sequence: %w", key, err)
	}
	if isMarker(msg.Header) {
		return false, nil
	}
	out[key] = KVEntry{Value: msg.Data, Revision: seq}
	return false, nil
}

// isMarker reports whether a stored KV message is a delete or purge
// marker, written by the client (KV-Operation) or by the server when a
// key's TTL ran out (Nats-Marker-Reason).
func isMarker(h nats.Header) bool {
	return h.Get("KV-Operation") != "" || h.Get(jetstream.MarkerReasonHeader) != ""
}
