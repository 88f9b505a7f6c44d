package pipeline

import (
	"strings"
	"testing"
)

// referenceCollapseSpace is collapseSpace before it became a single pass.
func referenceCollapseSpace(s string) string {
	return strings.Join(strings.Fields(stripIllegal(s)), " ")
}

var collapseSpaceCases = []string{
	"",
	" ",
	"a",
	"a b",
	" a b ",
	"a  b",
	"a\tb",
	"a\u00a0b",
	"a\u0085b\u2003c\u3000",
	"a \u00a0 b",
	"\v\f\r\n",
	"a\x01b",
	"a\xff b",
	"Šiauliai  fair\n",
	"one two three",
	"a ",
	" a",
	"a\x7fb \x7f",
	"a\x1fb",
	"~ ~",
	"e\u0301 b",
}

func TestCollapseSpaceMatchesReference(t *testing.T) {
	for _, s := range collapseSpaceCases {
		if got, want := collapseSpace(s), referenceCollapseSpace(s); got != want {
			t.Errorf("collapseSpace(%q) = %q, reference %q", s, got, want)
		}
	}
}

func TestCollapseSpaceCollapsedAllocates(t *testing.T) {
	s := "The regional chamber of commerce opens registration."
	if allocs := testing.AllocsPerRun(100, func() { _ = collapseSpace(s) }); allocs != 0 {
		t.Errorf("collapseSpace allocated %v times for collapsed text, want 0", allocs)
	}
}

// FuzzCollapseSpace checks that the single pass equals joining the
// strings.Fields of the text with single spaces.
func FuzzCollapseSpace(f *testing.F) {
	for _, s := range collapseSpaceCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := collapseSpace(s), referenceCollapseSpace(s); got != want {
			t.Fatalf("collapseSpace(%q) = %q, reference %q", s, got, want)
		}
	})
}
