package pipeline

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"
)

// referenceFingerprint computes the fingerprint without the plain text
// path: it normalises the joined text with hashText and splits it on runes.
func referenceFingerprint(it *Item) fingerprint {
	body := it.Summary
	if it.Content != "" {
		body, _ = contentTextAndTargets(it.Content)
	}
	text := hashText(stripCommentCounter(it.Title) + " \n " + body)
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	return fingerprintWords(words)
}

func requireSameFingerprint(t *testing.T, it *Item) {
	t.Helper()
	got, want := itemFingerprint(it), referenceFingerprint(it)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fingerprint of title %q summary %q content %q:\n got %+v\nwant %+v",
			it.Title, it.Summary, it.Content, got, want)
	}
}

func TestFingerprintMatchesReference(t *testing.T) {
	cases := []struct {
		name                    string
		title, summary, content string
	}{
		{"plain text with capitals and digits", "Rates Rise 2%", "The Bank raised rates by 0.25 points on 3 May.", ""},
		{"content wins over the summary", "Title", "ignored summary", "<p>Visible <b>bold</b> text</p>"},
		{"a control character inside a word is removed", "ab\x01cd", "ef\x1fgh", "<p>ij\x02kl</p>"},
		{"vertical tab and form feed are removed", "ab\vcd", "ef\fgh", ""},
		{"an escaped control character in content", "t", "", "<p>ab&#1;cd</p>"},
		{"a soft hyphen inside a word is removed", "co\u00adoperate", "", "<p>re\u200bsume</p>"},
		{"a combining accent is composed", "cafe\u0301", "", "<p>nai\u0308ve</p>"},
		{"a no-break space entity", "a", "", "<p>one&nbsp;two &amp; three</p>"},
		{"a comment counter leaves the title", "Big story (12 comments)", "words here", ""},
		{"whitespace of every kind", "\t a \r\n b ", "c\n\n\nd", "<p> e </p>\n<p>\tf</p>"},
		{"delete and punctuation split words", "ab\x7fcd", "x-y_z", "<a href=\"/u\">l</a>i<br>nk"},
		{"non-ASCII letters", "Zürich Straße", "Ωmega", "<p>日本語 テキスト</p>"},
		{"nothing at all", "", "", ""},
		{"tags only", "", "", "<p></p><img src=\"x.png\">"},
		{"invalid UTF-8", "a\xffb", "", "<p>c\xfed</p>"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			requireSameFingerprint(t, &Item{Title: tc.title, Summary: tc.summary, Content: tc.content})
		})
	}
}

// TestFingerprintRandomTexts compares the two on texts built from pieces
// that take each path: plain words, capitals, digits, whitespace, control
// characters, entities, tags and non-ASCII runes.
func TestFingerprintRandomTexts(t *testing.T) {
	pieces := []string{
		"word", "Word", "WORD", "x9", "2026", "3.5", " ", "  ", "\t", "\n", "\r", ",", "-", "'",
		"\x01", "\x0b", "\x0c", "\x7f", "é", "e\u0301", "\u00ad", "\u200b", "\ufeff", "ß",
		"&amp;", "&nbsp;", "&#1;", "<b>", "</b>", "<br>", "<a href=\"h\">", "</a>", "(3 comments)",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	text := func() string {
		var b strings.Builder
		for range rng.IntN(24) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return b.String()
	}
	for range 20000 {
		it := &Item{Title: text(), Summary: text()}
		if rng.IntN(2) == 0 {
			it.Content = text()
		}
		requireSameFingerprint(t, it)
	}
}

// TestFingerprintCorpusItems compares the two on every item of the feeds
// in corpusDir, when it exists.
func TestFingerprintCorpusItems(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(corpusDir, "*"))
	if err != nil {
		t.Fatalf("listing corpus: %v", err)
	}
	if len(files) == 0 {
		t.Skip("no feed corpus at " + corpusDir)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	items := 0
	for _, file := range files {
		body, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("reading %s: %v", file, err)
		}
		src := Source{Partner: "corpus", Feed: filepath.Base(file), FeedURL: "https://example.com/feed"}
		res, err := ParseFeed(body, "", src, now)
		if err != nil {
			continue // TestParseFeedCorpus checks which files parse
		}
		for k := range res.Items {
			requireSameFingerprint(t, &res.Items[k])
			items++
		}
	}
	if items == 0 {
		t.Fatal("corpus gave no items")
	}
}

// referenceSimhash counts each bit of each hash on its own.
func referenceSimhash(shingles []uint64) uint64 {
	var ones [64]int
	for _, s := range shingles {
		for b := range 64 {
			ones[b] += int(s >> b & 1)
		}
	}
	var out uint64
	for b, n := range ones {
		if 2*n > len(shingles) {
			out |= 1 << b
		}
	}
	return out
}

// TestSimhashPackedCounters covers lists around the 255 hashes after which
// the packed counters are emptied. Biased hashes have more bits set, so
// the counters come close to overflowing.
func TestSimhashPackedCounters(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 2, 254, 255, 256, 509, 510, 511, 1000} {
		for _, bias := range []int{0, 1, 3} {
			hashes := make([]uint64, n)
			for k := range hashes {
				hashes[k] = rng.Uint64()
				for range bias {
					hashes[k] |= rng.Uint64()
				}
			}
			if got, want := simhash(hashes), referenceSimhash(hashes); got != want {
				t.Errorf("simhash of %d hashes with bias %d: got %016x, want %016x", n, bias, got, want)
			}
		}
	}
	all := make([]uint64, 600)
	for k := range all {
		all[k] = ^uint64(0)
	}
	if got := simhash(all); got != ^uint64(0) {
		t.Errorf("simhash of 600 all-ones hashes: got %016x", got)
	}
}
