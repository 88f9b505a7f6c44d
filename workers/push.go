package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/syndic-network/syndic/internal/apierror"
	"github.com/syndic-network/syndic/internal/tokens"
	"github.com/syndic-network/syndic/pipeline"
)

// PushFeed is the feed id and feed URL of every pushed item.
const PushFeed = "push"

// reservedRetryAfter is the Retry-After of a 503 for an item that another
// writer holds. A live writer releases it within milliseconds; a crashed
// one holds it until the reservation TTL ends.
const reservedRetryAfter = 2 * time.Second

// storeRetryAfter is the Retry-After of a 503 when NATS or the cache
// failed, long enough for a reconnect.
const storeRetryAfter = 5 * time.Second

// Authenticator returns the partner a bearer token belongs to. The error
// wraps tokens.ErrInvalidToken for a token that is not valid; any other
// error is a store failure. *tokens.Store implements it.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (string, error)
}

// ItemIngester publishes one normalised item, as pipeline.Ingester does.
type ItemIngester interface {
	Ingest(ctx context.Context, it *pipeline.Item) (pipeline.Result, error)
}

// ItemRetractor looks up and retracts items, as pipeline.Retractor does.
type ItemRetractor interface {
	State(ctx context.Context, partner, id string) (pipeline.ItemState, error)
	Retract(ctx context.Context, partner, id string) (pipeline.ItemState, bool, error)
}

// PushPartner is the configuration of one partner that the intake uses
// to normalise its items.
type PushPartner struct {
	Language string
	Location *time.Location
}

// PushOptions configures a PushHandler. Every field but Logger and Now is
// required.
type PushOptions struct {
	Tokens    Authenticator
	Ingester  ItemIngester
	Retractor ItemRetractor
	Limiter   *RateLimiter
	// Partners are the configured partners by id. A valid token of a
	// partner missing here is rejected.
	Partners map[string]PushPartner
	MaxBody  int64
	MaxItems int
	// MaxRate is the limiter's rate. A request with more items could
	// never pass, so it is rejected with 413 instead of 429.
	MaxRate int
	Logger  *slog.Logger
	Now     func() time.Time
}

// PushHandler serves the partner intake API: POST /api/v1/items, GET and
// DELETE /api/v1/items/{id}. Each response comes after the stream
// acknowledged every event the request published. It is safe for
// concurrent use.
type PushHandler struct {
	o PushOptions
}

// NewPushHandler returns a handler with o.
func NewPushHandler(o PushOptions) *PushHandler {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &PushHandler{o: o}
}

// Register mounts the intake routes on mux. Other methods on the item
// paths get 405 with the common error body.
func (h *PushHandler) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/items", h.post)
	mux.HandleFunc("GET /api/v1/items/{id}", h.get)
	mux.HandleFunc("DELETE /api/v1/items/{id}", h.delete)
	mux.HandleFunc("/api/v1/items", methodNotAllowed("POST"))
	mux.HandleFunc("/api/v1/items/{id}", methodNotAllowed("GET, DELETE"))
}

func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		apierror.Write(w, http.StatusMethodNotAllowed, "method_not_allowed",
			r.Method+" is not allowed here; use "+allow, nil)
	}
}

// ItemResult is the outcome of one item in a 200 response.
type ItemResult struct {
	// ID is the partner's own id of the item.
	ID string `json:"id"`
	// ItemID is Syndic's stable id, empty for a rejected item.
	ItemID string            `json:"item_id,omitempty"`
	Status string            `json:"status"`
	Fields map[string]string `json:"fields,omitempty"`
	// Warnings name, by field, what was cut or dropped from an accepted
	// item, such as an image that is not an http(s) URL.
	Warnings map[string]string `json:"warnings,omitempty"`
}

// statusRejected is the ItemResult status of an item that failed
// validation; the other statuses are pipeline results.
const statusRejected = "rejected"

func (h *PushHandler) post(w http.ResponseWriter, r *http.Request) {
	partner, ok := h.authenticate(w, r)
	if !ok {
		return
	}
	log := h.o.Logger.With("partner", partner)

	body, ok := h.readBody(w, r)
	if !ok {
		return
	}
	p := h.o.Partners[partner]
	src := pipeline.Source{Partner: partner, Feed: PushFeed, FeedURL: PushFeed, Language: p.Language, Location: p.Location}
	entries, err := decodeIntake(body, r.Header.Get("Content-Type"), src, h.o.MaxItems, h.o.Now())
	if err != nil {
		writeRequestError(w, err)
		return
	}

	valid := countValid(entries)
	if valid == 0 {
		pipeline.CountRejected(len(entries))
		msg := "no item in the request is valid"
		if len(entries) == 0 {
			msg = "the request contains no items"
		}
		apierror.Write(w, http.StatusUnprocessableEntity, "no_valid_items", msg, flattenFields(entries))
		return
	}

	if !h.admit(r.Context(), w, log, partner, valid) {
		return
	}
	results, ok := h.ingest(r.Context(), w, log, entries)
	if !ok {
		return
	}
	if !anyAccepted(results) {
		fields := map[string]string{}
		for i, res := range results {
			for k, v := range res.Fields {
				fields["items["+strconv.Itoa(i)+"]."+k] = v
			}
		}
		apierror.Write(w, http.StatusUnprocessableEntity, "no_valid_items", "no item in the request could be published", fields)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": results})
}

// authenticate returns the partner of the request's bearer token, or
// writes 401 (or 503 when the token store failed) and returns false.
func (h *PushHandler) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	token, ok := bearerToken(r)
	if !ok {
		unauthorized(w, "send Authorization: Bearer <token>; get a token from the operator")
		return "", false
	}
	partner, err := h.o.Tokens.Authenticate(r.Context(), token)
	switch {
	case errors.Is(err, tokens.ErrInvalidToken):
		unauthorized(w, "the token is invalid or revoked")
		return "", false
	case err != nil:
		h.o.Logger.Error("checking a push token failed", "error", err)
		unavailable(w, "token_store_unavailable", "the token store is unavailable; retry later", storeRetryAfter)
		return "", false
	}
	if _, known := h.o.Partners[partner]; !known {
		h.o.Logger.Warn("push token of an unconfigured partner", "partner", partner)
		unauthorized(w, "the token's partner is not configured")
		return "", false
	}
	return partner, true
}

func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	return token, ok && strings.EqualFold(scheme, "Bearer") && token != ""
}

func unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="syndic"`)
	apierror.Write(w, http.StatusUnauthorized, "unauthorized", msg, nil)
}

func unavailable(w http.ResponseWriter, code, msg string, after time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(after.Seconds())))
	apierror.Write(w, http.StatusServiceUnavailable, code, msg, nil)
}

// readBody reads the whole body up to MaxBody, or writes 413 or 400.
func (h *PushHandler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if codings := parseCodings(r.Header.Values("Content-Encoding")); len(codings) > 0 {
		// RFC 7694: a 415 for an unsupported coding lists the codings
		// the server accepts.
		w.Header().Set("Accept-Encoding", "identity")
		apierror.Write(w, http.StatusUnsupportedMediaType, "unsupported_content_encoding",
			fmt.Sprintf("Content-Encoding %q is not supported; send the body uncompressed", codings[0]), nil)
		return nil, false
	}
	if r.ContentLength > h.o.MaxBody {
		tooLarge(w, h.o.MaxBody)
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.o.MaxBody))
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		tooLarge(w, h.o.MaxBody)
		return nil, false
	case err != nil:
		apierror.Write(w, http.StatusBadRequest, "unreadable_body", "reading the request body failed: "+err.Error(), nil)
		return nil, false
	}
	return body, true
}

func tooLarge(w http.ResponseWriter, limit int64) {
	apierror.Write(w, http.StatusRequestEntityTooLarge, "body_too_large",
		"the body is larger than the limit of "+strconv.FormatInt(limit, 10)+" bytes (push.max_body); split the request", nil)
}

func writeRequestError(w http.ResponseWriter, err error) {
	var re *requestError
	if !errors.As(err, &re) {
		re = badRequest("invalid_body", "%v", err)
	}
	apierror.Write(w, re.Status, re.Code, re.Message, re.Fields)
}

func countValid(entries []intakeEntry) int {
	n := 0
	for _, e := range entries {
		if e.Item != nil {
			n++
		}
	}
	return n
}

// admit applies the per-partner rate limit, or writes 413, 429 or 503.
func (h *PushHandler) admit(ctx context.Context, w http.ResponseWriter, log *slog.Logger, partner string, n int) bool {
	if n > h.o.MaxRate {
		apierror.Write(w, http.StatusRequestEntityTooLarge, "too_many_items",
			"the request contains "+strconv.Itoa(n)+" valid items, more than a partner may push per minute (push.rate); split it", nil)
		return false
	}
	wait, err := h.o.Limiter.Allow(ctx, partner, n)
	if err != nil {
		log.Error("push rate limit check failed", "error", err)
		unavailable(w, "cache_unavailable", "the rate limit store is unavailable; retry later", storeRetryAfter)
		return false
	}
	if wait > 0 {
		seconds := int((wait + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(seconds))
		apierror.Write(w, http.StatusTooManyRequests, "rate_limited",
			"more than "+strconv.Itoa(h.o.MaxRate)+" items per minute; retry after "+strconv.Itoa(seconds)+" s", nil)
		return false
	}
	return true
}

// ingest publishes the valid entries in order and returns one result per
// entry. On ErrReserved or a store failure it writes 503 and returns
// false. Items published before that stay published, and a retry of the
// request reports them as duplicates.
func (h *PushHandler) ingest(ctx context.Context, w http.ResponseWriter, log *slog.Logger, entries []intakeEntry) ([]ItemResult, bool) {
	results := make([]ItemResult, len(entries))
	for i, e := range entries {
		results[i] = ItemResult{ID: e.Key, Status: statusRejected, Fields: e.Fields}
		if e.Item == nil {
			pipeline.CountRejected(1)
			continue
		}
		res, err := h.o.Ingester.Ingest(ctx, e.Item)
		if res == statusRejected {
			// The pipeline rejects an item that it can never publish, such
			// as one too large for a NATS message, so a retry cannot help.
			results[i].Fields = map[string]string{"item": pipelineReason(err)}
			continue
		}
		if errors.Is(err, pipeline.ErrReserved) {
			unavailable(w, "item_reserved", "item "+e.Key+" is being written by another request; retry later", reservedRetryAfter)
			return nil, false
		}
		if err != nil {
			log.Error("publishing a pushed item failed", "item_id", e.Item.ID, "error", err)
			unavailable(w, "publish_failed", "publishing item "+e.Key+" failed; retry later", storeRetryAfter)
			return nil, false
		}
		log.Debug("pushed item", "item_id", e.Item.ID, "result", string(res))
		results[i] = ItemResult{ID: e.Key, ItemID: e.Item.ID, Status: string(res), Warnings: e.Warnings}
	}
	return results, true
}

func anyAccepted(results []ItemResult) bool {
	for _, r := range results {
		if r.Status != statusRejected {
			return true
		}
	}
	return false
}

func pipelineReason(err error) string {
	if err == nil {
		return "rejected by the pipeline"
	}
	return err.Error()
}

// hexItemID matches Syndic's own item ids, which GET and DELETE also
// accept, so a partner can name an item that came from its polled feed.
var hexItemID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// Values of the by query parameter of GET and DELETE, which selects how
// {id} is read. Without it, {id} is the partner's own id or, when no such
// item exists and {id} is 32 hex digits, an item_id.
const (
	byPartnerID = "id"
	byItemID    = "item_id"
)

// Lookup errors that the handlers turn into 400 and 409 responses.
var (
	// errAmbiguousID is returned when {id} without by names one item as
	// the partner's own id and another as an item_id.
	errAmbiguousID = errors.New("ambiguous item id")
	// errInvalidBy is returned for a by value other than id and item_id.
	errInvalidBy = errors.New("invalid by parameter")
	// errNotItemID is returned for by=item_id with an {id} that is not
	// 32 hex digits.
	errNotItemID = errors.New("not an item id")
)

// ItemStatus is the body of GET and DELETE /api/v1/items/{id}.
type ItemStatus struct {
	ID        string         `json:"id"`
	ItemID    string         `json:"item_id"`
	State     string         `json:"state"`
	Revision  int            `json:"revision"`
	FirstSeen time.Time      `json:"first_seen"`
	Event     pipeline.Event `json:"event"`
}

func (h *PushHandler) get(w http.ResponseWriter, r *http.Request) {
	partner, ok := h.authenticate(w, r)
	if !ok {
		return
	}
	key := r.PathValue("id")
	state, err := h.lookup(r.Context(), partner, key, r.URL.Query().Get("by"))
	if h.writeLookupError(w, partner, key, err) {
		return
	}
	writeJSON(w, http.StatusOK, itemStatus(key, state))
}

func (h *PushHandler) delete(w http.ResponseWriter, r *http.Request) {
	partner, ok := h.authenticate(w, r)
	if !ok {
		return
	}
	key := r.PathValue("id")
	state, err := h.lookup(r.Context(), partner, key, r.URL.Query().Get("by"))
	if h.writeLookupError(w, partner, key, err) {
		return
	}
	state, published, err := h.o.Retractor.Retract(r.Context(), partner, state.Event.ID)
	if h.writeLookupError(w, partner, key, err) {
		return
	}
	if published {
		h.o.Logger.Info("item retracted", "partner", partner, "item_id", state.Event.ID)
	}
	writeJSON(w, http.StatusOK, itemStatus(key, state))
}

// lookup finds the item that partner names key, read as by selects. Without
// by, a 32-hex key is looked up both ways, because a partner's own ids
// may be 32-hex digests too. It returns errAmbiguousID when the two
// readings find different items, so a request never acts on an item the
// partner did not mean.
func (h *PushHandler) lookup(ctx context.Context, partner, key, by string) (pipeline.ItemState, error) {
	switch by {
	case byPartnerID:
		return h.o.Retractor.State(ctx, partner, pipeline.PushedItemID(partner, key))
	case byItemID:
		if !hexItemID.MatchString(key) {
			return pipeline.ItemState{}, errNotItemID
		}
		return h.o.Retractor.State(ctx, partner, key)
	case "":
	default:
		return pipeline.ItemState{}, errInvalidBy
	}
	own, err := h.o.Retractor.State(ctx, partner, pipeline.PushedItemID(partner, key))
	if !hexItemID.MatchString(key) || err != nil && !errors.Is(err, pipeline.ErrItemNotFound) {
		return own, err
	}
	ownFound := err == nil
	byID, err := h.o.Retractor.State(ctx, partner, key)
	switch {
	case errors.Is(err, pipeline.ErrItemNotFound) && ownFound:
		return own, nil
	case err != nil:
		return byID, err
	case ownFound && own.Event.ID != byID.Event.ID:
		return pipeline.ItemState{}, errAmbiguousID
	}
	return byID, nil
}

// writeLookupError writes 404, 503 or nothing for err and reports whether
// it wrote.
func (h *PushHandler) writeLookupError(w http.ResponseWriter, partner, key string, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, pipeline.ErrItemNotFound):
		apierror.Write(w, http.StatusNotFound, "not_found", "partner "+partner+" has no item "+strconv.Quote(key), nil)
	case errors.Is(err, errAmbiguousID):
		apierror.Write(w, http.StatusConflict, "ambiguous_id",
			strconv.Quote(key)+" is the id of one item of partner "+partner+" and the item_id of another; add ?by=id or ?by=item_id", nil)
	case errors.Is(err, errInvalidBy):
		apierror.Write(w, http.StatusBadRequest, "invalid_parameter", "the by parameter is invalid",
			map[string]string{"by": "use id (the partner's own id) or item_id (Syndic's 32-hex id)"})
	case errors.Is(err, errNotItemID):
		apierror.Write(w, http.StatusBadRequest, "invalid_parameter", "with by=item_id, {id} must be an item_id",
			map[string]string{"id": "an item_id is 32 lower-case hex digits"})
	case errors.Is(err, pipeline.ErrReserved):
		unavailable(w, "item_reserved", "the item is being written by another request; retry later", reservedRetryAfter)
	default:
		h.o.Logger.Error("reading a pushed item failed", "partner", partner, "error", err)
		unavailable(w, "store_unavailable", "the item store is unavailable; retry later", storeRetryAfter)
	}
	return true
}

// itemStatus returns the status of s, with the partner's own id (the
// item's GUID) as ID however the request named it, and key for an item
// without one.
func itemStatus(key string, s pipeline.ItemState) ItemStatus {
	state := "live"
	if s.Retracted() {
		state = string(pipeline.KindRetracted)
	}
	id := s.Event.GUID
	if id == "" {
		id = key
	}
	return ItemStatus{
		ID: id, ItemID: s.Event.ID, State: state, Revision: s.Event.Revision,
		FirstSeen: s.FirstSeen, Event: s.Event,
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
