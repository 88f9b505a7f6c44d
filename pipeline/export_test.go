package pipeline

// ContentHashV1 exposes the rules version 1 hash to the external tests,
// which build index entries as an older release wrote them.
var ContentHashV1 = contentHashV1
var ContentHashV2 = contentHashV2
var ContentHashV4 = contentHashV4

// MemoWithoutSegments returns a copy of m without its segment keys, so
// a parse with it reads every item with gofeed and only skips cleaning.
func MemoWithoutSegments(m *ParseMemo) *ParseMemo {
	c := *m
	c.segments = nil
	return &c
}
