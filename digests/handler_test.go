package digests

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func postJSON(t *testing.T, rawURL, body string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Post(rawURL, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	return resp, string(data)
}

func TestSignUpAPIRejects(t *testing.T) {
	e := newDigestEnv(t)
	invalidBefore := counterValue(t, signUpsTotal.WithLabelValues("invalid"))
	tests := []struct {
		name, path, body string
		status           int
		code             string
	}{
		{"unknown digest", "/api/v1/digests/hourly/subscribers", `{"email": "a@example.org"}`, http.StatusNotFound, "not_found"},
		{"bad address", "/api/v1/digests/daily/subscribers", `{"email": "not an address"}`, http.StatusUnprocessableEntity, "invalid_subscriber"},
		{"unknown locale", "/api/v1/digests/daily/subscribers", `{"email": "a@example.org", "locale": "xx"}`, http.StatusUnprocessableEntity, "invalid_subscriber"},
		{"unknown partner", "/api/v1/digests/daily/subscribers", `{"email": "a@example.org", "partners": ["nope"]}`, http.StatusUnprocessableEntity, "invalid_subscriber"},
		{"unknown field", "/api/v1/digests/daily/subscribers", `{"email": "a@example.org", "admin": true}`, http.StatusBadRequest, "invalid_json"},
		{"not JSON", "/api/v1/digests/daily/subscribers", `email=a@example.org`, http.StatusBadRequest, "invalid_json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := postJSON(t, e.HTTP.URL+tt.path, tt.body)
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if !strings.Contains(body, `"code":"`+tt.code+`"`) {
				t.Errorf("body %s lacks code %s", body, tt.code)
			}
		})
	}
	if n := len(e.Sink.all()); n != 0 {
		t.Errorf("rejected sign-ups sent %d messages", n)
	}
	// The two bodies that are not valid JSON never reach SignUp.
	if got := counterValue(t, signUpsTotal.WithLabelValues("invalid")) - invalidBefore; got != 4 {
		t.Errorf("syndic_digest_signups_total{result=invalid} rose by %v, want 4", got)
	}
}

func TestSignUpRateLimitPerAddress(t *testing.T) {
	e := newDigestEnv(t)
	for i := range addressLimit {
		resp, body := postJSON(t, e.HTTP.URL+"/api/v1/digests/daily/subscribers", `{"email": "flood@example.org"}`)
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("sign-up %d status = %d: %s", i+1, resp.StatusCode, body)
		}
	}
	resp, _ := postJSON(t, e.HTTP.URL+"/api/v1/digests/daily/subscribers", `{"email": "FLOOD@example.org"}`)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("sign-up over the address limit status = %d, want 429", resp.StatusCode)
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Error("429 response has no Retry-After")
	}
	if n := len(e.Sink.waitFor(t, addressLimit)); n != addressLimit {
		t.Errorf("sent %d confirmations, want %d", n, addressLimit)
	}
}

func TestSignUpRateLimitPerClient(t *testing.T) {
	e := newDigestEnv(t)
	var last *http.Response
	for i := range clientLimit + 1 {
		last, _ = postJSON(t, e.HTTP.URL+"/api/v1/digests/daily/subscribers", `{"email": "user`+string(rune('a'+i))+`@example.org"}`)
	}
	if last.StatusCode != http.StatusTooManyRequests {
		t.Errorf("sign-up over the client limit status = %d, want 429", last.StatusCode)
	}
}

func TestSignUpOfConfirmedAddressSendsNothing(t *testing.T) {
	e := newDigestEnv(t)
	e.addConfirmed(t, "ann@example.org", time.Now())
	resp, _ := postJSON(t, e.HTTP.URL+"/api/v1/digests/daily/subscribers", `{"email": "ann@example.org", "locale": "de"}`)
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("status = %d, want the same 202 as for a new address", resp.StatusCode)
	}
	sub, _, err := e.Store.Find(testContext(t), "daily", "ann@example.org")
	if err != nil {
		t.Fatalf("Find returned error: %v", err)
	}
	if sub.Status != StatusConfirmed || sub.Locale != "en" {
		t.Errorf("subscriber = %+v, want it unchanged", sub)
	}
	if n := len(e.Sink.all()); n != 0 {
		t.Errorf("sent %d messages, want none", n)
	}
}

func TestFormSignUpAndManage(t *testing.T) {
	e := newDigestEnv(t)
	ctx := testContext(t)
	page, err := http.Get(e.HTTP.URL + "/digests/daily/subscribe")
	if err != nil {
		t.Fatalf("GET form: %v", err)
	}
	form, _ := io.ReadAll(page.Body)
	page.Body.Close()
	// The page holds a form: it must not be framed, post elsewhere or be
	// read as another type.
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "form-action 'self'") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	if got := page.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
	}
	if !bytes.Contains(form, []byte(`name="email"`)) || !bytes.Contains(form, []byte("Chamber of Commerce")) {
		t.Errorf("sign-up form lacks the email field or the partner list:\n%s", form)
	}
	resp := postForm(t, e.HTTP.URL+"/digests/daily/subscribe", url.Values{
		"email": {"bob@example.org"}, "locale": {"fr"}, "time_zone": {"Europe/Paris"},
		"partners": {"cci"}, "categories": {"funding, events"},
	})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("form sign-up status = %d", resp.StatusCode)
	}
	sub, _, err := e.Store.Find(ctx, "daily", "bob@example.org")
	if err != nil {
		t.Fatalf("Find returned error: %v", err)
	}
	if sub.Locale != "fr" || len(sub.Partners) != 1 || len(sub.Categories) != 2 {
		t.Errorf("stored sign-up = %+v", sub)
	}

	manage := e.Links.Manage("daily", "bob@example.org", time.Now())
	token := manage[strings.Index(manage, "token=")+len("token="):]
	token, err = url.QueryUnescape(token)
	if err != nil {
		t.Fatalf("unescaping token: %v", err)
	}
	changed := postForm(t, e.HTTP.URL+"/digests/manage", url.Values{"token": {token}, "locale": {"lt"}, "time_zone": {"Europe/Vilnius"}})
	if changed.StatusCode != http.StatusOK {
		t.Fatalf("manage status = %d", changed.StatusCode)
	}
	sub, _, err = e.Store.Find(ctx, "daily", "bob@example.org")
	if err != nil {
		t.Fatalf("Find returned error: %v", err)
	}
	if sub.Locale != "lt" || sub.TimeZone != "Europe/Vilnius" || len(sub.Partners) != 0 {
		t.Errorf("subscriber after change = %+v", sub)
	}
	forged := postForm(t, e.HTTP.URL+"/digests/manage", url.Values{"token": {token + "x"}, "locale": {"de"}})
	if forged.StatusCode != http.StatusBadRequest {
		t.Errorf("manage with a forged token status = %d, want 400", forged.StatusCode)
	}
}

func TestConfirmRejectsExpiredLink(t *testing.T) {
	e := newDigestEnv(t)
	old := e.Links.Confirm("daily", "late@example.org", time.Now().Add(-ConfirmTTL-time.Minute))
	token, err := url.QueryUnescape(old[strings.Index(old, "token=")+len("token="):])
	if err != nil {
		t.Fatalf("unescaping token: %v", err)
	}
	resp := postForm(t, e.HTTP.URL+"/digests/confirm", url.Values{"token": {token}})
	if resp.StatusCode != http.StatusGone {
		t.Errorf("expired confirm status = %d, want 410", resp.StatusCode)
	}
}

func TestExportImportDelete(t *testing.T) {
	e := newDigestEnv(t)
	ctx := testContext(t)
	e.addConfirmed(t, "ann@example.org", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	var out bytes.Buffer
	if err := e.Store.Export(ctx, "daily", &out); err != nil {
		t.Fatalf("Export returned error: %v", err)
	}
	if !strings.Contains(out.String(), "daily,ann@example.org,en,UTC,,,,confirmed,2026-01-02T03:04:05Z,2026-01-02T03:04:05Z") {
		t.Errorf("export =\n%s", out.String())
	}
	if err := e.Store.Remove(ctx, "daily", "ann@example.org", ReasonDeleted, time.Now()); err != nil {
		t.Fatalf("Remove returned error: %v", err)
	}
	csv := out.String() + "daily,new@example.org,pl,Europe/Warsaw,pl,wipk,,confirmed,,2026-02-01T10:00:00Z\n"
	rep, err := e.Store.Import(ctx, "daily", strings.NewReader(csv))
	if err != nil {
		t.Fatalf("Import returned error: %v", err)
	}
	if rep.Added != 1 || rep.Suppressed != 1 {
		t.Errorf("import report = %+v, want 1 added and the deleted address skipped", rep)
	}
	if _, _, err := e.Store.Find(ctx, "daily", "ann@example.org"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted address came back by import: %v", err)
	}
	bad := strings.Join(csvHeader, ",") + "\ndaily,x@example.org,en,UTC,,,,confirmed,,\n"
	if _, err := e.Store.Import(ctx, "daily", strings.NewReader(bad)); !errors.Is(err, ErrInvalidSubscriber) || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("import without consent time error = %v, want ErrInvalidSubscriber on line 2", err)
	}
}
