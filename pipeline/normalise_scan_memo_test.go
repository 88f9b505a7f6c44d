package pipeline

import (
	"fmt"
	"reflect"
	"testing"
)

// TestFingerprintUsesHashScan checks that an item's fingerprint reads the
// text its content hash scanned, once, and equals a fingerprint computed
// from a fresh scan.
func TestFingerprintUsesHashScan(t *testing.T) {
	it := &Item{
		Title:   "Cluster meeting in Kaunas",
		Content: `<p>The <b>cluster</b> meets on 12 May in Kaunas.</p><p><a href="https://example.org/agenda">Agenda</a> and <img src="https://example.org/hall.jpg"> hall.</p>`,
	}
	want := itemFingerprint(it)

	ContentHash(it)
	text, ok := contentScans.take(it.Content)
	if !ok {
		t.Fatal("the content hash left no scan of the content in the memo")
	}
	fresh, _ := scanContent(it.Content, false)
	if text != fresh {
		t.Errorf("memo text = %q, want the scan %q", text, fresh)
	}

	ContentHash(it)
	if got := itemFingerprint(it); !reflect.DeepEqual(got, want) {
		t.Errorf("fingerprint after the hash = %+v, want %+v", got, want)
	}
	if _, ok := contentScans.take(it.Content); ok {
		t.Error("the fingerprint left its memo entry behind")
	}
}

// TestFingerprintReadsMemoText checks that the fingerprint takes the memo's
// text instead of scanning, so the memo is what it reads.
func TestFingerprintReadsMemoText(t *testing.T) {
	it := &Item{Title: "Export forum", Content: "<p>wood furniture fair in Poznan</p>"}
	scanned := itemFingerprint(it)
	contentScans.put(it.Content, "quantum sensors summit in Lyon next spring")
	got := itemFingerprint(it)
	if got.SimHash == scanned.SimHash {
		t.Errorf("fingerprint with another text in the memo has the scanned SimHash %x", got.SimHash)
	}
	if again := itemFingerprint(it); !reflect.DeepEqual(again, scanned) {
		t.Errorf("fingerprint once the entry was read = %+v, want %+v", again, scanned)
	}
}

// TestScanMemoBounded checks that the memo never exceeds its size.
func TestScanMemoBounded(t *testing.T) {
	memo := &scanMemo{texts: make(map[string]string)}
	for i := range scanMemoSize + 10 {
		memo.put(fmt.Sprintf("<p>item %d</p>", i), fmt.Sprintf("item %d", i))
		if len(memo.texts) > scanMemoSize {
			t.Fatalf("memo has %d entries after %d puts, want at most %d", len(memo.texts), i+1, scanMemoSize)
		}
	}
	last := fmt.Sprintf("<p>item %d</p>", scanMemoSize+9)
	if text, ok := memo.take(last); !ok || text != fmt.Sprintf("item %d", scanMemoSize+9) {
		t.Errorf("take(last) = %q, %v; want the last text", text, ok)
	}
}
