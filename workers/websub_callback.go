package workers

import (
	"context"
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // WebSub hubs may sign with sha1; the spec lists it.
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/syndic-network/syndic/internal/apierror"
	"github.com/syndic-network/syndic/pipeline"
)

// signatureHashes are the X-Hub-Signature methods of WebSub (W3C
// Recommendation, 23 January 2018, section 8).
var signatureHashes = map[string]func() hash.Hash{
	"sha1": sha1.New, "sha256": sha256.New, "sha384": sha512.New384, "sha512": sha512.New,
}

// Handler serves the callbacks: GET for the hub's verification of intent,
// POST for content deliveries. Mount it at /websub/.
func (w *WebSub) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /websub/{partner}/{feed}/{token}", w.verify)
	mux.HandleFunc("POST /websub/{partner}/{feed}/{token}", w.deliver)
	mux.HandleFunc("/websub/", func(rw http.ResponseWriter, r *http.Request) {
		callbackNotFound(rw)
	})
	return mux
}

// callbackNotFound writes a 404 with the common JSON error body for a
// callback that does not exist. The message names nothing, so a prober
// learns nothing about which partners or feeds have subscriptions.
func callbackNotFound(rw http.ResponseWriter) {
	apierror.Write(rw, http.StatusNotFound, "not_found", "no websub subscription at this callback URL", nil)
}

// subscriptionFor returns the subscription that the callback path names,
// or nil when there is none or the token does not match.
func (w *WebSub) subscriptionFor(r *http.Request) (*Subscription, uint64) {
	sub, rev, err := w.load(r.Context(), r.PathValue("partner"), r.PathValue("feed"))
	if err != nil {
		w.o.Logger.Warn("reading websub subscription failed", "error", err)
		return nil, 0
	}
	if sub == nil || subtle.ConstantTimeCompare([]byte(sub.CallbackToken), []byte(r.PathValue("token"))) != 1 {
		return nil, 0
	}
	return sub, rev
}

// verify handles the hub's verification of intent. It echoes hub.challenge
// only for a mode and topic that Syndic requested, and records the granted
// lease.
func (w *WebSub) verify(rw http.ResponseWriter, r *http.Request) {
	sub, rev := w.subscriptionFor(r)
	q := r.URL.Query()
	if sub == nil || q.Get("hub.topic") != sub.Topic {
		callbackNotFound(rw)
		return
	}
	switch mode := q.Get("hub.mode"); {
	case mode == "denied":
		sub.State = subDenied
		w.o.Logger.Warn("websub hub denied the subscription", "partner", sub.Partner, "feed_id", sub.Feed, "hub", sub.Hub, "reason", q.Get("hub.reason"))
		w.save(r.Context(), sub, rev)
		rw.WriteHeader(http.StatusOK)
		return
	case mode == "subscribe" && (sub.State == subPending || sub.State == subActive):
		sub.State = subActive
		sub.LeaseUntil = w.o.Now().Add(w.grantedLease(q.Get("hub.lease_seconds"))).UTC()
		w.save(r.Context(), sub, rev)
	case mode == "unsubscribe" && sub.State == subUnsubscribe:
		if err := w.o.KV.Delete(r.Context(), subscriptionKey(sub.Partner, sub.Feed)); err != nil {
			w.o.Logger.Warn("deleting websub subscription failed", "partner", sub.Partner, "feed_id", sub.Feed, "error", err)
		}
	default:
		callbackNotFound(rw)
		return
	}
	rw.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(rw, q.Get("hub.challenge"))
}

// grantedLease returns the lease a hub granted, at most the lease Syndic
// requested. A hub may grant more, but a lease of centuries would never
// be renewed, and one past int64 nanoseconds would wrap into the past and
// be renewed at every run. A missing or invalid value counts as the
// requested lease.
func (w *WebSub) grantedLease(raw string) time.Duration {
	lease, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || lease <= 0 || lease > int64(w.o.LeaseSeconds) {
		lease = int64(w.o.LeaseSeconds)
	}
	return time.Duration(lease) * time.Second
}

func (w *WebSub) save(ctx context.Context, sub *Subscription, rev uint64) {
	if err := w.store(ctx, sub, rev); err != nil {
		w.o.Logger.Warn("updating websub subscription failed", "partner", sub.Partner, "feed_id", sub.Feed, "error", err)
	}
}

// deliver takes in one content distribution. A delivery with a missing or
// wrong signature gets 202 like a valid one, as the WebSub spec requires,
// but is dropped, so a forger learns nothing.
func (w *WebSub) deliver(rw http.ResponseWriter, r *http.Request) {
	sub, rev := w.subscriptionFor(r)
	if sub == nil || sub.State != subActive {
		callbackNotFound(rw)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, w.o.MaxBody))
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		apierror.Write(rw, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("deliveries are limited to %d bytes", w.o.MaxBody), nil)
		return
	}
	if err != nil {
		apierror.Write(rw, http.StatusBadRequest, "invalid_body", "reading the delivery body failed; send it again", nil)
		return
	}
	log := w.o.Logger.With("partner", sub.Partner, "feed_id", sub.Feed, "hub", sub.Hub)
	if !validSignature(sub.Secret, r.Header.Get("X-Hub-Signature"), body) {
		// Anyone who learns a callback URL can send forgeries, so they are
		// counted and logged at debug level rather than filling the log.
		websubForgedTotal.Inc()
		log.Debug("dropping websub delivery with a bad signature")
		rw.WriteHeader(http.StatusAccepted)
		return
	}
	if err := w.ingestDelivery(r.Context(), sub, body, r.Header.Get("Content-Type")); err != nil {
		// A 5xx makes the hub retry the delivery later.
		log.Warn("ingesting websub delivery failed", "error", err)
		apierror.Write(rw, http.StatusServiceUnavailable, "unavailable", "ingesting the delivery failed; retry later", nil)
		return
	}
	sub.LastDelivery = w.o.Now().UTC()
	w.save(r.Context(), sub, rev)
	rw.WriteHeader(http.StatusAccepted)
}

// validSignature checks header, "method=hex", against the HMAC of body
// under secret.
func validSignature(secret, header string, body []byte) bool {
	method, sig, ok := strings.Cut(header, "=")
	newHash := signatureHashes[strings.ToLower(method)]
	if !ok || newHash == nil {
		return false
	}
	want, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	mac := hmac.New(newHash, []byte(secret))
	mac.Write(body)
	return hmac.Equal(mac.Sum(nil), want)
}

// ingestDelivery parses a delivered feed document and ingests its items
// with the source the feed's polls use, so both paths give one item one id.
func (w *WebSub) ingestDelivery(ctx context.Context, sub *Subscription, body []byte, contentType string) error {
	src := pipeline.Source{Partner: sub.Partner, Feed: sub.Feed, FeedURL: sub.FeedURL, Language: sub.Language}
	if loc, err := time.LoadLocation(sub.Timezone); err == nil {
		src.Location = loc
	}
	if w.o.Policies != nil {
		linkKeys, err := w.o.Policies.LinkKeys(ctx, sub.Partner, sub.Feed)
		if err != nil {
			return err
		}
		src.LinkKeys = linkKeys
	}
	res, err := pipeline.ParseFeed(body, contentType, src, w.o.Now())
	if err != nil {
		w.o.Logger.Warn("dropping unparseable websub delivery", "partner", sub.Partner, "feed_id", sub.Feed, "error", err)
		return nil
	}
	pipeline.CountRejected(len(res.Rejected))
	for i := range res.Items {
		if _, err := w.o.Ingester.Ingest(ctx, &res.Items[i]); err != nil {
			return err
		}
	}
	return nil
}
