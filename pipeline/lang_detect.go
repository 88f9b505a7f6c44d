package pipeline

import (
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/abadojack/whatlanggo"
)

// minTrigramRunes is the shortest text on which a whatlanggo guess, made
// without help from letters or function words, may override a declared
// language. On a labelled Lithuanian sentence of 60 characters with no
// letter beyond a to z, whatlanggo v1.0.1 chose Portuguese with
// confidence 1.
const minTrigramRunes = 100

// languageGuess is the detector's best language for a text, with a
// confidence from 0 to 1. An empty tag means no language was found.
type languageGuess struct {
	tag        string
	confidence float64
}

// scriptRules are the letter and function-word tables of the languages
// written in one script, with the languages in a fixed order so that
// ties are broken the same way on every run.
type scriptRules struct {
	alphabets map[string]string
	languages []string
}

var (
	latinRules    = newScriptRules(latinAlphabets)
	cyrillicRules = newScriptRules(cyrillicAlphabets)
	// wordLanguages maps each function word to the languages listing it.
	wordLanguages = indexFunctionWords()
)

func newScriptRules(alphabets map[string]string) scriptRules {
	return scriptRules{alphabets: alphabets, languages: slices.Sorted(maps.Keys(alphabets))}
}

func indexFunctionWords() map[string][]string {
	index := map[string][]string{}
	for _, lang := range slices.Sorted(maps.Keys(functionWords)) {
		for _, word := range strings.Fields(functionWords[lang]) {
			index[word] = append(index[word], lang)
		}
	}
	return index
}

// guessLanguage returns the most likely language of text. Latin and
// Cyrillic texts go through three steps, each narrowing the candidates
// of the step before:
//
//  1. letters: keep the languages whose alphabet has every letter beyond
//     a to z (every Cyrillic letter) of the text's lower-case words, or,
//     when none has them all, those that miss the fewest;
//  2. function words: keep the candidates that list the most of the
//     text's words, if any word is listed;
//  3. trigrams: when several candidates remain, let whatlanggo choose
//     among them.
//
// Texts in other scripts go to whatlanggo with otherScriptLanguages.
func guessLanguage(text string) languageGuess {
	switch detectScript(text) {
	case nil:
		return languageGuess{}
	case unicode.Latin:
		return latinRules.guess(text)
	case unicode.Cyrillic:
		return cyrillicRules.guess(text)
	default:
		info := whatlanggo.DetectWithOptions(text, otherScriptLanguages)
		return languageGuess{tag: whatlanggoTag(info.Lang), confidence: info.Confidence}
	}
}

// detectScript returns whatlanggo.DetectScript(text) without testing
// every rune against each of its 23 script tables when all the letters
// counted so far are Latin. DetectScript (v1.0.1) skips symbols, spaces,
// punctuation and digits, and adds one to the count of the script each
// other rune belongs to. It returns a script as soon as its count exceeds
// half the byte length of the text. Otherwise it returns the script with
// the highest count, or nil when no rune counted. The counts here are the
// same while every rune counted is Latin, so the result is too. At the
// first rune outside ASCII that is neither skipped nor Latin, it calls
// DetectScript.
func detectScript(text string) *unicode.RangeTable {
	halfLen := len(text) / 2
	latin := 0
	for _, c := range text {
		switch {
		case c < utf8.RuneSelf:
			// ASCII letters are Latin. Other ASCII runes are skipped or,
			// like control characters, in none of the scripts.
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
				continue
			}
		case isScriptStopRune(c):
			continue
		case !unicode.Is(unicode.Latin, c):
			return whatlanggo.DetectScript(text)
		}
		latin++
		if latin > halfLen {
			return unicode.Latin
		}
	}
	if latin == 0 {
		return nil
	}
	return unicode.Latin
}

// isScriptStopRune reports whether whatlanggo.DetectScript (v1.0.1)
// skips c.
func isScriptStopRune(c rune) bool {
	return unicode.IsSymbol(c) || unicode.IsSpace(c) || unicode.IsPunct(c) || unicode.IsDigit(c)
}

// guess runs the three steps described on guessLanguage. When the
// letters leave one language and its alphabet has them all, the
// confidence is 1. When function words
// decide, it is the winner's lead over the next language in words,
// divided by 3 and capped at 1. When trigrams decide, it is whatlanggo's
// confidence, but 0 on texts shorter than minTrigramRunes and when a
// remaining candidate has no whatlanggo profile, because whatlanggo
// cannot weigh that candidate.
func (r scriptRules) guess(text string) languageGuess {
	words, letters := splitWords(text)
	byLetters, missing := r.matchLetters(letters)
	if len(byLetters) == 1 && missing == 0 {
		return languageGuess{tag: byLetters[0], confidence: 1}
	}
	byWords, margin := matchWords(words, byLetters)
	if len(byWords) == 1 {
		return languageGuess{tag: byWords[0], confidence: min(1, float64(margin)/3)}
	}
	return guessByTrigrams(text, byWords)
}

// splitWords returns the lower-case words of text, with an elided
// prefix such as "l'" or "dell'" as a word of its own, and the set of
// letters beyond ASCII found in words that start with a lower-case
// letter.
func splitWords(text string) (words []string, letters map[rune]bool) {
	letters = map[rune]bool{}
	isSeparator := func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' && r != '’' }
	for field := range strings.FieldsFuncSeq(text, isSeparator) {
		first, _ := utf8.DecodeRuneInString(field)
		word := strings.ToLower(strings.ReplaceAll(field, "’", "'"))
		if unicode.IsLower(first) {
			for _, r := range word {
				if r > unicode.MaxASCII && unicode.IsLetter(r) {
					letters[r] = true
				}
			}
		}
		if i := strings.IndexByte(word, '\''); i > 0 {
			words = append(words, word[:i+1])
			word = word[i+1:]
		}
		if word = strings.Trim(word, "'"); word != "" {
			words = append(words, word)
		}
	}
	return words, letters
}

// matchLetters returns the languages whose alphabets miss the fewest of
// letters, in r.languages order, and how many letters they miss.
func (r scriptRules) matchLetters(letters map[rune]bool) (best []string, fewest int) {
	fewest = len(letters) + 1
	for _, lang := range r.languages {
		missing := 0
		for letter := range letters {
			if !strings.ContainsRune(r.alphabets[lang], letter) {
				missing++
			}
		}
		switch {
		case missing < fewest:
			fewest, best = missing, []string{lang}
		case missing == fewest:
			best = append(best, lang)
		}
	}
	return best, fewest
}

// matchWords returns the candidates that list the largest number of
// words, and by how many words they lead the next candidate. It returns all candidates
// and 0 when no word is listed under any of them.
func matchWords(words, candidates []string) (best []string, margin int) {
	hits := map[string]int{}
	for _, word := range words {
		for _, lang := range wordLanguages[word] {
			hits[lang]++
		}
	}
	maxHits, runnerUp := 0, 0
	for _, lang := range candidates {
		switch n := hits[lang]; {
		case n > maxHits:
			runnerUp, maxHits, best = maxHits, n, []string{lang}
		case n == maxHits:
			runnerUp, best = n, append(best, lang)
		case n > runnerUp:
			runnerUp = n
		}
	}
	if maxHits == 0 {
		return candidates, 0
	}
	return best, maxHits - runnerUp
}

// guessByTrigrams lets whatlanggo choose among candidates.
func guessByTrigrams(text string, candidates []string) languageGuess {
	whitelist := map[whatlanggo.Lang]bool{}
	profiled := true
	for _, lang := range candidates {
		if p, ok := trigramProfiles[lang]; ok {
			whitelist[p] = true
		} else {
			profiled = false
		}
	}
	if len(whitelist) == 0 {
		return languageGuess{tag: candidates[0]}
	}
	info := whatlanggo.DetectWithOptions(text, whatlanggo.Options{Whitelist: whitelist})
	guess := languageGuess{tag: whatlanggoTag(info.Lang), confidence: info.Confidence}
	if !profiled || utf8.RuneCountInString(text) < minTrigramRunes {
		guess.confidence = 0
	}
	return guess
}

// whatlanggoTag returns the ISO 639-1 code of l, else its ISO 639-3 code,
// else "" for whatlanggo's "no language" value.
func whatlanggoTag(l whatlanggo.Lang) string {
	if l < 0 {
		return ""
	}
	if code := l.Iso6391(); code != "" {
		return code
	}
	return l.Iso6393()
}
