package digests

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Send-log states.
const (
	// StateClaimed: a worker owns the period until LeaseUntil.
	StateClaimed = "claimed"
	// StateSent: the relay accepted the message.
	StateSent = "sent"
	// StateFailed: the relay rejected the address permanently.
	StateFailed = "failed"
	// StateReleased: a worker gave up after temporary failures, so the
	// next run may claim the period at once.
	StateReleased = "released"
)

// LogEntry is the send-log record of one subscriber, digest and period.
type LogEntry struct {
	State      string    `json:"state"`
	Owner      string    `json:"owner"`
	LeaseUntil time.Time `json:"lease_until,omitzero"`
	MessageID  string    `json:"message_id"`
	// Attempts counts claims, so a takeover after a crash shows as 2.
	Attempts int       `json:"attempts"`
	At       time.Time `json:"at"`
}

// Claim is a live claim on a period, returned by SendLog.Claim.
type Claim struct {
	Key      string
	Entry    LogEntry
	revision uint64
}

// SendLog stores the send state of each subscriber, digest and period in a
// JetStream KV bucket, and uses its compare-and-set writes so that one
// worker at a time owns a period. It is safe for concurrent use.
type SendLog struct {
	kv jetstream.KeyValue
}

// NewSendLog returns a send log on kv.
func NewSendLog(kv jetstream.KeyValue) *SendLog { return &SendLog{kv: kv} }

// LogKey returns the send-log key of a subscriber's period.
func LogKey(digest, period, email string) string {
	return "log." + digest + "." + period + "." + hashEmail(digest, email)
}

// Claim takes the period at key for owner until now+lease. It creates the
// entry, or takes over a released entry or an expired claim. It returns
// an error wrapping ErrPeriodDone when the period was sent or failed for
// good, and ErrClaimed when another worker holds a live lease on it.
func (l *SendLog) Claim(ctx context.Context, key, owner, messageID string, lease time.Duration, now time.Time) (*Claim, error) {
	entry := LogEntry{State: StateClaimed, Owner: owner, LeaseUntil: now.Add(lease), MessageID: messageID, Attempts: 1, At: now}
	rev, err := l.kv.Create(ctx, key, mustJSON(entry))
	if err == nil {
		return &Claim{Key: key, Entry: entry, revision: rev}, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return nil, fmt.Errorf("claiming %s: %w", key, err)
	}
	old, oldRev, err := l.get(ctx, key)
	if err != nil {
		return nil, err
	}
	switch {
	case old.State == StateSent || old.State == StateFailed:
		return nil, fmt.Errorf("%w: %s is %s", ErrPeriodDone, key, old.State)
	case old.State == StateClaimed && now.Before(old.LeaseUntil):
		return nil, fmt.Errorf("%w: %s is claimed by %s until %s", ErrClaimed, key, old.Owner, old.LeaseUntil.Format(time.RFC3339))
	}
	entry.Attempts = old.Attempts + 1
	rev, err = l.kv.Update(ctx, key, mustJSON(entry), oldRev)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return nil, fmt.Errorf("%w: %s was taken over by another worker", ErrClaimed, key)
	}
	if err != nil {
		return nil, fmt.Errorf("taking over %s: %w", key, err)
	}
	return &Claim{Key: key, Entry: entry, revision: rev}, nil
}

// Finish moves a claim to state (StateSent, StateFailed or
// StateReleased). It returns an error wrapping ErrClaimed when another
// worker took the period over after the lease expired.
func (l *SendLog) Finish(ctx context.Context, c *Claim, state string, now time.Time) error {
	entry := c.Entry
	entry.State, entry.LeaseUntil, entry.At = state, time.Time{}, now
	rev, err := l.kv.Update(ctx, c.Key, mustJSON(entry), c.revision)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("%w: %s changed hands before it was marked %s", ErrClaimed, c.Key, state)
	}
	if err != nil {
		return fmt.Errorf("marking %s %s: %w", c.Key, state, err)
	}
	c.Entry, c.revision = entry, rev
	return nil
}

// Get returns the entry at key, or ErrNotFound.
func (l *SendLog) Get(ctx context.Context, key string) (LogEntry, error) {
	e, _, err := l.get(ctx, key)
	return e, err
}

func (l *SendLog) get(ctx context.Context, key string) (LogEntry, uint64, error) {
	kve, err := l.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return LogEntry{}, 0, fmt.Errorf("reading %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return LogEntry{}, 0, fmt.Errorf("reading %s: %w", key, err)
	}
	var e LogEntry
	if err := json.Unmarshal(kve.Value(), &e); err != nil {
		return LogEntry{}, 0, fmt.Errorf("decoding %s: %w", key, err)
	}
	return e, kve.Revision(), nil
}

func mustJSON(v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("digests: encoding %T: %v", v, err)) // only plain structs are encoded
	}
	return data
}
