package main

import (
	"slices"
	"testing"
)

func TestPositionalConfig(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    []string
		wantErr bool
	}{
		{"no positional keeps the flags", []string{"--config", "a.yaml"}, []string{"--config", "a.yaml"}, false},
		{"file becomes --config", []string{"a.yaml"}, []string{"--config", "a.yaml"}, false},
		{"flags around the file are kept", []string{"-h", "a.yaml"}, []string{"-h", "--config", "a.yaml"}, false},
		{"file next to --config is rejected", []string{"--config=a.yaml", "b.yaml"}, nil, true},
		{"two files are rejected", []string{"a.yaml", "b.yaml"}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := positionalConfig(tc.args)
			if (err != nil) != tc.wantErr {
				t.Fatalf("positionalConfig(%q) error = %v, want error %v", tc.args, err, tc.wantErr)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("positionalConfig(%q) = %q, want %q", tc.args, got, tc.want)
			}
		})
	}
}
