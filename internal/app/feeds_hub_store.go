package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/feeds"
	"github.com/syndic-network/syndic/internal/broker"
	"github.com/syndic-network/syndic/workers"
)

// kvSubscriptions keeps WebSub subscriptions in a JetStream KV bucket, one
// JSON value per Subscription.Key, so every feed server sees the same
// subscribers.
type kvSubscriptions struct {
	kv jetstream.KeyValue
}

func (s kvSubscriptions) Put(ctx context.Context, sub feeds.Subscription) error {
	_, err := s.put(ctx, sub)
	return err
}

// put stores sub and returns the revision it got.
func (s kvSubscriptions) put(ctx context.Context, sub feeds.Subscription) (uint64, error) {
	data, err := json.Marshal(sub)
	if err != nil {
		return 0, fmt.Errorf("encoding subscription: %w", err)
	}
	rev, err := s.kv.Put(ctx, sub.Key(), data)
	if err != nil {
		return 0, fmt.Errorf("storing subscription %s: %w", sub.Key(), err)
	}
	return rev, nil
}

func (s kvSubscriptions) Get(ctx context.Context, key string) (feeds.Subscription, error) {
	entry, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return feeds.Subscription{}, fmt.Errorf("reading subscription %s: %w", key, feeds.ErrSubscriptionNotFound)
	}
	if err != nil {
		return feeds.Subscription{}, fmt.Errorf("reading subscription %s: %w", key, err)
	}
	var sub feeds.Subscription
	if err := json.Unmarshal(entry.Value(), &sub); err != nil {
		return feeds.Subscription{}, fmt.Errorf("decoding subscription %s: %w", key, err)
	}
	return sub, nil
}

func (s kvSubscriptions) Delete(ctx context.Context, key string) error {
	if err := s.kv.Delete(ctx, key); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("deleting subscription %s: %w", key, err)
	}
	return nil
}

// List reads every key, one request per subscription. The fan-out, which
// lists once per new item, uses watchedSubscriptions instead.
func (s kvSubscriptions) List(ctx context.Context) ([]feeds.Subscription, error) {
	lister, err := s.kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing subscriptions: %w", err)
	}
	defer func() { _ = lister.Stop() }()
	var out []feeds.Subscription
	for key := range lister.Keys() {
		sub, err := s.Get(ctx, key)
		if errors.Is(err, feeds.ErrSubscriptionNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, nil
}

var _ feeds.SubscriptionStore = kvSubscriptions{}

// hubClient returns the HTTP client for verification and delivery
// requests. It dials through the SSRF guard, because callback URLs come
// from anyone, and follows no redirects, so a 3xx answer counts as a
// failed delivery.
func (a *App) hubClient() *http.Client {
	dialer := workers.NewGuardedDialer(a.Config.Fetch.AllowPrivateNetworks)
	return &http.Client{
		Timeout: time.Minute,
		Transport: &http.Transport{
			DialContext:         dialer.DialContext,
			TLSHandshakeTimeout: 10 * time.Second,
			MaxIdleConnsPerHost: 2,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// hubURL returns the URL that mountHub serves the hub at.
func hubURL(baseURL string) string {
	return strings.TrimRight(baseURL, "/") + "/hub"
}

// subscriptionBucket opens the WebSub subscriptions bucket.
func (a *App) subscriptionBucket(ctx context.Context) (jetstream.KeyValue, error) {
	n := a.Config.NATS
	kv, err := broker.EnsureKV(ctx, a.JS, n.KVPrefix+"_WEBSUB", n.Replicas, 0, false)
	if err != nil {
		return nil, fmt.Errorf("opening WebSub bucket: %w", err)
	}
	return kv, nil
}

// newHub returns a hub for the configured channels that keeps its
// subscriptions in store. The caller closes it.
func (a *App) newHub(store feeds.SubscriptionStore, meta feeds.HubMeta) (*feeds.Hub, error) {
	return feeds.NewHub(feeds.HubOptions{
		Store:  store,
		Client: a.hubClient(),
		CheckCallbackIP: func(ip netip.Addr) error {
			return workers.CheckAddress(ip, a.Config.Fetch.AllowPrivateNetworks)
		},
		BaseURL:  a.Config.HTTP.BaseURL,
		Channels: a.Channels(),
		Meta:     meta,
		Logger:   a.Log,
	})
}

// mountHub mounts the WebSub hub at /hub, which takes subscription
// requests and verifies them until ctx ends. Deliveries to subscribers
// run in the digest workers (RunHubDeliveries), not here.
func (a *App) mountHub(ctx context.Context, mux *http.ServeMux, meta feeds.HubMeta) error {
	kv, err := a.subscriptionBucket(ctx)
	if err != nil {
		return err
	}
	// This hub only takes subscription requests and never lists them.
	hub, err := a.newHub(kvSubscriptions{kv: kv}, meta)
	if err != nil {
		return err
	}
	go func() {
		<-ctx.Done()
		hub.Close()
	}()
	mux.Handle("/hub", hub)
	return nil
}
