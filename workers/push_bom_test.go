package workers_test

import (
	"net/http"
	"testing"
)

// TestPushJSONWithByteOrderMark checks that a JSON body written by a tool
// that starts files with a UTF-8 byte-order mark is accepted.
func TestPushJSONWithByteOrderMark(t *testing.T) {
	env := newPushEnv(t, "embedded", defaultPushConfig())
	r := env.push(env.tokenA, "\xEF\xBB\xBF"+itemOne)
	if r.status != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", r.status, r.body)
	}
	res := r.results(t)
	if len(res) != 1 || res[0].Status != "created" {
		t.Errorf("results = %+v, want one created item", res)
	}
}
