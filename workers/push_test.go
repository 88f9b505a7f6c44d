package workers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/apierror"
	"github.com/syndic-network/syndic/internal/broker"
	"github.com/syndic-network/syndic/internal/store"
	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/internal/tokens"
	"github.com/syndic-network/syndic/pipeline"
	"github.com/syndic-network/syndic/workers"
)

// pushEnv is an intake handler on a real NATS server with one stream,
// index, token bucket and cache per test.
type pushEnv struct {
	t       testing.TB
	srv     *httptest.Server
	stream  jetstream.Stream
	cache   pipeline.Cache
	tokens  *tokens.Store
	tokenA  string // partner wipk
	tokenB  string // partner nemunas
	limiter *workers.RateLimiter
}

type pushConfig struct {
	maxBody  int64
	maxItems int
	rate     int
}

func newPushEnv(t testing.TB, cacheKind string, cfg pushConfig) *pushEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	js, err := jetstream.New(testenv.Conn(t, testenv.NATS(t).URL))
	if err != nil {
		t.Fatalf("creating JetStream context: %v", err)
	}
	name := testenv.Name(t)
	stream, err := broker.EnsureStream(ctx, js, broker.StreamOptions{
		Stream: name, SubjectPrefix: "t." + name, Replicas: 1,
		MaxAge: time.Hour, DuplicateWindow: time.Minute,
	})
	if err != nil {
		t.Fatalf("creating stream: %v", err)
	}
	env := &pushEnv{t: t, stream: stream, cache: pushCache(t, js, name, cacheKind)}
	index := pushBucket(t, js, name+"_INDEX", false)
	env.tokens = tokens.New(pushBucket(t, js, name+"_TOKENS", false), nil)
	if err := env.tokens.Watch(ctx); err != nil {
		t.Fatalf("watching tokens: %v", err)
	}
	env.tokenA = env.issue("wipk")
	env.tokenB = env.issue("nemunas")
	ing := pipeline.NewIngester(pipeline.IngesterOptions{
		Cache: env.cache, Index: pipeline.NewIndex(index), Publisher: js,
		SubjectPrefix: "t." + name, SeenTTL: time.Hour, ReserveTTL: 10 * time.Second,
	})
	env.limiter = workers.NewRateLimiter(env.cache, cfg.rate, nil)
	h := workers.NewPushHandler(workers.PushOptions{
		Tokens: env.tokens, Ingester: ing, Retractor: pipeline.NewRetractor(ing, stream),
		Limiter: env.limiter,
		Partners: map[string]workers.PushPartner{
			"wipk":    {Language: "pl", Location: time.UTC},
			"nemunas": {Language: "lt", Location: time.UTC},
		},
		MaxBody: cfg.maxBody, MaxItems: cfg.maxItems, MaxRate: cfg.rate,
	})
	mux := http.NewServeMux()
	h.Register(mux)
	mux.Handle("GET /api/v1/openapi.json", workers.OpenAPIHandler())
	env.srv = httptest.NewServer(mux)
	t.Cleanup(env.srv.Close)
	return env
}

func defaultPushConfig() pushConfig {
	return pushConfig{maxBody: 1 << 20, maxItems: 100, rate: 600}
}

func pushBucket(t testing.TB, js jetstream.JetStream, name string, keyTTL bool) jetstream.KeyValue {
	t.Helper()
	kv, err := broker.EnsureKV(context.Background(), js, name, 1, 0, keyTTL)
	if err != nil {
		t.Fatalf("creating bucket %s: %v", name, err)
	}
	return kv
}

func pushCache(t testing.TB, js jetstream.JetStream, name, kind string) pipeline.Cache {
	t.Helper()
	if kind == "redis" {
		url, prefix := testenv.Redis(t)
		return store.NewRedis(testenv.RedisClient(t, url), prefix)
	}
	return store.NewKV(pushBucket(t, js, name+"_CACHE", true))
}

func (e *pushEnv) issue(partner string) string {
	e.t.Helper()
	token, _, err := e.tokens.Issue(context.Background(), partner)
	if err != nil {
		e.t.Fatalf("issuing a token for %s: %v", partner, err)
	}
	return token
}

type pushResponse struct {
	status int
	header http.Header
	body   []byte
}

func (e *pushEnv) do(method, path, token, contentType string, body []byte) pushResponse {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatalf("building request: %v", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("reading response: %v", err)
	}
	return pushResponse{status: resp.StatusCode, header: resp.Header, body: data}
}

func (e *pushEnv) push(token, body string) pushResponse {
	e.t.Helper()
	return e.do(http.MethodPost, "/api/v1/items", token, "application/json", []byte(body))
}

// results decodes a 200 body.
func (r pushResponse) results(t *testing.T) []workers.ItemResult {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", r.status, r.body)
	}
	var out struct {
		Items []workers.ItemResult `json:"items"`
	}
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("decoding response %s: %v", r.body, err)
	}
	return out.Items
}

// apiError decodes the common error body.
func (r pushResponse) apiError(t *testing.T) apierror.Detail {
	t.Helper()
	var b apierror.Body
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatalf("status %d: body is not the common error body: %s", r.status, r.body)
	}
	if b.Error.Code == "" || b.Error.Message == "" {
		t.Errorf("error body lacks code or message: %s", r.body)
	}
	return b.Error
}

// events returns every event in the stream, in order.
func (e *pushEnv) events() []pipeline.Event {
	e.t.Helper()
	ctx := context.Background()
	info, err := e.stream.Info(ctx)
	if err != nil {
		e.t.Fatalf("reading stream info: %v", err)
	}
	var out []pipeline.Event
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		msg, err := e.stream.GetMsg(ctx, seq)
		if err != nil {
			e.t.Fatalf("reading message %d: %v", seq, err)
		}
		var ev pipeline.Event
		if err := json.Unmarshal(msg.Data, &ev); err != nil {
			e.t.Fatalf("decoding message %d: %v", seq, err)
		}
		out = append(out, ev)
	}
	return out
}

const (
	itemOne = `{"id":"n-1","title":"Targi eksportowe","url":"https://partner.example/n/1?utm_source=x","content_html":"<p>Treść</p>","date_published":"2026-11-30T09:00:00Z"}`
	itemTwo = `{"id":"n-2","title":"Szkolenie","content_text":"Zapraszamy <b>wszystkich</b>"}`
)

var pushCacheKinds = []string{"embedded", "redis"}

func TestPushCreatesThenDuplicates(t *testing.T) {
	for _, kind := range pushCacheKinds {
		t.Run(kind, func(t *testing.T) {
			env := newPushEnv(t, kind, defaultPushConfig())
			batch := `{"items":[` + itemOne + `,` + itemTwo + `]}`
			first := env.push(env.tokenA, batch).results(t)
			if len(first) != 2 || first[0].Status != "created" || first[1].Status != "created" {
				t.Fatalf("first push = %+v, want two created", first)
			}
			if first[0].ID != "n-1" || first[0].ItemID != pipeline.PushedItemID("wipk", "n-1") {
				t.Errorf("first result ids = %q %q, want n-1 and its item id", first[0].ID, first[0].ItemID)
			}
			again := env.push(env.tokenA, batch).results(t)
			if again[0].Status != "duplicate" || again[1].Status != "duplicate" {
				t.Errorf("retried push = %+v, want two duplicates", again)
			}
			changed := strings.Replace(itemOne, "Targi eksportowe", "Targi eksportowe 2027", 1)
			if got := env.push(env.tokenA, changed).results(t); got[0].Status != "updated" {
				t.Errorf("changed item = %+v, want updated", got)
			}
			evs := env.events()
			if len(evs) != 3 {
				t.Fatalf("stream has %d events, want 3", len(evs))
			}
			ev := evs[0]
			if ev.Partner != "wipk" || ev.Feed != workers.PushFeed || ev.FeedURL != workers.PushFeed {
				t.Errorf("event source = %s/%s %s, want wipk/push push", ev.Partner, ev.Feed, ev.FeedURL)
			}
			if ev.URL != "https://partner.example/n/1" {
				t.Errorf("event url = %q, want the canonical link", ev.URL)
			}
			if ev.Language != "pl" {
				t.Errorf("event language = %q, want the partner's pl", ev.Language)
			}
		})
	}
}

func TestPushAcceptsFeedDocuments(t *testing.T) {
	env := newPushEnv(t, "embedded", defaultPushConfig())
	rss := `<?xml version="1.0"?><rss version="2.0"><channel><title>K</title><link>https://partner.example/</link>
<item><guid>https://partner.example/n/7</guid><title>Z kanału</title><link>https://partner.example/n/7</link></item></channel></rss>`
	jsonFeed := `{"version":"https://jsonfeed.org/version/1.1","title":"K","items":[{"id":"j-1","title":"Z JSON Feed","content_text":"x"}]}`
	cases := []struct {
		name, contentType, body string
	}{
		{"rss document", "application/rss+xml; charset=utf-8", rss},
		{"json feed typed as feed", "application/feed+json", jsonFeed},
		{"json feed typed as json", "application/json", strings.Replace(jsonFeed, "j-1", "j-2", 1)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := env.do(http.MethodPost, "/api/v1/items", env.tokenA, c.contentType, []byte(c.body))
			got := r.results(t)
			if len(got) != 1 || got[0].Status != "created" {
				t.Errorf("results = %+v, want one created", got)
			}
		})
	}
}

func TestPushRejectsBadItemsOneByOne(t *testing.T) {
	env := newPushEnv(t, "embedded", defaultPushConfig())
	cases := []struct {
		name, item, field string
	}{
		{"missing id", `{"title":"x"}`, "id"},
		{"another partner named", `{"id":"p-1","title":"x","partner":"nemunas"}`, "partner"},
		{"unknown field", `{"id":"p-2","title":"x","colour":"red"}`, "colour"},
		{"bad date", `{"id":"p-3","title":"x","date_published":"yesterday"}`, "date_published"},
		{"relative url", `{"id":"p-4","title":"x","url":"/n/4"}`, "url"},
		{"wrong type", `{"id":"p-5","title":7}`, "title"},
		{"nothing to show", `{"id":"p-6"}`, "title"},
		{"repeated id", `{"id":"n-1","title":"again"}`, "id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := env.push(env.tokenA, `[`+itemOne+`,`+c.item+`]`).results(t)
			if len(got) != 2 {
				t.Fatalf("results = %+v, want two", got)
			}
			if got[0].Status == "rejected" {
				t.Errorf("the valid item was rejected: %+v", got[0])
			}
			if got[1].Status != "rejected" {
				t.Fatalf("bad item status = %q, want rejected", got[1].Status)
			}
			if got[1].Fields[c.field] == "" {
				t.Errorf("bad item fields = %v, want an error for %q", got[1].Fields, c.field)
			}
		})
	}
	for _, ev := range env.events() {
		if ev.Partner != "wipk" {
			t.Errorf("event published for partner %q, want only wipk", ev.Partner)
		}
	}
}

func TestPushSanitisesContent(t *testing.T) {
	env := newPushEnv(t, "embedded", defaultPushConfig())
	item := `{"id":"s-1","title":"<script>alert(1)</script>Tytuł","content_html":"<p onclick=\"x()\">Tekst</p><script>alert(2)</script><a href=\"javascript:alert(3)\">l</a>"}`
	env.push(env.tokenA, item).results(t)
	evs := env.events()
	if len(evs) != 1 {
		t.Fatalf("stream has %d events, want 1", len(evs))
	}
	for _, bad := range []string{"<script", "alert(2)", "onclick", "javascript:"} {
		if strings.Contains(evs[0].Content, bad) {
			t.Errorf("content keeps %q: %s", bad, evs[0].Content)
		}
	}
	// Titles are plain text, so "<script>" stays as literal text that
	// every renderer escapes. The summary is derived from the cleaned
	// content and must not carry the script's code.
	if strings.Contains(evs[0].Summary, "alert(2)") {
		t.Errorf("summary keeps script text: %q", evs[0].Summary)
	}
	if !strings.Contains(evs[0].Content, "Tekst") {
		t.Errorf("content lost its text: %s", evs[0].Content)
	}
}

// billionLaughs declares nested entities that would expand to 10^9 copies
// of "lol" in a parser that expands custom entities.
const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE rss [
<!ENTITY a "lollollollollollollollollollol">
<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
<!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
<!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">
<!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">
]>
<rss version="2.0"><channel><title>K</title>
<item><guid>bl-1</guid><title>&i;</title><description>&i;</description></item></channel></rss>`

func TestPushHostileBodies(t *testing.T) {
	env := newPushEnv(t, "embedded", pushConfig{maxBody: 64 << 10, maxItems: 3, rate: 600})
	deep := strings.Repeat("[", 20_000) + strings.Repeat("]", 20_000)
	cases := []struct {
		name, contentType string
		body              []byte
		status            int
		code              string
	}{
		{"oversized body", "application/json", bytes.Repeat([]byte(" "), 65<<10), http.StatusRequestEntityTooLarge, "body_too_large"},
		{"deeply nested json", "application/json", []byte(deep), http.StatusBadRequest, "too_deep"},
		{"invalid utf-8", "application/json", []byte("{\"id\":\"u\",\"title\":\"\xff\xfe\"}"), http.StatusBadRequest, "invalid_utf8"},
		{"broken json", "application/json", []byte(`{"id":`), http.StatusBadRequest, "invalid_json"},
		{"empty body", "application/json", nil, http.StatusBadRequest, "invalid_json"},
		{"deeply nested xml", "application/rss+xml", []byte("<rss><channel><item><title>t</title><description>" + strings.Repeat("<a>", 5000) + "</description></item></channel></rss>"), http.StatusBadRequest, "too_deep"},
		{"html as a feed", "text/xml", []byte("<html><body>hi</body></html>"), http.StatusBadRequest, "invalid_feed"},
		{"unknown type", "text/plain", []byte(itemOne), http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{"missing type", "", []byte(itemOne), http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{"too many items", "application/json", []byte("[" + strings.Repeat(itemTwo+",", 3) + itemTwo + "]"), http.StatusRequestEntityTooLarge, "too_many_items"},
		{"partner in the envelope", "application/json", []byte(`{"partner":"nemunas","items":[` + itemOne + `]}`), http.StatusBadRequest, "invalid_json"},
		{"no valid item", "application/json", []byte(`[{"title":"no id"}]`), http.StatusUnprocessableEntity, "no_valid_items"},
		{"empty batch", "application/json", []byte(`{"items":[]}`), http.StatusUnprocessableEntity, "no_valid_items"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := env.do(http.MethodPost, "/api/v1/items", env.tokenA, c.contentType, c.body)
			if r.status != c.status {
				t.Fatalf("status = %d, want %d; body %s", r.status, c.status, r.body)
			}
			if got := r.apiError(t); got.Code != c.code {
				t.Errorf("code = %q, want %q", got.Code, c.code)
			}
		})
	}
	if n := len(env.events()); n != 0 {
		t.Errorf("hostile bodies published %d events, want 0", n)
	}
}

func TestPushDoesNotExpandEntities(t *testing.T) {
	env := newPushEnv(t, "embedded", defaultPushConfig())
	start := time.Now()
	r := env.do(http.MethodPost, "/api/v1/items", env.tokenA, "application/rss+xml", []byte(billionLaughs))
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("billion laughs took %s", elapsed)
	}
	if r.status >= 500 {
		t.Fatalf("status = %d, want a client outcome; body %s", r.status, r.body)
	}
	for _, ev := range env.events() {
		if len(ev.Title)+len(ev.Content) > 10_000 {
			t.Errorf("entity expanded into %d bytes", len(ev.Title)+len(ev.Content))
		}
	}
}

func TestPushAuthentication(t *testing.T) {
	env := newPushEnv(t, "embedded", defaultPushConfig())
	revoked := env.issue("wipk")
	if _, err := env.tokens.Revoke(context.Background(), "wipk", tokens.Hash(revoked)[:12]); err != nil {
		t.Fatalf("revoking: %v", err)
	}
	cases := []struct {
		name, token string
	}{
		{"no token", ""},
		{"wrong token", "syn_wipk_" + strings.Repeat("A", 43)},
		{"malformed token", "not-a-token"},
		{"revoked token", revoked},
		{"a's secret under b's name", strings.Replace(env.tokenA, "syn_wipk_", "syn_nemunas_", 1)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := env.push(c.token, itemOne)
			if r.status != http.StatusUnauthorized {
				t.Fatalf("status = %d, want 401; body %s", r.status, r.body)
			}
			if r.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			r.apiError(t)
		})
	}
	if n := len(env.events()); n != 0 {
		t.Errorf("rejected tokens published %d events", n)
	}
}

func TestPushHandlerSeesNewAndRevokedTokens(t *testing.T) {
	env := newPushEnv(t, "embedded", defaultPushConfig())
	// A second store stands for `syndic partners token` run beside the
	// server.
	cli := tokens.New(env.tokens.Bucket(), nil)
	token, info, err := cli.Issue(context.Background(), "nemunas")
	if err != nil {
		t.Fatalf("issuing: %v", err)
	}
	if got := env.push(token, itemOne).results(t); got[0].Status != "created" {
		t.Errorf("new token push = %+v, want created", got)
	}
	if _, err := cli.Revoke(context.Background(), "nemunas", info.ID); err != nil {
		t.Fatalf("revoking: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for env.push(token, itemTwo).status != http.StatusUnauthorized {
		if time.Now().After(deadline) {
			t.Fatal("revoked token still accepted after 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := env.push(env.tokenB, itemTwo).results(t); got[0].Status == "rejected" {
		t.Errorf("the partner's other token stopped working: %+v", got)
	}
}

func TestPushPartnerComesFromToken(t *testing.T) {
	env := newPushEnv(t, "embedded", defaultPushConfig())
	a := env.push(env.tokenA, itemOne).results(t)
	b := env.push(env.tokenB, itemOne).results(t)
	if a[0].Status != "created" || b[0].Status != "created" {
		t.Fatalf("same id from two partners = %q and %q, want two created items", a[0].Status, b[0].Status)
	}
	if a[0].ItemID == b[0].ItemID {
		t.Error("two partners' items share an item id")
	}
	// Partner b can neither read nor retract partner a's item.
	for _, method := range []string{http.MethodGet, http.MethodDelete} {
		r := env.do(method, "/api/v1/items/"+a[0].ItemID, env.tokenB, "", nil)
		if r.status != http.StatusNotFound {
			t.Errorf("%s of another partner's item = %d, want 404", method, r.status)
		}
	}
	evs := env.events()
	if len(evs) != 2 || evs[0].Partner != "wipk" || evs[1].Partner != "nemunas" {
		t.Errorf("events = %d, want one per partner in order", len(evs))
	}
}

func TestPushGetAndRetract(t *testing.T) {
	for _, kind := range pushCacheKinds {
		t.Run(kind, func(t *testing.T) {
			env := newPushEnv(t, kind, defaultPushConfig())
			env.push(env.tokenA, itemOne).results(t)

			var st workers.ItemStatus
			r := env.do(http.MethodGet, "/api/v1/items/n-1", env.tokenA, "", nil)
			decodeStatus(t, r, &st)
			if st.State != "live" || st.Revision != 1 || st.ID != "n-1" {
				t.Errorf("state = %s rev %d id %q, want live 1 n-1", st.State, st.Revision, st.ID)
			}
			r = env.do(http.MethodDelete, "/api/v1/items/n-1", env.tokenA, "", nil)
			decodeStatus(t, r, &st)
			if st.State != "retracted" || st.Revision != 2 {
				t.Errorf("after DELETE = %s rev %d, want retracted 2", st.State, st.Revision)
			}
			// By Syndic's id, and a second DELETE publishes nothing.
			r = env.do(http.MethodDelete, "/api/v1/items/"+st.ItemID, env.tokenA, "", nil)
			decodeStatus(t, r, &st)
			if n := len(env.events()); n != 2 {
				t.Errorf("stream has %d events, want created and retracted", n)
			}
			if got := env.push(env.tokenA, itemOne).results(t); got[0].Status != "duplicate" {
				t.Errorf("same content after retraction = %q, want duplicate", got[0].Status)
			}
			r = env.do(http.MethodGet, "/api/v1/items/nope", env.tokenA, "", nil)
			if r.status != http.StatusNotFound {
				t.Errorf("unknown id = %d, want 404", r.status)
			}
			r.apiError(t)
		})
	}
}

func decodeStatus(t *testing.T, r pushResponse, st *workers.ItemStatus) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", r.status, r.body)
	}
	if err := json.Unmarshal(r.body, st); err != nil {
		t.Fatalf("decoding item status: %v", err)
	}
}

func TestPushRateLimit(t *testing.T) {
	for _, kind := range pushCacheKinds {
		t.Run(kind, func(t *testing.T) {
			env := newPushEnv(t, kind, pushConfig{maxBody: 1 << 20, maxItems: 10, rate: 3})
			env.push(env.tokenA, `[`+itemOne+`,`+itemTwo+`]`).results(t)
			r := env.push(env.tokenA, `[{"id":"r-1","title":"a"},{"id":"r-2","title":"b"}]`)
			if r.status != http.StatusTooManyRequests {
				t.Fatalf("status over the rate = %d, want 429; body %s", r.status, r.body)
			}
			if r.header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			r.apiError(t)
			// One more item still fits, and the other partner has its own
			// count.
			env.push(env.tokenA, `{"id":"r-3","title":"c"}`).results(t)
			env.push(env.tokenB, `[`+itemOne+`,`+itemTwo+`]`).results(t)
			r = env.push(env.tokenA, `[{"id":"r-4","title":"a"},{"id":"r-5","title":"b"},{"id":"r-6","title":"c"},{"id":"r-7","title":"d"}]`)
			if r.status != http.StatusRequestEntityTooLarge {
				t.Errorf("batch above the rate = %d, want 413", r.status)
			}
		})
	}
}

func TestPushReservedItemIs503(t *testing.T) {
	env := newPushEnv(t, "embedded", defaultPushConfig())
	id := pipeline.PushedItemID("wipk", "n-1")
	won, err := env.cache.Reserve(context.Background(), "reserve:"+id, "other", time.Minute)
	if err != nil || !won {
		t.Fatalf("reserving as another writer = %v, %v", won, err)
	}
	r := env.push(env.tokenA, itemOne)
	if r.status != http.StatusServiceUnavailable {
		t.Fatalf("status = %d, want 503; body %s", r.status, r.body)
	}
	if r.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if got := r.apiError(t); got.Code != "item_reserved" {
		t.Errorf("code = %q, want item_reserved", got.Code)
	}
}

func TestPushRoutes(t *testing.T) {
	env := newPushEnv(t, "embedded", defaultPushConfig())
	r := env.do(http.MethodPut, "/api/v1/items", env.tokenA, "application/json", []byte(itemOne))
	if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "POST" {
		t.Errorf("PUT = %d allow %q, want 405 POST", r.status, r.header.Get("Allow"))
	}
	r.apiError(t)
	r = env.do(http.MethodGet, "/api/v1/openapi.json", "", "", nil)
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil || r.status != http.StatusOK {
		t.Fatalf("openapi.json = %d, %v", r.status, err)
	}
	for _, p := range []string{"/api/v1/items", "/api/v1/items/{id}"} {
		if doc.Paths[p] == nil {
			t.Errorf("OpenAPI document lacks %s", p)
		}
	}
}
