package pipeline

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// referenceStripCommentCounter is stripCommentCounter as it was before it
// narrowed the search: a replacement over the whole title. Content hashes
// and fingerprints depend on its output.
func referenceStripCommentCounter(title string) string {
	if stripped := commentCounter.ReplaceAllString(title, ""); stripped != "" {
		return stripped
	}
	return title
}

var commentCounterCases = []string{
	"",
	"Fair opens",
	"Fair opens (3 comments)",
	"Export fair number 12 opens registration (4 comments)",
	"Fair opens Comments (7)",
	"Fair opens comments [ 7 ] ]",
	"Fair opens\t–\t12\tkomentarzy \n",
	"Fair opens — 5 réponses",
	"Fair opens | 5 ODPOWIEDZI",
	"Fair opens 5 commentſ",
	"Budget 2026 approved for the new season",
	"Top 10 exporters",
	"(3 comments)",
	"   (3 comments)",
	"3 comments",
	"a 1 2 3 comments",
	"x(4 comments)",
	"x [ Kommentare ( 12 ) ]",
	"x  \t[ Kommentare ( 12 ) ]",
	"x [ Kommentare (12)",
	"a b c d e f 7 comments",
	"x - ( 7 comments",
	"x [ comments 7 ]",
	"x | Reacties\t(\t7\t)\n]",
	"x Comments 7)",
	"x –  3   odpowiedzi  )  ",
	"x\vKommentare (12)",
	"x\u00a0(3 comments)",
	"x (3\u00a0comments)",
	"x (3 comments) 4",
	"x \xff(3 comments)",
}

func TestStripCommentCounterMatchesReference(t *testing.T) {
	for _, title := range commentCounterCases {
		if got, ref := stripCommentCounter(title), referenceStripCommentCounter(title); got != ref {
			t.Errorf("stripCommentCounter(%q) = %q, reference %q", title, got, ref)
		}
	}
}

// FuzzStripCommentCounter checks that searching only the end of a title
// removes the same counter as the regexp replacement over all of it.
func FuzzStripCommentCounter(f *testing.F) {
	for _, title := range commentCounterCases {
		f.Add(title)
	}
	f.Fuzz(func(t *testing.T, title string) {
		if got, ref := stripCommentCounter(title), referenceStripCommentCounter(title); got != ref {
			t.Fatalf("stripCommentCounter(%q) = %q, reference %q", title, got, ref)
		}
	})
}

// TestStripCommentCounterGeneratedTitles compares with the reference on
// titles built from the pieces of the pattern, which random fuzzing
// rarely puts together.
func TestStripCommentCounterGeneratedTitles(t *testing.T) {
	pieces := []string{
		"Fair", "opens", "3", "12", "comments", "Kommentare", "ODPOWIEDZI", "reacties", "commentſ",
		"(", ")", "[", "]", "|", "–", "—", "-", " ", "  ", "\t", "\n", "\v", "\u00a0", "x1",
		" | ", " ( ", " ) ", "[", " 7 ", "(7)", " comments ", " Comments (", " 5 komentarų",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 50000 {
		var b strings.Builder
		for range 1 + rng.IntN(10) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		title := b.String()
		if got, ref := stripCommentCounter(title), referenceStripCommentCounter(title); got != ref {
			t.Fatalf("stripCommentCounter(%q) = %q, reference %q", title, got, ref)
		}
	}
}
