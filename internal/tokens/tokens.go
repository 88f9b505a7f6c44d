// Package tokens issues, revokes and checks the bearer tokens that partners
// use on the intake API. Tokens live in a JetStream KV bucket, one key per
// partner, and the bucket stores only their SHA-256 hashes. A token is 32
// random bytes, so a plain hash resists guessing as well as a slow password
// hash would, and checking it costs microseconds.
package tokens

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// MaxLive is how many tokens one partner may hold at once: the current one
// and its successor while the partner rotates.
const MaxLive = 2

// tokenPrefix starts every token, so that secret scanners and people can
// tell a Syndic token from other strings. The partner id follows, then an
// underscore and the secret.
const tokenPrefix = "syn_"

// secretBytes is the length of the random part: 256 bits.
const secretBytes = 32

// maxUpdateAttempts bounds the compare-and-set loop of Issue and Revoke,
// which repeats only when another process changed the same partner's key
// in between.
const maxUpdateAttempts = 5

// Info describes one live token without its secret.
type Info struct {
	// ID is the first 12 hex digits of the token's hash. It names the
	// token in Revoke and in logs.
	ID     string    `json:"id"`
	Hash   string    `json:"hash"`
	Issued time.Time `json:"issued"`
}

// record is the value stored under a partner's key.
type record struct {
	Tokens []Info `json:"tokens"`
}

type cached struct {
	rec      record
	revision uint64
}

// Store checks tokens against the bucket. After Watch, it keeps every
// partner's hashes in memory and follows changes to the bucket, so a
// running process accepts issued tokens and rejects revoked ones without
// a restart. It is safe for concurrent use.
type Store struct {
	kv  jetstream.KeyValue
	log *slog.Logger

	mu       sync.RWMutex
	byKey    map[string]cached
	watching bool
}

// New returns a store on kv. Without Watch every Authenticate reads the
// bucket.
func New(kv jetstream.KeyValue, log *slog.Logger) *Store {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Store{kv: kv, log: log, byKey: map[string]cached{}}
}

// Hash returns the hex SHA-256 of token, the form the bucket stores.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// partnerOf returns the partner id written in token, or false when token
// does not have the shape Issue gives it.
func partnerOf(token string) (string, bool) {
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok {
		return "", false
	}
	partner, secret, ok := strings.Cut(rest, "_")
	if !ok || partner == "" || len(secret) != base64.RawURLEncoding.EncodedLen(secretBytes) {
		return "", false
	}
	return partner, true
}

// Authenticate returns the partner that token belongs to. The partner
// written in the token only selects which stored hashes to compare, so a
// token names its partner only when the hash stored under that partner
// matches. A token the in-memory copy does not know is checked against the
// bucket once more, so a token issued a moment ago works at once.
//
// The error wraps ErrInvalidToken for a malformed, unknown or revoked
// token, or is a bucket failure.
func (s *Store) Authenticate(ctx context.Context, token string) (string, error) {
	partner, ok := partnerOf(token)
	if !ok {
		return "", ErrInvalidToken
	}
	hash := Hash(token)
	s.mu.RLock()
	c, known := s.byKey[partner]
	watching := s.watching
	s.mu.RUnlock()
	if watching && known && matches(c.rec, hash) {
		return partner, nil
	}
	rec, _, err := s.read(ctx, partner)
	if err != nil {
		return "", err
	}
	if !matches(rec, hash) {
		return "", ErrInvalidToken
	}
	return partner, nil
}

// matches compares hash with every stored hash in constant time, and
// compares all of them, so the time taken does not tell which one matched.
func matches(rec record, hash string) bool {
	found := 0
	for _, t := range rec.Tokens {
		found |= subtle.ConstantTimeCompare([]byte(t.Hash), []byte(hash))
	}
	return found == 1
}

// read returns the record of partner and its revision, an empty record
// with revision 0 when there is none.
func (s *Store) read(ctx context.Context, partner string) (record, uint64, error) {
	entry, err := s.kv.Get(ctx, partner)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return record{}, 0, nil
	}
	if err != nil {
		return record{}, 0, fmt.Errorf("reading tokens of partner %s: %w", partner, err)
	}
	var rec record
	if err := json.Unmarshal(entry.Value(), &rec); err != nil {
		return record{}, 0, fmt.Errorf("decoding tokens of partner %s: %w", partner, err)
	}
	return rec, entry.Revision(), nil
}

// List returns the live tokens of partner, oldest first.
func (s *Store) List(ctx context.Context, partner string) ([]Info, error) {
	rec, _, err := s.read(ctx, partner)
	return rec.Tokens, err
}

// Issue creates a token for partner and returns it with its Info. The
// token is returned only here: the bucket keeps its hash alone. The error
// wraps ErrTooManyTokens when the partner already has MaxLive tokens.
func (s *Store) Issue(ctx context.Context, partner string) (string, Info, error) {
	secret := make([]byte, secretBytes)
	if _, err := rand.Read(secret); err != nil {
		return "", Info{}, fmt.Errorf("reading random bytes for partner %s: %w", partner, err)
	}
	token := tokenPrefix + partner + "_" + base64.RawURLEncoding.EncodeToString(secret)
	hash := Hash(token)
	info := Info{ID: hash[:12], Hash: hash, Issued: time.Now().UTC()}
	err := s.update(ctx, partner, func(rec *record) error {
		if len(rec.Tokens) >= MaxLive {
			return fmt.Errorf("issuing a token for partner %s: %w (%d); revoke one first", partner, ErrTooManyTokens, MaxLive)
		}
		rec.Tokens = append(rec.Tokens, info)
		return nil
	})
	if err != nil {
		return "", Info{}, err
	}
	return token, info, nil
}

// Revoke removes the token of partner whose Info.ID is id, or every token
// of partner when id is empty, and returns how many it removed. The error
// wraps ErrTokenNotFound when nothing matched.
func (s *Store) Revoke(ctx context.Context, partner, id string) (int, error) {
	removed := 0
	err := s.update(ctx, partner, func(rec *record) error {
		remaining := rec.Tokens[:0]
		removed = 0
		for _, t := range rec.Tokens {
			if id == "" || t.ID == id {
				removed++
				continue
			}
			remaining = append(remaining, t)
		}
		if removed == 0 {
			return fmt.Errorf("revoking token %q of partner %s: %w", id, partner, ErrTokenNotFound)
		}
		rec.Tokens = remaining
		return nil
	})
	return removed, err
}

// update applies change to the record of partner with compare-and-set,
// reading again when another process wrote the key in between.
func (s *Store) update(ctx context.Context, partner string, change func(*record) error) error {
	for range maxUpdateAttempts {
		rec, rev, err := s.read(ctx, partner)
		if err != nil {
			return err
		}
		if err := change(&rec); err != nil {
			return err
		}
		err = s.write(ctx, partner, rec, rev)
		if !errors.Is(err, jetstream.ErrKeyExists) && !isWrongSequence(err) {
			return err
		}
	}
	return fmt.Errorf("updating tokens of partner %s: other writers changed them %d times in a row; try again", partner, maxUpdateAttempts)
}

func (s *Store) write(ctx context.Context, partner string, rec record, rev uint64) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encoding tokens of partner %s: %w", partner, err)
	}
	var written uint64
	if rev == 0 {
		written, err = s.kv.Create(ctx, partner, data)
	} else {
		written, err = s.kv.Update(ctx, partner, data, rev)
	}
	if err != nil {
		return fmt.Errorf("writing tokens of partner %s: %w", partner, err)
	}
	// The watcher would bring the change in a moment later; taking it now
	// makes a revocation hold in this process from the time Revoke returns.
	s.mu.Lock()
	if cur, ok := s.byKey[partner]; !ok || cur.revision < written {
		s.byKey[partner] = cached{rec: rec, revision: written}
	}
	s.mu.Unlock()
	return nil
}

// isWrongSequence reports whether err is the server's rejection of an
// Update whose expected revision is no longer the latest.
func isWrongSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

// Bucket returns the KV bucket the store reads.
func (s *Store) Bucket() jetstream.KeyValue { return s.kv }
