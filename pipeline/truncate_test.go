package pipeline

import (
	"errors"
	"strings"
	"testing"
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
