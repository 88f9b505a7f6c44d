package feeds

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/syndic-network/syndic/pipeline"
)

// isHiddenControl reports whether r is DEL, a C1 control or a
// bidirectional embedding, override or isolate control.
func isHiddenControl(r rune) bool {
	return r >= 0x7f && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
}

// controlEvent returns an event as a release before the pipeline removed
// these controls could have stored it, with one in every field.
func controlEvent(t *testing.T) pipeline.Event {
	ev := event("ctl", mustTime(t, "2026-01-02T03:04:05Z"))
	ev.Title = "Export \u202efair\u2066 opens\x7f"
	ev.Summary = "Dates \u2067soon\u0080"
	ev.Content = `<p>Dates ` + "\u202esoon\u009b" + ` <a href="https://northwind.example.com/x?q=` + "\u202e" + `">l</a></p>`
	ev.URL = "https://northwind.example.com/ctl?q=\u202e"
	ev.Image = "https://northwind.example.com/i.png?v=\u0085"
	ev.Categories = []string{"trade\u202d"}
	ev.Authors = []pipeline.Author{{Name: "Ann \u202eLee", URL: "https://northwind.example.com/ann?\u2066"}}
	ev.Enclosures = []pipeline.Enclosure{{URL: "https://northwind.example.com/a.mp3?\u202e", Type: "audio/mpeg"}}
	return ev
}

func TestRenderRemovesHiddenControls(t *testing.T) {
	ev := controlEvent(t)
	for _, r := range renderers {
		t.Run(r.name, func(t *testing.T) {
			// The validators of r.check skip the test where they are not
			// installed, and decoding the document below already fails
			// when it is not well-formed.
			doc := mustRender(t, r.render, testMeta(), []pipeline.Event{ev})
			var values []string
			if r.name == "json" {
				values = jsonStrings(t, doc)
			} else {
				values = xmlStrings(t, doc)
			}
			for _, v := range values {
				if strings.ContainsFunc(v, isHiddenControl) {
					t.Errorf("output contains a control in %q", v)
				}
			}
			if !strings.Contains(string(doc), "Export fair opens") {
				t.Errorf("output lost the text around the controls in the title:\n%s", doc)
			}
			if !strings.Contains(string(doc), "/ctl?q=%E2%80%AE") {
				t.Errorf("item link does not keep the override percent-encoded:\n%s", doc)
			}
		})
	}
}

func TestPageRemovesHiddenControls(t *testing.T) {
	h := &handler{}
	it := h.pageItem(Story{Item: controlEvent(t)})
	for name, v := range map[string]string{
		"title": it.Title, "summary": it.Summary, "content": string(it.Content), "url": it.URL,
	} {
		if strings.ContainsFunc(v, isHiddenControl) {
			t.Errorf("%s contains a control: %q", name, v)
		}
	}
	if it.URL != "https://northwind.example.com/ctl?q=%E2%80%AE" {
		t.Errorf("url = %q, want the override percent-encoded", it.URL)
	}
}

// jsonStrings returns every string in a JSON document, keys included.
func jsonStrings(t *testing.T, doc []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatalf("decoding json: %v", err)
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for k, e := range v {
				out = append(out, k)
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

// xmlStrings returns the character data and attribute values of an XML
// document, with references decoded.
func xmlStrings(t *testing.T, doc []byte) []string {
	t.Helper()
	var out []string
	dec := xml.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("decoding xml: %v", err)
		}
		switch tok := tok.(type) {
		case xml.CharData:
			out = append(out, string(tok))
		case xml.StartElement:
			for _, a := range tok.Attr {
				out = append(out, a.Value)
			}
		}
	}
}
