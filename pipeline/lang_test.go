package pipeline

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

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

// TestLanguageOfLabelledSentences records whatlanggo on single sentences
// and titles of 40 characters or more, and checks that no wrong guess on
// them reaches the override confidence.
func TestLanguageOfLabelledSentences(t *testing.T) {
	_, sentences := labelledTexts(t)
	for _, lang := range []string{"en", "pl", "fr", "lt", "de"} {
		right, wrongConfident := 0, 0
		for _, text := range sentences[lang] {
			info := whatlanggo.Detect(text)
			if info.Lang.Iso6391() == lang {
				right++
				continue
			}
			if info.Confidence >= minDetectConfidence && len([]rune(text)) >= minDetectRunes {
				wrongConfident++
			}
		}
		t.Logf("%s: %d of %d sentences, accuracy %.3f", lang, right, len(sentences[lang]),
			float64(right)/float64(len(sentences[lang])))
		if wrongConfident > 0 {
			t.Errorf("%s: %d wrong guesses would override the declaration", lang, wrongConfident)
		}
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
	const unsureCzech = "Regionální obchodní komora otevírá registraci na exportní veletrh ve Vilniusu. " +
		"Čtyřicet firem z potravinářství a nábytkářství se setká s kupujícími ze Skandinávie."
	tests := []struct {
		name, declared, text, partner, want string
	}{
		{"confident detection beats declaration", "en", polish, "de", "pl"},
		{"russian is not forced into five", "", russian, "pl", "ru"},
		{"czech is not forced into five", "", czech, "pl", "cs"},
		{"unsure detection falls to partner", "", unsureCzech, "pl", "pl"},
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
