package pipeline

import (
	"testing"
	"unicode"

	"github.com/abadojack/whatlanggo"
)

var detectScriptCases = []string{
	"",
	"   123 ... !!",
	"The chamber opens registration for the export fair.",
	"Mugė atidaryta Šiauliuose",
	"Ярмарка открывается в Вильнюсе",
	"Ярмарка opens",
	"opens Ярмарка открывается",
	"日本語のテキスト",
	"中文 and English",
	"\x01\x02 a",
	"a\xff\xfe",
	"e\u0301te\u0301",
	"ab 1 Ж",
	"ﬁnal ǅ ª",
}

func TestDetectScriptMatchesWhatlanggo(t *testing.T) {
	for _, text := range detectScriptCases {
		if got, want := detectScript(text), whatlanggo.DetectScript(text); got != want {
			t.Errorf("detectScript(%q) = %v, whatlanggo %v", text, scriptName(got), scriptName(want))
		}
	}
}

// FuzzDetectScript checks that detectScript returns what
// whatlanggo.DetectScript returns for any text, valid UTF-8 or not.
func FuzzDetectScript(f *testing.F) {
	for _, text := range detectScriptCases {
		f.Add(text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if got, want := detectScript(text), whatlanggo.DetectScript(text); got != want {
			t.Fatalf("detectScript(%q) = %v, whatlanggo %v", text, scriptName(got), scriptName(want))
		}
	})
}

// scriptName returns the Unicode name of a script table for failure
// messages, "nil" for none and "other" for whatlanggo's own tables.
func scriptName(table *unicode.RangeTable) string {
	if table == nil {
		return "nil"
	}
	for name, script := range unicode.Scripts {
		if script == table {
			return name
		}
	}
	return "other"
}
