package pipeline

// ContentHashV1 exposes the rules version 1 hash to the external tests,
// which build index entries as an older release wrote them.
var ContentHashV1 = contentHashV1
var ContentHashV2 = contentHashV2
