package pipeline

import (
	"math/rand/v2"
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
	"a \x01b",
	"a\x01 \x02b",
	"\x01 a\v\fb \x1f",
	"\ta\r\n b\t",
}

func TestCollapseSpaceMatchesReference(t *testing.T) {
	for _, s := range collapseSpaceCases {
		if got, want := collapseSpace(s), referenceCollapseSpace(s); got != want {
			t.Errorf("collapseSpace(%q) = %q, reference %q", s, got, want)
		}
	}
}

// TestCollapseSpaceRandomASCII compares collapseSpace with the reference
// on random ASCII text rich in control characters and spaces, the bytes
// that collapseASCII handles specially.
func TestCollapseSpaceRandomASCII(t *testing.T) {
	const special = " \t\n\r\v\f\x00\x01\x1fab\x7f"
	rng := rand.New(rand.NewPCG(5, 6))
	buf := make([]byte, 0, 40)
	for range 50000 {
		buf = buf[:0]
		for range rng.IntN(40) {
			c := byte(rng.IntN(128))
			if rng.IntN(2) == 0 {
				c = special[rng.IntN(len(special))]
			}
			buf = append(buf, c)
		}
		s := string(buf)
		if got, want := collapseSpace(s), referenceCollapseSpace(s); got != want {
			t.Fatalf("collapseSpace(%q) = %q, reference %q", s, got, want)
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
