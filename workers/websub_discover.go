package workers

import (
	"context"
	"net/url"
	"strings"

	"github.com/syndic-network/syndic/pipeline"
)

// Discover fetches each feed once, reads the hubs it advertises with
// rel="hub", and subscribes at the first https hub. A feed that no
// longer names its hub is unsubscribed. An active subscription at the same
// hub is left to Renew, so running Discover daily sends nothing new to a
// hub that keeps its subscribers.
//
// Discover returns when every feed was tried or ctx ended. Failures are
// logged per feed and never stop the round.
func (w *WebSub) Discover(ctx context.Context, fetcher *Fetcher, feeds []Feed) {
	for _, f := range feeds {
		if ctx.Err() != nil {
			return
		}
		w.discoverOne(ctx, fetcher, f)
	}
}

func (w *WebSub) discoverOne(ctx context.Context, fetcher *Fetcher, f Feed) {
	log := w.o.Logger.With("partner", f.Partner, "feed_id", f.ID, "feed_url", pipeline.PublicFeedURL(f.URL))
	res := fetcher.Fetch(ctx, FetchRequest{URL: f.URL, AllowPrivateNetwork: f.AllowPrivateNetwork})
	if res.Outcome != OutcomeNewContent {
		log.Debug("websub discovery fetch failed", "error", res.Err)
		return
	}
	parsed, err := pipeline.ParseFeed(res.Body, res.ContentType, pipeline.Source{Partner: f.Partner, Feed: f.ID, FeedURL: f.URL}, w.o.Now())
	if err != nil {
		log.Debug("websub discovery parse failed", "error", err)
		return
	}
	hub := firstHub(parsed.Hubs, w.o.AllowInsecureCallback)
	sub, _, err := w.load(ctx, f.Partner, f.ID)
	if err != nil {
		log.Warn("reading websub subscription failed", "error", err)
		return
	}
	switch {
	case hub == "" && sub != nil && sub.State != subUnsubscribe:
		err = w.Unsubscribe(ctx, f)
	case hub == "":
		return
	case sub != nil && sub.Hub == hub && sub.State == subActive:
		return
	default:
		err = w.Subscribe(ctx, f, hub, f.URL)
	}
	if err != nil {
		log.Warn("websub subscription request failed", "hub", hub, "error", err)
	}
}

// firstHub returns the first https hub URL, or "". Subscribe sends the
// secret to the hub, so a plain http hub is used only when allowHTTP is
// set, as in tests against a loopback hub.
func firstHub(hubs []string, allowHTTP bool) string {
	for _, h := range hubs {
		u, err := url.Parse(strings.TrimSpace(h))
		if err == nil && u.Host != "" && (u.Scheme == "https" || allowHTTP && u.Scheme == "http") {
			return u.String()
		}
	}
	return ""
}
