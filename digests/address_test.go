package digests

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestNormalizeAcceptsOnlyPlainAddress(t *testing.T) {
	tests := []struct {
		name, email, want string // want "" for a rejected address
	}{
		{"plain address", "ann@example.org", "ann@example.org"},
		{"blanks around", "  ann@example.org\n", "ann@example.org"},
		{"domain in capitals", "Ann@Example.ORG", "Ann@example.org"},
		{"tag and dots", "first.last+news@mail.example.org", "first.last+news@mail.example.org"},
		{"apostrophe and hyphen", "o'brien-x@example.ie", "o'brien-x@example.ie"},
		{"quoted local part with comma", `"victim@example.net,"@example.org`, ""},
		{"quoted local part with line break", "\"a\r\nBcc: x@y.z\"@example.org", ""},
		{"quoted local part with space", `"eve smith"@example.org`, ""},
		{"quoted plain local part", `"ann"@example.org`, ""},
		{"quoted formula", `"=1+2"@example.org`, ""},
		{"display name", "Ann <ann@example.org>", ""},
		{"angle brackets only", "<ann@example.org>", ""},
		{"comment", "ann@example.org (Ann)", ""},
		{"domain literal", "ann@[127.0.0.1]", ""},
		{"localhost", "root@localhost", ""},
		{"under localhost", "root@mail.LOCALHOST", ""},
		{"single label", "ann@intranet", ""},
		{"IPv4 address", "g@127.0.0.1", ""},
		{"IPv4 address with a trailing dot", "g@10.0.0.1.", ""},
		{"numeric label inside", "ann@mail.3com.example", "ann@mail.3com.example"},
		{"two addresses", "ann@example.org, bob@example.org", ""},
		{"no domain", "ann", ""},
		{"over 254 bytes", strings.Repeat("a", 64) + "@" + strings.Repeat("b", 190) + ".org", ""},
		{"non-ASCII", "zażółć@example.org", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := Subscriber{Digest: "daily", Email: tt.email}
			err := sub.Normalize()
			if tt.want == "" {
				if !errors.Is(err, ErrInvalidSubscriber) || !strings.HasPrefix(err.Error(), "invalid subscriber: email: ") {
					t.Errorf("Normalize(%q) error = %v, want an email field error", tt.email, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Normalize(%q) returned error: %v", tt.email, err)
			}
			if sub.Email != tt.want {
				t.Errorf("email = %q, want %q", sub.Email, tt.want)
			}
		})
	}
}

// TestSignUpRejectsQuotedAddresses pins quoted local parts that passed the
// address check, were stored decoded, and then failed to build the
// confirmation mail with 503 "try again later" and an ERROR log.
func TestSignUpRejectsQuotedAddresses(t *testing.T) {
	e := newDigestEnv(t)
	logs := &logBuffer{}
	e.Service.o.Logger = slog.New(slog.NewTextHandler(logs, nil))
	addresses := []string{
		`"victim@example.net,"@example.org`,
		"\"a\r\nBcc: x@y.z\"@example.org",
		`"eve smith"@example.org`,
		"Eve <eve@example.org>",
	}
	for _, addr := range addresses {
		body, err := json.Marshal(map[string]string{"email": addr, "locale": "en"})
		if err != nil {
			t.Fatalf("encoding request: %v", err)
		}
		resp, got := postJSON(t, e.HTTP.URL+"/api/v1/digests/daily/subscribers", string(body))
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("sign-up of %q status = %d, want 422: %s", addr, resp.StatusCode, got)
		}
		var errBody struct {
			Error struct {
				Code   string            `json:"code"`
				Fields map[string]string `json:"fields"`
			} `json:"error"`
		}
		if err := json.Unmarshal([]byte(got), &errBody); err != nil {
			t.Fatalf("decoding error body %s: %v", got, err)
		}
		if errBody.Error.Code != "invalid_subscriber" {
			t.Errorf("sign-up of %q code = %q, want invalid_subscriber", addr, errBody.Error.Code)
		}
		if msg := errBody.Error.Fields["email"]; !strings.Contains(msg, "name@example.org") {
			t.Errorf("sign-up of %q fields = %v, want an email field naming the fix", addr, errBody.Error.Fields)
		}
	}
	stored, err := e.Store.List(testContext(t), "daily")
	if err != nil {
		t.Fatalf("List returned error: %v", err)
	}
	if len(stored) != 0 {
		t.Errorf("stored %d subscribers, want none; the first is %q", len(stored), stored[0].Email)
	}
	if n := len(e.Sink.all()); n != 0 {
		t.Errorf("sent %d messages, want none", n)
	}
	if lines := logs.lines("level=ERROR"); len(lines) != 0 {
		t.Errorf("rejected sign-ups logged errors: %s", strings.Join(lines, "\n"))
	}
}

func TestSignUpBodyTooLarge(t *testing.T) {
	e := newDigestEnv(t)
	big := `{"email": "ann@example.org", "categories": ["` + strings.Repeat("c", maxRequestBody) + `"]}`
	resp, body := postJSON(t, e.HTTP.URL+"/api/v1/digests/daily/subscribers", big)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status = %d, want 413: %.200s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want the common JSON error body", ct)
	}
	var errBody struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &errBody); err != nil {
		t.Fatalf("decoding error body %.200s: %v", body, err)
	}
	if errBody.Error.Code != "body_too_large" {
		t.Errorf("code = %q, want body_too_large", errBody.Error.Code)
	}
	if !strings.Contains(errBody.Error.Message, "65536 bytes") {
		t.Errorf("message = %q, want the limit in bytes", errBody.Error.Message)
	}

	form := postForm(t, e.HTTP.URL+"/digests/daily/subscribe", url.Values{
		"email": {"ann@example.org"}, "categories": {strings.Repeat("c", maxRequestBody)},
	})
	if form.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("form sign-up status = %d, want 413", form.StatusCode)
	}
}

// TestSignUpAcceptsByteOrderMark checks that a JSON sign-up body that
// starts with a UTF-8 byte-order mark is read like one without it.
func TestSignUpAcceptsByteOrderMark(t *testing.T) {
	e := newDigestEnv(t)
	resp, got := postJSON(t, e.HTTP.URL+"/api/v1/digests/daily/subscribers", "\xEF\xBB\xBF"+`{"email": "bom@example.org", "locale": "en"}`)
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("sign-up with a byte-order mark: status = %d, want 202: %s", resp.StatusCode, got)
	}
}
