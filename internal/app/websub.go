package app

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/syndic-network/syndic/internal/broker"
	"github.com/syndic-network/syndic/workers"
)

// WebSub timing. Hubs grant leases of days, so hourly renewal rounds find
// every lease well before it ends. Discovery fetches each feed once more
// per round, so it runs daily: hubs rarely change.
const (
	websubRenewEvery    = time.Hour
	websubDiscoverEvery = 24 * time.Hour
)

// mountWebSub mounts the WebSub callbacks under /websub/ and subscribes
// the configured feeds at the hubs they advertise, until ctx ends. It does
// nothing unless http.base_url is a public https URL, because a hub could
// not reach the callbacks otherwise.
func (a *App) mountWebSub(ctx context.Context, mux *http.ServeMux) error {
	ws, err := a.newWebSub(ctx)
	if errors.Is(err, workers.ErrCallbackNotPublic) {
		a.Log.Debug("websub subscriptions off: http.base_url is not a public https URL")
		return nil
	}
	if err != nil {
		return err
	}
	mux.Handle("/websub/", ws.Handler())
	go a.runWebSub(ctx, ws)
	return nil
}

// runWebSub discovers hubs at once and then daily, and renews leases
// hourly.
func (a *App) runWebSub(ctx context.Context, ws *workers.WebSub) {
	ws.Discover(ctx, a.Fetcher, a.Feeds())
	discover := time.NewTicker(websubDiscoverEvery)
	defer discover.Stop()
	renew := time.NewTicker(websubRenewEvery)
	defer renew.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-discover.C:
			ws.Discover(ctx, a.Fetcher, a.Feeds())
		case <-renew.C:
			if err := ws.Renew(ctx); err != nil {
				a.Log.Warn("websub renewal round failed", "error", err)
			}
		}
	}
}

// useSubscriptions lets the poller read the WebSub subscriptions that
// the processes serving the callbacks store, so feeds a reliable hub
// pushes are polled only at the safety interval. Without a public https
// base URL no subscription can exist, and the poller keeps every feed on
// its own schedule.
func (a *App) useSubscriptions(ctx context.Context) error {
	if workers.CheckCallbackBase(a.Config.HTTP.BaseURL) != nil {
		return nil
	}
	ws, err := a.newWebSub(ctx)
	if err != nil {
		return err
	}
	a.Poller.SetSubscriptions(ws)
	return nil
}

// newWebSub returns the WebSub subscriber over the subscriptions bucket,
// which it creates when missing. The error wraps
// workers.ErrCallbackNotPublic when http.base_url is not a public https URL.
func (a *App) newWebSub(ctx context.Context) (*workers.WebSub, error) {
	n := a.Config.NATS
	kv, err := broker.EnsureKV(ctx, a.JS, n.KVPrefix+"_WEBSUB", n.Replicas, 0, false)
	if err != nil {
		return nil, err
	}
	return workers.NewWebSub(workers.WebSubOptions{
		KV:       kv,
		BaseURL:  a.Config.HTTP.BaseURL,
		Ingester: a.Ingester,
		Policies: a.Policies,
		MaxBody:  int64(a.Config.Push.MaxBody),
		Logger:   a.Log,
	})
}
