package pipeline

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFitEventCutsLongContent(t *testing.T) {
	ev := &Event{Item: Item{ID: "x", Title: "Long", Content: "<p>" + strings.Repeat("<b>słowo</b> ", 50000) + "</p>"}}
	data, err := fitEvent(ev, 64*1024)
	if err != nil {
		t.Fatalf("fitting event: %v", err)
	}
	if len(data) > 64*1024 {
		t.Errorf("event is %d bytes, want at most %d", len(data), 64*1024)
	}
	if !strings.HasSuffix(ev.Content, truncationNote) {
		t.Errorf("cut content does not end with the truncation note: ...%s", ev.Content[len(ev.Content)-40:])
	}
	if strings.Count(ev.Content, "<b>") != strings.Count(ev.Content, "</b>") {
		t.Error("cut content leaves a <b> element open")
	}
}

func TestFitEventKeepsShortEvents(t *testing.T) {
	ev := &Event{Item: Item{ID: "x", Title: "Short", Content: "<p>ok</p>"}}
	if _, err := fitEvent(ev, 64*1024); err != nil {
		t.Fatalf("fitting event: %v", err)
	}
	if ev.Content != "<p>ok</p>" {
		t.Errorf("content = %q, want it unchanged", ev.Content)
	}
}

func TestFitEventRejectsHugeTitle(t *testing.T) {
	ev := &Event{Item: Item{ID: "x", Title: strings.Repeat("t", 200000)}}
	_, err := fitEvent(ev, 64*1024)
	if !errors.Is(err, ErrItemTooLarge) {
		t.Errorf("error = %v, want ErrItemTooLarge", err)
	}
}

func TestTruncateHTMLDropsBrokenTag(t *testing.T) {
	got := truncateHTML(`<p>abc <a href="https://x.example/">link</a></p>`, 12)
	if strings.Contains(got, "<a") {
		t.Errorf("truncateHTML kept a tag cut in half: %q", got)
	}
	if got != "<p>abc </p>" {
		t.Errorf("truncateHTML = %q, want %q", got, "<p>abc </p>")
	}
}

// truncateByRunes is truncateText as it was before it walked the string
// in place: the reference for TestTruncateTextMatchesRunes.
func truncateByRunes(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	return truncateRunes(s, limit)
}

var truncateCases = []string{
	"", "short", "ends at the limit.", "word word word word word, word word",
	"ąčęėįšųūž ąčęėįšųūž ąčęėįšųūž ąčęėįšųūž", "nospaceatallinthistextatall",
	"tab\tand\nnewline\u00a0and\u2003em space ending here!!!",
	"invalid \xff byte in the middle of the words here", "\xc3 cut rune at the start",
	"emoji 🙂 🙂 🙂 🙂 and more emoji 🙂 🙂", "trailing punctuation, ; : ... — end",
}

func TestTruncateTextMatchesRunes(t *testing.T) {
	for _, s := range truncateCases {
		for limit := range utf8.RuneCountInString(s) + 2 {
			if got, want := truncateText(s, limit), truncateByRunes(s, limit); got != want {
				t.Errorf("truncateText(%q, %d) = %q, want %q", s, limit, got, want)
			}
		}
	}
}

func FuzzTruncateText(f *testing.F) {
	for _, s := range truncateCases {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, s string, limit int) {
		if limit < 0 || limit > 1000 {
			return
		}
		if got, want := truncateText(s, limit), truncateByRunes(s, limit); got != want {
			t.Fatalf("truncateText(%q, %d) = %q, want %q", s, limit, got, want)
		}
	})
}
