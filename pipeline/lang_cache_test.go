package pipeline

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func TestCachedDetectionMatchesUncached(t *testing.T) {
	texts := []string{
		strings.Repeat("The chamber of commerce opens registration for the export fair in June. ", 3),
		strings.Repeat("Izba gospodarcza otwiera rejestrację na targi eksportowe w czerwcu. ", 3),
		strings.Repeat("La chambre de commerce ouvre les inscriptions au salon export en juin. ", 3),
		strings.Repeat("xq zv wk pj ", 30),
	}
	for _, text := range texts {
		wantTag, wantOK := detectUncached(text)
		for round := range 2 {
			tag, ok := cachedDetection(text)
			if tag != wantTag || ok != wantOK {
				t.Errorf("round %d on %.30q: got %q, %t; want %q, %t", round, text, tag, ok, wantTag, wantOK)
			}
		}
	}
}

func TestCachedDetectionStoresEachTextOnce(t *testing.T) {
	text := "A text seen for the first time by this test " + strconv.Itoa(languageCache.Len()) + strings.Repeat(" with more words", 8)
	before := languageCache.Len()
	cachedDetection(text)
	cachedDetection(text)
	if got := languageCache.Len() - before; got != 1 {
		t.Errorf("cache grew by %d entries for one text, want 1", got)
	}
}

// TestLanguageCacheEntrySize checks the size given in the comment on
// languageCacheSize: at most 256 bytes of heap per entry.
func TestLanguageCacheEntrySize(t *testing.T) {
	if testing.Short() {
		t.Skip("fills the whole cache")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c := mustLanguageCache()
	for i := range languageCacheSize {
		var key [16]byte
		copy(key[:], strconv.Itoa(i))
		c.Add(key, detection{tag: "en", ok: true})
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perEntry := float64(after.HeapAlloc-before.HeapAlloc) / languageCacheSize
	t.Logf("%.0f bytes per entry, %.1f MiB in all", perEntry, perEntry*languageCacheSize/(1<<20))
	if perEntry > 256 {
		t.Errorf("%.0f bytes per entry, want at most 256", perEntry)
	}
	runtime.KeepAlive(c)
}
