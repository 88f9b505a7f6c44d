package pipeline

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// Policies stores per-feed identity policy in a durable JetStream KV
// bucket. Today the only policy is "link keys": once a feed is seen
// repeating GUIDs, its items are keyed by canonical link from then on, even
// in later documents whose GUIDs happen to be unique, so ids never flip
// between the two rules.
type Policies struct {
	kv jetstream.KeyValue
}

// NewPolicies returns a policy store on kv.
func NewPolicies(kv jetstream.KeyValue) *Policies {
	return &Policies{kv: kv}
}

func policyKey(partner, feed string) string {
	return "policy.linkkeys." + partner + "." + feed
}

// LinkKeys reports whether the feed uses link keys.
func (p *Policies) LinkKeys(ctx context.Context, partner, feed string) (bool, error) {
	_, err := p.kv.Get(ctx, policyKey(partner, feed))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading identity policy of feed %s/%s: %w", partner, feed, err)
	}
	return true, nil
}

// SetLinkKeys switches the feed to link keys for good.
func (p *Policies) SetLinkKeys(ctx context.Context, partner, feed string) error {
	if _, err := p.kv.Put(ctx, policyKey(partner, feed), []byte("1")); err != nil {
		return fmt.Errorf("storing identity policy of feed %s/%s: %w", partner, feed, err)
	}
	return nil
}
