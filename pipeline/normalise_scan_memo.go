package pipeline

import "sync"

// scanMemoSize bounds the entries of contentScans. IngestBatch fingerprints
// a document's new items right after they were cleaned, so the entries in
// use are at most the new items of the documents being ingested: 400 for
// 8 polls of 50 new items.
const scanMemoSize = 1024

// scanMemoBytes bounds the bytes of the contents and texts in
// contentScans. Entries outlive their items, and a content is limited only
// by fetch.max_body, so the entry count alone would let the memo keep
// gigabytes alive. 8 MiB holds the 400 entries in use at 20 KiB each for
// a content and its text. A content too long for the bound is not kept:
// its fingerprint scans it again.
const scanMemoBytes = 8 << 20

// contentScans keeps the text that the content hash read from an item's
// content, so the item's fingerprint, computed moments later when
// IngestBatch groups it, need not tokenise the same content again. Both
// read scanContent's text, which depends on the content alone, and the
// content string itself is the key, so an entry can only stand in for the
// same scan.
var contentScans = &scanMemo{texts: make(map[string]string)}

// scanMemo maps contents to the text of their content tokens. Entries are
// removed when read, and all of them when the memo reaches scanMemoSize
// entries or scanMemoBytes, because the items of known documents are
// hashed but never fingerprinted.
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

// contentScanText returns the text of content's text tokens as
// scanContent(content, false) does, from the memo when the content hash
// read it.
func contentScanText(content string) string {
	if text, ok := contentScans.take(content); ok {
		return text
	}
	text, _ := scanContent(content, false)
	return text
}
