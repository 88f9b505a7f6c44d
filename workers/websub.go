package workers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// WebSub defaults for WebSubOptions fields left at zero.
const (
	// defaultLeaseSeconds is the lease Syndic requests: ten days. Hubs
	// may grant less, and renewal follows the granted lease.
	defaultLeaseSeconds = 10 * 24 * 60 * 60
	// defaultSafetyInterval is how often a feed with a reliable hub is
	// still polled, to catch deliveries the hub dropped.
	defaultSafetyInterval = 6 * time.Hour
	// hubRequestTimeout bounds one subscribe request to a hub.
	hubRequestTimeout = 30 * time.Second
	// defaultDeliveryMaxBody caps one content delivery, as push.max_body
	// caps one intake request.
	defaultDeliveryMaxBody = 1 << 20
)

var (
	// ErrCallbackNotPublic is returned by NewWebSub when http.base_url is
	// not a public https URL, so no hub could deliver to it.
	ErrCallbackNotPublic = errors.New("websub callback base URL is not public https")

	// ErrHubRejected is returned by Subscribe and Unsubscribe when the hub
	// responds with a status other than 2xx.
	ErrHubRejected = errors.New("websub hub rejected the request")
)

// Subscription states.
const (
	subPending     = "pending"     // subscribe sent, intent not yet verified
	subActive      = "active"      // verified, lease running
	subDenied      = "denied"      // the hub refused the subscription
	subUnsubscribe = "unsubscribe" // unsubscribe sent, waiting for the hub
)

// Subscription is one WebSub subscription of one feed, stored as JSON in
// the subscription bucket under "<partner>.<feed>". Secret signs the hub's
// deliveries, so it is stored as it is, unlike API tokens.
type Subscription struct {
	Partner  string `json:"partner"`
	Feed     string `json:"feed"`
	FeedURL  string `json:"feed_url"`
	Hub      string `json:"hub"`
	Topic    string `json:"topic"`
	Language string `json:"language,omitempty"`
	Timezone string `json:"timezone,omitempty"`
	// CallbackToken is the last path segment of the callback URL, 128
	// random bits, so that no one but the hub can find the callback.
	CallbackToken string    `json:"callback_token"`
	Secret        string    `json:"secret"`
	State         string    `json:"state"`
	LeaseUntil    time.Time `json:"lease_until,omitzero"`
	// Unreliable is set when a safety poll found items that the hub never
	// delivered. The feed is then polled on its normal schedule.
	Unreliable   bool      `json:"unreliable,omitempty"`
	LastDelivery time.Time `json:"last_delivery,omitzero"`
}

func subscriptionKey(partner, feed string) string { return partner + "." + feed }

// WebSubOptions configures a WebSub subscriber.
type WebSubOptions struct {
	// KV is the subscription bucket.
	KV jetstream.KeyValue
	// BaseURL is http.base_url. Callbacks live under <BaseURL>/websub/.
	BaseURL string
	// AllowInsecureCallback accepts a BaseURL that is not a public https
	// URL, and plain http hubs in Discover. Only tests against a loopback
	// hub set it.
	AllowInsecureCallback bool
	// AllowPrivateHubs lets hub requests reach loopback and private
	// addresses. Only tests set it.
	AllowPrivateHubs bool
	Ingester         ItemIngester
	// Policies returns whether a feed uses link keys, so delivered items
	// get the ids their polled copies get. Nil means GUID keys.
	Policies       LinkKeyPolicies
	LeaseSeconds   int
	SafetyInterval time.Duration
	MaxBody        int64
	// Client sends hub requests. Nil means a client that dials only
	// through the SSRF guard.
	Client *http.Client
	Logger *slog.Logger
	Now    func() time.Time
}

// LinkKeyPolicies reports whether items of a feed are keyed by link, as
// pipeline.Policies does.
type LinkKeyPolicies interface {
	LinkKeys(ctx context.Context, partner, feed string) (bool, error)
}

// WebSub subscribes feeds at their hubs, verifies the hubs' intent checks,
// takes in signed content deliveries and renews leases. It is safe for
// concurrent use.
//
// NOTE: the poller does not consult PollInterval or call SafetyPolled yet,
// so a subscribed feed is still polled on its normal schedule and hub
// deliveries only make its items arrive sooner.
type WebSub struct {
	o WebSubOptions
}

// NewWebSub returns a subscriber. The error wraps ErrCallbackNotPublic when
// BaseURL is not a public https URL, since a hub could not reach it.
func NewWebSub(o WebSubOptions) (*WebSub, error) {
	if !o.AllowInsecureCallback {
		if err := checkPublicBase(o.BaseURL); err != nil {
			return nil, err
		}
	}
	if o.LeaseSeconds <= 0 {
		o.LeaseSeconds = defaultLeaseSeconds
	}
	if o.SafetyInterval <= 0 {
		o.SafetyInterval = defaultSafetyInterval
	}
	if o.MaxBody <= 0 {
		o.MaxBody = defaultDeliveryMaxBody
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: hubRequestTimeout, Transport: newGuardedTransport(o.AllowPrivateHubs)}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	return &WebSub{o: o}, nil
}

// checkPublicBase accepts an https URL whose host is a name or a public
// IP address.
func checkPublicBase(base string) error {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" {
		return fmt.Errorf("%w: %q is not an https URL", ErrCallbackNotPublic, base)
	}
	host := u.Hostname()
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return fmt.Errorf("%w: %q names localhost", ErrCallbackNotPublic, base)
	}
	if ip, err := netip.ParseAddr(host); err == nil && CheckAddress(ip, false) != nil {
		return fmt.Errorf("%w: %q is not a public address", ErrCallbackNotPublic, base)
	}
	return nil
}

// CallbackURL returns where the hub delivers content for s.
func (w *WebSub) CallbackURL(s *Subscription) string {
	return w.o.BaseURL + "/websub/" + s.Partner + "/" + s.Feed + "/" + s.CallbackToken
}

// Subscribe requests content updates of topic, the URL of f's feed
// document, from hub. A subscription that exists for the same hub and topic keeps
// its callback and secret, so Subscribe also renews. The hub confirms
// later through the callback; until then the subscription is pending.
func (w *WebSub) Subscribe(ctx context.Context, f Feed, hub, topic string) error {
	sub, rev, err := w.load(ctx, f.Partner, f.ID)
	if err != nil {
		return err
	}
	if sub == nil || sub.Hub != hub || sub.Topic != topic {
		sub, err = newSubscription(f, hub, topic)
		if err != nil {
			return err
		}
	}
	if sub.State != subActive {
		sub.State = subPending
	}
	if err := w.store(ctx, sub, rev); err != nil {
		return err
	}
	return w.hubRequest(ctx, sub, "subscribe")
}

// Unsubscribe requests the hub to stop deliveries for f. The subscription is
// removed once the hub verifies the request.
func (w *WebSub) Unsubscribe(ctx context.Context, f Feed) error {
	sub, rev, err := w.load(ctx, f.Partner, f.ID)
	if err != nil || sub == nil {
		return err
	}
	sub.State = subUnsubscribe
	if err := w.store(ctx, sub, rev); err != nil {
		return err
	}
	return w.hubRequest(ctx, sub, "unsubscribe")
}

func newSubscription(f Feed, hub, topic string) (*Subscription, error) {
	token, err := randomHex(16)
	if err != nil {
		return nil, err
	}
	secret, err := randomHex(32)
	if err != nil {
		return nil, err
	}
	tz := ""
	if f.Location != nil {
		tz = f.Location.String()
	}
	return &Subscription{
		Partner: f.Partner, Feed: f.ID, FeedURL: f.URL, Hub: hub, Topic: topic,
		Language: f.Language, Timezone: tz, CallbackToken: token, Secret: secret,
	}, nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("reading random bytes: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// hubRequest sends a subscribe or unsubscribe request. Hubs respond with
// 202 Accepted and verify later, so any 2xx counts as accepted.
func (w *WebSub) hubRequest(ctx context.Context, sub *Subscription, mode string) error {
	form := url.Values{
		"hub.mode":     {mode},
		"hub.topic":    {sub.Topic},
		"hub.callback": {w.CallbackURL(sub)},
	}
	if mode == "subscribe" {
		form.Set("hub.lease_seconds", strconv.Itoa(w.o.LeaseSeconds))
		form.Set("hub.secret", sub.Secret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.Hub, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("building %s request to hub %q: %w", mode, sub.Hub, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := w.o.Client.Do(req)
	if err != nil {
		return fmt.Errorf("sending %s request to hub %q: %w", mode, sub.Hub, err)
	}
	defer resp.Body.Close()
	detail, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%w: hub %q rejected %s with %d: %s", ErrHubRejected, sub.Hub, mode, resp.StatusCode, strings.TrimSpace(string(detail)))
	}
	return nil
}

// load returns the subscription of partner's feed and its revision, nil
// and 0 when there is none.
func (w *WebSub) load(ctx context.Context, partner, feed string) (*Subscription, uint64, error) {
	entry, err := w.o.KV.Get(ctx, subscriptionKey(partner, feed))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading websub subscription of %s/%s: %w", partner, feed, err)
	}
	var sub Subscription
	if err := json.Unmarshal(entry.Value(), &sub); err != nil {
		return nil, 0, fmt.Errorf("decoding websub subscription of %s/%s: %w", partner, feed, err)
	}
	return &sub, entry.Revision(), nil
}

// store writes sub, with compare-and-set against rev when rev is not 0.
func (w *WebSub) store(ctx context.Context, sub *Subscription, rev uint64) error {
	data, err := json.Marshal(sub)
	if err != nil {
		return fmt.Errorf("encoding websub subscription of %s/%s: %w", sub.Partner, sub.Feed, err)
	}
	key := subscriptionKey(sub.Partner, sub.Feed)
	if rev == 0 {
		_, err = w.o.KV.Put(ctx, key, data)
	} else {
		_, err = w.o.KV.Update(ctx, key, data, rev)
	}
	if err != nil {
		return fmt.Errorf("writing websub subscription of %s/%s: %w", sub.Partner, sub.Feed, err)
	}
	return nil
}

// PollInterval returns the safety interval and true while partner's feed
// has a verified, unexpired subscription at a hub that has not missed
// items. The scheduler then polls the feed only that often.
func (w *WebSub) PollInterval(ctx context.Context, partner, feed string) (time.Duration, bool) {
	sub, _, err := w.load(ctx, partner, feed)
	if err != nil {
		w.o.Logger.Warn("reading websub subscription failed", "partner", partner, "feed_id", feed, "error", err)
		return 0, false
	}
	if sub == nil || sub.State != subActive || sub.Unreliable || !w.o.Now().Before(sub.LeaseUntil) {
		return 0, false
	}
	return w.o.SafetyInterval, true
}

// SafetyPolled records the result of a poll of a subscribed feed. New
// items in it mean the hub never delivered them, so the hub is marked
// unreliable and PollInterval stops slowing the feed down.
func (w *WebSub) SafetyPolled(ctx context.Context, partner, feed string, newItems int) error {
	if newItems == 0 {
		return nil
	}
	sub, rev, err := w.load(ctx, partner, feed)
	if err != nil || sub == nil || sub.State != subActive || sub.Unreliable {
		return err
	}
	sub.Unreliable = true
	w.o.Logger.Warn("websub hub missed items; polling the feed normally",
		"partner", partner, "feed_id", feed, "hub", sub.Hub, "items", newItems)
	return w.store(ctx, sub, rev)
}

// Renew re-subscribes every active subscription whose lease ends within a
// tenth of the requested lease, and every pending one whose request may
// have been lost. It returns the first error after trying all of them.
func (w *WebSub) Renew(ctx context.Context) error {
	keys, err := w.o.KV.Keys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listing websub subscriptions: %w", err)
	}
	margin := time.Duration(w.o.LeaseSeconds) * time.Second / 10
	var first error
	for _, key := range keys {
		partner, feed, _ := strings.Cut(key, ".")
		sub, _, err := w.load(ctx, partner, feed)
		if err != nil || sub == nil || !w.needsRenewal(sub, margin) {
			first = errors.Join(first, err)
			continue
		}
		f := Feed{Partner: sub.Partner, ID: sub.Feed, URL: sub.FeedURL, Language: sub.Language}
		if err := w.Subscribe(ctx, f, sub.Hub, sub.Topic); err != nil {
			w.o.Logger.Warn("renewing websub subscription failed", "partner", partner, "feed_id", feed, "hub", sub.Hub, "error", err)
			first = errors.Join(first, err)
		}
	}
	return first
}

func (w *WebSub) needsRenewal(sub *Subscription, margin time.Duration) bool {
	switch sub.State {
	case subActive:
		return w.o.Now().Add(margin).After(sub.LeaseUntil)
	case subPending:
		return true
	default:
		return false
	}
}

// CheckCallbackBase returns ErrCallbackNotPublic unless base is a public
// https URL that a hub could deliver to.
func CheckCallbackBase(base string) error {
	return checkPublicBase(base)
}

var _ SubscriptionPolicy = (*WebSub)(nil)
