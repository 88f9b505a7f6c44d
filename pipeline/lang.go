package pipeline

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/language"
)

// undetermined is the BCP 47 tag for a language that is not known.
const undetermined = "und"

// Language detection limits, chosen on the labelled texts in
// testdata/pairs/stories.json and checked on the held-out sentences in
// testdata/lang/sentences.json (docs/benchmarks.md has the figures).
const (
	// minDetectRunes is the shortest text detection runs on. Below 40
	// characters a title often holds no function word and no letter
	// beyond a to z, so the guess rests on a few trigrams.
	minDetectRunes = 40
	// minDetectConfidence is the confidence (see guessLanguage) from
	// which the detected language overrides the declared one. It lets
	// through a language singled out by its letters, a lead of two
	// function words, or a whatlanggo guess of 0.5 or more on a text of
	// at least minTrigramRunes characters. No wrong guess on the
	// labelled texts reached it.
	minDetectConfidence = 0.5
)

// resolveLanguage returns the BCP 47 primary language tag of an item: the
// detected language of text when detection is confident, else the
// declared tag (xml:lang, dc:language or the channel language), else the
// partner's configured language, else "und". Any language the detector
// returns can come out (Russian, Czech, Urdu and the others listed in
// lang_words.go), not only the partner languages.
func resolveLanguage(declared, text, partner string) string {
	if tag, ok := detectLanguage(text); ok {
		return tag
	}
	if tag := canonicalLanguage(declared); tag != "" {
		return tag
	}
	if tag := canonicalLanguage(partner); tag != "" {
		return tag
	}
	return undetermined
}

// detectLanguage returns the language of text and true when the text is
// long enough and the detector's confidence reaches minDetectConfidence.
func detectLanguage(text string) (string, bool) {
	if utf8.RuneCountInString(text) < minDetectRunes {
		return "", false
	}
	return cachedDetection(text)
}

// detectUncached runs guessLanguage on text and applies
// minDetectConfidence.
func detectUncached(text string) (string, bool) {
	guess := guessLanguage(text)
	if guess.confidence < minDetectConfidence {
		return "", false
	}
	tag := canonicalLanguage(guess.tag)
	return tag, tag != ""
}

// canonicalLanguage reduces a language tag to its canonical primary
// subtag ("pl-PL" and "pol" to "pl", "iw" to "he"). It returns "" for an
// empty, undetermined or invalid tag.
func canonicalLanguage(tag string) string {
	tag = strings.ReplaceAll(strings.TrimSpace(tag), "_", "-")
	if tag == "" {
		return ""
	}
	parsed, err := language.Parse(tag)
	if err != nil {
		return ""
	}
	base, confidence := parsed.Base()
	if confidence == language.No || base.String() == undetermined {
		return ""
	}
	return base.String()
}

// primaryLanguage returns the lower-case primary subtag of a BCP 47 tag,
// or "" for an empty or undetermined tag.
func primaryLanguage(tag string) string {
	primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
	if primary == undetermined {
		return ""
	}
	return primary
}
