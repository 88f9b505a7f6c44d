package tokens_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/broker"
	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/internal/tokens"
)

func newBucket(t *testing.T) jetstream.KeyValue {
	t.Helper()
	srv := testenv.NATS(t)
	js, err := jetstream.New(testenv.Conn(t, srv.URL))
	if err != nil {
		t.Fatalf("creating JetStream context: %v", err)
	}
	kv, err := broker.EnsureKV(context.Background(), js, testenv.Name(t)+"_TOKENS", 1, 0, false)
	if err != nil {
		t.Fatalf("creating token bucket: %v", err)
	}
	return kv
}

// watched returns a store that follows the bucket, as `syndic run` does.
func watched(t *testing.T, kv jetstream.KeyValue) *tokens.Store {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s := tokens.New(kv, nil)
	if err := s.Watch(ctx); err != nil {
		t.Fatalf("watching tokens: %v", err)
	}
	return s
}

func issue(t *testing.T, s *tokens.Store, partner string) (string, tokens.Info) {
	t.Helper()
	token, info, err := s.Issue(context.Background(), partner)
	if err != nil {
		t.Fatalf("issuing a token for %s: %v", partner, err)
	}
	return token, info
}

// eventually polls check until it returns true or five seconds pass.
func eventually(t *testing.T, what string, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after 5s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAuthenticate(t *testing.T) {
	kv := newBucket(t)
	cli := tokens.New(kv, nil)
	running := watched(t, kv)
	tokenA, _ := issue(t, cli, "wipk")
	tokenB, _ := issue(t, cli, "nemunas")
	secretA := tokenA[strings.LastIndex(tokenA, "_")+1:]
	secretB := tokenB[strings.LastIndex(tokenB, "_")+1:]
	cases := []struct {
		name, token, partner string
	}{
		{"partner a's token", tokenA, "wipk"},
		{"partner b's token", tokenB, "nemunas"},
		{"a's secret under b's name", "syn_nemunas_" + secretA, ""},
		{"b's secret under a's name", "syn_wipk_" + secretB, ""},
		{"empty token", "", ""},
		{"missing prefix", strings.TrimPrefix(tokenA, "syn_"), ""},
		{"truncated secret", tokenA[:len(tokenA)-1], ""},
		{"unknown partner", "syn_nobody_" + secretA, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := running.Authenticate(context.Background(), c.token)
			if c.partner == "" {
				if !errors.Is(err, tokens.ErrInvalidToken) {
					t.Errorf("error = %v, want ErrInvalidToken", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("authenticating: %v", err)
			}
			if got != c.partner {
				t.Errorf("partner = %q, want %q", got, c.partner)
			}
		})
	}
}

func TestBucketStoresOnlyHashes(t *testing.T) {
	kv := newBucket(t)
	token, info := issue(t, tokens.New(kv, nil), "wipk")
	entry, err := kv.Get(context.Background(), "wipk")
	if err != nil {
		t.Fatalf("reading the bucket: %v", err)
	}
	secret := token[strings.LastIndex(token, "_")+1:]
	if strings.Contains(string(entry.Value()), secret) {
		t.Error("bucket value contains the token's secret")
	}
	if !strings.Contains(string(entry.Value()), tokens.Hash(token)) {
		t.Error("bucket value lacks the token's hash")
	}
	if info.ID != tokens.Hash(token)[:12] {
		t.Errorf("info id = %q, want the hash's first 12 digits", info.ID)
	}
}

func TestRotation(t *testing.T) {
	kv := newBucket(t)
	cli := tokens.New(kv, nil)
	running := watched(t, kv)
	ctx := context.Background()
	oldToken, oldInfo := issue(t, cli, "wipk")
	newToken, _ := issue(t, cli, "wipk")

	for _, token := range []string{oldToken, newToken} {
		if _, err := running.Authenticate(ctx, token); err != nil {
			t.Errorf("live token rejected during rotation: %v", err)
		}
	}
	if _, _, err := cli.Issue(ctx, "wipk"); !errors.Is(err, tokens.ErrTooManyTokens) {
		t.Errorf("third token: error = %v, want ErrTooManyTokens", err)
	}

	n, err := cli.Revoke(ctx, "wipk", oldInfo.ID)
	if err != nil || n != 1 {
		t.Fatalf("revoking the old token = %d, %v; want 1", n, err)
	}
	eventually(t, "running store rejects the revoked token", func() bool {
		_, err := running.Authenticate(ctx, oldToken)
		return errors.Is(err, tokens.ErrInvalidToken)
	})
	if _, err := running.Authenticate(ctx, newToken); err != nil {
		t.Errorf("new token rejected after the old one was revoked: %v", err)
	}
	if _, err := cli.Revoke(ctx, "wipk", oldInfo.ID); !errors.Is(err, tokens.ErrTokenNotFound) {
		t.Errorf("revoking twice: error = %v, want ErrTokenNotFound", err)
	}
}

func TestRevokeAll(t *testing.T) {
	kv := newBucket(t)
	cli := tokens.New(kv, nil)
	running := watched(t, kv)
	ctx := context.Background()
	first, _ := issue(t, cli, "wipk")
	second, _ := issue(t, cli, "wipk")
	n, err := cli.Revoke(ctx, "wipk", "")
	if err != nil || n != 2 {
		t.Fatalf("revoking every token = %d, %v; want 2", n, err)
	}
	for _, token := range []string{first, second} {
		eventually(t, "running store rejects a revoked token", func() bool {
			_, err := running.Authenticate(ctx, token)
			return errors.Is(err, tokens.ErrInvalidToken)
		})
	}
	live, err := cli.List(ctx, "wipk")
	if err != nil || len(live) != 0 {
		t.Errorf("list after revoking all = %d tokens, %v; want none", len(live), err)
	}
	if _, err := cli.Revoke(ctx, "nobody", ""); !errors.Is(err, tokens.ErrTokenNotFound) {
		t.Errorf("revoking an unknown partner: error = %v, want ErrTokenNotFound", err)
	}
}

func TestWatchSeesTokenIssuedLater(t *testing.T) {
	kv := newBucket(t)
	running := watched(t, kv)
	token, _ := issue(t, tokens.New(kv, nil), "wipk")
	// The read-through accepts the token at once; the watch keeps it.
	got, err := running.Authenticate(context.Background(), token)
	if err != nil || got != "wipk" {
		t.Errorf("token issued after start = %q, %v; want wipk", got, err)
	}
}

// TestRevokeHoldsAtOnceInSameStore checks that a watching store that
// revokes a token rejects it as soon as Revoke returns, without waiting
// for its watcher, as the intake API's own revocation needs.
func TestRevokeHoldsAtOnceInSameStore(t *testing.T) {
	kv := newBucket(t)
	running := watched(t, kv)
	ctx := context.Background()
	for i := range 20 {
		token, info := issue(t, running, "wipk")
		if _, err := running.Authenticate(ctx, token); err != nil {
			t.Fatalf("round %d: fresh token rejected: %v", i, err)
		}
		if _, err := running.Revoke(ctx, "wipk", info.ID); err != nil {
			t.Fatalf("round %d: revoking: %v", i, err)
		}
		if _, err := running.Authenticate(ctx, token); !errors.Is(err, tokens.ErrInvalidToken) {
			t.Fatalf("round %d: revoked token right after Revoke: error = %v, want ErrInvalidToken", i, err)
		}
	}
}
