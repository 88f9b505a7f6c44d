package pipeline

import "slices"

// sketchDigest is a 33-byte summary of a bottom-k sketch that the key
// index keeps with every id. It holds one byte per sketch value, sorted,
// and the sketch's length plus one. A zero digest is unknown.
//
// Equal sketch values give equal bytes, so the number of bytes two
// digests share (as multisets) is at least the number of values their
// sketches share. Each unrelated value matches one of the other digest's
// bytes with a chance of about 1 in 8, so two unrelated texts share
// about 4 bytes, far below the 16 that a Jaccard estimate of 0.5 needs.
// That lets grouping drop most text candidates without reading their
// records (mayBeSimilar).
type sketchDigest struct {
	bytes [sketchSize]byte
	// n is the sketch's length plus one, 0 when the digest is unknown.
	n uint8
}

// digestOf returns the digest of sketch, or an unknown digest for a
// sketch longer than sketchSize, which a record of another version could
// hold.
func digestOf(sketch []uint64) sketchDigest {
	var d sketchDigest
	if len(sketch) > sketchSize {
		return d
	}
	for k, v := range sketch {
		// The sketch holds the smallest hashes, whose high bits are
		// mostly zero, so the byte mixes in every bit.
		d.bytes[k] = byte((v * 0x9e3779b97f4a7c15) >> 56)
	}
	slices.Sort(d.bytes[:len(sketch)])
	d.n = uint8(len(sketch) + 1)
	return d
}

// mayBeSimilar reports whether the sketches behind two digests may have
// a Jaccard estimate of at least minJaccard, and true when either digest
// is unknown. jaccard counts a shared value at most once per value the
// sketches share and divides by at least the longer sketch's length, up
// to sketchSize, so fewer shared bytes than half that length rule the
// estimate out. A false answer is therefore exact (FuzzDigestBound
// checks it), and a true one needs the records to decide.
func mayBeSimilar(a, b sketchDigest) bool {
	if a.n == 0 || b.n == 0 {
		return true
	}
	x, y := a.bytes[:a.n-1], b.bytes[:b.n-1]
	shared := 0
	for len(x) > 0 && len(y) > 0 {
		switch {
		case x[0] < y[0]:
			x = x[1:]
		case y[0] < x[0]:
			y = y[1:]
		default:
			shared++
			x, y = x[1:], y[1:]
		}
	}
	// digestOf keeps no digest of a sketch longer than sketchSize, so
	// the longer length is also the least union jaccard divides by.
	longer := int(max(a.n, b.n)) - 1
	return float64(shared) >= minJaccard*float64(longer)
}
