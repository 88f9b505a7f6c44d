package feeds

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

// DefaultDeliverTimeout bounds one delivery request when HubOptions
// leaves DeliverTimeout zero. WebSub (section 7) states that subscribers SHOULD
// respond to a delivery as quickly as possible, with a success status
// that only acknowledges receipt, so a healthy callback responds well
// within it. The ten seconds leave room for a slow TLS handshake. A
// subscriber that takes longer is retried later instead of holding a
// delivery worker.
const DefaultDeliverTimeout = 10 * time.Second

// HubJob is one notification to send: one item revision for one
// subscription.
type HubJob struct {
	// Key is the Subscription.Key of the subscriber.
	Key string `json:"key"`
	// Host is the host name of the subscriber's callback, in lower case
	// and without a trailing dot, so that the delivery workers can limit
	// the deliveries in flight to one host. Jobs of earlier releases
	// have none, and JobHost looks it up for them.
	Host  string         `json:"host,omitempty"`
	Event pipeline.Event `json:"event"`
}

// HubMeta is the feed-level data the hub needs to render deliveries, the
// same as HandlerOptions carries for the feeds.
type HubMeta struct {
	TagAuthority string
	Partners     map[string]PartnerInfo
	FeedURLs     map[string]string
	// Owners maps partner domains to partners, as HandlerOptions'
	// PartnerDomains does for the feeds.
	Owners PartnerDomains
}

// URL returns the hub endpoint that feeds advertise with rel="hub".
func (h *Hub) URL() string {
	return h.baseURL + "/hub"
}

// Jobs returns one job for every unexpired subscription to a feed of a
// channel that ev passes. Retractions make no jobs, because WebSub has no
// way to withdraw an entry, and neither do copies of a story (DuplicateOf
// set), because the feeds show the story through its origin. A copy whose
// partner owns the domain of its link is the exception: the feeds show it
// in place of the origin, so it is delivered too. The channel's
// MaxItemsPerPartner does not apply, because a delivery carries one item
// and so pushes no other partner's item out of the subscriber's reader.
// Jobs also has no View to count a partner's entries in, because `syndic
// digest` sends the deliveries and keeps no View.
//
// NOTE: an origin is delivered before any copy exists, so when another
// partner published the owner's link first, subscribers get both items.
func (h *Hub) Jobs(ctx context.Context, ev pipeline.Event) ([]HubJob, error) {
	if ev.Kind == pipeline.KindRetracted {
		return nil, nil
	}
	if ev.DuplicateOf != "" && !h.opts.Meta.Owners.ownsLink(ev) {
		return nil, nil
	}
	subs, err := h.opts.Store.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing subscriptions: %w", err)
	}
	now := h.now()
	var jobs []HubJob
	for _, s := range subs {
		if !now.Before(s.Expires) {
			h.dropExpired(ctx, s)
			continue
		}
		t, ok := h.topics[s.Topic]
		if !ok || !t.channel.Filter.Match(ev) {
			continue
		}
		jobs = append(jobs, HubJob{Key: s.Key(), Host: callbackHost(s.Callback), Event: ev})
	}
	return jobs, nil
}

// dropExpired deletes a subscription whose lease ended, so the store does
// not grow with subscribers that never renew. A failure only delays that.
func (h *Hub) dropExpired(ctx context.Context, s Subscription) {
	if err := h.opts.Store.Delete(ctx, s.Key()); err != nil {
		h.log.WarnContext(ctx, "deleting expired subscription failed", "topic", s.Topic, "error", err)
	}
}

// Deliver posts job's entry to the subscriber as a feed document of the
// topic's format with only that entry, which WebSub allows for Atom and RSS
// (section 7) and which never depends on this server's View having caught
// up. It returns nil when the subscriber accepted it and also when there is
// nothing to send: the subscription is gone or expired, or the callback
// answered 410 Gone, which ends the subscription. Any other failure
// returns an error, and the caller retries. The error wraps
// ErrCallbackFailed when the callback caused it.
//
// NOTE: a JSON Feed delivery also holds only the new item, although
// WebSub asks for the full topic content outside Atom and RSS.
func (h *Hub) Deliver(ctx context.Context, job HubJob) error {
	sub, err := h.opts.Store.Get(ctx, job.Key)
	if errors.Is(err, ErrSubscriptionNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading subscription %s: %w", job.Key, err)
	}
	t, ok := h.topics[sub.Topic]
	if !ok || !h.now().Before(sub.Expires) {
		return nil
	}
	body, err := t.format.render(h.deliveryMeta(t, sub.Topic), []pipeline.Event{job.Event})
	if err != nil {
		return fmt.Errorf("rendering delivery for %s: %w", sub.Topic, err)
	}
	status, err := h.post(ctx, sub, t, body)
	if err != nil {
		return err
	}
	switch {
	case status/100 == 2:
		return nil
	case status == http.StatusGone:
		if err := h.opts.Store.Delete(ctx, job.Key); err != nil {
			return fmt.Errorf("deleting subscription %s after 410: %w", job.Key, err)
		}
		return nil
	default:
		return fmt.Errorf("delivering to callback host %s: %w: status %d", callbackHost(sub.Callback), ErrCallbackFailed, status)
	}
}

// JobHost returns the callback host of job: its Host, or for a job
// without one the host of the stored subscription. It returns "" when the
// subscription is gone or cannot be read, and Deliver then decides.
func (h *Hub) JobHost(ctx context.Context, job HubJob) string {
	if job.Host != "" {
		return job.Host
	}
	sub, err := h.opts.Store.Get(ctx, job.Key)
	if err != nil {
		return ""
	}
	return callbackHost(sub.Callback)
}

// EndSubscription deletes the subscription under key because deliveries
// to it kept failing. WebSub (section 7) has the hub end a subscription
// whose failing delivery exceeds the hub's retry limits. The subscriber
// gets it back by subscribing again.
func (h *Hub) EndSubscription(ctx context.Context, key string) error {
	if err := h.opts.Store.Delete(ctx, key); err != nil {
		return fmt.Errorf("ending subscription %s: %w", key, err)
	}
	return nil
}

func (h *Hub) deliveryMeta(t topic, topicURL string) Meta {
	return Meta{
		ID:           t.channel.ID,
		Title:        t.channel.Title,
		Description:  t.channel.Description,
		SiteURL:      h.baseURL + "/",
		SelfURL:      topicURL,
		HubURL:       h.URL(),
		Language:     t.channel.language(),
		TagAuthority: h.opts.Meta.TagAuthority,
		Partners:     h.opts.Meta.Partners,
		FeedURLs:     h.opts.Meta.FeedURLs,
	}
}

// post sends body to the callback and returns the response status.
func (h *Hub) post(ctx context.Context, sub Subscription, t topic, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, h.opts.DeliverTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.Callback, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("building delivery request: %w", err)
	}
	req.Header.Set("Content-Type", t.format.contentType)
	req.Header.Add("Link", "<"+h.URL()+">; rel=\"hub\"")
	req.Header.Add("Link", "<"+sub.Topic+">; rel=\"self\"")
	if sub.Secret != "" {
		req.Header.Set("X-Hub-Signature", Signature(sub.Secret, body))
	}
	resp, err := h.opts.Client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("delivering to callback host %s: %w: %w", callbackHost(sub.Callback), ErrCallbackFailed, err)
	}
	defer resp.Body.Close()
	// Drain a little so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// Signature returns the X-Hub-Signature value of body: "sha256=" and the
// hex HMAC-SHA256 of body keyed with secret (WebSub section 8).
func Signature(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// callbackHost returns the host name of callback as limitHost spells it,
// or "" when callback does not parse.
func callbackHost(callback string) string {
	u, err := parseCallback(callback)
	if err != nil {
		return ""
	}
	return limitHost(u)
}
