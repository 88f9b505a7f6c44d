package main

import (
	"slices"
	"testing"
)

func TestSplitDirFlagOrder(t *testing.T) {
	tests := []struct {
		args    []string
		rest    []string
		dir     string
		wantDir bool
	}{
		{[]string{"--config", "s.yaml", "/backups/a"}, []string{"--config", "s.yaml"}, "/backups/a", true},
		{[]string{"/backups/a", "--config", "s.yaml"}, []string{"--config", "s.yaml"}, "/backups/a", true},
		{[]string{"/backups/a", "--config=s.yaml"}, []string{"--config=s.yaml"}, "/backups/a", true},
		{[]string{"-config", "s.yaml", "b"}, []string{"-config", "s.yaml"}, "b", true},
		{[]string{"--config", "s.yaml"}, nil, "", false},
		{[]string{"a", "b"}, nil, "", false},
		{nil, nil, "", false},
	}
	for _, tc := range tests {
		rest, dir, ok := splitDir(tc.args)
		if ok != tc.wantDir {
			t.Errorf("splitDir(%q) ok = %v, want %v", tc.args, ok, tc.wantDir)
			continue
		}
		if !ok {
			continue
		}
		if dir != tc.dir {
			t.Errorf("splitDir(%q) dir = %q, want %q", tc.args, dir, tc.dir)
		}
		if !slices.Equal(rest, tc.rest) {
			t.Errorf("splitDir(%q) rest = %q, want %q", tc.args, rest, tc.rest)
		}
	}
}
