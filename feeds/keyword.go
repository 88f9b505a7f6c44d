package feeds

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/text/cases"

	"github.com/syndic-network/syndic/pipeline"
)

// searchText returns the text that keyword filters search: the title,
// summary, categories and the text of the HTML content, case-folded and
// with each run of whitespace replaced by one space.
// Markup is left out so that a keyword such as "href" or "strong" does not
// match every item with a link or bold text.
func searchText(ev pipeline.Event) string {
	var b strings.Builder
	b.WriteString(ev.Title)
	b.WriteByte('\n')
	b.WriteString(ev.Summary)
	for _, c := range ev.Categories {
		b.WriteByte('\n')
		b.WriteString(c)
	}
	b.WriteByte('\n')
	writeHTMLText(&b, ev.Content)
	// Collapsing whitespace lets a phrase match across a line break.
	return strings.Join(strings.Fields(foldText(b.String())), " ")
}

// writeHTMLText appends the text nodes of an HTML fragment, each followed by
// a space so that words in adjacent elements stay apart.
func writeHTMLText(b *strings.Builder, fragment string) {
	z := html.NewTokenizer(strings.NewReader(fragment))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return
		case html.TextToken:
			b.Write(z.Text())
			b.WriteByte(' ')
		}
	}
}

// foldText applies Unicode case folding, so that "EXPORT", "Export" and
// "export" compare equal, as do "STRASSE" and "strasse". A Caser is not safe
// for concurrent use, so each call makes its own.
func foldText(s string) string {
	return cases.Fold().String(s)
}

// containsWord reports whether text contains word, both already folded,
// with no letter or digit directly before or after it. So "export" matches
// "export, import" but not "exporters", and a phrase such as "trade fair"
// matches only those two words in a row. A side of word that starts or ends
// with a symbol, as in "c++", needs no boundary on that side.
func containsWord(text, word string) bool {
	if word == "" {
		return false
	}
	for from := 0; from <= len(text)-len(word); {
		i := strings.Index(text[from:], word)
		if i < 0 {
			return false
		}
		start := from + i
		end := start + len(word)
		if boundaryBefore(text, start, word) && boundaryAfter(text, end, word) {
			return true
		}
		_, size := utf8.DecodeRuneInString(text[start:])
		from = start + size
	}
	return false
}

func boundaryBefore(text string, start int, word string) bool {
	first, _ := utf8.DecodeRuneInString(word)
	if !isWordRune(first) || start == 0 {
		return true
	}
	prev, _ := utf8.DecodeLastRuneInString(text[:start])
	return !isWordRune(prev)
}

func boundaryAfter(text string, end int, word string) bool {
	last, _ := utf8.DecodeLastRuneInString(word)
	if !isWordRune(last) || end == len(text) {
		return true
	}
	next, _ := utf8.DecodeRuneInString(text[end:])
	return !isWordRune(next)
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// containsAnyWord reports whether text contains at least one of words.
func containsAnyWord(text string, words []string) bool {
	for _, w := range words {
		if containsWord(text, w) {
			return true
		}
	}
	return false
}

// containsEveryWord reports whether text contains all of words.
func containsEveryWord(text string, words []string) bool {
	for _, w := range words {
		if !containsWord(text, w) {
			return false
		}
	}
	return true
}

// foldAll folds each element and collapses its inner whitespace to single
// spaces, so that a phrase matches however it was typed. Empty elements are
// dropped.
func foldAll(words []string) []string {
	out := make([]string, 0, len(words))
	for _, w := range words {
		if w = strings.Join(strings.Fields(foldText(w)), " "); w != "" {
			out = append(out, w)
		}
	}
	return out
}
