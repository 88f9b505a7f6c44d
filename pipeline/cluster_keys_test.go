package pipeline

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// keyIndexBase is the stored time the key index tests start from.
var keyIndexBase = time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)

// randomRecords makes records whose keys overlap often: few SimHash
// values, sketch hashes, links and media, so lists fill up and records
// share them.
type randomRecords struct {
	rng *rand.Rand
	ids []string
}

func newRandomRecords(seed uint64) *randomRecords {
	g := &randomRecords{rng: rand.New(rand.NewPCG(seed, 2))}
	for n := range 300 {
		g.ids = append(g.ids, ItemID("p", fmt.Sprint(n)))
	}
	// Ids that are not 32 lower hex digits keep their text.
	g.ids = append(g.ids, "", "item-1", "ÿ-ünïcode", strings.ToUpper(g.ids[0]),
		g.ids[1][:31], g.ids[2]+"0", "g"+g.ids[3][1:])
	return g
}

func (g *randomRecords) pick(n int) int { return g.rng.IntN(n) }

func (g *randomRecords) record() memberRecord {
	rec := memberRecord{
		ID:  g.ids[g.pick(len(g.ids))],
		URL: fmt.Sprint("https://news.example/", g.pick(40)),
		Print: fingerprint{
			SimHash: uint64(g.pick(8)) * 0x0001_0001_0001_0001,
			Sketch:  []uint64{uint64(g.pick(50)), uint64(g.pick(50))},
			Words:   minWords,
		},
	}
	for range g.pick(3) {
		rec.Media = append(rec.Media, fmt.Sprint("https://cdn.example/", g.pick(6)))
	}
	return rec
}

// allKeys returns every key that a record of randomRecords can be
// filed under.
func allKeys() []string {
	var keys []string
	for v := range 8 {
		fp := fingerprint{SimHash: uint64(v) * 0x0001_0001_0001_0001, Words: minWords}
		keys = append(keys, textKeys(fp)...)
	}
	for v := range 50 {
		keys = append(keys, textKeys(fingerprint{Sketch: []uint64{uint64(v)}, Words: minWords})[simhashBands:]...)
	}
	for v := range 40 {
		keys = append(keys, hashedKey("u.", fmt.Sprint("https://news.example/", v)))
	}
	for v := range 6 {
		keys = append(keys, hashedKey("m.", fmt.Sprint("https://cdn.example/", v)))
	}
	return keys
}

// checkRefs fails t unless every handle's reference count is the number
// of lists holding it, every handle no list holds is free, and so is
// every list slot no key holds.
func checkRefs(t *testing.T, x *keyIndex) {
	t.Helper()
	counted := map[uint32]uint32{}
	slots := make([]int, listClasses)
	for _, c := range x.lists {
		if c.spilled() {
			slots[c.listRef()>>listClassShift]++
		}
		var inline [1]uint32
		for _, h := range x.list(c, &inline) {
			counted[h]++
		}
	}
	if got := x.idTab.live(); got != len(counted) {
		t.Errorf("%d handles live, lists hold %d", got, len(counted))
	}
	for h, n := range counted {
		refs := x.idTab.binary.refs
		if h&textHandle != 0 {
			refs, h = x.idTab.text.refs, h&^textHandle
		}
		if refs[h] != n {
			t.Errorf("handle %#x counts %d references, lists hold %d", h, refs[h], n)
		}
	}
	for class, c := range x.spill.classes {
		if used := len(c.words)/slotSize(class) - len(c.free); used != slots[class] {
			t.Errorf("list class %d has %d slots in use, keys hold %d", class, used, slots[class])
		}
	}
}

func TestKeyIndexMatchesModel(t *testing.T) {
	for _, maxAge := range []time.Duration{0, time.Hour} {
		t.Run(fmt.Sprint("max age ", maxAge), func(t *testing.T) {
			x, model := newKeyIndex(), newModelKeyIndex()
			x.setMaxAge(maxAge)
			model.setMaxAge(maxAge)
			g, keys := newRandomRecords(uint64(maxAge)+7), allKeys()
			for n := range 6000 {
				// Times drift forward by a second per record, with
				// jumps back of up to ten minutes.
				stored := keyIndexBase.Add(time.Duration(n-g.pick(600)) * time.Second)
				rec := g.record()
				x.add(rec, stored)
				model.add(rec, stored)
				if n%500 == 0 {
					compareWithModel(t, x, model, keys)
				}
			}
			compareWithModel(t, x, model, keys)
			checkRefs(t, x)
		})
	}
}

func compareWithModel(t *testing.T, x *keyIndex, model *modelKeyIndex, keys []string) {
	t.Helper()
	got, want := x.ids(keys), model.ids(keys)
	if !maps.EqualFunc(got, want, slices.Equal) {
		for _, key := range keys {
			if !slices.Equal(got[key], want[key]) {
				t.Fatalf("list %s = %q, want %q", key, got[key], want[key])
			}
		}
	}
	if x.size() != model.size() {
		t.Fatalf("index holds %d keys, want %d", x.size(), model.size())
	}
}

// pairRecord returns record n of a series in which records 2k and 2k+1
// share an image, so their image key holds a list.
func pairRecord(n int) memberRecord {
	return memberRecord{
		ID:    ItemID("p", fmt.Sprint(n)),
		URL:   fmt.Sprint("https://news.example/", n),
		Media: []string{fmt.Sprint("https://cdn.example/", n/2)},
	}
}

// pruneAll drops every key older than maxAge before now, whatever the
// number of additions since the last prune and however few keys are held.
func pruneAll(x *keyIndex, now time.Time) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.added = math.MaxInt
	x.pruneLocked(now)
}

func TestKeyIndexReusesPrunedHandles(t *testing.T) {
	const items = 1000
	x := newKeyIndex()
	x.setMaxAge(time.Hour)
	for n := range items {
		x.add(pairRecord(n), keyIndexBase)
	}
	handles, words := len(x.idTab.binary.vals), len(x.spill.classes[0].words)
	later := keyIndexBase.Add(2 * time.Hour)
	pruneAll(x, later)
	if got := x.idTab.live(); got != 0 {
		t.Errorf("%d ids live after pruning every key, want 0", got)
	}
	for n := items; n < 2*items; n++ {
		x.add(pairRecord(n), later)
	}
	checkRefs(t, x)
	if got := len(x.idTab.binary.vals); got != handles {
		t.Errorf("%d handles made, want the %d pruned ones reused", got, handles)
	}
	if got := len(x.spill.classes[0].words); got != words {
		t.Errorf("%d list words in the smallest class, want the %d pruned ones reused", got, words)
	}
	key := mediaKeys(pairRecord(2*items - 1))[0]
	want := []string{pairRecord(2*items - 2).ID, pairRecord(2*items - 1).ID}
	if got := x.ids([]string{key})[key]; !slices.Equal(got, want) {
		t.Errorf("list = %q, want %q", got, want)
	}
}

func TestKeyIndexKeepsAnyIDText(t *testing.T) {
	hexID := ItemID("p", "story")
	ids := []string{
		hexID, "", "item-1", "ÿ-ünïcode", "\x00\xff",
		strings.ToUpper(hexID), hexID[:31], hexID + "a", "g" + hexID[1:],
	}
	for _, id := range ids {
		t.Run(fmt.Sprintf("%q", id), func(t *testing.T) {
			x := newKeyIndex()
			x.add(memberRecord{ID: id, URL: "https://a.example/x"}, keyIndexBase)
			x.add(memberRecord{ID: id, URL: "https://a.example/x"}, keyIndexBase.Add(time.Second))
			key := linkKeys(memberRecord{URL: "https://a.example/x"})[0]
			if got := x.ids([]string{key})[key]; !slices.Equal(got, []string{id}) {
				t.Errorf("list = %q, want [%q]", got, id)
			}
			checkRefs(t, x)
		})
	}
}

func TestKeyIndexListAtCap(t *testing.T) {
	for _, key := range []string{bandKey(1, 3), hashedKey("m.", "https://a.example/logo")} {
		t.Run(key[:2], func(t *testing.T) {
			x, limit := newKeyIndex(), listCap(key)
			for n := range limit + 5 {
				x.addLocked(key, fmt.Sprint("id", n), int64(100+n))
			}
			// An id older than every id of the full list is left out.
			x.addLocked(key, "late", 1)
			var want []string
			for n := 5; n < limit+5; n++ {
				want = append(want, fmt.Sprint("id", n))
			}
			if got := x.ids([]string{key})[key]; !slices.Equal(got, want) {
				t.Errorf("list = %q, want %q", got, want)
			}
			if got := x.idTab.live(); got != limit {
				t.Errorf("%d ids live, want the %d in the list", got, limit)
			}
			checkRefs(t, x)
		})
	}
}

func TestKeyIndexOrdersOutOfOrderTimes(t *testing.T) {
	x := newKeyIndex()
	key := bandKey(0, 9)
	for _, n := range []int{5, 1, 9, 3, 5, 7, 2} {
		x.addLocked(key, fmt.Sprint("id", n), int64(1_700_000_000+n))
	}
	// id5 stays where it was first filed. A later id of an equal time
	// goes after it.
	x.addLocked(key, "again5", 1_700_000_005)
	want := []string{"id1", "id2", "id3", "id5", "again5", "id7", "id9"}
	if got := x.ids([]string{key})[key]; !slices.Equal(got, want) {
		t.Errorf("list = %q, want %q", got, want)
	}
}

func TestKeyIndexConcurrentUse(t *testing.T) {
	x := newKeyIndex()
	x.setMaxAge(time.Minute)
	keys := allKeys()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			g := newRandomRecords(uint64(w))
			for n := range 2000 {
				x.add(g.record(), keyIndexBase.Add(time.Duration(n)*time.Second))
			}
		}()
		go func() {
			defer wg.Done()
			for range 500 {
				for key, ids := range x.ids(keys) {
					if len(ids) == 0 || len(ids) > listCap(key) {
						t.Errorf("list %s holds %d ids", key, len(ids))
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	checkRefs(t, x)
}

// TestKeyIndexCollidedKeysShareList files ids under one hash with the
// limits of a media key and then of a band key, as two keys whose hashes
// collide would, and checks that the shorter limit trims the list.
func TestKeyIndexCollidedKeysShareList(t *testing.T) {
	x, k := newKeyIndex(), keyHash{7, 7}
	fileID := func(id string, stored uint32, limit int) {
		h := x.idTab.put(id, stored, 0, 0, sketchDigest{})
		x.file(k, limit, h)
		x.idTab.release(h)
	}
	for n := range maxListLen {
		fileID(fmt.Sprint("id", n), uint32(100+n), maxListLen)
	}
	fileID("band", 1000, maxCandidatesPerKey)
	var want []string
	for n := maxListLen - maxCandidatesPerKey + 1; n < maxListLen; n++ {
		want = append(want, fmt.Sprint("id", n))
	}
	want = append(want, "band")
	var inline [1]uint32
	var buf []byte
	if got := x.idsOf(x.list(x.lists[k], &inline), &buf, nil, 0); !slices.Equal(got, want) {
		t.Errorf("list = %q, want %q", got, want)
	}
	checkRefs(t, x)
}
