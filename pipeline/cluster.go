package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Near-duplicate thresholds, tuned on the labelled pairs under
// testdata/pairs (docs/dedup.md has the measurements).
const (
	// minJaccard is the smallest estimated shingle overlap of two copies.
	minJaccard = 0.5
	// sketchKeys is how many of the smallest shingle hashes an item is
	// filed under. Two texts with shingle similarity J share their
	// smallest hash with probability J, so four keys find nearly every
	// copy that the SimHash bands miss in short texts.
	sketchKeys = 4
	// minWords keeps very short texts, such as a bare title, out of the
	// text comparison: a few words match too many other stories.
	minWords = 12
	// maxListLen caps the item ids kept under one media key. The newest
	// ids are kept, because a key shared by more items than this (a site
	// logo) carries no evidence anyway. Band, sketch and URL keys keep only
	// maxCandidatesPerKey ids, the only ones Assign reads from them.
	maxListLen = 64
	// mediaWindow is how far apart in publication time two items may be
	// for a shared image or enclosure to count as evidence of one story.
	mediaWindow = 7 * 24 * time.Hour
	// maxCandidatesPerKey is how many of the newest ids under one key are
	// read as candidates. Each candidate's record is read and decoded, and
	// a key shared by dozens of items is mostly shared by template texts,
	// so the oldest of them add little but work.
	maxCandidatesPerKey = 16
	// maxBandDistance is how many bits the SimHash of an item found
	// through a band alone may differ from the new item's. Texts of one
	// language share a band with many unrelated texts, whose SimHash
	// differs in about 15 bits. Four 16-bit bands find every copy within
	// 3 bits, but a copy 9 bits away only 24% of the time. Copies that
	// far apart are found by the sketch keys. At a Jaccard similarity of
	// 0.5 these miss about 2% of copies with a passage replaced and 6% of
	// copies cut short, and fewer above it (TestSketchKeyMissRates).
	maxBandDistance = 8
)

// Relation values name how an item relates to the cluster it joins.
const (
	relationNone = iota
	relationTranslation
	relationDuplicate
)

// Evidence strengths, highest first, decide between candidates.
const (
	evidenceMedia = 1 << iota
	evidenceText
	evidenceLink
)

// fingerprintStore is the log in which the clusterer keeps member
// records (broker.RecordLog). Append returns the sequence a record is
// stored at, and Read returns the records at seqs, leaving out sequences
// that hold none.
type fingerprintStore interface {
	Append(ctx context.Context, value []byte, msgID string, stored time.Time) (uint64, error)
	Read(ctx context.Context, seqs []uint64) (map[uint64][]byte, error)
}

// Clusterer decides, once per new item, which story it belongs to: the
// same canonical link (or an alternate link naming it), near-identical
// text by SimHash and a shingle sketch, or, across languages, a shared
// image or enclosure. Every look-up is by key, never a scan: SimHash
// bands, URL hashes and media hashes each name a short list of item ids,
// held in memory and rebuilt from the stored member records. It is safe
// for concurrent use; two copies ingested at the same moment may both
// start a cluster.
type Clusterer struct {
	store fingerprintStore
	// records, when not nil, keeps copies of recent member records.
	records *recordCache
	keys    *keyIndex
	// bandDistance is the largest SimHash distance, in bits, of an item
	// found through a band alone: maxBandDistance unless a test changes it.
	bandDistance int
	// readAllText, set by tests, reads every text candidate's record
	// instead of dropping those that their sketch digest rules out.
	readAllText bool
	// own holds the sequences of records this clusterer wrote recently.
	own    *generations[uint64, struct{}]
	follow following
}

// memberRecord is the record the clusterer stores per item.
type memberRecord struct {
	ID          string      `json:"id"`
	Cluster     string      `json:"c"`
	DuplicateOf string      `json:"d,omitempty"`
	Partner     string      `json:"p"`
	Language    string      `json:"l,omitempty"`
	URL         string      `json:"u,omitempty"`
	Alternates  []string    `json:"a,omitempty"`
	Media       []string    `json:"m,omitempty"`
	SharedLink  bool        `json:"x,omitempty"`
	Published   int64       `json:"t"`
	Print       fingerprint `json:"f"`
	// seq is the log sequence the record is stored at, zero when not
	// stored. It is not part of the record's encoding.
	seq uint64
}

// candidate is a stored item with the evidence that led to it.
type candidate struct {
	rec      *memberRecord
	evidence int
}

// Assign sets it.ClusterID and it.DuplicateOf and returns the item's
// fingerprint for Record. An item that matches nothing starts its own
// cluster. The error is a store failure; the caller retries the item.
func (c *Clusterer) Assign(ctx context.Context, it *Item) (fingerprint, error) {
	a, err := c.assign(ctx, it)
	return a.print, err
}

// assignment is what Assign computed for Record: the item's fingerprint.
type assignment struct {
	print fingerprint
}

func (c *Clusterer) assign(ctx context.Context, it *Item) (assignment, error) {
	return c.assignPrint(ctx, it, itemFingerprint(it))
}

// assignPrint is assign with the item's fingerprint already computed.
func (c *Clusterer) assignPrint(ctx context.Context, it *Item, fprint fingerprint) (assignment, error) {
	a := assignment{print: fprint}
	it.ClusterID, it.DuplicateOf = it.ID, ""
	self := memberFor(it, a.print)
	cands, err := c.candidates(ctx, self)
	if err != nil {
		return a, err
	}
	best, relation := pickCandidate(&self, cands)
	switch relation {
	case relationDuplicate:
		it.ClusterID = best.Cluster
		it.DuplicateOf = firstNonEmpty(best.DuplicateOf, best.ID)
	case relationTranslation:
		it.ClusterID = best.Cluster
	}
	return a, nil
}

// Record stores the item's keys so later items can find it. It runs after
// the item's event is in the stream, so an error only leaves the item
// out of later grouping.
func (c *Clusterer) Record(ctx context.Context, it *Item, fp fingerprint) error {
	return c.record(ctx, it, assignment{print: fp})
}

// record appends the item's member record to the log and then files it
// under its keys in this process. Other processes file it when they read
// it from the log.
func (c *Clusterer) record(ctx context.Context, it *Item, a assignment) error {
	rec := memberFor(it, a.print)
	rec.Cluster, rec.DuplicateOf = it.ClusterID, it.DuplicateOf
	seq, err := c.store.Append(ctx, encodeMemberRecord(&rec), "", time.Time{})
	if err != nil {
		return fmt.Errorf("storing fingerprint of item %s: %w", it.ID, err)
	}
	rec.seq = seq
	c.note(rec)
	return nil
}

func memberFor(it *Item, fp fingerprint) memberRecord {
	return memberRecord{
		ID: it.ID, Cluster: it.ID, Partner: it.Partner,
		Language: primaryLanguage(it.Language), URL: it.URL,
		Alternates: it.Alternates, Media: mediaURLs(it),
		SharedLink: slices.Contains(it.Flags, FlagLinkShared) || isSiteRoot(it.URL),
		Published:  it.Published.Unix(), Print: fp,
	}
}

// recordKeys returns the list keys an item is filed under.
func recordKeys(rec memberRecord) []string {
	return slices.Concat(textKeys(rec.Print), linkKeys(rec), mediaKeys(rec))
}

// memberKey is the key of an item's member record in the KV bucket that
// held the records before the log, read once to copy them
// (MigrateFingerprints).
func memberKey(id string) string { return "i." + id }

// isSiteRoot reports whether a canonical URL is a site's root page.
func isSiteRoot(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Path == "" || u.Path == "/") && u.RawQuery == ""
}

// textKeys returns the keys of a text fingerprint: its SimHash bands and
// its smallest shingle hashes. Texts under minWords words get none.
func textKeys(fp fingerprint) []string {
	keys := make([]string, 0, simhashBands+sketchKeys)
	return appendSketchKeys(appendBandKeys(keys, fp), fp)
}

// appendBandKeys appends the SimHash band keys of a text fingerprint to
// keys, or none for a text under minWords words.
func appendBandKeys(keys []string, fp fingerprint) []string {
	if fp.Words < minWords {
		return keys
	}
	for k, band := range fp.bands() {
		keys = append(keys, bandKey(k, band))
	}
	return keys
}

// appendSketchKeys appends the keys of a text fingerprint's sketchKeys
// smallest shingle hashes to keys, or none for a text under minWords
// words.
func appendSketchKeys(keys []string, fp fingerprint) []string {
	if fp.Words < minWords {
		return keys
	}
	for _, v := range fp.Sketch[:min(sketchKeys, len(fp.Sketch))] {
		keys = append(keys, "s."+strconv.FormatUint(v, 16))
	}
	return keys
}

func bandKey(k int, band uint16) string {
	return "b." + strconv.Itoa(k) + "." + strconv.FormatUint(uint64(band), 16)
}

// hashedKey turns a URL into a valid KV key of fixed length.
func hashedKey(prefix, value string) string {
	sum := sha256.Sum256([]byte(value))
	return prefix + hex.EncodeToString(sum[:16])
}

func linkURLs(rec *memberRecord) []string {
	var out []string
	if rec.URL != "" {
		out = append(out, rec.URL)
	}
	return append(out, rec.Alternates...)
}

// mediaURLs returns the item image and enclosure URLs, canonicalised.
func mediaURLs(it *Item) []string {
	var out []string
	if it.Image != "" {
		out = append(out, hashURL(it.Image))
	}
	for _, e := range it.Enclosures {
		out = append(out, hashURL(e.URL))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// candidates loads every stored item that shares a band, a sketch
// value, a link or a medium with self, with the evidence each shares.
// Items that share only a band must have a SimHash within c.bandDistance
// bits of self's. The lists come from the key index, and every candidate
// record is read in one batch, except those of items found by their text
// alone whose sketch digest rules out a similar text (dropText).
func (c *Clusterer) candidates(ctx context.Context, self memberRecord) (map[string]*candidate, error) {
	if err := c.ensureKeys(ctx); err != nil {
		return nil, err
	}
	bands, sketch := appendBandKeys(nil, self.Print), appendSketchKeys(nil, self.Print)
	links, media := linkKeys(self), mediaKeys(self)
	refs := map[string]recordRef{}
	lists := c.keys.idsAt(slices.Concat(sketch, links, media), refs)
	// The records of items sharing a link or a medium are read anyway,
	// so a band they share counts as text evidence at any distance.
	var read map[string]bool
	for _, key := range slices.Concat(links, media) {
		for _, id := range lists[key] {
			if read == nil {
				read = map[string]bool{}
			}
			read[id] = true
		}
	}
	maps.Copy(lists, c.keys.idsNear(bands, self.Print.SimHash, c.bandDistance, read, refs))
	found := map[string]*candidate{}
	for _, group := range []struct {
		keys     []string
		evidence int
	}{{bands, evidenceText}, {sketch, evidenceText}, {links, evidenceLink}} {
		for _, key := range group.keys {
			ids := lists[key]
			addCandidates(found, self.ID, ids[max(0, len(ids)-maxCandidatesPerKey):], group.evidence)
		}
	}
	if !c.readAllText {
		dropText(found, digestOf(self.Print.Sketch), refs)
	}
	sharers := make([]map[string]*candidate, len(media))
	for k, key := range media {
		sharers[k] = map[string]*candidate{}
		addCandidates(sharers[k], self.ID, lists[key], evidenceMedia)
	}
	if err := c.loadCandidates(ctx, append([]map[string]*candidate{found}, sharers...), refs); err != nil {
		return nil, err
	}
	addMedia(found, sharers)
	return found, nil
}

// dropText removes from found the candidates whose only evidence is text
// and whose sketch digest in refs rules out a text similar to self's.
// relate would reject them on the text, so grouping is unchanged and
// their records are not read.
//
// A dropped candidate that also shares a medium returns through the
// medium's sharers with media evidence alone, the only evidence relate
// could accept of it. When addMedia skips that medium, relate accepts
// nothing of it either way.
func dropText(found map[string]*candidate, self sketchDigest, refs map[string]recordRef) {
	for id, cand := range found {
		if cand.evidence == evidenceText && !mayBeSimilar(self, refs[id].digest) {
			delete(found, id)
		}
	}
}

func linkKeys(rec memberRecord) []string {
	var keys []string
	for _, u := range linkURLs(&rec) {
		keys = append(keys, hashedKey("u.", u))
	}
	return keys
}

// listCap returns how many ids the list under key keeps. Every id of a
// media list is read, to tell a stock picture shared across stories from
// one story's image. Text and link lists are read only for their newest
// candidates, so older ids there would be written and never read.
func listCap(key string) int {
	if strings.HasPrefix(key, "m.") {
		return maxListLen
	}
	return maxCandidatesPerKey
}

func mediaKeys(rec memberRecord) []string {
	var keys []string
	for _, m := range rec.Media {
		keys = append(keys, hashedKey("m.", m))
	}
	return keys
}

// addCandidates adds ids other than self to found with evidence.
func addCandidates(found map[string]*candidate, self string, ids []string, evidence int) {
	for _, id := range ids {
		if id == self {
			continue
		}
		if found[id] == nil {
			found[id] = &candidate{}
		}
		found[id].evidence |= evidence
	}
}

// addMedia adds the items that share an image or enclosure with self,
// one set of sharers per medium. A medium already shared by items of two
// different clusters is a stock picture or a logo, not evidence, and is
// skipped.
func addMedia(found map[string]*candidate, sharers []map[string]*candidate) {
	for _, medium := range sharers {
		clusters := map[string]bool{}
		for _, cand := range medium {
			clusters[cand.rec.Cluster] = true
		}
		if len(clusters) > 1 {
			continue
		}
		for id, cand := range medium {
			if found[id] == nil {
				found[id] = cand
			}
			found[id].evidence |= evidenceMedia
		}
	}
}

// loadCandidates reads the record of every candidate in sets in one batch,
// at the log sequence refs gives for its id, and drops those whose record
// expired. A record that names another item, or cannot be decoded, is
// dropped too: the log was deleted and created again, and its sequences
// started anew.
// Records copied in c.records are neither read nor decoded again.
func (c *Clusterer) loadCandidates(ctx context.Context, sets []map[string]*candidate, refs map[string]recordRef) error {
	known := make(map[string]*memberRecord, len(sets[0]))
	var want []uint64
	for _, set := range sets {
		for id := range set {
			if _, done := known[id]; done {
				continue
			}
			// A copy of another record of the id, filed again since,
			// does not stand in for the one the key index names.
			if rec, ok := c.records.get(id); ok && rec.seq == refs[id].seq {
				known[id] = rec
				continue
			}
			if seq := refs[id].seq; seq != 0 {
				want = append(want, seq)
			}
		}
	}
	got, err := c.read(ctx, want)
	if err != nil {
		return fmt.Errorf("reading fingerprints of candidates: %w", err)
	}
	for _, set := range sets {
		for id, cand := range set {
			if rec, ok := known[id]; ok {
				cand.rec = rec
				continue
			}
			data, ok := got[refs[id].seq]
			if !ok {
				delete(set, id)
				continue
			}
			rec := new(memberRecord)
			if err := decodeMemberRecord(data, rec); err != nil || rec.ID != id {
				delete(set, id)
				continue
			}
			rec.seq = refs[id].seq
			cand.rec, known[id] = rec, rec
			c.records.put(*rec)
		}
	}
	return nil
}

// read returns the records at seqs, sorted and without repeats first.
func (c *Clusterer) read(ctx context.Context, seqs []uint64) (map[uint64][]byte, error) {
	if len(seqs) == 0 {
		return nil, nil
	}
	slices.Sort(seqs)
	return c.store.Read(ctx, slices.Compact(seqs))
}

// pickCandidate returns the candidate self belongs with and how, or
// relationNone. Stronger evidence wins, then the earlier item.
func pickCandidate(self *memberRecord, cands map[string]*candidate) (memberRecord, int) {
	best := &memberRecord{}
	bestRelation, bestEvidence := relationNone, 0
	for _, cand := range cands {
		relation, evidence := relate(self, cand.rec, cand.evidence)
		if relation == relationNone {
			continue
		}
		better := evidence > bestEvidence ||
			evidence == bestEvidence && earlier(cand.rec, best)
		if bestRelation == relationNone || better {
			best, bestRelation, bestEvidence = cand.rec, relation, evidence
		}
	}
	return *best, bestRelation
}

// earlier orders records by publication time, then by id, so the choice
// does not depend on map order.
func earlier(a, b *memberRecord) bool {
	if a.Published != b.Published {
		return a.Published < b.Published
	}
	return a.ID < b.ID
}

// relate decides whether two items tell one story, given the keys they
// share, and returns the relation with the evidence that decided it.
func relate(a, b *memberRecord, shared int) (int, int) {
	sameLanguage := a.Language == "" || b.Language == "" || a.Language == b.Language
	kind := relationTranslation
	if sameLanguage {
		kind = relationDuplicate
	}
	if shared&evidenceLink != 0 && linked(a, b) {
		return kind, evidenceLink
	}
	if shared&evidenceText != 0 && similarText(a.Print, b.Print) {
		return relationDuplicate, evidenceText
	}
	if shared&evidenceMedia != 0 && sameStoryMedia(a, b, sameLanguage) {
		return relationTranslation, evidenceMedia
	}
	return relationNone, 0
}

// sameStoryMedia reports whether a shared medium makes two items
// translations of one story: both languages known and different, close in
// time, and with the numbers of one a sub-multiset of the other's, at
// least half as many. Translations keep their dates and amounts, while a
// follow-up under the same picture repeats one figure at most. A text
// without any number gives the check nothing to refute, so it never counts.
func sameStoryMedia(a, b *memberRecord, sameLanguage bool) bool {
	if sameLanguage || a.Language == "" || b.Language == "" {
		return false
	}
	na, nb := len(a.Print.Numbers), len(b.Print.Numbers)
	if na == 0 || nb == 0 || 2*min(na, nb) < max(na, nb) {
		return false
	}
	gap := time.Duration(a.Published-b.Published) * time.Second
	if gap < -mediaWindow || gap > mediaWindow {
		return false
	}
	return numbersCompatible(a.Print.Numbers, b.Print.Numbers)
}

// linked reports whether the items share a canonical link, one names the
// other as an alternate, or both name the same alternate. A link flagged
// as shared (a listing page) or a site's root page names no single story
// and never counts.
func linked(a, b *memberRecord) bool {
	if a.SharedLink || b.SharedLink {
		return false
	}
	theirs := linkURLs(b)
	for _, u := range linkURLs(a) {
		if slices.Contains(theirs, u) {
			return true
		}
	}
	return false
}

// similarText reports whether two texts are copies of each other. The
// SimHash only finds candidates: on texts of a few dozen words one edit
// moves it by several bits, so the shingle sketch decides.
func similarText(a, b fingerprint) bool {
	if a.Words < minWords || b.Words < minWords {
		return false
	}
	return jaccard(a.Sketch, b.Sketch) >= minJaccard && numbersCompatible(a.Numbers, b.Numbers)
}
