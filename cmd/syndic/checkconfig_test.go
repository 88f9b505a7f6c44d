package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckConfigWarnsPrivateFeedHosts(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "syndic.yaml")
	cfg := fmt.Sprintf(`data_dir: %s
partners:
  - id: wipk
    name: WIPK
    language: pl
    feeds:
      - {id: loopback, url: "http://127.0.0.1:8000/rss"}
      - {id: local, url: "http://localhost:8000/rss"}
      - {id: intranet, url: "http://10.1.2.3/rss", allow_private_network: true}
      - {id: metadata, url: "http://169.254.169.254/rss", allow_private_network: true}
      - {id: public, url: "https://news.example.org/rss"}
      - {id: private, url: "http://192.168.1.20/rss"}
channels:
  - {id: all, title: All}
`, filepath.Join(dir, "data"))
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatalf("writing config: %v", err)
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"check-config", "--config", path}, nil, &out, &errOut); code != 0 {
		t.Fatalf("check-config exited %d, want 0 (warnings only); stderr:\n%s", code, errOut.String())
	}
	warnings := map[string]string{}
	for line := range strings.SplitSeq(errOut.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, "syndic check-config: warning: "); ok {
			key, _, _ := strings.Cut(rest, ":")
			warnings[key] = rest
		}
	}
	tests := []struct {
		name, key, want string
	}{
		{"loopback address", "partners[wipk].feeds[0].url", "allow_private_network: true"},
		{"localhost", "partners[wipk].feeds[1].url", "allow_private_network: true"},
		{"metadata address even when allowed", "partners[wipk].feeds[3].url", "which no setting allows"},
		{"private address", "partners[wipk].feeds[5].url", "192.168.1.20"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(warnings[tc.key], tc.want) {
				t.Errorf("warning for %s = %q, want it to contain %q", tc.key, warnings[tc.key], tc.want)
			}
		})
	}
	if len(warnings) != len(tests) {
		t.Errorf("got %d warnings, want %d (none for an allowed private address or a public host):\n%s",
			len(warnings), len(tests), errOut.String())
	}
}

func TestPrivateHostProblemWhenAllowed(t *testing.T) {
	if got := privateHostProblem("http://127.0.0.1:8000/rss", true); got != "" {
		t.Errorf("loopback with private networks allowed: warning %q, want none", got)
	}
	if got := privateHostProblem("file:///srv/feeds/a.xml", false); got != "" {
		t.Errorf("file URL: warning %q, want none", got)
	}
}
