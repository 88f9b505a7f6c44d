package pipeline

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// fuzzIDs are the ids that FuzzKeyIndex files: forty in the form ItemID
// gives, so text lists overflow their cap, and a few that keep their text.
var fuzzIDs = func() []string {
	var ids []string
	for n := range 40 {
		ids = append(ids, ItemID("f", fmt.Sprint(n)))
	}
	return append(ids, "", "item-1", "\x00\xff", strings.ToUpper(ids[0]),
		ids[1][:31], ids[2]+"0", "g"+ids[3][1:], ids[4]+ids[5])
}()

// fuzzRecord returns the record that one step of FuzzKeyIndex files: the
// id chosen by idByte, and the link, media and text fingerprint chosen
// by the bits of keyBits.
func fuzzRecord(idByte, keyBits byte) memberRecord {
	rec := memberRecord{ID: fuzzIDs[int(idByte)%len(fuzzIDs)]}
	if keyBits&3 != 0 {
		rec.URL = fmt.Sprint("https://news.example/", keyBits&3)
	}
	for m := range 3 {
		if keyBits>>(2+m)&1 != 0 {
			rec.Media = append(rec.Media, fmt.Sprint("https://cdn.example/", m))
		}
	}
	if v := uint64(keyBits >> 5); v != 0 {
		rec.Print = fingerprint{
			SimHash: v * 0x0001_0001_0001_0001,
			Sketch:  []uint64{v % 3},
			Words:   minWords,
		}
	}
	return rec
}

// fuzzKeys returns every key that fuzzRecord can file under.
func fuzzKeys() []string {
	var keys []string
	for v := range 8 {
		keys = append(keys, recordKeys(fuzzRecord(0, byte(v<<5|0x1f)))...)
	}
	return keys
}

// modelPruneAll is pruneAll for the model.
func modelPruneAll(x *modelKeyIndex, now time.Time) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.added = math.MaxInt
	x.pruneLocked(now)
}

// FuzzKeyIndex files the same records in keyIndex and in the model it
// replaced, at stored times that move back as well as forward, and fails
// when their lists differ or a reference count is wrong. Each step is
// three bytes: the id, the keys, and the clock change in minutes. A
// change of -128 prunes both indexes instead of filing a record.
func FuzzKeyIndex(f *testing.F) {
	f.Add(byte(0), []byte{1, 0xff, 1, 1, 0xff, 1, 1, 0xff, 0x80})
	f.Add(byte(1), []byte{3, 0x04, 0, 3, 0x04, 0, 4, 0x04, 61, 5, 0x04, 0x80})
	f.Add(byte(1), []byte{40, 0xe1, 0xf0, 41, 0xe1, 10, 42, 0xe1, 0x80, 40, 0xe1, 1})
	// A key more than an hour old is pruned, and its id is filed again.
	f.Add(byte(1), []byte{0, 0x01, 0, 1, 0x02, 120, 2, 0x02, 0x80, 0, 0x01, 1, 0, 0x21, 0})
	rng := rand.New(rand.NewPCG(1, 2))
	for seed := range 4 {
		long := make([]byte, 600)
		for k := range long {
			long[k] = byte(rng.IntN(256))
		}
		f.Add(byte(seed), long)
	}
	keys := fuzzKeys()
	f.Fuzz(func(t *testing.T, aged byte, steps []byte) {
		x, model := newKeyIndex(), newModelKeyIndex()
		if aged&1 != 0 {
			x.setMaxAge(time.Hour)
			model.setMaxAge(time.Hour)
		}
		now := keyIndexBase
		for k := 0; k+2 < len(steps) && k < 3*200; k += 3 {
			minutes := int8(steps[k+2])
			if minutes == -128 {
				pruneAll(x, now)
				modelPruneAll(model, now)
			} else {
				now = now.Add(time.Duration(minutes) * time.Minute)
				rec := fuzzRecord(steps[k], steps[k+1])
				x.add(rec, now)
				model.add(rec, now)
			}
			compareWithModel(t, x, model, keys)
		}
		checkRefs(t, x)
	})
}
