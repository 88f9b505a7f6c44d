package pipeline

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/abadojack/whatlanggo"
)

// labelledTexts returns the hand-written texts of the labelled pairs by
// language: whole items (title and body) and single sentences.
func labelledTexts(t *testing.T) (items, sentences map[string][]string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "pairs", "stories.json"))
	if err != nil {
		t.Fatalf("reading labelled texts: %v", err)
	}
	var c struct {
		Stories []struct {
			Texts map[string][2]string `json:"texts"`
		} `json:"stories"`
	}
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatalf("decoding labelled texts: %v", err)
	}
	split := regexp.MustCompile(`[.!?]\s+`)
	items, sentences = map[string][]string{}, map[string][]string{}
	for _, s := range c.Stories {
		for lang, text := range s.Texts {
			items[lang] = append(items[lang], text[0]+". "+text[1])
			for _, part := range append([]string{text[0]}, split.Split(text[1], -1)...) {
				if len([]rune(part)) >= 40 {
					sentences[lang] = append(sentences[lang], part)
				}
			}
		}
	}
	return items, sentences
}

func TestLanguageOfLabelledItems(t *testing.T) {
	items, _ := labelledTexts(t)
	for _, lang := range []string{"en", "pl", "fr", "lt", "de"} {
		t.Run(lang, func(t *testing.T) {
			right := 0
			for _, text := range items[lang] {
				if got := resolveLanguage("", text, ""); got == lang {
					right++
				} else {
					t.Logf("detected %s for %.60q", got, text)
				}
			}
			accuracy := float64(right) / float64(len(items[lang]))
			t.Logf("%s: %d of %d items, accuracy %.3f", lang, right, len(items[lang]), accuracy)
			if accuracy < 0.95 {
				t.Errorf("accuracy = %.3f, want at least 0.95", accuracy)
			}
		})
	}
}

// heldOutSentences returns the sentences of testdata/lang/sentences.json
// by language. The Latin-script rules of the detector were written
// before these sentences, so for the partner languages they are a
// held-out check.
func heldOutSentences(tb testing.TB) map[string][]string {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "lang", "sentences.json"))
	if err != nil {
		tb.Fatalf("reading held-out sentences: %v", err)
	}
	var set struct {
		Sentences map[string][]string `json:"sentences"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		tb.Fatalf("decoding held-out sentences: %v", err)
	}
	return set.Sentences
}

// scoreGuesses runs guessLanguage on texts labelled lang and returns how
// many best guesses are right, and how many wrong guesses reach
// minDetectConfidence, so that they would override a declared language.
// It logs how many right guesses reach minDetectConfidence.
func scoreGuesses(t *testing.T, lang string, texts []string) (right, confidentWrong int) {
	t.Helper()
	confidentRight := 0
	for _, text := range texts {
		guess := guessLanguage(text)
		confident := guess.confidence >= minDetectConfidence
		switch {
		case guess.tag == lang:
			right++
			if confident {
				confidentRight++
			}
		case confident:
			confidentWrong++
			t.Logf("%s: confident %s (%.2f) for %q", lang, guess.tag, guess.confidence, text)
		default:
			t.Logf("%s: unsure %s (%.2f) for %q", lang, guess.tag, guess.confidence, text)
		}
	}
	t.Logf("%s: %d of %d right, accuracy %.3f, %d right and confident", lang, right, len(texts),
		float64(right)/float64(len(texts)), confidentRight)
	return right, confidentWrong
}

// TestLanguageOfLabelledSentences checks the detector on the titles and
// sentences of 40 characters or more of stories.json, the texts its
// rules were written against. The wanted counts are the figures in
// docs/benchmarks.md.
func TestLanguageOfLabelledSentences(t *testing.T) {
	_, sentences := labelledTexts(t)
	want := map[string]int{"en": 36, "pl": 39, "fr": 40, "lt": 40, "de": 41}
	for _, lang := range slices.Sorted(maps.Keys(want)) {
		wantRight := want[lang]
		right, confidentWrong := scoreGuesses(t, lang, sentences[lang])
		if right < wantRight {
			t.Errorf("%s: %d of %d right, want at least %d", lang, right, len(sentences[lang]), wantRight)
		}
		if confidentWrong > 0 {
			t.Errorf("%s: %d wrong guesses would override the declaration", lang, confidentWrong)
		}
	}
}

// TestLanguageOfHeldOutSentences checks the detector on the held-out
// sentences, in the partner languages and in others. The wanted counts
// are the figures in docs/benchmarks.md.
func TestLanguageOfHeldOutSentences(t *testing.T) {
	sentences := heldOutSentences(t)
	want := map[string]int{
		"en": 41, "pl": 42, "fr": 42, "lt": 42, "de": 42,
		"ru": 8, "cs": 8, "uk": 5, "ur": 5, "ar": 3, "lv": 5, "sk": 2, "nl": 4,
		"es": 4, "it": 4, "da": 3, "sv": 3, "pt": 3, "hu": 3, "tr": 3, "et": 3, "fi": 3,
	}
	for _, lang := range slices.Sorted(maps.Keys(sentences)) {
		wantRight, ok := want[lang]
		if !ok {
			t.Errorf("%s: no wanted count for this language", lang)
			continue
		}
		for _, text := range sentences[lang] {
			if n := utf8.RuneCountInString(text); n < 40 {
				t.Errorf("%s: %q has %d characters, want at least 40", lang, text, n)
			}
		}
		right, confidentWrong := scoreGuesses(t, lang, sentences[lang])
		if right < wantRight {
			t.Errorf("%s: %d of %d right, want at least %d", lang, right, len(sentences[lang]), wantRight)
		}
		if confidentWrong > 0 {
			t.Errorf("%s: %d wrong guesses would override the declaration", lang, confidentWrong)
		}
	}
}

func TestGuessLanguage(t *testing.T) {
	tests := []struct {
		name, text, want string
		confident        bool
	}{
		{"names with diacritics stay english", "Trade mission visits Gdańsk and Łódź next week with ten firms", "en", false},
		{"slovak by its letters", "Oblastná komora otvára kancelárie v Žiline a ľudia sa môžu prihlásiť", "sk", true},
		{"belarusian by its letters", "Гандлёвая палата адкрывае рэгістрацыю на выставу ў Вільні для экспарцёраў", "be", true},
		{"serbian cyrillic", "Привредна комора отвара регистрацију за сајам извоза у Вилњусу", "sr", false},
		{"bulgarian", "Стопанската камара открива регистрацията за изложението във Вилнюс", "bg", false},
		{"letters no alphabet has all", "Buyers from łódź and münchen met at the fair in the old harbour", "pl", false},
		{"elided french articles", "L'agence d'innovation lance l'appel qu'attendaient les PME", "fr", true},
		{"digits only", "2026-05-01 12:00 +0200 1234567890 1234567890", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			guess := guessLanguage(tt.text)
			if guess.tag != tt.want {
				t.Errorf("tag = %q (confidence %.2f), want %q", guess.tag, guess.confidence, tt.want)
			}
			confident := guess.confidence >= minDetectConfidence
			if confident != tt.confident {
				t.Errorf("confidence = %.2f, so confident = %t, want %t (threshold %.2f)",
					guess.confidence, confident, tt.confident, minDetectConfidence)
			}
		})
	}
}

func TestResolveLanguage(t *testing.T) {
	const polish = "Regionalna izba handlowa otwiera rejestrację na targi eksportowe w Wilnie. " +
		"Czterdzieści firm z branży spożywczej i meblarskiej spotka się z kupcami ze Skandynawii."
	const russian = "Региональная торговая палата открывает регистрацию на экспортную ярмарку в Вильнюсе. " +
		"Сорок компаний пищевой и мебельной отрасли встретятся с покупателями из Скандинавии."
	const czech = "Krajská hospodářská komora pořádá v červnu obchodní misi do Vilniusu. " +
		"Čtyřicet českých firem z oboru potravin a nábytku se tam setká s obchodníky ze Švédska a Finska. " +
		"Komora hradí polovinu poplatku za stánek a přihlášky přijímá do konce května."
	// Slovak without ľ, ĺ, ŕ, ô or ä and without Slovak-only function words
	// reads as Czech, and whatlanggo has no Slovak profile to weigh.
	const unsureSlovak = "Registrácia je otvorená do konca marca a počet miest je obmedzený na šesťdesiat firiem."
	tests := []struct {
		name, declared, text, partner, want string
	}{
		{"confident detection beats declaration", "en", polish, "de", "pl"},
		{"russian is not forced into five", "", russian, "pl", "ru"},
		{"czech is not forced into five", "", czech, "pl", "cs"},
		{"unsure detection falls to partner", "", unsureSlovak, "sk", "sk"},
		{"unsure detection keeps declaration", "sk", unsureSlovak, "pl", "sk"},
		{"short text keeps declaration", "fr-FR", "Salon export", "de", "fr"},
		{"three-letter declaration canonicalised", "pol", "Targi", "", "pl"},
		{"partner language when nothing else", "", "Targi", "lt", "lt"},
		{"invalid declaration falls to partner", "english!", "Fair", "en", "en"},
		{"nothing known is und", "", "Fair", "", "und"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := resolveLanguage(tt.declared, tt.text, tt.partner); got != tt.want {
				t.Errorf("resolveLanguage = %q, want %q", got, tt.want)
			}
		})
	}
	if slices.Contains([]string{"", "und"}, canonicalLanguage("pl-PL")) {
		t.Errorf("canonicalLanguage(pl-PL) is empty")
	}
}

// BenchmarkGuessLanguage measures one uncached detection per held-out
// sentence, against plain whatlanggo.Detect, the detector used before.
func BenchmarkGuessLanguage(b *testing.B) {
	sentences := heldOutSentences(b)
	var texts []string
	for _, lang := range []string{"en", "pl", "fr", "lt", "de", "ru", "cs"} {
		texts = append(texts, sentences[lang]...)
	}
	b.Run("rules", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			guessLanguage(texts[i%len(texts)])
		}
	})
	b.Run("whatlanggo", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			whatlanggo.Detect(texts[i%len(texts)])
		}
	})
}

// FuzzGuessLanguage checks that any text, valid UTF-8 or not, gets a
// valid tag or none, a confidence from 0 to 1, and the same confident
// result on a second run, which the detection cache relies on.
func FuzzGuessLanguage(f *testing.F) {
	for _, texts := range heldOutSentences(f) {
		f.Add(texts[0])
	}
	f.Add("l' d' ' '' qu'a")
	f.Add("\xff\xfe Gdańsk ÄÖÜ ß")
	f.Fuzz(func(t *testing.T, text string) {
		guess := guessLanguage(text)
		if guess.tag != "" && canonicalLanguage(guess.tag) == "" {
			t.Errorf("tag %q is not a valid language tag", guess.tag)
		}
		if guess.confidence < 0 || guess.confidence > 1 {
			t.Errorf("confidence = %v, want 0 to 1", guess.confidence)
		}
		again := guessLanguage(text)
		if guess.confidence >= minDetectConfidence && again != guess {
			t.Errorf("second run = %+v, want %+v", again, guess)
		}
	})
}
