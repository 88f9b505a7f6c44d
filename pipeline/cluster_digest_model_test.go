package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// digestRecords makes member records whose keys collide often. It has
// 120 ids, so in a run of 600 records most ids are filed again from
// other records. Sketches are drawn from a window of the values 1 to
// 129, so two of them share anything from none to all of their values.
// SimHash values lie near a few bases, and links, media, languages and
// numbers come from small sets. Some sketches are unsorted, hold repeats
// or are longer than sketchSize, as records of other versions can be.
type digestRecords struct {
	rng *rand.Rand
	ids []string
}

func newDigestRecords(seed uint64) *digestRecords {
	g := &digestRecords{rng: rand.New(rand.NewPCG(seed, 7))}
	for n := range 100 {
		g.ids = append(g.ids, ItemID("digest", fmt.Sprint(n)))
	}
	// Ids of any other form keep their text in the key index.
	for n := range 20 {
		g.ids = append(g.ids, fmt.Sprint("item-", n))
	}
	return g
}

// values returns up to n distinct values from a window of the values 1
// to 129, sorted.
func (g *digestRecords) values(n int) []uint64 {
	from, width := 1+g.rng.IntN(50), 32+g.rng.IntN(48)
	var out []uint64
	for _, k := range g.rng.Perm(width)[:min(n, width)] {
		out = append(out, uint64(from+k))
	}
	slices.Sort(out)
	return out
}

// print returns a fingerprint. With odd set, its sketch may be one that
// itemFingerprint never returns.
func (g *digestRecords) print(odd bool) fingerprint {
	bases := []uint64{0, 0xffff_0000_ffff_0000, 0x5555_5555_5555_5555}
	fp := fingerprint{
		SimHash: bases[g.rng.IntN(len(bases))],
		Sketch:  g.values(1 + g.rng.IntN(sketchSize)),
		Words:   minWords + g.rng.IntN(40),
	}
	for range g.rng.IntN(12) {
		fp.SimHash ^= 1 << g.rng.IntN(64)
	}
	if g.rng.IntN(20) == 0 {
		fp.Words = g.rng.IntN(minWords)
	}
	numbers := [][]string{nil, {"2026"}, {"2026", "5"}, {"2026", "5", "7"}, {"5", "7"}}
	fp.Numbers = numbers[g.rng.IntN(len(numbers))]
	if !odd {
		return fp
	}
	switch g.rng.IntN(4) {
	case 0:
		g.rng.Shuffle(len(fp.Sketch), func(i, j int) { fp.Sketch[i], fp.Sketch[j] = fp.Sketch[j], fp.Sketch[i] })
	case 1:
		for range 1 + g.rng.IntN(8) {
			fp.Sketch = append(fp.Sketch, fp.Sketch[g.rng.IntN(len(fp.Sketch))])
		}
		slices.Sort(fp.Sketch)
	case 2:
		fp.Sketch = append(g.values(sketchSize), g.values(1+g.rng.IntN(8))...)
		slices.Sort(fp.Sketch)
	}
	return fp
}

// record returns a record of one of the ids, with any fingerprint.
func (g *digestRecords) record() memberRecord {
	rec := g.item(g.ids[g.rng.IntN(len(g.ids))], g.print(g.rng.IntN(6) == 0))
	if rec.Media == nil {
		rec.Cluster = g.ids[g.rng.IntN(len(g.ids))]
	}
	if g.rng.IntN(3) == 0 {
		rec.DuplicateOf = rec.Cluster
	}
	return rec
}

// item returns a record of id with fp and a random link, media, language
// and publication time.
func (g *digestRecords) item(id string, fp fingerprint) memberRecord {
	rec := memberRecord{
		ID: id, Cluster: id, Print: fp,
		Language:  []string{"", "en", "de"}[g.rng.IntN(3)],
		Published: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).Unix() + g.rng.Int64N(5*24*3600),
	}
	if g.rng.IntN(3) == 0 {
		rec.URL = fmt.Sprint("https://news.example/", g.rng.IntN(40))
	}
	if g.rng.IntN(10) == 0 {
		rec.Alternates = []string{fmt.Sprint("https://news.example/", g.rng.IntN(40))}
	}
	rec.SharedLink = g.rng.IntN(10) == 0
	// Most media belong to one story, whose items share a cluster, so
	// that a shared medium counts as evidence. Two stories share a logo.
	switch r := g.rng.IntN(4); {
	case r < 2:
		story := g.rng.IntN(30)
		rec.Media = []string{fmt.Sprint("https://cdn.example/", story, ".jpg")}
		rec.Cluster = fmt.Sprint("story-", story)
	case r == 2:
		rec.Media = []string{"https://cdn.example/logo.png"}
	}
	return rec
}

// encode returns rec as a stored record, in the binary form or, as an
// earlier version wrote it, as JSON.
func (g *digestRecords) encode(t *testing.T, rec *memberRecord) []byte {
	t.Helper()
	if g.rng.IntN(4) != 0 {
		return encodeMemberRecord(rec)
	}
	data, err := json.Marshal(rec)
	if err != nil {
		t.Fatalf("encoding record of %s as JSON: %v", rec.ID, err)
	}
	return data
}

// storedRecord is a record appended to the store, kept to deliver it
// again as a restarted reading does.
type storedRecord struct {
	seq    uint64
	value  []byte
	stored time.Time
}

// TestDigestKeepsCandidates files records in the ways a clusterer meets
// them and, after each, looks up a new item's candidates twice: dropping
// those that the sketch digests rule out, and reading all of them. Every
// candidate must relate to the item in the same way both times, and the
// item must get the same best candidate.
//
// The records are delivered as another process's are, some as JSON of
// an earlier version, some more than once, and some filed as this
// process's own. Their ids are filed again from other records, with
// stored times that move back as well as forward, and some expire.
func TestDigestKeepsCandidates(t *testing.T) {
	totals := map[string]int{}
	for seed := range uint64(6) {
		for name, n := range checkDigestKeepsCandidates(t, seed, 600) {
			totals[name] += n
		}
	}
	t.Logf("%v", totals)
	// Without these the comparison would pass by never reaching the
	// cases it is for.
	for _, name := range []string{"dropped candidates", "candidates related by text", "candidates related by media", "lookups meeting expired ids"} {
		if totals[name] < 50 {
			t.Errorf("only %d %s: the generated records do not reach this case", totals[name], name)
		}
	}
}

// checkDigestKeepsCandidates runs TestDigestKeepsCandidates on the
// records of one seed and returns how often each counted case occurred.
func checkDigestKeepsCandidates(t *testing.T, seed uint64, steps int) map[string]int {
	t.Helper()
	ctx := context.Background()
	// A store without FollowRecords, so that only this test files records.
	store := &countingStore{fingerprintStore: newMemFingerprints()}
	c := newClusterer(store, newRecordCache(64, time.Now))
	c.keys.setMaxAge(time.Hour)
	g := newDigestRecords(seed)
	var delivered []storedRecord
	counts := map[string]int{}
	for step := range steps {
		rec := g.record()
		value := g.encode(t, &rec)
		seq, err := store.Append(ctx, value, "", time.Time{})
		if err != nil {
			t.Fatalf("appending record %d: %v", step, err)
		}
		switch r := g.rng.IntN(10); {
		case r < 2:
			// Filed as this process's own record, stored now.
			rec.seq = seq
			c.note(rec)
		case r < 3 && len(delivered) > 0:
			// A restarted reading delivers an earlier record again.
			d := delivered[g.rng.IntN(len(delivered))]
			c.applyStored(d.seq, d.value, d.stored)
			fallthrough
		default:
			// Up to 80 minutes old, so some records have expired.
			stored := time.Now().Add(-time.Duration(g.rng.IntN(80*60)) * time.Second)
			c.applyStored(seq, value, stored)
			delivered = append(delivered, storedRecord{seq, value, stored})
		}

		self := g.item(fmt.Sprint("self-", step), g.print(false))
		self.Print.Sketch = bottomK(self.Print.Sketch, sketchSize)
		compareDigestCandidates(t, c, &self, counts)
	}
	return counts
}

// compareDigestCandidates looks up self's candidates in c with and
// without the digest check, fails when any candidate relates to self
// differently or the best candidate differs, and counts the cases met.
func compareDigestCandidates(t *testing.T, c *Clusterer, self *memberRecord, counts map[string]int) {
	t.Helper()
	ctx := context.Background()
	c.readAllText = false
	checked, err := c.candidates(ctx, *self)
	if err != nil {
		t.Fatalf("looking up candidates of %s with the digest: %v", self.ID, err)
	}
	c.readAllText = true
	all, err := c.candidates(ctx, *self)
	if err != nil {
		t.Fatalf("looking up candidates of %s reading all: %v", self.ID, err)
	}

	for id, cand := range all {
		wantRelation, wantEvidence := relate(self, cand.rec, cand.evidence)
		gotRelation, gotEvidence := relationNone, 0
		if got, ok := checked[id]; ok {
			gotRelation, gotEvidence = relate(self, got.rec, got.evidence)
		} else {
			counts["dropped candidates"]++
		}
		if gotRelation != wantRelation || gotEvidence != wantEvidence {
			t.Fatalf("%s relates to candidate %s (record %d, evidence %b) as %d by evidence %b with the digest, as %d by %b reading all",
				self.ID, id, cand.rec.seq, cand.evidence, gotRelation, gotEvidence, wantRelation, wantEvidence)
		}
		switch {
		case wantEvidence == evidenceText:
			counts["candidates related by text"]++
		case wantEvidence == evidenceMedia:
			counts["candidates related by media"]++
		}
	}
	for id := range checked {
		if all[id] == nil {
			t.Fatalf("candidate %s of %s was found only with the digest", id, self.ID)
		}
	}

	gotBest, gotRelation := pickCandidate(self, checked)
	wantBest, wantRelation := pickCandidate(self, all)
	if gotBest.ID != wantBest.ID || gotBest.seq != wantBest.seq || gotRelation != wantRelation {
		t.Fatalf("%s: best candidate %q (record %d, relation %d) with the digest, %q (record %d, relation %d) reading all",
			self.ID, gotBest.ID, gotBest.seq, gotRelation, wantBest.ID, wantBest.seq, wantRelation)
	}
	// An id listed under self's keys whose every filing has expired gets
	// no record reference.
	refs := map[string]recordRef{}
	for _, ids := range c.keys.idsAt(recordKeys(*self), refs) {
		for _, id := range ids {
			if _, live := refs[id]; !live {
				counts["lookups meeting expired ids"]++
				return
			}
		}
	}
}
