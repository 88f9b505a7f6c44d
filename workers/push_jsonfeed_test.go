package workers_test

import (
	"net/http"
	"testing"

	"github.com/syndic-network/syndic/workers"
)

func TestPushJSONFeedRejectsBadItemsOnly(t *testing.T) {
	env := newPushEnv(t, "redis", defaultPushConfig())
	r := env.do(http.MethodPost, "/api/v1/items", env.tokenA, "application/feed+json", []byte(jsonFeedNumberID))
	got := r.results(t)
	byID := map[string]workers.ItemResult{}
	for _, res := range got {
		byID[res.ID] = res
	}
	if len(got) != 5 {
		t.Fatalf("results = %+v, want five", got)
	}
	for _, id := range []string{"j-1", "j-2", "12345", "j-5"} {
		if byID[id].Status != "created" {
			t.Errorf("item %s = %+v, want created", id, byID[id])
		}
	}
	for id, want := range map[string]string{
		"j-4": `invalid item: "tags" must be an array, got a string`,
	} {
		if byID[id].Status != "rejected" {
			t.Errorf("item %s status = %q, want rejected", id, byID[id].Status)
		}
		if byID[id].Fields["item"] != want {
			t.Errorf("item %s fields = %v, want item: %s", id, byID[id].Fields, want)
		}
	}
	if n := len(env.events()); n != 4 {
		t.Errorf("stream has %d events, want 4", n)
	}
}

func TestPushJSONFeedAllItemsBad(t *testing.T) {
	env := newPushEnv(t, "embedded", defaultPushConfig())
	body := `{"version":"https://jsonfeed.org/version/1.1","title":"Wire","items":[{"id":false,"title":"A"},{"id":"b","tags":"x"}]}`
	r := env.do(http.MethodPost, "/api/v1/items", env.tokenA, "application/feed+json", []byte(body))
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("status = %d, want 422 as for any request whose items are all rejected; body %s", r.status, r.body)
	}
	e := r.apiError(t)
	for _, field := range []string{"items[0].item", "items[1].item"} {
		if e.Fields[field] == "" {
			t.Errorf("422 fields = %v, want a reason in %s", e.Fields, field)
		}
	}
}

func TestPushJSONFeedDocumentErrorStays400(t *testing.T) {
	env := newPushEnv(t, "embedded", defaultPushConfig())
	body := `{"version":"https://jsonfeed.org/version/1.1","title":"Wire","items":"none"}`
	r := env.do(http.MethodPost, "/api/v1/items", env.tokenA, "application/feed+json", []byte(body))
	if r.status != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400; body %s", r.status, r.body)
	}
	if e := r.apiError(t); e.Code != "invalid_feed" {
		t.Errorf("code = %q, want invalid_feed", e.Code)
	}
}
