package pipeline

import "sync"

// scanMemoSize bounds the entries of contentScans. IngestBatch fingerprints
// new items right after cleaning, so about 400 are in use: 8 polls of 50.
const scanMemoSize = 1024

// scanMemoBytes bounds the contents and texts in contentScans, because a
// content may be as long as fetch.max_body. 8 MiB fits 400 entries of
// 20 KiB. A longer content is not kept, so its fingerprint scans it again.
const scanMemoBytes = 8 << 20

// contentScans keeps the text the content hash scanned from an item's
// content, so its fingerprint need not tokenise the content again. The
// content is the key, so an entry matches only the same scan.
var contentScans = &scanMemo{texts: make(map[string]string)}

// scanMemo maps contents to the text of their tokens. An entry is removed
// when read. Known items are hashed but never fingerprinted, so the memo
// is emptied when it reaches scanMemoSize entries or scanMemoBytes.
type scanMemo struct {
	mu    sync.Mutex
	texts map[string]string
	// bytes is the length of the contents and texts in texts.
	bytes int
}

// put records the text scanContent read from content.
func (s *scanMemo) put(content, text string) {
	size := len(content) + len(text)
	if size > scanMemoBytes {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.texts[content]; ok {
		delete(s.texts, content)
		s.bytes -= len(content) + len(old)
	}
	if len(s.texts) >= scanMemoSize || s.bytes+size > scanMemoBytes {
		clear(s.texts)
		s.bytes = 0
	}
	s.texts[content] = text
	s.bytes += size
}

// take returns and removes the text recorded for content.
func (s *scanMemo) take(content string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	text, ok := s.texts[content]
	if ok {
		delete(s.texts, content)
		s.bytes -= len(content) + len(text)
	}
	return text, ok
}

// reset removes every entry.
func (s *scanMemo) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.texts)
	s.bytes = 0
}

// contentScanText returns scanContent(content, false)'s text, from the
// memo when the content hash scanned the same content.
func contentScanText(content string) string {
	if text, ok := contentScans.take(content); ok {
		return text
	}
	text, _ := scanContent(content, false)
	return text
}
