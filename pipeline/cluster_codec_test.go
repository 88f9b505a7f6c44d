package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"
)

// sampleRecord returns a member record with every field set, shaped like
// the record of a feed farm item.
func sampleRecord() memberRecord {
	sketch := make([]uint64, sketchSize)
	for i := range sketch {
		sketch[i] = uint64(i+1) * 0x9e3779b97f4a7c15
	}
	return memberRecord{
		ID: "0123456789abcdef0123456789abcdef", Cluster: "fedcba9876543210fedcba9876543210",
		DuplicateOf: "00112233445566778899aabbccddeeff", Partner: "kauno-klasteris",
		Language: "lt", URL: "https://news.example.lt/2026/12/žinia?id=7",
		Alternates: []string{"https://news.example.lt/en/2026/12/news"},
		Media:      []string{"m.6b86b273ff34fce19d6b804eff5a3f57", "m.d4735e3a265e16eee03f59718b9b5d03"},
		SharedLink: true, Published: 1796400000,
		Print: fingerprint{SimHash: math.MaxUint64 - 7, Sketch: sketch, Numbers: []string{"12", "2026", "3,5"}, Words: 187},
	}
}

func TestMemberRecordRoundTrip(t *testing.T) {
	full := sampleRecord()
	bare := memberRecord{ID: full.ID, Cluster: full.ID, Published: -62135596800}
	for name, rec := range map[string]memberRecord{"every field": full, "bare": bare} {
		t.Run(name, func(t *testing.T) {
			var got memberRecord
			if err := decodeMemberRecord(encodeMemberRecord(&rec), &got); err != nil {
				t.Fatalf("decoding: %v", err)
			}
			if !reflect.DeepEqual(got, rec) {
				t.Errorf("decoded\n%+v\nwant\n%+v", got, rec)
			}
		})
	}
}

// TestMemberRecordReadsJSON decodes a record in the JSON form that earlier
// versions stored, which stays in a bucket until it expires.
func TestMemberRecordReadsJSON(t *testing.T) {
	rec := sampleRecord()
	data, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	var got memberRecord
	if err := decodeMemberRecord(data, &got); err != nil {
		t.Fatalf("decoding the JSON form: %v", err)
	}
	if !reflect.DeepEqual(got, rec) {
		t.Errorf("decoded\n%+v\nwant\n%+v", got, rec)
	}
}

func TestMemberRecordSmallerThanJSON(t *testing.T) {
	rec := sampleRecord()
	data, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	enc := encodeMemberRecord(&rec)
	if 10*len(enc) > 6*len(data) {
		t.Errorf("binary record is %d bytes, JSON %d: want at most 60%%", len(enc), len(data))
	}
	if len(enc) > encodedRecordSize(&rec) {
		t.Errorf("binary record is %d bytes, over its bound of %d", len(enc), encodedRecordSize(&rec))
	}
}

func TestMemberRecordRejectsDamage(t *testing.T) {
	rec := sampleRecord()
	enc := encodeMemberRecord(&rec)
	for n := 1; n < len(enc); n++ {
		var got memberRecord
		if err := decodeMemberRecord(enc[:n], &got); !errors.Is(err, errRecordTruncated) {
			t.Fatalf("record cut to %d of %d bytes: err = %v, want errRecordTruncated", n, len(enc), err)
		}
	}
	// A list length of 2^40 after the six strings of a bare record.
	bare := memberRecord{ID: "a"}
	forged := encodeMemberRecord(&bare)[:1+7]
	forged = append(forged, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20)
	cases := map[string][]byte{
		"forged list length":         forged,
		"bytes after the last field": append(bytes.Clone(enc), 0),
		"unknown flag":               flipFlags(t, enc),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			var got memberRecord
			if err := decodeMemberRecord(data, &got); err == nil {
				t.Errorf("decoded %+v, want an error", got)
			}
		})
	}
}

// flipFlags returns a copy of the encoded sampleRecord with flag bit 1 set.
func flipFlags(t *testing.T, enc []byte) []byte {
	t.Helper()
	rec := sampleRecord()
	rec.SharedLink = false
	plain := encodeMemberRecord(&rec)
	for i := range plain {
		if plain[i] != enc[i] {
			out := bytes.Clone(enc)
			out[i] = 3
			return out
		}
	}
	t.Fatal("the flags byte was not found")
	return nil
}

// FuzzMemberRecord decodes arbitrary bytes as a binary record. A record
// that decodes must encode and decode again to the same record.
func FuzzMemberRecord(f *testing.F) {
	rec := sampleRecord()
	f.Add(encodeMemberRecord(&rec))
	bare := memberRecord{ID: "x"}
	f.Add(encodeMemberRecord(&bare))
	f.Add([]byte{recordFormatBinary})
	f.Fuzz(func(t *testing.T, data []byte) {
		data = append([]byte{recordFormatBinary}, data...)
		var got memberRecord
		if err := decodeMemberRecord(data, &got); err != nil {
			return
		}
		var again memberRecord
		if err := decodeMemberRecord(encodeMemberRecord(&got), &again); err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if !reflect.DeepEqual(got, again) {
			t.Fatalf("record changed on re-encoding:\n%+v\n%+v", got, again)
		}
	})
}

// BenchmarkDecodeMemberRecord decodes a farm-shaped record in the binary
// form and in the JSON form of earlier versions.
func BenchmarkDecodeMemberRecord(b *testing.B) {
	rec := sampleRecord()
	js, err := json.Marshal(rec)
	if err != nil {
		b.Fatal(err)
	}
	for name, data := range map[string][]byte{"binary": encodeMemberRecord(&rec), "json": js} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				var got memberRecord
				if err := decodeMemberRecord(data, &got); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestGroupingReadsJSONRecords groups the second item of each labelled
// pair against a first item whose stored record is in the JSON form of
// earlier versions, and against the same record in the binary form. A
// clusterer that did not write the record reads it from the store, so
// both the follower and the candidate reads decode it.
func TestGroupingReadsJSONRecords(t *testing.T) {
	ctx := context.Background()
	grouped := 0
	for _, p := range loadPairs(t) {
		binStore, jsonStore := newMemFingerprints(), newMemFingerprints()
		first := normalisedPairItem(t, p.A)
		assignAndRecord(t, newClusterer(binStore, nil), first)
		var rec memberRecord
		// The first item's record is the only one in binStore.
		if err := decodeMemberRecord(binStore.value(1), &rec); err != nil {
			t.Fatalf("pair %s: decoding the stored record: %v", p.ID, err)
		}
		data, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := jsonStore.Append(ctx, data, "", time.Time{}); err != nil {
			t.Fatal(err)
		}

		fromBinary, fromJSON := normalisedPairItem(t, p.B), normalisedPairItem(t, p.B)
		assignAndRecord(t, newClusterer(binStore, nil), fromBinary)
		assignAndRecord(t, newClusterer(jsonStore, nil), fromJSON)
		if fromBinary.ClusterID != fromJSON.ClusterID || fromBinary.DuplicateOf != fromJSON.DuplicateOf {
			t.Errorf("pair %s: binary record gives %s/%s, JSON record %s/%s", p.ID,
				fromBinary.ClusterID, fromBinary.DuplicateOf, fromJSON.ClusterID, fromJSON.DuplicateOf)
		}
		if fromJSON.ClusterID == first.ID {
			grouped++
		}
	}
	if grouped == 0 {
		t.Fatal("no second item joined the first item's cluster, so no JSON record was compared")
	}
}
