package app

import (
	"context"
	"net/http"

	"github.com/syndic-network/syndic/internal/broker"
	"github.com/syndic-network/syndic/internal/tokens"
	"github.com/syndic-network/syndic/pipeline"
	"github.com/syndic-network/syndic/workers"
)

// TokenStore opens the partner token bucket <nats.kv_prefix>_TOKENS. The
// store reads the bucket on every check until Watch is called.
func (a *App) TokenStore(ctx context.Context) (*tokens.Store, error) {
	n := a.Config.NATS
	kv, err := broker.EnsureKV(ctx, a.JS, n.KVPrefix+"_TOKENS", n.Replicas, 0, false)
	if err != nil {
		return nil, err
	}
	return tokens.New(kv, a.Log), nil
}

// Retractor returns a retractor that shares the process's ingester.
func (a *App) Retractor() *pipeline.Retractor {
	return pipeline.NewRetractor(a.Ingester, a.Stream)
}

// mountPush adds the partner intake API to mux when push.enabled is set:
// /api/v1/items, /api/v1/items/{id} and /api/v1/openapi.json. The token
// store follows the bucket until ctx ends.
func (a *App) mountPush(ctx context.Context, mux *http.ServeMux) error {
	c := a.Config.Push
	if !c.Enabled {
		return nil
	}
	store, err := a.TokenStore(ctx)
	if err != nil {
		return err
	}
	if err := store.Watch(ctx); err != nil {
		return err
	}
	partners := map[string]workers.PushPartner{}
	for _, p := range a.Config.Partners {
		partners[p.ID] = workers.PushPartner{Language: p.Language, Location: p.Location()}
	}
	h := workers.NewPushHandler(workers.PushOptions{
		Tokens:    store,
		Ingester:  a.Ingester,
		Retractor: a.Retractor(),
		Limiter:   workers.NewRateLimiter(a.Cache, c.Rate, nil),
		Partners:  partners,
		MaxBody:   int64(c.MaxBody),
		MaxItems:  c.MaxItems,
		MaxRate:   c.Rate,
		Logger:    a.Log,
	})
	h.Register(mux)
	mux.Handle("GET /api/v1/openapi.json", workers.OpenAPIHandler())
	return nil
}
