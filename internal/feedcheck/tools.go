package feedcheck

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// atomSchema is RFC 4287 Appendix B in RELAX NG compact syntax.
//
//go:embed atom.rnc
var atomSchema []byte

// Tool locations. The Python interpreter is Debian's because the apt
// packages python3-feedparser and python3-jsonschema install into it, and
// a python3 found on PATH may be a different installation without them.
const (
	pythonPath = "/usr/bin/python3"
	jingName   = "jing"
)

// toolTimeout bounds each external validator run. jing starts a JVM, which
// takes about a second on a cold cache; 60 s leaves room on a loaded runner.
const toolTimeout = 60 * time.Second

// jsonFeedSchemaPath is the JSON Feed 1.1 schema, relative to the module
// root. The shared reference directory sits next to the repository.
var jsonFeedSchemaPath = filepath.Join("..", "shared", "corpus", "schemas", "jsonfeed-schema-v1.1.json")

// feedparserScript prints the version and entry count that feedparser finds
// and exits with status 2 when feedparser flags the document as bozo (not
// well-formed or otherwise broken).
const feedparserScript = `
import json, sys
import feedparser
d = feedparser.parse(sys.argv[1])
if d.bozo:
    sys.stderr.write("feedparser bozo: %r\n" % (d.bozo_exception,))
    sys.exit(2)
print(json.dumps({"version": d.version, "entries": len(d.entries)}))
`

// missingTool skips t with an install hint, or fails it when CI=true
// because CI must run every check.
func missingTool(t testing.TB, tool, hint string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing and CI=true: %s", tool, hint)
	}
	t.Skipf("%s is missing: %s", tool, hint)
}

// requirePython skips or fails t unless /usr/bin/python3 can import module.
func requirePython(t testing.TB, module, pkg string) {
	t.Helper()
	hint := "run apt-get install " + pkg
	if _, err := os.Stat(pythonPath); err != nil {
		missingTool(t, pythonPath, hint)
	}
	out, err := exec.Command(pythonPath, "-c", "import "+module).CombinedOutput()
	if err != nil {
		missingTool(t, "python module "+module, hint+" ("+string(bytes.TrimSpace(out))+")")
	}
}

// writeTemp writes data to a file named name in a fresh directory.
func writeTemp(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatalf("writing %s: %v", path, err)
	}
	return path
}

// run executes a validator and returns its combined output and error.
func run(t testing.TB, name string, args ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), toolTimeout)
	defer cancel()
	return exec.CommandContext(ctx, name, args...).CombinedOutput()
}

func runFeedparser(t testing.TB, doc []byte, wantVersion string, wantEntries int) {
	t.Helper()
	requirePython(t, "feedparser", "python3-feedparser")
	path := writeTemp(t, "feed.xml", doc)
	out, err := run(t, pythonPath, "-c", feedparserScript, path)
	if err != nil {
		t.Fatalf("feedparser rejected the document: %v\n%s", err, out)
	}
	var got struct {
		Version string `json:"version"`
		Entries int    `json:"entries"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("decoding feedparser output %q: %v", out, err)
	}
	if got.Version != wantVersion {
		t.Errorf("feedparser version = %q, want %q", got.Version, wantVersion)
	}
	if got.Entries != wantEntries {
		t.Errorf("feedparser found %d entries, encoding/xml found %d", got.Entries, wantEntries)
	}
}

func runJing(t testing.TB, doc []byte) {
	t.Helper()
	jing, err := exec.LookPath(jingName)
	if err != nil {
		missingTool(t, "jing", "run apt-get install jing")
	}
	schema := writeTemp(t, "atom.rnc", atomSchema)
	path := writeTemp(t, "feed.atom", doc)
	if out, err := run(t, jing, "-c", schema, path); err != nil {
		t.Errorf("jing rejected the document against the RFC 4287 schema: %v\n%s", err, out)
	}
}

func runJSONSchema(t testing.TB, doc []byte) {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatalf("locating module root: %v", err)
	}
	schema := filepath.Join(root, jsonFeedSchemaPath)
	if !fileExists(schema) {
		if os.Getenv("CI") == "true" {
			t.Errorf("JSON Feed schema %s is absent: CI must run beside the shared corpus", schema)
			return
		}
		t.Logf("skipping the JSON Feed schema check: %s is absent", schema)
		return
	}
	requirePython(t, "jsonschema", "python3-jsonschema")
	path := writeTemp(t, "feed.json", doc)
	if out, err := run(t, pythonPath, "-m", "jsonschema", "-i", path, schema); err != nil {
		t.Errorf("jsonschema rejected the document against the JSON Feed 1.1 schema: %v\n%s", err, out)
	}
}

// moduleRoot returns the nearest directory at or above the working
// directory that contains go.mod. Tests run in their package directory, so
// this is the root of the module under test.
func moduleRoot() (string, error) {
	start, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("reading working directory: %w", err)
	}
	dir := start
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("finding go.mod above %s: %w", start, os.ErrNotExist)
		}
		dir = parent
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
