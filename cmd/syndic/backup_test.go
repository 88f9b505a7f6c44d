package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syndic-network/syndic/internal/testenv"
)

// opsConfig writes the configuration of a deployment on natsURL with one
// partner feed at feedURL, and returns its path.
func opsConfig(t *testing.T, natsURL, feedURL string) string {
	t.Helper()
	name := testenv.Name(t)
	path := filepath.Join(t.TempDir(), "syndic.yaml")
	cfg := fmt.Sprintf(`data_dir: %s
nats: {url: %q, stream: %s, subject_prefix: t.%s, kv_prefix: %s}
fetch: {allow_private_networks: true}
push: {enabled: false}
partners:
  - {id: klaster, name: Klaster, language: pl, timezone: Europe/Warsaw,
     feeds: [{id: news, url: %q}]}
channels:
  - {id: all, title: All}
`, t.TempDir(), natsURL, name, strings.ToLower(name), name, feedURL)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatalf("writing config: %v", err)
	}
	return path
}

func runSyndic(t *testing.T, args ...string) (stdout string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, nil, &out, &errOut)
	if code != 0 {
		t.Logf("syndic %s: exit %d\n%s", strings.Join(args, " "), code, errOut.String())
	}
	return out.String(), code
}

func TestBackupRestoreReplayCommands(t *testing.T) {
	feed := newPartnerFeed(t, "1", "2", "3")
	source := opsConfig(t, testenv.NATS(t).URL, feed.srv.URL)
	if _, code := runSyndic(t, "poll", "--once", "--config", source); code != 0 {
		t.Fatalf("poll --once exited %d", code)
	}
	dir := filepath.Join(t.TempDir(), "backup")
	out, code := runSyndic(t, "backup", "--config", source, dir)
	if code != 0 {
		t.Fatalf("backup exited %d", code)
	}
	if !strings.Contains(out, "backed up 3 stream messages") {
		t.Errorf("backup output = %q, want 3 stream messages", out)
	}

	// The restored deployment has the same names on another server.
	target := strings.Replace(readFile(t, source), natsURLOf(t, source), testenv.NATS(t).URL, 1)
	targetPath := filepath.Join(t.TempDir(), "syndic.yaml")
	if err := os.WriteFile(targetPath, []byte(target), 0o600); err != nil {
		t.Fatalf("writing target config: %v", err)
	}
	if _, code := runSyndic(t, "restore", "--config", targetPath, dir); code != 0 {
		t.Fatalf("restore exited %d", code)
	}
	if _, code := runSyndic(t, "restore", "--config", targetPath, dir); code == 0 {
		t.Error("a second restore into the same stream succeeded, want it rejected")
	}

	doc, code := runSyndic(t, "replay", "--config", targetPath, "--since", "24h", "--channel", "all")
	if code != 0 {
		t.Fatalf("replay exited %d", code)
	}
	var feedDoc struct {
		Items []struct {
			Title string `json:"title"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(doc), &feedDoc); err != nil {
		t.Fatalf("decoding replayed channel: %v\n%s", err, doc)
	}
	if len(feedDoc.Items) != 3 {
		t.Errorf("replayed channel has %d items, want 3", len(feedDoc.Items))
	}
}

func TestBackupNeedsDirectory(t *testing.T) {
	if _, code := runSyndic(t, "backup", "--config", "x.yaml"); code != 2 {
		t.Errorf("backup without a directory exited %d, want 2", code)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return string(data)
}

// natsURLOf returns the nats.url written into the config at path.
func natsURLOf(t *testing.T, path string) string {
	t.Helper()
	s := readFile(t, path)
	start := strings.Index(s, `url: "`) + len(`url: "`)
	end := strings.Index(s[start:], `"`)
	return s[start : start+end]
}
