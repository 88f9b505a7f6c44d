package pipeline

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
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

// storedBytes returns the length of the contents and texts in memo.
func storedBytes(memo *scanMemo) int {
	n := 0
	for content, text := range memo.texts {
		n += len(content) + len(text)
	}
	return n
}

// TestScanMemoBoundedInBytes checks that the memo contains at most
// scanMemoBytes of contents and texts, however long the contents are.
func TestScanMemoBoundedInBytes(t *testing.T) {
	memo := &scanMemo{texts: make(map[string]string)}
	long := strings.Repeat("<p>a long read</p>", scanMemoBytes/4/18)
	for i := range 12 {
		content := fmt.Sprintf("<p>%d</p>%s", i, long)
		memo.put(content, content[:len(content)/2])
		if size := storedBytes(memo); size > scanMemoBytes {
			t.Fatalf("memo contains %d bytes after %d puts of %d bytes, want at most %d",
				size, i+1, len(content), scanMemoBytes)
		}
	}
	huge := strings.Repeat("x", scanMemoBytes+1)
	memo.put(huge, "x")
	if size := storedBytes(memo); size > scanMemoBytes {
		t.Fatalf("memo contains %d bytes after a put of %d bytes, want at most %d", size, len(huge), scanMemoBytes)
	}
	memo.put("<p>short</p>", " short ")
	if text, ok := memo.take("<p>short</p>"); !ok || text != " short " {
		t.Errorf("take of a short content = %q, %v; want its text", text, ok)
	}
	if memo.bytes != storedBytes(memo) {
		t.Errorf("memo counts %d bytes, contains %d", memo.bytes, storedBytes(memo))
	}
}

// TestScanMemoCountsReplacedEntry checks that putting a content twice
// counts its bytes once.
func TestScanMemoCountsReplacedEntry(t *testing.T) {
	memo := &scanMemo{texts: make(map[string]string)}
	memo.put("<p>twice</p>", " twice ")
	memo.put("<p>twice</p>", " twice ")
	if memo.bytes != storedBytes(memo) {
		t.Errorf("memo counts %d bytes, contains %d", memo.bytes, storedBytes(memo))
	}
	memo.take("<p>twice</p>")
	if memo.bytes != 0 {
		t.Errorf("empty memo counts %d bytes, want 0", memo.bytes)
	}
}

// FuzzScanMemoText checks what the memo relies on. The content hash's scan,
// which also collects link and image targets, must read the same text as
// the fingerprint's own scan. An item's fingerprint after its content hash
// must equal its fingerprint from a fresh scan.
func FuzzScanMemoText(f *testing.F) {
	for _, seed := range []string{
		`<p>The <b>cluster</b> meets in Kaunas.</p>`,
		`<A HREF="https://example.org/x">Agenda</A><IMG SRC=/hall.jpg ALT="Hall &amp; stage">hall`,
		`<textarea><a href="/x">not a tag</a></textarea> after`,
		`<TITLE>&lt;b&gt;</TITLE><script>var a = "<a href=x>";</script><style>p{}</style>text`,
		`<a href="/a" href="/b" src="/c">twice &amp; thrice</a><img/src="/d">`,
		"<p>nul\x00byte</p><plaintext><a href=/e>rest",
		`<a href=/f>unclosed <img src="/g`,
		`&ampx; &#x41; &#0; <!-- <a href=/h> --> <![CDATA[<a href=/i>]]>`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, content string) {
		withTargets, _ := scanContent(content, true)
		plain, _ := scanContent(content, false)
		if withTargets != plain {
			t.Fatalf("scan with targets = %q, without = %q", withTargets, plain)
		}
		it := &Item{Title: "Trade fair in Kaunas", Content: content}
		fresh := itemFingerprint(it)
		ContentHash(it)
		if got := itemFingerprint(it); !reflect.DeepEqual(got, fresh) {
			t.Fatalf("fingerprint after the hash = %+v, fresh = %+v", got, fresh)
		}
	})
}

// TestScanMemoConcurrent hashes and fingerprints items from several
// goroutines, as pollers, the intake API and index repair do, with
// contents that several of them share, and checks every fingerprint
// against one from a fresh scan. Run it with -race.
func TestScanMemoConcurrent(t *testing.T) {
	items := make([]Item, 64)
	want := make([]fingerprint, len(items))
	for i := range items {
		items[i] = Item{
			Title:   fmt.Sprintf("Export fair %d", i%16),
			Content: fmt.Sprintf(`<p>Fair <a href="/fair/%d">number %d</a> in Vilnius for food and furniture makers.</p>`, i%16, i%16),
		}
		want[i] = itemFingerprint(&items[i])
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for round := range 50 {
				i := (g*7 + round) % len(items)
				it := items[i]
				ContentHash(&it)
				if got := itemFingerprint(&it); !reflect.DeepEqual(got, want[i]) {
					t.Errorf("item %d: fingerprint after the hash = %+v, want %+v", i, got, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestResetMemosEmptiesScanMemo checks that ResetMemos, which benchmarks
// call so that each run starts as cold as a new process, also drops the
// scans that an earlier run's content hashes left behind.
func TestResetMemosEmptiesScanMemo(t *testing.T) {
	it := &Item{Content: "<p>left behind by an earlier run</p>"}
	ContentHash(it)
	ResetMemos()
	if _, ok := contentScans.take(it.Content); ok {
		t.Error("the scan memo still has an entry after ResetMemos")
	}
}
