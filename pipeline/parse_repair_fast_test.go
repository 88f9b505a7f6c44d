package pipeline

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// runeRepairer is repairXML as it was before runs of plain text and
// clean sections were copied whole: one character at a time. It is the
// reference the faster pass must match byte for byte.
type runeRepairer struct{ *xmlRepairer }

func (r runeRepairer) step(i int) int {
	rest := r.src[i:]
	switch {
	case strings.HasPrefix(rest, "<![CDATA["):
		return r.copyUntil(i, len("<![CDATA["), "]]>")
	case strings.HasPrefix(rest, "<!--"):
		return r.copyUntil(i, len("<!--"), "-->")
	case strings.HasPrefix(rest, "<?"):
		return r.copyUntil(i, len("<?"), "?>")
	case rest[0] == '&':
		return r.reference(i)
	}
	c, size := utf8.DecodeRuneInString(rest)
	r.writeChar(c)
	return i + size
}

// copyUntil searches for end after the opening markup of open bytes, as
// repairXML does, so "<!-->" does not close its own comment.
func (r runeRepairer) copyUntil(i, open int, end string) int {
	n := strings.Index(r.src[i+open:], end)
	stop := len(r.src)
	if n >= 0 {
		stop = i + open + n + len(end)
	}
	for _, c := range r.src[i:stop] {
		r.writeChar(c)
	}
	return stop
}

func repairXMLByRune(text []byte) ([]byte, []string) {
	r := runeRepairer{&xmlRepairer{src: string(text)}}
	for i := 0; i < len(r.src); {
		i = r.step(i)
	}
	out := []byte(r.trimLeading(r.out.String()))
	if fixed, ok := repairURIAttributes(out); ok {
		out = fixed
		r.note(recoveryInvalidURI)
	}
	return out, r.notes
}

var repairCases = []string{
	"<rss><channel><title>Plain text only</title></channel></rss>",
	"<rss><title>tab\there\nnew\rline</title></rss>",
	"<rss><title>a\x01b\x7fc</title></rss>",
	"<rss><title>zażółć gęślą jaźń</title></rss>",
	"<rss><title>bad \xff\xfe utf-8</title></rss>",
	"<rss><d><![CDATA[<p>clean & fine</p>]]></d></rss>",
	"<rss><d><![CDATA[bad \x02 char]]></d></rss>",
	"<rss><d><![CDATA[bad \xc3 utf-8]]></d></rss>",
	"<rss><!-- unclosed comment \x01",
	"<!-->&", "<!--->&", "<?>&", "<![CDATA[]>&",
	"<?xml version=\"1.0\"?>\uFEFF<rss>&amp; &nbsp; & &#1; &#x80;</rss>",
	"<<<&&&",
	"",
	// Text that needsRepair lets through unchanged, and near misses.
	"<rss><title>caf&#233; &#x20AC; &quot;a&apos; &lt;b&gt; &amp;</title></rss>",
	"<rss><title>\uFFFD literal, &#xFFFD; and &#65533;</title></rss>",
	"<rss><title>dash &#150; only</title></rss>",
	"<rss><title>&#x9f;</title></rss>",
	"<rss><title>&#0;</title></rss>",
	"<rss><title>&#xD800;</title></rss>",
	"<rss><title>&#1114112;</title></rss>",
	"<rss><title>&nbsp;</title></rss>",
	"<rss><title>\x01</title></rss>",
	"<rss><title>\xc3</title></rss>",
	"<rss><title>\uFFFE</title></rss>",
	"<!DOCTYPE rss [<!ENTITY own \"x\">]><rss>&own;</rss>",
	"<rss><title>tail &amp</title></rss>&amp;",
	"<rss>&#x;&#;&#12a;</rss>",
}

func TestRepairXMLMatchesRuneByRune(t *testing.T) {
	for _, text := range repairCases {
		got, gotNotes := repairXML([]byte(text))
		want, wantNotes := repairXMLByRune([]byte(text))
		if !bytes.Equal(got, want) {
			t.Errorf("repairXML(%q) = %q, want %q", text, got, want)
		}
		if strings.Join(gotNotes, ",") != strings.Join(wantNotes, ",") {
			t.Errorf("repairXML(%q) notes %v, want %v", text, gotNotes, wantNotes)
		}
	}
}

func FuzzRepairXMLFastPath(f *testing.F) {
	for _, text := range repairCases {
		f.Add([]byte(text))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		got, gotNotes := repairXML(text)
		want, wantNotes := repairXMLByRune(text)
		if !bytes.Equal(got, want) {
			t.Fatalf("repairXML(%q) = %q, want %q", text, got, want)
		}
		if strings.Join(gotNotes, ",") != strings.Join(wantNotes, ",") {
			t.Fatalf("repairXML(%q) notes %v, want %v", text, gotNotes, wantNotes)
		}
	})
}

// TestRepairXMLCopiesOnlyRepairedText checks that text needing no repair
// comes back as a view of the input, trimmed, and that repaired text is
// a new slice that leaves the input as it was.
func TestRepairXMLCopiesOnlyRepairedText(t *testing.T) {
	clean := []byte("  \n<?xml version=\"1.0\"?><rss><channel><title>A &amp; B</title></channel></rss>")
	got, notes := repairXML(clean)
	start := len(clean) - len(got)
	if !bytes.Equal(got, clean[start:]) || start != 3 {
		t.Fatalf("repairXML(clean) = %q, want the input without its 3 leading blanks", got)
	}
	if &got[0] != &clean[start] {
		t.Errorf("repairXML copied text that needed no repair")
	}
	if strings.Join(notes, ",") != recoveryLeadingSpace {
		t.Errorf("notes = %v, want only %q", notes, recoveryLeadingSpace)
	}

	broken := []byte("<rss><channel><title>A & B</title></channel></rss>")
	before := bytes.Clone(broken)
	got, _ = repairXML(broken)
	if want := "<rss><channel><title>A &amp; B</title></channel></rss>"; string(got) != want {
		t.Fatalf("repairXML(broken) = %q, want %q", got, want)
	}
	if !bytes.Equal(broken, before) {
		t.Errorf("repairXML changed its input to %q", broken)
	}
	got[0] = 'X'
	if broken[0] != '<' {
		t.Errorf("repaired text shares memory with the input")
	}
}
