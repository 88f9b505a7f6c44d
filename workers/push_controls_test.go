package workers_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/syndic-network/syndic/pipeline"
)

// isHiddenControl reports whether r is DEL, a C1 control or a
// bidirectional embedding, override or isolate control.
func isHiddenControl(r rune) bool {
	return r >= 0x7f && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
}

func TestPushStripsHiddenControls(t *testing.T) {
	tests := []struct {
		name, contentType, body string
	}{
		{"pushed item", "application/json", `{"id":"ctl-1","url":"https://a.example/ctl1",` +
			`"title":"Export \u202efair\u2066 opens\u007f","summary":"Dates \u2067soon\u0080",` +
			`"content_html":"<p>Dates \u202esoon\u009b</p>","tags":["trade\u202d"],` +
			`"authors":[{"name":"Ann \u202eLee"}]}`},
		{"pushed RSS document", "application/rss+xml", `<rss version="2.0"><channel><title>R</title>` +
			`<item><guid>ctl-2</guid><link>https://a.example/ctl2</link>` +
			"<title>Export \u202efair\u2066 opens\u007f</title><description>Dates \u2067soon\u0080</description>" +
			"<category>trade\u202d</category></item></channel></rss>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newPushEnv(t, "kv", defaultPushConfig())
			r := env.do(http.MethodPost, "/api/v1/items", env.tokenA, tt.contentType, []byte(tt.body))
			if got := r.results(t); len(got) != 1 || got[0].Status != "created" {
				t.Fatalf("results = %+v, want one created item", got)
			}
			events := env.events()
			if len(events) != 1 {
				t.Fatalf("stream has %d events, want 1", len(events))
			}
			ev := events[0]
			if ev.Title != "Export fair opens" {
				t.Errorf("title = %q, want Export fair opens", ev.Title)
			}
			if ev.Summary != "Dates soon" {
				t.Errorf("summary = %q, want Dates soon", ev.Summary)
			}
			for name, v := range eventText(ev) {
				if strings.ContainsFunc(v, isHiddenControl) {
					t.Errorf("%s contains a control: %q", name, v)
				}
			}
		})
	}
}

// eventText returns the plain-text fields and the content of ev by name.
func eventText(ev pipeline.Event) map[string]string {
	out := map[string]string{"title": ev.Title, "summary": ev.Summary, "content": ev.Content}
	for _, c := range ev.Categories {
		out["category "+c] = c
	}
	for _, a := range ev.Authors {
		out["author "+a.Name] = a.Name
	}
	return out
}
