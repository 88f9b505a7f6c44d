package pipeline

import (
	"regexp"
	"testing"

	"golang.org/x/text/unicode/norm"
)

// The regular expressions that hashTextTight applied before it became a
// single pass. Rules versions 3 and 4 hash their output, so they stay here
// as the reference the replacement must equal.
var (
	referenceSpaceBeforeClosing = regexp.MustCompile(`\s+([.,;:!?)\]])`)
	referenceSpaceAfterOpening  = regexp.MustCompile(`([(\[])\s+`)
)

func referenceTightenPunctuation(s string) string {
	s = referenceSpaceBeforeClosing.ReplaceAllString(s, "$1")
	return referenceSpaceAfterOpening.ReplaceAllString(s, "$1")
}

// referenceHashText is hashText before its ASCII shortcut and the
// single-pass collapseSpace.
func referenceHashText(s string) string {
	return referenceCollapseSpace(invisibleRunes.Replace(norm.NFC.String(s)))
}

func referenceHashTextTight(s string) string {
	return referenceTightenPunctuation(referenceHashText(s))
}

var tightenPunctuationCases = []struct {
	name, in, want string
}{
	{"empty", "", ""},
	{"no whitespace", "a(b)c.", "a(b)c."},
	{"space before full stop", "about .", "about."},
	{"space before every closing mark", "a , b ; c : d ! e ? f ) g ] h .", "a, b; c: d! e? f) g] h."},
	{"space after opening marks", "( a [ b", "(a [b"},
	{"nested openings", "( ( x", "((x"},
	{"nested closings", " ) )", "))"},
	{"tab between brackets", "(\t)", "()"},
	{"brackets around a space", "[ ]", "[]"},
	{"run of mixed whitespace", "a \t\n\f\r.", "a."},
	{"vertical tab is not whitespace", "a\v.", "a\v."},
	{"no-break space is not whitespace", "a\u00a0.", "a\u00a0."},
	{"leading whitespace before closing", "  )x", ")x"},
	{"trailing whitespace after opening", "x(  ", "x("},
	{"whitespace kept between words", "a  b", "a  b"},
	{"closing then opening", "a ) ( b", "a) (b"},
	{"opening before closing mark", "( .", "(."},
	{"invalid utf-8 kept", "\xff (\xfe .", "\xff (\xfe."},
	{"multi-byte letters", "Šiauliai ( Vilnius )", "Šiauliai (Vilnius)"},
}

func TestTightenPunctuation(t *testing.T) {
	for _, tc := range tightenPunctuationCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tightenPunctuation(tc.in); got != tc.want {
				t.Errorf("tightenPunctuation(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if ref := referenceTightenPunctuation(tc.in); ref != tc.want {
				t.Errorf("reference(%q) = %q, want %q", tc.in, ref, tc.want)
			}
		})
	}
}

func TestHashTextTightMatchesReference(t *testing.T) {
	for _, tc := range tightenPunctuationCases {
		t.Run(tc.name, func(t *testing.T) {
			if got, ref := hashText(tc.in), referenceHashText(tc.in); got != ref {
				t.Errorf("hashText(%q) = %q, reference %q", tc.in, got, ref)
			}
			if got, ref := hashTextTight(tc.in), referenceHashTextTight(tc.in); got != ref {
				t.Errorf("hashTextTight(%q) = %q, reference %q", tc.in, got, ref)
			}
		})
	}
}

// FuzzHashTextTight checks that the single pass equals the two regular
// expressions it replaced, both on raw text and on hashText output, and
// that hashText equals its form before the ASCII shortcut.
func FuzzHashTextTight(f *testing.F) {
	for _, tc := range tightenPunctuationCases {
		f.Add(tc.in)
	}
	f.Add("Fair ( 3 May ) opens .\u200b Members [ only ] !")
	f.Fuzz(func(t *testing.T, s string) {
		if got, ref := tightenPunctuation(s), referenceTightenPunctuation(s); got != ref {
			t.Fatalf("tightenPunctuation(%q) = %q, reference %q", s, got, ref)
		}
		if got, ref := hashText(s), referenceHashText(s); got != ref {
			t.Fatalf("hashText(%q) = %q, reference %q", s, got, ref)
		}
		if got, ref := hashTextTight(s), referenceHashTextTight(s); got != ref {
			t.Fatalf("hashTextTight(%q) = %q, reference %q", s, got, ref)
		}
	})
}
