package digests

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/syndic-network/syndic/internal/config"
	"github.com/syndic-network/syndic/pipeline"
)

func TestNormalizeChecksFilterValues(t *testing.T) {
	many := make([]string, maxFilterValues+1)
	for i := range many {
		many[i] = "c" + strings.Repeat("x", i)
	}
	tests := []struct {
		name  string
		sub   Subscriber
		field string // "" for a valid subscriber
	}{
		{"valid filters", Subscriber{Languages: []string{"pl", "en-GB", " de "}, Partners: []string{"wipk", "cci-2"}, Categories: []string{"Trade fairs", "C++", "Zażółć", "#events"}}, ""},
		{"too many categories", Subscriber{Categories: many}, "categories"},
		{"long category", Subscriber{Categories: []string{"ok", strings.Repeat("c", maxCategoryRunes+1)}}, "categories[1]"},
		{"category of max length", Subscriber{Categories: []string{strings.Repeat("ż", maxCategoryRunes)}}, ""},
		{"control character in category", Subscriber{Categories: []string{"a\x00b"}}, "categories[0]"},
		{"tab in category", Subscriber{Categories: []string{"a\tb"}}, "categories[0]"},
		{"right-to-left override in category", Subscriber{Categories: []string{"news\u202etxt.exe"}}, "categories[0]"},
		{"zero-width space in category", Subscriber{Categories: []string{"ev\u200bents"}}, "categories[0]"},
		{"invalid UTF-8 in category", Subscriber{Categories: []string{"caf\xe9"}}, "categories[0]"},
		{"language name", Subscriber{Languages: []string{"english"}}, "languages[0]"},
		{"language with markup", Subscriber{Languages: []string{"pl", "<b>"}}, "languages[1]"},
		{"language too long", Subscriber{Languages: []string{"en" + strings.Repeat("-abcdefgh", 4)}}, "languages[0]"},
		{"partner with space", Subscriber{Partners: []string{"wipk news"}}, "partners[0]"},
		{"partner in capitals", Subscriber{Partners: []string{"WIPK"}}, "partners[0]"},
		{"partner formula", Subscriber{Partners: []string{"=1+2"}}, "partners[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := tt.sub
			sub.Digest, sub.Email = "daily", "ann@example.org"
			err := sub.Normalize()
			if tt.field == "" {
				if err != nil {
					t.Errorf("Normalize returned error: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidSubscriber) {
				t.Fatalf("Normalize error = %v, want ErrInvalidSubscriber", err)
			}
			if want := ErrInvalidSubscriber.Error() + ": " + tt.field + ": "; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Normalize error = %q, want it to start with %q", err, want)
			}
		})
	}
}

func TestSignUpAPINamesBadFilterField(t *testing.T) {
	e := newDigestEnv(t)
	resp, body := postJSON(t, e.HTTP.URL+"/api/v1/digests/daily/subscribers",
		`{"email": "frank@example.org", "categories": ["events", "=HYPERLINK(\"http://evil.example/\")\rA1"], "languages": ["pl"]}`)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("status = %d, want 422: %s", resp.StatusCode, body)
	}
	var got struct {
		Error struct {
			Code   string            `json:"code"`
			Fields map[string]string `json:"fields"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("decoding error body %s: %v", body, err)
	}
	if got.Error.Code != "invalid_subscriber" {
		t.Errorf("code = %q, want invalid_subscriber", got.Error.Code)
	}
	if msg := got.Error.Fields["categories[1]"]; !strings.Contains(msg, "U+000D") {
		t.Errorf("fields = %v, want categories[1] naming U+000D", got.Error.Fields)
	}
	if _, _, err := e.Store.Find(testContext(t), "daily", "frank@example.org"); !errors.Is(err, ErrNotFound) {
		t.Errorf("rejected sign-up was stored: %v", err)
	}
	if n := len(e.Sink.all()); n != 0 {
		t.Errorf("rejected sign-up sent %d messages", n)
	}
}

// TestChannelFilterKeepsKeywords checks that a digest leaves out what its
// channel's keyword lists leave out.
func TestChannelFilterKeepsKeywords(t *testing.T) {
	ch := config.Channel{ID: "export", Filter: config.ChannelFilter{
		Keywords: []string{"export"}, ExcludeKeywords: []string{"sponsored"},
	}}
	f := ChannelFilter(ch)
	for _, c := range []struct {
		title string
		want  bool
	}{
		{"Export fair in Gdańsk", true},
		{"Sponsored: export insurance", false},
		{"New board elected", false},
	} {
		ev := pipeline.Event{Item: pipeline.Item{ID: "x", Partner: "wipk", Title: c.title}}
		if got := f.Match(ev); got != c.want {
			t.Errorf("Match(%q) = %v, want %v", c.title, got, c.want)
		}
	}
}
