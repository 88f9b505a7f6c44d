package feeds

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/syndic-network/syndic/internal/apierror"
)

// Lease bounds of WebSub subscriptions (W3C WebSub, section 5.1). A
// subscriber that asks for no lease gets the default, and one outside the
// bounds gets the nearest bound. Ten days suits readers that renew weekly.
const (
	defaultLease = 10 * 24 * time.Hour
	minLease     = time.Hour
	maxLease     = 30 * 24 * time.Hour
)

// Limits on a subscription request. WebSub allows a secret of less than 200
// bytes, and callback URLs longer than 2000 bytes fail in many servers.
const (
	maxSecretBytes   = 199
	maxCallbackBytes = 2000
	maxHubFormBytes  = 8 << 10
	// maxPendingVerifications bounds verification requests in flight, so a
	// burst of subscription requests cannot start unbounded goroutines.
	maxPendingVerifications = 64
	// verifyTimeout bounds one intent verification request.
	verifyTimeout = 15 * time.Second
	// maxChallengeEcho is the longest callback response read when checking
	// the challenge echo.
	maxChallengeEcho = 1 << 10
)

// ErrSubscriptionNotFound is returned by SubscriptionStore.Get when no
// subscription has the key.
var ErrSubscriptionNotFound = errors.New("subscription not found")

// ErrCallbackFailed is wrapped by Hub.Deliver when the subscriber's
// callback could not be reached, did not respond within the delivery
// timeout, or responded with a status other than 2xx or 410. Failures on
// the hub's side, such as reading the subscription, do not wrap it.
var ErrCallbackFailed = errors.New("callback did not accept the delivery")

// Subscription is one WebSub subscriber of a channel feed.
type Subscription struct {
	Topic    string `json:"topic"`
	Callback string `json:"callback"`
	// Secret signs deliveries with X-Hub-Signature when not empty.
	Secret string `json:"secret,omitempty"`
	// Expires is when the lease ends; the hub delivers nothing after it.
	Expires time.Time `json:"expires"`
}

// Key returns the store key of the subscription: a hash of topic and
// callback, because WebSub identifies a subscription by that pair and the
// raw URLs contain characters that KV keys do not allow.
func (s Subscription) Key() string {
	sum := sha256.Sum256([]byte(s.Topic + "\n" + s.Callback))
	return hex.EncodeToString(sum[:16])
}

// SubscriptionStore keeps WebSub subscriptions. Implementations must be
// safe for concurrent use, and the hub does not retry failed calls.
type SubscriptionStore interface {
	// Put creates or replaces the subscription under its Key.
	Put(ctx context.Context, s Subscription) error
	// Get returns the subscription under key, or an error wrapping
	// ErrSubscriptionNotFound.
	Get(ctx context.Context, key string) (Subscription, error)
	// Delete removes the subscription under key. Deleting a missing key
	// is not an error.
	Delete(ctx context.Context, key string) error
	// List returns every stored subscription, expired ones included, in
	// no fixed order.
	List(ctx context.Context) ([]Subscription, error)
}

// HubOptions configures NewHub.
type HubOptions struct {
	// Store keeps the subscriptions; it is required.
	Store SubscriptionStore
	// Client sends verification requests and deliveries. It must dial
	// through an SSRF guard such as workers.NewGuardedDialer, because
	// callback URLs come from anyone. It is required.
	Client *http.Client
	// CheckCallbackIP, when set, returns an error for a callback address
	// that Client's guard rejects. A callback with such a literal IP then
	// gets 400 at once instead of a 202 and a verification that cannot
	// connect.
	CheckCallbackIP func(netip.Addr) error
	// BaseURL is the public URL the feeds are served at; topics must be
	// feed URLs of Channels under it.
	BaseURL  string
	Channels []Channel
	// ClientLimit and CallbackHostLimit cap subscription requests per
	// client IP address and per callback host. Zero values use
	// DefaultHubLimits.
	ClientLimit       RateLimit
	CallbackHostLimit RateLimit
	// Meta supplies the feed-level data of deliveries.
	Meta HubMeta
	// DeliverTimeout bounds one delivery request. Zero means
	// DefaultDeliverTimeout.
	DeliverTimeout time.Duration
	Logger         *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Hub is a WebSub hub for the channels' own feeds: it accepts
// subscription requests, verifies the subscriber's intent and delivers new
// entries. Close stops verifications in flight.
type Hub struct {
	opts     HubOptions
	baseURL  string
	topics   map[string]topic
	log      *slog.Logger
	now      func() time.Time
	clients  *keyedLimiter
	hosts    *keyedLimiter
	pending  chan struct{}
	ctx      context.Context
	cancel   context.CancelFunc
	inflight sync.WaitGroup
}

// topic is a feed URL that the hub serves.
type topic struct {
	channel Channel
	format  format
}

// NewHub returns a hub for the feeds of o.Channels.
func NewHub(o HubOptions) (*Hub, error) {
	if o.Store == nil || o.Client == nil {
		return nil, errors.New("creating hub: Store and Client are required")
	}
	h := &Hub{
		opts:    o,
		baseURL: strings.TrimRight(o.BaseURL, "/"),
		topics:  make(map[string]topic),
		log:     o.Logger,
		now:     o.Now,
		clients: newKeyedLimiter(orDefault(o.ClientLimit, DefaultHubLimits.Client)),
		hosts:   newKeyedLimiter(orDefault(o.CallbackHostLimit, DefaultHubLimits.CallbackHost)),
		pending: make(chan struct{}, maxPendingVerifications),
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.opts.DeliverTimeout <= 0 {
		h.opts.DeliverTimeout = DefaultDeliverTimeout
	}
	for _, ch := range o.Channels {
		for _, f := range formats {
			h.topics[h.baseURL+"/feeds/"+ch.ID+"."+f.ext] = topic{channel: ch, format: f}
		}
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	return h, nil
}

// Close cancels verifications in flight and waits for them to end.
func (h *Hub) Close() {
	h.cancel()
	h.inflight.Wait()
}

// subscriptionRequest is a parsed hub.* form.
type subscriptionRequest struct {
	mode     string
	topic    string
	callback *url.URL
	secret   string
	lease    time.Duration
}

// ServeHTTP accepts POST subscription requests (WebSub section 5.1): 202
// when the request is valid and verification has started, 400 with the
// apierror body when it is invalid, 429 when a rate limit is reached.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		apierror.Write(w, http.StatusMethodNotAllowed, "method_not_allowed", "send subscription requests with POST", nil)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxHubFormBytes)
	if err := r.ParseForm(); err != nil {
		apierror.Write(w, http.StatusBadRequest, "invalid_request", "send an application/x-www-form-urlencoded body of at most 8 KiB", nil)
		return
	}
	req, problems := h.parseRequest(r.PostForm)
	if problems != nil {
		apierror.Write(w, http.StatusBadRequest, "invalid_subscription", "invalid subscription request", problems)
		return
	}
	if !h.clients.allow(clientIP(r)) || !h.hosts.allow(limitHost(req.callback)) {
		w.Header().Set("Retry-After", "60")
		apierror.Write(w, http.StatusTooManyRequests, "rate_limited", "too many subscription requests, try again later", nil)
		return
	}
	select {
	case h.pending <- struct{}{}:
	default:
		w.Header().Set("Retry-After", "60")
		apierror.Write(w, http.StatusServiceUnavailable, "busy", "too many verifications in progress, try again later", nil)
		return
	}
	h.inflight.Add(1)
	go func() {
		defer h.inflight.Done()
		defer func() { <-h.pending }()
		h.verify(h.ctx, req)
	}()
	w.WriteHeader(http.StatusAccepted)
}

func (h *Hub) parseRequest(form url.Values) (subscriptionRequest, map[string]string) {
	problems := map[string]string{}
	req := subscriptionRequest{mode: form.Get("hub.mode"), topic: form.Get("hub.topic"), secret: form.Get("hub.secret")}
	if req.mode != "subscribe" && req.mode != "unsubscribe" {
		problems["hub.mode"] = "use subscribe or unsubscribe"
	}
	if _, ok := h.topics[req.topic]; !ok {
		problems["hub.topic"] = "use the URL of a feed served here, such as " + h.baseURL + "/feeds/{channel}.atom"
	}
	cb, err := parseCallback(form.Get("hub.callback"))
	if err != nil {
		problems["hub.callback"] = err.Error()
	} else if err := h.checkCallbackIP(cb); err != nil {
		problems["hub.callback"] = "use a callback this hub may reach: " + err.Error()
	}
	req.callback = cb
	if len(req.secret) > maxSecretBytes {
		problems["hub.secret"] = "use a secret of less than 200 bytes"
	}
	lease, err := parseLease(form.Get("hub.lease_seconds"))
	if err != nil {
		problems["hub.lease_seconds"] = err.Error()
	}
	req.lease = lease
	if len(problems) > 0 {
		return subscriptionRequest{}, problems
	}
	return req, nil
}

// checkCallbackIP applies CheckCallbackIP to a callback whose host is a
// literal IP address. Host names are checked when the hub dials them.
func (h *Hub) checkCallbackIP(cb *url.URL) error {
	if h.opts.CheckCallbackIP == nil {
		return nil
	}
	ip, err := netip.ParseAddr(cb.Hostname())
	if err != nil {
		return nil
	}
	return h.opts.CheckCallbackIP(ip)
}

func parseCallback(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(raw) > maxCallbackBytes {
		return nil, errors.New("use an absolute http or https URL of at most 2000 bytes")
	}
	if u.User != nil {
		return nil, errors.New("remove the user name and password from the callback URL")
	}
	u.Fragment = ""
	return u, nil
}

// parseLease returns the lease asked for, raised or lowered into the
// bounds, or the default when raw is empty.
func parseLease(raw string) (time.Duration, error) {
	if raw == "" {
		return defaultLease, nil
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(raw, "-") {
		// A whole number beyond int64 is lowered like any long lease.
		return maxLease, nil
	}
	if err != nil || n < 1 {
		return 0, errors.New("use a whole number of seconds of 1 or more")
	}
	d := time.Duration(min(n, int64(maxLease/time.Second))) * time.Second
	return min(max(d, minLease), maxLease), nil
}

// limitHost is the key of the per-callback-host limits: the host name in
// lower case without a trailing dot, so that Reader.example,
// READER.EXAMPLE and reader.example. share one limit, as they name one
// host. An IP address is keyed in its canonical form without a zone,
// and an IPv4-mapped IPv6 address as its IPv4 address, so that ::1 and
// 0:0::1, or ::ffff:7f00:1 and 127.0.0.1, share one limit too.
func limitHost(u *url.URL) string {
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.Unmap().WithZone("").String()
	}
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

// verify requests that the callback confirm the request (WebSub section 5.3) and
// stores or deletes the subscription when it echoes the challenge. A
// failed verification changes nothing, as the specification requires.
func (h *Hub) verify(ctx context.Context, req subscriptionRequest) {
	log := h.log.With("callback_host", req.callback.Hostname(), "topic", req.topic, "mode", req.mode)
	ok, err := h.confirmIntent(ctx, req)
	if err != nil || !ok {
		log.WarnContext(ctx, "subscriber intent not verified", "error", err)
		return
	}
	sub := Subscription{Topic: req.topic, Callback: req.callback.String(), Secret: req.secret, Expires: h.now().Add(req.lease)}
	if req.mode == "unsubscribe" {
		err = h.opts.Store.Delete(ctx, sub.Key())
	} else {
		err = h.opts.Store.Put(ctx, sub)
	}
	if err != nil {
		log.ErrorContext(ctx, "storing subscription failed", "error", err)
		return
	}
	log.DebugContext(ctx, "subscription verified", "lease_seconds", int64(req.lease/time.Second))
}

// confirmIntent sends the verification GET and reports whether the
// callback returned 2xx with exactly the challenge as the body.
func (h *Hub) confirmIntent(ctx context.Context, req subscriptionRequest) (bool, error) {
	challenge, err := newChallenge()
	if err != nil {
		return false, err
	}
	u := *req.callback
	q := u.Query()
	q.Set("hub.mode", req.mode)
	q.Set("hub.topic", req.topic)
	q.Set("hub.challenge", challenge)
	if req.mode == "subscribe" {
		q.Set("hub.lease_seconds", strconv.FormatInt(int64(req.lease/time.Second), 10))
	}
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(ctx, verifyTimeout)
	defer cancel()
	get, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return false, fmt.Errorf("building verification request: %w", err)
	}
	resp, err := h.opts.Client.Do(get)
	if err != nil {
		return false, fmt.Errorf("sending verification request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxChallengeEcho))
	if err != nil {
		return false, fmt.Errorf("reading verification response: %w", err)
	}
	return resp.StatusCode/100 == 2 && strings.TrimSpace(string(body)) == challenge, nil
}

func newChallenge() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating challenge: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// clientIP returns the address of the connection that sent r. Forwarded
// headers are ignored because any client can set them.
//
// NOTE: behind a reverse proxy every request shares the proxy's address,
// so the per-client limit then acts as one limit for all clients.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
