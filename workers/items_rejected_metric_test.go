package workers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// rejectedItems returns syndic_items_total{result="rejected"}.
func rejectedItems(t *testing.T) float64 {
	t.Helper()
	return metricSum(t, "syndic_items_total", map[string]string{"result": "rejected"})
}

func TestItemsTotalCountsRejected(t *testing.T) {
	t.Run("push with only an invalid date", func(t *testing.T) {
		env := newPushEnv(t, "kv", defaultPushConfig())
		before := rejectedItems(t)
		r := env.push(env.tokenA, `{"id":"n-1","title":"Dated","url":"https://a.example/1","date_published":"yesterday"}`)
		if r.status != http.StatusUnprocessableEntity {
			t.Fatalf("status = %d, want 422; body %s", r.status, r.body)
		}
		if got := rejectedItems(t) - before; got != 1 {
			t.Errorf("rejected items counted = %v, want 1", got)
		}
	})

	t.Run("push batch with a partner field", func(t *testing.T) {
		env := newPushEnv(t, "kv", defaultPushConfig())
		before := rejectedItems(t)
		r := env.push(env.tokenA, `[{"id":"n-2","title":"Fine","url":"https://a.example/2"},`+
			`{"id":"n-3","title":"Claims a partner","url":"https://a.example/3","partner":"nemunas"}]`)
		got := r.results(t)
		if got[0].Status != "created" || got[1].Status != "rejected" {
			t.Fatalf("results = %+v, want created and rejected", got)
		}
		if got := rejectedItems(t) - before; got != 1 {
			t.Errorf("rejected items counted = %v, want 1", got)
		}
	})

	t.Run("poll with an empty item", func(t *testing.T) {
		env := newSchedEnv(t, envOptions{})
		partner := newPartnerScript(t, "127.0.0.1")
		// An item with neither a title, a link nor content is rejected by
		// normalisation, before the ingester receives it.
		body := strings.Replace(datedRSS("", env.clock.Now()), "</channel>", "<item><description></description></item></channel>", 1)
		partner.route("/feed", feedOK(body))
		before := rejectedItems(t)
		rep := env.poller.Poll(context.Background(), testFeed("f", partner.url("/feed")))
		if rep.Rejected != 1 || rep.New != 1 {
			t.Fatalf("poll = %d new, %d rejected (err %v); want 1 and 1", rep.New, rep.Rejected, rep.Err)
		}
		if got := rejectedItems(t) - before; got != 1 {
			t.Errorf("rejected items counted = %v, want 1", got)
		}
	})
}
