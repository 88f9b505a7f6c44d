package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// truncationNote ends content that was cut to fit a message; readers follow
// the item link for the rest.
const truncationNote = "<p>[…]</p>"

// fitEvent encodes ev and, when the encoding exceeds maxPayload bytes,
// shortens ev.Content until it fits. The content hash stays that of the
// full item, so the cut is invisible to deduplication. It returns
// ErrItemTooLarge when the item does not fit even without content, which
// only a title or summary of about a megabyte can cause.
func fitEvent(ev *Event, maxPayload int) ([]byte, error) {
	data, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encoding event of item %s: %w", ev.ID, err)
	}
	if maxPayload <= 0 || len(data) <= maxPayload {
		return data, nil
	}
	// JSON escaping can make the content up to six times longer (each "<"
	// becomes \u003c), so the budget is checked again after each cut and
	// halved until the event fits.
	full := ev.Content
	ev.Content = ""
	bare, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encoding event of item %s: %w", ev.ID, err)
	}
	budget := maxPayload - len(bare) - len(truncationNote) - 1024
	for budget > 0 {
		ev.Content = truncateHTML(full, budget) + truncationNote
		data, err = json.Marshal(ev)
		if err != nil {
			return nil, fmt.Errorf("encoding event of item %s: %w", ev.ID, err)
		}
		if len(data) <= maxPayload {
			return data, nil
		}
		budget /= 2
	}
	return nil, fmt.Errorf("item %s: event of %d bytes exceeds the NATS max payload of %d bytes: %w",
		ev.ID, len(data), maxPayload, ErrItemTooLarge)
}

// truncateHTML returns a prefix of the HTML fragment s of at most about
// maxBytes bytes, cut at a rune boundary and re-serialised by the HTML
// parser, which closes every element the cut left open.
func truncateHTML(s string, maxBytes int) string {
	if len(s) <= maxBytes {
		return s
	}
	cut := maxBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	prefix := s[:cut]
	// A cut inside a tag would leave a broken tag at the end; drop it.
	if lt := strings.LastIndexByte(prefix, '<'); lt > strings.LastIndexByte(prefix, '>') {
		prefix = prefix[:lt]
	}
	body := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(prefix), body)
	if err != nil {
		return html.EscapeString(prefix)
	}
	var buf bytes.Buffer
	for _, n := range nodes {
		if err := html.Render(&buf, n); err != nil {
			return html.EscapeString(prefix)
		}
	}
	return buf.String()
}
