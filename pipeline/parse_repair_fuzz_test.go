package pipeline

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// wellFormed reports whether text is a well-formed XML document to the
// strict encoding/xml tokenizer.
func wellFormed(text []byte) bool {
	dec := xml.NewDecoder(bytes.NewReader(text))
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return true
		}
		if err != nil {
			return false
		}
	}
}

// FuzzRepairXML checks the XML repair pass on UTF-8 text, as ParseFeed
// calls it after charset decoding: its output holds only characters XML
// 1.0 allows, a second pass changes nothing, and well-formed input without
// forbidden characters stays well-formed.
func FuzzRepairXML(f *testing.F) {
	for _, seed := range []string{
		`<rss><channel><title>Fish & Chips</title></channel></rss>`,
		"\uFEFF  <?xml version=\"1.0\"?><rss><channel><title>a\x01b</title></channel></rss>",
		`<rss><channel><item><title>&nbsp;&eacute;&amp;&#8212;&#1;</title></item></channel></rss>`,
		`<feed><entry><content type="html"><![CDATA[<p>a & b]]></content></entry></feed>`,
		`<rss><!-- a & b --><?pi x & y?><channel><link href="http://[bad"/></channel></rss>`,
		`<rss><channel><item><title>cut`,
		// A forbidden character inside the declaration hid it from the
		// leading-blank trim until the second pass.
		" \uFEFF<?\x01xml version=\"1.0\"?><rss/>",
		// "<!-->" opens a comment without closing it, so the ampersand
		// after it is comment text on every pass.
		"<!--\x01>&",
		"<!-->&",
		// Dropping the forbidden character joins "?>" and "-->", which
		// must end the section on the first pass too.
		"<??\x01>&",
		"<!---\x01->&",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		if !utf8.Valid(text) {
			return
		}
		once, _ := repairXML(text)
		if !utf8.Valid(once) {
			t.Fatalf("repairXML output is not UTF-8: %q", once)
		}
		if i := strings.IndexFunc(string(once), notXMLChar); i >= 0 {
			t.Fatalf("repairXML output keeps a character XML forbids at %d: %q", i, once)
		}
		twice, notes := repairXML(once)
		if !bytes.Equal(once, twice) {
			t.Fatalf("second repairXML pass changed the text (%v):\n%q\n%q", notes, once, twice)
		}
		// encoding/xml accepts some characters XML forbids, as in "<!\x1f>",
		// and removing them can leave text it rejects, so only documents
		// free of such characters must stay well-formed.
		clean := !strings.ContainsFunc(string(text), notXMLChar)
		if clean && wellFormed(text) && !wellFormed(once) {
			t.Fatalf("repairXML broke a well-formed document:\n%q\n%q", text, once)
		}
	})
}

func TestRepairXMLAmpersandInCharRef(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"ampersand inside a broken reference", "&#&;0", "&amp;#&amp;;0"},
		{"tag inside a broken reference", "<t>&#<b>;</t>", "<t>&amp;#<b>;</t>"},
		{"valid reference after a broken one", "&#x;&#65;", "&amp;#x;&#65;"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := repairXML([]byte(tc.in))
			if string(got) != tc.want {
				t.Errorf("repairXML(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
