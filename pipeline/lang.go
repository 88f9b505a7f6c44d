package pipeline

import (
	"strings"
	"unicode/utf8"

	"github.com/abadojack/whatlanggo"
	"golang.org/x/text/language"
)

// undetermined is the BCP 47 tag for a language that is not known.
const undetermined = "und"

// Language detection limits, chosen on the labelled texts in
// testdata/pairs/stories.json (docs/benchmarks.md has the figures).
const (
	// minDetectRunes is the shortest text detection runs on. whatlanggo's
	// trigram profiles are unreliable on a title alone.
	minDetectRunes = 100
	// minDetectConfidence is the whatlanggo confidence above which the
	// detected language overrides the declared one. On the labelled
	// sentences every wrong guess but three scored below 0.3, and none
	// of the texts of 100 or more characters scored a wrong guess above
	// 0.5.
	minDetectConfidence = 0.5
)

// resolveLanguage returns the BCP 47 primary language tag of an item: the
// detected language of text when detection is confident, else the
// declared tag (xml:lang, dc:language or the channel language), else the
// partner's configured language, else "und". Any language whatlanggo
// supports can come out (Russian, Czech, Urdu and others), not only the
// partner languages.
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
// long enough and whatlanggo's confidence reaches minDetectConfidence.
func detectLanguage(text string) (string, bool) {
	if utf8.RuneCountInString(text) < minDetectRunes {
		return "", false
	}
	return cachedDetection(text)
}

// detectUncached runs whatlanggo on text and applies minDetectConfidence.
func detectUncached(text string) (string, bool) {
	info := whatlanggo.Detect(text)
	if info.Confidence < minDetectConfidence {
		return "", false
	}
	code := info.Lang.Iso6391()
	if code == "" {
		code = info.Lang.Iso6393()
	}
	tag := canonicalLanguage(code)
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
