package workers_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/syndic-network/syndic/workers"
)

func TestPushWarnsAboutDroppedFields(t *testing.T) {
	env := newPushEnv(t, "kv", defaultPushConfig())
	body := `{"id":"px-3","title":"img","url":"https://a.example/px3","image":"javascript:alert(1)",` +
		`"attachments":[{"url":"javascript:alert(2)","mime_type":"text/html"}],"language":"xx-<script>",` +
		`"content_html":"<script>alert(3)</script>"}`
	got := env.push(env.tokenA, body).results(t)
	if got[0].Status != "created" {
		t.Fatalf("status = %q, want created", got[0].Status)
	}
	for _, field := range []string{"image", "attachments", "language", "content_html"} {
		if got[0].Warnings[field] == "" {
			t.Errorf("warnings = %v, want one for %s", got[0].Warnings, field)
		}
	}
}

func TestPushWarnsAboutCutFields(t *testing.T) {
	env := newPushEnv(t, "kv", defaultPushConfig())
	tags := make([]string, 100)
	for i := range tags {
		tags[i] = fmt.Sprintf("t%d", i)
	}
	item := map[string]any{"id": "t-big", "title": strings.Repeat("T", 100_000), "url": "https://a.example/tbig", "tags": tags}
	body, err := json.Marshal(item)
	if err != nil {
		t.Fatalf("encoding item: %v", err)
	}
	got := env.push(env.tokenA, string(body)).results(t)
	for _, field := range []string{"title", "tags"} {
		if got[0].Warnings[field] == "" {
			t.Errorf("warnings = %v, want one for %s", got[0].Warnings, field)
		}
	}
	events := env.events()
	if len(events) != 1 {
		t.Fatalf("stream has %d events, want 1", len(events))
	}
	if n := len([]rune(events[0].Title)); n > 1000 {
		t.Errorf("stored title has %d characters, want at most 1000", n)
	}
	if n := len(events[0].Categories); n != 50 {
		t.Errorf("stored %d categories, want 50", n)
	}
}

func TestPushCleanItemHasNoWarnings(t *testing.T) {
	env := newPushEnv(t, "kv", defaultPushConfig())
	got := env.push(env.tokenA, itemOne).results(t)
	if len(got[0].Warnings) != 0 {
		t.Errorf("warnings = %v, want none", got[0].Warnings)
	}
	if strings.Contains(string(env.push(env.tokenA, itemOne).body), "warnings") {
		t.Errorf("response names warnings for a clean item")
	}
}

func TestPushRejectsBadIDAndLink(t *testing.T) {
	env := newPushEnv(t, "kv", defaultPushConfig())
	longURL := "https://a.example/" + strings.Repeat("x", 2048)
	body := `[{"id":"  padded  ","title":"padded","url":"https://a.example/i14"},` +
		`{"id":"long-url","title":"long","url":"` + longURL + `"},` +
		`{"id":"ok","title":"ok","url":"https://a.example/ok"},` +
		`{"id":"\ufeffbom-6","title":"bom","url":"https://a.example/bom"}]`
	got := env.push(env.tokenA, body).results(t)
	if got[0].Status != "rejected" || got[0].Fields["id"] == "" {
		t.Errorf("padded id = %q %v, want rejected with an id field", got[0].Status, got[0].Fields)
	}
	if got[1].Status != "rejected" || got[1].Fields["url"] == "" {
		t.Errorf("long url = %q %v, want rejected with a url field", got[1].Status, got[1].Fields)
	}
	if got[3].Status != "rejected" || got[3].Fields["id"] == "" {
		t.Errorf("id with a byte-order mark = %q %v, want rejected with an id field", got[3].Status, got[3].Fields)
	}
	if got[2].Status != "created" {
		t.Errorf("valid item = %q, want created", got[2].Status)
	}
}

func TestPushRemovesLinkCredentials(t *testing.T) {
	env := newPushEnv(t, "kv", defaultPushConfig())
	env.push(env.tokenA, `{"id":"px-5","title":"creds","url":"https://user:pass@a.example/px5"}`).results(t)
	var st workers.ItemStatus
	decodeStatus(t, env.do(http.MethodGet, "/api/v1/items/px-5", env.tokenA, "", nil), &st)
	if st.Event.URL != "https://a.example/px5" {
		t.Errorf("stored url = %q, want the credentials removed", st.Event.URL)
	}
}

func TestPushLookupWithHexPartnerID(t *testing.T) {
	env := newPushEnv(t, "kv", defaultPushConfig())
	first := env.push(env.tokenA, `{"id":"n-1","title":"Alpha first","url":"https://alpha.example/n/1"}`).results(t)
	hexID := first[0].ItemID
	second := env.push(env.tokenA, `{"id":"`+hexID+`","title":"looks like item id","url":"https://a.example/i11"}`).results(t)
	otherID := second[0].ItemID

	r := env.do(http.MethodDelete, "/api/v1/items/"+hexID, env.tokenA, "", nil)
	if r.status != http.StatusConflict {
		t.Fatalf("ambiguous DELETE = %d, want 409; body %s", r.status, r.body)
	}
	if code := r.apiError(t).Code; code != "ambiguous_id" {
		t.Errorf("code = %q, want ambiguous_id", code)
	}
	if n := len(env.events()); n != 2 {
		t.Errorf("stream has %d events after an ambiguous DELETE, want 2", n)
	}

	var st workers.ItemStatus
	decodeStatus(t, env.do(http.MethodGet, "/api/v1/items/"+hexID+"?by=item_id", env.tokenA, "", nil), &st)
	if st.ItemID != hexID {
		t.Errorf("by=item_id found %s, want %s", st.ItemID, hexID)
	}
	if st.ID != "n-1" {
		t.Errorf("by=item_id answered id %q, want the partner's own id n-1", st.ID)
	}
	decodeStatus(t, env.do(http.MethodDelete, "/api/v1/items/"+hexID+"?by=id", env.tokenA, "", nil), &st)
	if st.ItemID != otherID || st.State != "retracted" {
		t.Errorf("by=id retracted %s (%s), want %s", st.ItemID, st.State, otherID)
	}
	decodeStatus(t, env.do(http.MethodGet, "/api/v1/items/"+hexID+"?by=item_id", env.tokenA, "", nil), &st)
	if st.State != "live" {
		t.Errorf("item %s is %s, want live", hexID, st.State)
	}
}

func TestPushLookupRejectsBadBy(t *testing.T) {
	env := newPushEnv(t, "kv", defaultPushConfig())
	env.push(env.tokenA, itemOne).results(t)
	tests := []struct {
		name, path, field string
	}{
		{"unknown by value", "/api/v1/items/n-1?by=guid", "by"},
		{"item_id that is not hex", "/api/v1/items/n-1?by=item_id", "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.do(http.MethodGet, tt.path, env.tokenA, "", nil)
			if r.status != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400; body %s", r.status, r.body)
			}
			if fields := r.apiError(t).Fields; fields[tt.field] == "" {
				t.Errorf("fields = %v, want one for %s", fields, tt.field)
			}
		})
	}
}

func TestPushWarnsAboutReplacedDates(t *testing.T) {
	env := newPushEnv(t, "kv", defaultPushConfig())
	cases := []struct{ id, date, want string }{
		{"d-zero", "0000-01-01T00:00:00Z", "the time of receipt is used"},
		{"d-far", "9999-12-31T23:59:59+14:00", "after the time of receipt"},
	}
	for _, c := range cases {
		body := fmt.Sprintf(`{"id":%q,"title":"Dated","url":"https://a.example/%s","date_published":%q}`, c.id, c.id, c.date)
		got := env.push(env.tokenA, body).results(t)
		if got[0].Status != "created" {
			t.Fatalf("%s: status = %q, want created", c.date, got[0].Status)
		}
		if w := got[0].Warnings["date_published"]; !strings.Contains(w, c.want) {
			t.Errorf("%s: date_published warning = %q, want it to say %q", c.date, w, c.want)
		}
	}
	body := `{"id":"d-ok","title":"Dated","url":"https://a.example/d-ok","date_published":"2026-11-30T08:00:00+01:00"}`
	if got := env.push(env.tokenA, body).results(t); len(got[0].Warnings) != 0 {
		t.Errorf("readable date: warnings = %v, want none", got[0].Warnings)
	}
}
