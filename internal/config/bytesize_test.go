package config

import (
	"testing"
)

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  ByteSize
	}{
		{"plain number counts bytes", "1048576", 1048576},
		{"zero is allowed", "0", 0},
		{"bytes unit", "512B", 512},
		{"decimal kilobytes", "2KB", 2000},
		{"binary kibibytes", "2KiB", 2048},
		{"decimal megabytes", "15MB", 15_000_000},
		{"binary mebibytes", "15MiB", 15 * 1024 * 1024},
		{"decimal gigabytes", "1GB", 1_000_000_000},
		{"binary gibibytes", "1GiB", 1 << 30},
		{"one space before the unit", "15 MiB", 15 * 1024 * 1024},
		{"surrounding spaces are trimmed", " 4KiB ", 4096},
		{"largest gibibyte count that fits", "8589934591GiB", 8589934591 << 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseByteSize(tt.input)
			if err != nil {
				t.Fatalf("ParseByteSize(%q) returned error: %v", tt.input, err)
			}
			if got != tt.want {
				t.Errorf("ParseByteSize(%q) = %d, want %d", tt.input, got, tt.want)
			}
		})
	}
}

func TestParseByteSizeRejects(t *testing.T) {
	tests := []struct {
		name  string
		input string
	}{
		{"empty string", ""},
		{"unit without number", "MiB"},
		{"negative number", "-1MiB"},
		{"fraction", "1.5MiB"},
		{"unknown unit", "15MiBs"},
		{"megabit unit", "15Mb"},
		{"lowercase unit", "15mib"},
		{"two spaces before the unit", "15  MiB"},
		{"number overflows int64", "99999999999999999999"},
		{"size overflows int64", "8589934592GiB"},
		{"unit before number", "MiB15"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseByteSize(tt.input)
			if err == nil {
				t.Errorf("ParseByteSize(%q) = %d, want an error", tt.input, got)
			}
		})
	}
}

func TestByteSizeString(t *testing.T) {
	tests := []struct {
		name string
		size ByteSize
		want string
	}{
		{"zero", 0, "0B"},
		{"odd byte count", 1500, "1500B"},
		{"binary unit wins", 15 * MiB, "15MiB"},
		{"decimal unit when binary does not divide", 15 * MB, "15MB"},
		{"kibibytes", 3 * KiB, "3KiB"},
		{"gibibytes", 2 * GiB, "2GiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.size.String(); got != tt.want {
				t.Errorf("ByteSize(%d).String() = %q, want %q", int64(tt.size), got, tt.want)
			}
		})
	}
}

func TestByteSizeUnmarshalText(t *testing.T) {
	var size ByteSize
	if err := size.UnmarshalText([]byte("4MiB")); err != nil {
		t.Fatalf("UnmarshalText returned error: %v", err)
	}
	if size != 4*MiB {
		t.Errorf("size = %d, want %d", size, 4*MiB)
	}
	if err := size.UnmarshalText([]byte("four")); err == nil {
		t.Error("UnmarshalText(four) returned no error")
	}
}

func FuzzParseByteSize(f *testing.F) {
	for _, seed := range []string{"0", "15MiB", "15 MB", "1gib", "1.5KB", "-3", "9223372036854775807", "8589934592GiB"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, input string) {
		size, err := ParseByteSize(input)
		if err != nil {
			return
		}
		if size < 0 {
			t.Fatalf("ParseByteSize(%q) = %d, a negative size", input, size)
		}
		again, err := ParseByteSize(size.String())
		if err != nil {
			t.Fatalf("ParseByteSize(%q) of the String of %d returned error: %v", size.String(), size, err)
		}
		if again != size {
			t.Fatalf("round trip of %q: got %d, want %d", input, again, size)
		}
	})
}
