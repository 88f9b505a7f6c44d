package workers_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/pipeline"
	"github.com/syndic-network/syndic/workers"
)

type staticAuth struct{}

func (staticAuth) Authenticate(_ context.Context, token string) (string, error) {
	return "wipk", nil
}

// rejectingIngester rejects items whose title contains "huge", as the
// pipeline rejects an item too large for one NATS message.
type rejectingIngester struct{}

func (rejectingIngester) Ingest(_ context.Context, it *pipeline.Item) (pipeline.Result, error) {
	if strings.Contains(it.Title, "huge") {
		return pipeline.Result("rejected"), errors.New("item too large")
	}
	return pipeline.ResultCreated, nil
}

func TestPushReportsPipelineRejections(t *testing.T) {
	cache := pushCache(t, nil, testenv.Name(t), "redis")
	h := workers.NewPushHandler(workers.PushOptions{
		Tokens: staticAuth{}, Ingester: rejectingIngester{},
		Limiter:  workers.NewRateLimiter(cache, 100, nil),
		Partners: map[string]workers.PushPartner{"wipk": {Location: time.UTC}},
		MaxBody:  1 << 20, MaxItems: 10, MaxRate: 100,
	})
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	env := &pushEnv{t: t, srv: srv}

	got := env.push("t", `[{"id":"a","title":"small"},{"id":"b","title":"huge"}]`).results(t)
	if got[0].Status != "created" || got[1].Status != "rejected" || got[1].Fields["item"] == "" {
		t.Errorf("results = %+v, want created and rejected with a reason", got)
	}
	r := env.push("t", `{"id":"c","title":"huge"}`)
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("only rejected items: status = %d, want 422; body %s", r.status, r.body)
	}
	if e := r.apiError(t); e.Fields["items[0].item"] == "" {
		t.Errorf("422 fields = %v, want the pipeline's reason", e.Fields)
	}
}
