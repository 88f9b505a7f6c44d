package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ByteSize is a number of bytes written with an optional unit: B, KB, KiB,
// MB, MiB, GB or GiB. KB, MB and GB are powers of 1000 and the -iB units are
// powers of 1024, so "15MiB" is 15728640 and "15MB" is 15000000. A number
// without a unit counts bytes. The number must be whole, and one space may
// separate it from the unit. Units are case-sensitive because "Mb" usually
// means megabits.
type ByteSize int64

// Byte size units.
const (
	Byte ByteSize = 1
	KB   ByteSize = 1000
	MB   ByteSize = 1000 * KB
	GB   ByteSize = 1000 * MB
	KiB  ByteSize = 1024
	MiB  ByteSize = 1024 * KiB
	GiB  ByteSize = 1024 * MiB
)

// byteUnits lists the units from largest to smallest. String picks the first
// one that divides the size exactly, so binary units win over decimal ones
// of the same magnitude.
var byteUnits = []struct {
	name string
	size ByteSize
}{
	{"GiB", GiB}, {"GB", GB},
	{"MiB", MiB}, {"MB", MB},
	{"KiB", KiB}, {"KB", KB},
	{"B", Byte},
}

// ParseByteSize parses a size such as "15MiB", "512 KB" or "1048576".
func ParseByteSize(s string) (ByteSize, error) {
	text := strings.TrimSpace(s)
	end := 0
	for end < len(text) && text[end] >= '0' && text[end] <= '9' {
		end++
	}
	if end == 0 {
		return 0, fmt.Errorf("parsing size %q: use a whole number with an optional unit, such as 15MiB", s)
	}
	number, err := strconv.ParseInt(text[:end], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parsing size %q: number out of range", s)
	}
	unit, err := parseByteUnit(strings.TrimPrefix(text[end:], " "))
	if err != nil {
		return 0, fmt.Errorf("parsing size %q: %w", s, err)
	}
	if number > math.MaxInt64/int64(unit) {
		return 0, fmt.Errorf("parsing size %q: size out of range", s)
	}
	return ByteSize(number) * unit, nil
}

func parseByteUnit(name string) (ByteSize, error) {
	if name == "" {
		return Byte, nil
	}
	for _, u := range byteUnits {
		if name == u.name {
			return u.size, nil
		}
	}
	return 0, fmt.Errorf("unknown unit %q: use B, KB, KiB, MB, MiB, GB or GiB, spelt exactly so", name)
}

// String formats the size with the largest unit that divides it exactly,
// such as "15MiB" or "1500B". ParseByteSize reads the result back unchanged.
func (b ByteSize) String() string {
	if b == 0 {
		return "0B"
	}
	for _, u := range byteUnits[:len(byteUnits)-1] {
		if b%u.size == 0 {
			return strconv.FormatInt(int64(b/u.size), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(b), 10) + "B"
}

// MarshalText formats the size as String does.
func (b ByteSize) MarshalText() ([]byte, error) {
	return []byte(b.String()), nil
}

// UnmarshalText parses the size as ParseByteSize does.
func (b *ByteSize) UnmarshalText(text []byte) error {
	size, err := ParseByteSize(string(text))
	if err != nil {
		return err
	}
	*b = size
	return nil
}

// UnmarshalYAML parses a YAML scalar, either a string such as 15MiB or a
// plain integer of bytes.
func (b *ByteSize) UnmarshalYAML(node *yaml.Node) error {
	if node.Kind != yaml.ScalarNode {
		return fmt.Errorf("parsing size at line %d: expected a scalar such as 15MiB", node.Line)
	}
	return b.UnmarshalText([]byte(node.Value))
}
