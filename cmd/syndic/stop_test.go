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

// TestRunStoppedDuringStartUp stops `syndic run` before its start-up
// ends, as a Ctrl-C right after launch does. The stop must exit 0 and log
// no warning: the clean-up of the half-opened app gets its own context.
func TestRunStoppedDuringStartUp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "syndic.yaml")
	cfg := fmt.Sprintf(`data_dir: %s
http: {addr: "127.0.0.1:0", admin_addr: "127.0.0.1:0", base_url: "http://127.0.0.1:1"}
push: {enabled: false}
partners:
  - {id: klaster, name: Klaster, language: pl, feeds: [{id: news, url: "http://127.0.0.1:1/feed.xml"}]}
channels:
  - {id: all, title: All}
`, t.TempDir())
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatalf("writing config: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	var out, errOut bytes.Buffer
	code := run(ctx, []string{"run", "--config", path}, nil, &out, &errOut)

	if code != 0 {
		t.Errorf("exit code = %d, want 0\n%s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "syndic stopped during start-up") {
		t.Errorf("log has no line for the stop during start-up:\n%s", errOut.String())
	}
	if strings.Contains(errOut.String(), `"level":"WARN"`) {
		t.Errorf("stop during start-up logged a warning:\n%s", errOut.String())
	}
}
