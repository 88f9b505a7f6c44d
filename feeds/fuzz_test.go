package feeds

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"testing"

	"github.com/syndic-network/syndic/pipeline"
)

// FuzzRenderXML renders arbitrary titles and content as RSS and Atom and
// requires well-formed XML whose title reads back as the cleaned input.
func FuzzRenderXML(f *testing.F) {
	for _, name := range []string{"events.json", "control-character-title.json", "two-digit-year-dates.json"} {
		for _, ev := range loadEvents(f, name) {
			f.Add(ev.Title, ev.Content)
		}
	}
	f.Add("a ]]> b", "<![CDATA[x]]>")
	f.Add("\xff\xfe bad utf-8", "\ufffe\uffff\U0010FFFF")
	f.Add("line\r\nbreak\ttab", "&amp; &bogus; <unclosed")
	f.Add("Export \u202efair\x7f\u0085 opens\u2069", "<p>\u2066x\u009b</p>")

	f.Fuzz(func(t *testing.T, title, content string) {
		ev := event("fuzz", mustTime(t, "2026-01-02T03:04:05Z"))
		ev.Title, ev.Content, ev.Summary = title, content, title
		entries := []pipeline.Event{ev}

		rss := mustRender(t, RenderRSS, testMeta(), entries)
		requireWellFormed(t, rss)
		if got := decodeRSS(t, rss).Channel.Items[0].Title; got != cleanText(title) {
			t.Errorf("rss title = %q, want %q", got, cleanText(title))
		}

		atom := mustRender(t, RenderAtom, testMeta(), entries)
		requireWellFormed(t, atom)
		if got := decodeAtom(t, atom).Entries[0].Title; got != cleanText(title) {
			t.Errorf("atom title = %q, want %q", got, cleanText(title))
		}
	})
}

func requireWellFormed(t *testing.T, doc []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(doc))
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("output is not well-formed: %v\n%s", err, doc)
		}
	}
}
