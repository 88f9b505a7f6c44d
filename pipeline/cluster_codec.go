package pipeline

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// recordFormatBinary is the first byte of a member record in the binary
// form that encodeMemberRecord writes. Records written as JSON by earlier
// versions start with '{', and decodeMemberRecord still reads them until
// they expire with the stream's max_age.
//
// NOTE: a version before the binary form cannot decode these records, and
// its follower skips them. So after a downgrade the items recorded since
// the upgrade stay out of its grouping until they expire.
const recordFormatBinary = 0x01

// errRecordTruncated means a binary member record ended inside a field,
// or a length in it exceeds the bytes left.
var errRecordTruncated = errors.New("member record truncated")

// encodeMemberRecord returns rec in the binary form: the format byte, then
// each field in the order of memberRecord. Strings and lists carry their
// length as a uvarint, the SimHash and the sketch values take 8 bytes
// each, and the publication time and word count are varints. A farm
// item's record takes 561 bytes against 1,075 as JSON and decodes 20 times
// faster (BenchmarkDecodeMemberRecord).
func encodeMemberRecord(rec *memberRecord) []byte {
	b := make([]byte, 0, encodedRecordSize(rec))
	b = append(b, recordFormatBinary)
	for _, s := range []string{rec.ID, rec.Cluster, rec.DuplicateOf, rec.Partner, rec.Language, rec.URL} {
		b = appendString(b, s)
	}
	b = appendStrings(b, rec.Alternates)
	b = appendStrings(b, rec.Media)
	var flags byte
	if rec.SharedLink {
		flags = 1
	}
	b = append(b, flags)
	b = binary.AppendVarint(b, rec.Published)
	b = binary.LittleEndian.AppendUint64(b, rec.Print.SimHash)
	b = binary.AppendUvarint(b, uint64(len(rec.Print.Sketch)))
	for _, v := range rec.Print.Sketch {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	b = appendStrings(b, rec.Print.Numbers)
	return binary.AppendVarint(b, int64(rec.Print.Words))
}

// encodedRecordSize returns an upper bound of the encoded size of rec.
func encodedRecordSize(rec *memberRecord) int {
	n := 1 + 1 + 3*binary.MaxVarintLen64 + 8 + 8*len(rec.Print.Sketch)
	for _, s := range []string{rec.ID, rec.Cluster, rec.DuplicateOf, rec.Partner, rec.Language, rec.URL} {
		n += binary.MaxVarintLen64 + len(s)
	}
	for _, list := range [][]string{rec.Alternates, rec.Media, rec.Print.Numbers} {
		n += binary.MaxVarintLen64
		for _, s := range list {
			n += binary.MaxVarintLen64 + len(s)
		}
	}
	return n
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendStrings(b []byte, list []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(list)))
	for _, s := range list {
		b = appendString(b, s)
	}
	return b
}

// decodeMemberRecord decodes a member record in the binary form or in the
// JSON form of earlier versions into rec. The strings of a binary record
// share one allocation, a copy of data.
func decodeMemberRecord(data []byte, rec *memberRecord) error {
	if len(data) == 0 || data[0] != recordFormatBinary {
		return json.Unmarshal(data, rec)
	}

	r := recordReader{b: data, s: string(data), off: 1}
	*rec = memberRecord{}
	for _, field := range []*string{&rec.ID, &rec.Cluster, &rec.DuplicateOf, &rec.Partner, &rec.Language, &rec.URL} {
		*field = r.string()
	}
	rec.Alternates = r.strings()
	rec.Media = r.strings()

	flags := r.byte()
	rec.SharedLink = flags&1 != 0
	rec.Published = r.varint()
	rec.Print.SimHash = r.uint64()
	if n := r.count(8); n > 0 {
		rec.Print.Sketch = make([]uint64, n)
		for i := range rec.Print.Sketch {
			rec.Print.Sketch[i] = r.uint64()
		}
	}
	rec.Print.Numbers = r.strings()
	rec.Print.Words = int(r.varint())

	switch {
	case r.err != nil:
		return r.err
	case flags > 1:
		return fmt.Errorf("member record has unknown flags %#x", flags)
	case r.off != len(r.b):
		return fmt.Errorf("member record has %d bytes after its last field", len(r.b)-r.off)
	}
	return nil
}

// recordReader reads the fields of a binary member record b from offset
// off. s is a copy of b that the strings read are cut from. After the
// first error every read returns a zero value, and err keeps that error.
type recordReader struct {
	b   []byte
	s   string
	off int
	err error
}

func (r *recordReader) fail() {
	if r.err == nil {
		r.err = errRecordTruncated
	}
	r.off = len(r.b)
}

func (r *recordReader) byte() byte {
	if r.off >= len(r.b) {
		r.fail()
		return 0
	}
	r.off++
	return r.b[r.off-1]
}

func (r *recordReader) uint64() uint64 {
	if len(r.b)-r.off < 8 {
		r.fail()
		return 0
	}
	r.off += 8
	return binary.LittleEndian.Uint64(r.b[r.off-8:])
}

func (r *recordReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail()
		return 0
	}
	r.off += n
	return v
}

func (r *recordReader) varint() int64 {
	v, n := binary.Varint(r.b[r.off:])
	if n <= 0 {
		r.fail()
		return 0
	}
	r.off += n
	return v
}

// count reads a list length and checks that the rest of the record can
// contain that many elements of at least minSize bytes each. A forged
// length then allocates at most 16 bytes per record byte: a list of empty
// strings takes one byte per string and a 16-byte header per string.
func (r *recordReader) count(minSize int) int {
	n := r.uvarint()
	if n > uint64((len(r.b)-r.off)/minSize) {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *recordReader) string() string {
	n := r.count(1)
	r.off += n
	return r.s[r.off-n : r.off]
}

// strings reads a list of strings, nil when it is empty.
func (r *recordReader) strings() []string {
	n := r.count(1)
	if n == 0 {
		return nil
	}
	list := make([]string, n)
	for i := range list {
		list[i] = r.string()
	}
	return list
}
