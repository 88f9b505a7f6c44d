package feedcheck

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// recorder is a testing.TB that records failures and skips instead of
// reporting them, so that tests can assert that a check rejects a document.
type recorder struct {
	testing.TB
	mu       sync.Mutex
	failures []string
	skipped  bool
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Skipf(format string, args ...any) {
	r.mu.Lock()
	r.skipped = true
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Logf(string, ...any) {}

// runCheck runs check on doc against a recorder in its own goroutine, so
// that Fatalf and Skipf can end it, and returns the recorded failures.
func runCheck(t *testing.T, check func(testing.TB, []byte), doc string) []string {
	t.Helper()
	rec := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(rec, []byte(doc))
	}()
	<-done
	if rec.skipped {
		t.Skip("a validator is missing; see the skip message of the direct check")
	}
	return rec.failures
}

const goodRSS = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>T</title><link>https://hub.example.com/</link><description>D</description>
<item><title>A</title><link>https://hub.example.com/a</link><description>a</description><guid isPermaLink="false">tag:example.org,2026:a</guid></item>
<item><title>B</title><link>https://hub.example.com/b</link><description>b</description><guid isPermaLink="false">tag:example.org,2026:b</guid></item>
</channel></rss>`

const goodAtom = `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><id>tag:example.org,2026:feeds/all</id><title>T</title><updated>2026-12-04T10:00:00Z</updated>
<entry><id>tag:example.org,2026:a</id><title>A</title><updated>2026-12-04T10:00:00Z</updated><author><name>Ann</name></author><link rel="alternate" href="https://hub.example.com/a"/></entry>
</feed>`

const goodJSON = `{"version":"https://jsonfeed.org/version/1.1","title":"T","items":[
{"id":"tag:example.org,2026:a","url":"https://hub.example.com/a","content_html":"<p>a</p>"},
{"id":"tag:example.org,2026:b","url":"https://hub.example.com/b","content_text":"b\tc"}]}`

func TestCheckRSS(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		wantErr string
	}{
		{"valid document passes", goodRSS, ""},
		{"control character fails", strings.Replace(goodRSS, "<title>A", "<title>A\x1d", 1), "not well-formed"},
		{"bare ampersand fails", strings.Replace(goodRSS, "<title>A", "<title>A & B", 1), "not well-formed"},
		{"duplicate guid fails", strings.Replace(goodRSS, ":b</guid>", ":a</guid>", 1), "share the guid"},
		{"duplicate link fails", strings.Replace(goodRSS, "example.com/b<", "example.com/a<", 1), "share the link"},
		{"two roots fail", goodRSS + "<rss/>", "root elements"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertFailures(t, runCheck(t, CheckRSS, tt.doc), tt.wantErr)
		})
	}
}

func TestCheckAtom(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		wantErr string
	}{
		{"valid document passes", goodAtom, ""},
		{"empty updated fails the schema", strings.Replace(goodAtom, "<updated>2026-12-04T10:00:00Z</updated><author>", "<updated></updated><author>", 1), "jing rejected"},
		{"entry without author fails", strings.Replace(goodAtom, "<author><name>Ann</name></author>", "", 1), "no author"},
		{"entry without link or content fails", strings.Replace(goodAtom, `<link rel="alternate" href="https://hub.example.com/a"/>`, "", 1), "neither an alternate link nor content"},
		{"duplicate entry id fails", strings.Replace(goodAtom, "</feed>", `<entry><id>tag:example.org,2026:a</id><title>B</title><updated>2026-12-04T10:00:00Z</updated><author><name>Bo</name></author><content>x</content></entry></feed>`, 1), "share the entry id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertFailures(t, runCheck(t, CheckAtom, tt.doc), tt.wantErr)
		})
	}
}

func TestCheckJSONFeed(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		wantErr string
	}{
		{"valid document passes", goodJSON, ""},
		{"escaped control character fails", strings.Replace(goodJSON, `"b\tc"`, `"b\u001dc"`, 1), "control character"},
		{"missing content fails the schema", strings.Replace(goodJSON, `,"content_html":"<p>a</p>"`, "", 1), "jsonschema rejected"},
		{"duplicate url fails", strings.Replace(goodJSON, "example.com/b", "example.com/a", 1), "share the item url"},
		{"wrong version fails", strings.Replace(goodJSON, "version/1.1", "version/9", 1), "json feed version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.wantErr == "jsonschema rejected" && !sharedSchemaPresent() {
				t.Skip("the JSON Feed schema is absent, so the schema check does not run")
			}
			assertFailures(t, runCheck(t, CheckJSONFeed, tt.doc), tt.wantErr)
		})
	}
}

func sharedSchemaPresent() bool {
	root, err := moduleRoot()
	return err == nil && fileExists(filepath.Join(root, jsonFeedSchemaPath))
}

func assertFailures(t *testing.T, failures []string, want string) {
	t.Helper()
	if want == "" {
		if len(failures) > 0 {
			t.Fatalf("check failed a valid document:\n%s", strings.Join(failures, "\n"))
		}
		return
	}
	for _, f := range failures {
		if strings.Contains(f, want) {
			return
		}
	}
	t.Fatalf("check failures %q do not mention %q", failures, want)
}
