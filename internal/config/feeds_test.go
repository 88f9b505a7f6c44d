package config

import (
	"strings"
	"testing"
)

func TestKeywordValidator(t *testing.T) {
	tests := []struct {
		name    string
		value   string
		wantErr bool
	}{
		{"word is valid", "export", false},
		{"phrase is valid", "trade fair", false},
		{"non-ascii word is valid", "łódź", false},
		{"empty keyword is invalid", "  ", true},
		{"control character is invalid", "ex\x01port", true},
		{"invalid utf-8 is invalid", "\xff", true},
		{"over 200 bytes is invalid", strings.Repeat("a", maxKeywordBytes+1), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := keyword(tt.value)
			if (err != nil) != tt.wantErr {
				t.Errorf("keyword(%q) = %v, want error %v", tt.value, err, tt.wantErr)
			}
		})
	}
}
