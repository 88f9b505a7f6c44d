package pipeline_test

import (
	"testing"

	"github.com/syndic-network/syndic/pipeline"
)

// TestRevertInsideDuplicateWindow checks that an item whose text goes back
// to an earlier revision gets an event for the revert. A message id
// without the revision would repeat the first revision's, and the stream
// would drop the revert inside its duplicate window.
func TestRevertInsideDuplicateWindow(t *testing.T) {
	env := newIngestEnv(t, "embedded")
	g := batchIngester(t, env, env.js)
	first := storyItem(t, "wire", "en", "https://wire.example/fair", "Export fair in Vilnius", fairText, "")
	edit := storyItem(t, "wire", "en", "https://wire.example/fair", "Export fair in Vilnius", fairText+" Registration closes on 1 June.", "")
	revert := *first
	mustIngest(t, g, first, pipeline.ResultCreated)
	mustIngest(t, g, edit, pipeline.ResultUpdated)
	mustIngest(t, g, &revert, pipeline.ResultUpdated)
	evs := env.events(t)
	if len(evs) != 3 {
		t.Fatalf("stream contains %d events, want 3 (created, edit, revert)", len(evs))
	}
	if last := evs[2]; last.ContentHash != first.ContentHash || last.Revision != 3 {
		t.Errorf("last event: revision %d hash %s, want revision 3 with the first text", last.Revision, last.ContentHash)
	}
}
