package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/syndic-network/syndic/pipeline"
)

// LocalSubject returns the NATS subject on which the owner of an embedded
// server serves its Local cache. kvPrefix is nats.kv_prefix, so two
// configurations that share a server keep their caches apart.
func LocalSubject(kvPrefix string) string {
	return "_SYNDIC." + kvPrefix + ".ingest-cache"
}

// remoteTimeout bounds a request to the owner when ctx has no deadline.
const remoteTimeout = 10 * time.Second

// localRequests bounds the requests the owner serves at once. A request
// holds a goroutine only while it waits on the bucket.
const localRequests = 64

// remoteBatch is the maximum number of keys Remote reads in one request. A seen value
// takes at most 86 bytes, so a reply stays near 100 KB, well below the
// server's max_payload (1 MiB by default), for any fetch.max_items.
const remoteBatch = 1000

// cacheRequest is one call on the owner's Local cache. Deadline is when
// the requester stops waiting, in Unix milliseconds. The owner and the
// requester share the clock because the embedded server listens on
// loopback only.
type cacheRequest struct {
	Op       string   `json:"op"`
	Keys     []string `json:"keys"`
	Value    string   `json:"value,omitempty"`
	TTL      int64    `json:"ttl_ms,omitempty"`
	Deadline int64    `json:"deadline_ms,omitempty"`
}

// cacheReply is the owner's reply. Error is the text of a failure of the
// owner's cache, empty on success.
type cacheReply struct {
	Values []string `json:"values,omitempty"`
	Found  []bool   `json:"found,omitempty"`
	Won    bool     `json:"won,omitempty"`
	Error  string   `json:"error,omitempty"`
}

// ServeLocal serves the requests of Remote caches from other processes
// with l until the subscription is drained or the connection closed.
func ServeLocal(nc *nats.Conn, subject string, l *Local, log *slog.Logger) (*nats.Subscription, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	slots := make(chan struct{}, localRequests)
	sub, err := nc.Subscribe(subject, func(m *nats.Msg) {
		slots <- struct{}{}
		go func() {
			defer func() { <-slots }()
			out := reply(l, m.Data)
			if int64(len(out)) > nc.MaxPayload() {
				// Without a reply the requester would wait for its timeout.
				log.Warn("ingest cache reply is larger than the server's max_payload", "bytes", len(out), "max_payload", nc.MaxPayload())
				out = []byte(`{"error":"the reply is larger than the server's max_payload; request fewer keys"}`)
			}
			if err := m.Respond(out); err != nil {
				log.Debug("replying to an ingest cache request failed", "error", err)
			}
		}()
	})
	if err != nil {
		return nil, fmt.Errorf("subscribing to %s: %w", subject, err)
	}
	// Subscribe returns before the server has the subscription, and a
	// request that reaches the server first finds no responder.
	if err := nc.Flush(); err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("subscribing to %s: %w", subject, err)
	}
	return sub, nil
}

// reply runs one request and returns the encoded reply. It skips a request
// whose requester has stopped waiting, because the requester counts it as
// failed. A release run that late could also come after its reservation
// expired and drop the reservation of the writer that took the item next.
func reply(l *Local, data []byte) []byte {
	ctx, cancel := context.WithTimeout(context.Background(), remoteTimeout)
	defer cancel()
	var req cacheRequest
	var rep cacheReply
	var err error
	if err = json.Unmarshal(data, &req); err != nil {
		err = fmt.Errorf("decoding ingest cache request: %w", err)
	} else if req.Deadline != 0 && !time.Now().Before(time.UnixMilli(req.Deadline)) {
		err = fmt.Errorf("ingest cache request %q timed out waiting for a free handler of the owner (%d at once); not run", req.Op, localRequests)
	} else {
		if req.Deadline != 0 {
			var cancelRequest context.CancelFunc
			ctx, cancelRequest = context.WithDeadline(ctx, time.UnixMilli(req.Deadline))
			defer cancelRequest()
		}
		rep, err = call(ctx, l, req)
	}
	if err != nil {
		rep = cacheReply{Error: err.Error()}
	}
	out, merr := json.Marshal(rep)
	if merr != nil {
		out = []byte(`{"error":"encoding the reply failed"}`)
	}
	return out
}

func call(ctx context.Context, l *Local, req cacheRequest) (cacheReply, error) {
	ttl := time.Duration(req.TTL) * time.Millisecond
	var rep cacheReply
	var err error
	switch {
	case req.Op == "get_many":
		rep.Values, rep.Found, err = l.GetMany(ctx, req.Keys)
	case len(req.Keys) != 1:
		err = fmt.Errorf("ingest cache request %q needs one key, got %d", req.Op, len(req.Keys))
	case req.Op == "set":
		err = l.Set(ctx, req.Keys[0], req.Value, ttl)
	case req.Op == "remember":
		err = l.RememberSeen(ctx, req.Keys[0], req.Value, ttl)
	case req.Op == "reserve":
		rep.Won, err = l.Reserve(ctx, req.Keys[0], req.Value, ttl)
	case req.Op == "delete":
		err = l.Delete(ctx, req.Keys[0])
	default:
		err = fmt.Errorf("unknown ingest cache request %q", req.Op)
	}
	return rep, err
}

// ownerProbeTimeout bounds OwnerServes. A server with no responder on the
// subject replies at once, so only a busy owner takes long.
const ownerProbeTimeout = 5 * time.Second

// OwnerServes reports whether the owner of an embedded server serves its
// Local cache on subject. It sends a read of no keys: a server without a
// responder replies at once that it has none.
func OwnerServes(ctx context.Context, nc *nats.Conn, subject string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, ownerProbeTimeout)
	defer cancel()
	r := &Remote{nc: nc, subject: subject}
	_, err := r.ask(ctx, cacheRequest{Op: "get_many"})
	switch {
	case errors.Is(err, ErrOwnerSilent):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("checking whether a syndic process serves item reservations on %s: %w", subject, err)
	}
	return true, nil
}

// Remote is the ingest cache of a process that connects to an embedded
// server another process started. The owner holds reservations only in
// its memory, so Remote sends reservations and seen keys to the owner's
// Local cache over NATS. Other keys go to next.
//
// When the owner has no responder (it is stopping, or it is an older
// release that kept reservations in the bucket), the call fails. Falling
// back to the bucket would hide the reservation from the owner.
type Remote struct {
	nc      *nats.Conn
	subject string
	next    pipeline.Cache
	o       LocalOptions
}

// NewRemote returns a Remote cache that sends the keys under o's prefixes
// to the owner on subject.
func NewRemote(nc *nats.Conn, subject string, next pipeline.Cache, o LocalOptions) *Remote {
	return &Remote{nc: nc, subject: subject, next: next, o: o}
}

func (r *Remote) owned(key string) bool {
	return r.o.ReservePrefix != "" && strings.HasPrefix(key, r.o.ReservePrefix) ||
		r.o.SeenPrefix != "" && strings.HasPrefix(key, r.o.SeenPrefix)
}

// ErrOwnerSilent means the process that started the embedded server has
// no responder for the ingest cache.
var ErrOwnerSilent = errors.New("the syndic process that started the embedded NATS server did not reply to the item reservation request: " +
	"it is stopping, or it is an older release; retry once it runs the same release as this command")

func (r *Remote) ask(ctx context.Context, req cacheRequest) (cacheReply, error) {
	var rep cacheReply
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, remoteTimeout)
		defer cancel()
	}
	deadline, _ := ctx.Deadline()
	req.Deadline = deadline.UnixMilli()
	data, err := json.Marshal(req)
	if err != nil {
		return rep, err
	}
	m, err := r.nc.RequestWithContext(ctx, r.subject, data)
	if errors.Is(err, nats.ErrNoResponders) {
		return rep, ErrOwnerSilent
	}
	if err != nil {
		return rep, fmt.Errorf("ingest cache request to the running syndic failed: %w", err)
	}
	if err := json.Unmarshal(m.Data, &rep); err != nil {
		return rep, fmt.Errorf("decoding the running syndic's ingest cache reply: %w", err)
	}
	if rep.Error != "" {
		return rep, fmt.Errorf("running syndic's ingest cache: %s", rep.Error)
	}
	return rep, nil
}

// Get implements pipeline.Cache.
func (r *Remote) Get(ctx context.Context, key string) (string, bool, error) {
	values, found, err := r.GetMany(ctx, []string{key})
	if err != nil {
		return "", false, err
	}
	return values[0], found[0], nil
}

// GetMany implements pipeline.MultiGetter. The owner's keys are read in
// requests of up to remoteBatch keys, and the others from next.
func (r *Remote) GetMany(ctx context.Context, keys []string) ([]string, []bool, error) {
	var own, other []int
	for i, key := range keys {
		if r.owned(key) {
			own = append(own, i)
		} else {
			other = append(other, i)
		}
	}
	values := make([]string, len(keys))
	found := make([]bool, len(keys))
	for start := 0; start < len(own); start += remoteBatch {
		batch := own[start:min(start+remoteBatch, len(own))]
		req := cacheRequest{Op: "get_many", Keys: pick(keys, batch)}
		rep, err := r.ask(ctx, req)
		switch {
		case err != nil:
			return nil, nil, err
		case len(rep.Values) != len(batch) || len(rep.Found) != len(batch):
			return nil, nil, fmt.Errorf("running syndic's ingest cache returned %d values for %d keys", len(rep.Values), len(batch))
		default:
			for j, i := range batch {
				values[i], found[i] = rep.Values[j], rep.Found[j]
			}
		}
	}
	if len(other) > 0 {
		got, ok, err := readMany(ctx, r.next, pick(keys, other))
		if err != nil {
			return nil, nil, err
		}
		for j, i := range other {
			values[i], found[i] = got[j], ok[j]
		}
	}
	return values, found, nil
}

func pick(keys []string, at []int) []string {
	out := make([]string, len(at))
	for j, i := range at {
		out[j] = keys[i]
	}
	return out
}

// Set implements pipeline.Cache.
func (r *Remote) Set(ctx context.Context, key, value string, ttl time.Duration) error {
	if r.owned(key) {
		_, err := r.ask(ctx, cacheRequest{Op: "set", Keys: []string{key}, Value: value, TTL: ttl.Milliseconds()})
		return err
	}
	return r.next.Set(ctx, key, value, ttl)
}

// RememberSeen implements pipeline.SeenRememberer.
func (r *Remote) RememberSeen(ctx context.Context, key, value string, ttl time.Duration) error {
	if r.owned(key) {
		_, err := r.ask(ctx, cacheRequest{Op: "remember", Keys: []string{key}, Value: value, TTL: ttl.Milliseconds()})
		return err
	}
	return r.next.Set(ctx, key, value, ttl)
}

// Reserve implements pipeline.Cache.
func (r *Remote) Reserve(ctx context.Context, key, value string, ttl time.Duration) (bool, error) {
	if r.owned(key) {
		rep, err := r.ask(ctx, cacheRequest{Op: "reserve", Keys: []string{key}, Value: value, TTL: ttl.Milliseconds()})
		return rep.Won, err
	}
	return r.next.Reserve(ctx, key, value, ttl)
}

// Delete implements pipeline.Cache.
func (r *Remote) Delete(ctx context.Context, key string) error {
	if r.owned(key) {
		_, err := r.ask(ctx, cacheRequest{Op: "delete", Keys: []string{key}})
		return err
	}
	return r.next.Delete(ctx, key)
}

var (
	_ pipeline.Cache          = (*Remote)(nil)
	_ pipeline.MultiGetter    = (*Remote)(nil)
	_ pipeline.SeenRememberer = (*Remote)(nil)
)
