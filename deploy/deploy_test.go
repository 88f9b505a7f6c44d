// Package deploy_test checks the deployment files against the binary. Every
// command that the compose file, the Kubernetes manifests, the systemd units
// and the Dockerfile run must be a real syndic subcommand, and the
// configuration they share must pass check-config. The manifests must also
// match the JSON schemas in kubernetes/schemas.
package deploy_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// syndicBin is the binary built once by TestMain.
var syndicBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "syndic-deploy-test")
	if err != nil {
		panic(err)
	}
	syndicBin = filepath.Join(dir, "syndic")
	build := exec.Command("go", "build", "-o", syndicBin, "../cmd/syndic")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic("building syndic: " + err.Error())
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// checkSubcommand fails the test when args (without the program name) do
// not start with a subcommand that the binary accepts.
func checkSubcommand(t *testing.T, where string, args []string) {
	t.Helper()
	if len(args) == 0 {
		t.Errorf("%s: runs syndic without a subcommand", where)
		return
	}
	var stderr bytes.Buffer
	cmd := exec.Command(syndicBin, args[0], "-h")
	cmd.Stderr = &stderr
	cmd.Stdout = io.Discard
	_ = cmd.Run()
	if strings.Contains(stderr.String(), "unknown command") {
		t.Errorf("%s: %q is not a syndic subcommand", where, args[0])
	}
}

// checkConfig runs check-config on a configuration file with a digest
// secret file, as every deployment provides one.
func checkConfig(t *testing.T, where, path string) {
	t.Helper()
	secret := filepath.Join(t.TempDir(), "digests_secret")
	if err := os.WriteFile(secret, []byte(strings.Repeat("ab", 32)), 0o600); err != nil {
		t.Fatalf("writing secret: %v", err)
	}
	cmd := exec.Command(syndicBin, "check-config", "--config", path)
	cmd.Env = append(os.Environ(), "SYNDIC_DIGESTS_SECRET_FILE="+secret)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("%s: check-config rejected %s: %v\n%s", where, path, err, out)
	}
}

func readYAMLDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("opening %s: %v", path, err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var docs []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("parsing %s: %v", path, err)
		}
		docs = append(docs, doc)
	}
}

func stringList(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, s := range list {
		out = append(out, s.(string))
	}
	return out
}

func TestComposeRunsRealSubcommands(t *testing.T) {
	compose := readYAMLDocs(t, "compose/compose.yaml")[0]
	services := compose["services"].(map[string]any)
	syndics := 0
	for name, raw := range services {
		svc := raw.(map[string]any)
		if svc["image"] != "syndic:local" {
			continue
		}
		syndics++
		checkSubcommand(t, "compose service "+name, stringList(svc["command"]))
		test := stringList(svc["healthcheck"].(map[string]any)["test"])
		if len(test) < 3 || test[1] != "/syndic" {
			t.Errorf("compose service %s: health check %q does not run /syndic", name, test)
			continue
		}
		checkSubcommand(t, "compose service "+name+" health check", test[2:])
	}
	if syndics != 5 {
		t.Errorf("compose file runs %d syndic services, want 5 (2 ingest, 2 serve, 1 digest)", syndics)
	}
	checkConfig(t, "compose", "compose/syndic.yaml")
}

func TestComposeHasClusterAndSinks(t *testing.T) {
	services := readYAMLDocs(t, "compose/compose.yaml")[0]["services"].(map[string]any)
	for _, name := range []string{"nats-1", "nats-2", "nats-3", "redis", "mailpit", "proxy"} {
		if _, ok := services[name]; !ok {
			t.Errorf("compose file has no %s service", name)
		}
	}
}

func TestKubernetesRunsRealSubcommands(t *testing.T) {
	var deployments int
	for _, path := range kubernetesFiles(t) {
		for _, doc := range readYAMLDocs(t, path) {
			switch doc["kind"] {
			case "Deployment":
				deployments++
				checkContainers(t, path, doc)
			case "ConfigMap":
				file := filepath.Join(t.TempDir(), "syndic.yaml")
				data := doc["data"].(map[string]any)["syndic.yaml"].(string)
				if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
					t.Fatalf("writing config: %v", err)
				}
				checkConfig(t, path, file)
			}
		}
	}
	if deployments != 3 {
		t.Errorf("manifests hold %d Deployments, want 3 (ingest, serve, digest)", deployments)
	}
}

func checkContainers(t *testing.T, path string, doc map[string]any) {
	t.Helper()
	spec := doc["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
	for _, raw := range spec["containers"].([]any) {
		c := raw.(map[string]any)
		checkSubcommand(t, path+" container "+c["name"].(string), stringList(c["args"]))
	}
}

func kubernetesFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("listing kubernetes manifests: %v (%d files)", err, len(files))
	}
	return files
}

// execLine matches the syndic command lines of a unit file.
var execLine = regexp.MustCompile(`^Exec(?:Start|StartPre|StartPost)=/usr/local/bin/syndic\s+(.*)$`)

func TestSystemdRunsRealSubcommands(t *testing.T) {
	units, err := filepath.Glob("systemd/*.service")
	if err != nil || len(units) != 4 {
		t.Fatalf("listing systemd units: %v (%d units, want 4)", err, len(units))
	}
	for _, unit := range units {
		f, err := os.Open(unit)
		if err != nil {
			t.Fatalf("opening %s: %v", unit, err)
		}
		lines := 0
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if m := execLine.FindStringSubmatch(sc.Text()); m != nil {
				lines++
				checkSubcommand(t, unit, strings.Fields(m[1]))
			}
		}
		f.Close()
		if lines == 0 {
			t.Errorf("%s runs no syndic command", unit)
		}
	}
	checkConfig(t, "systemd", "systemd/syndic.yaml")
}

func TestDockerfileRunsRealSubcommand(t *testing.T) {
	data, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatalf("reading Dockerfile: %v", err)
	}
	var cmd []string
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "CMD "); ok {
			if err := json.Unmarshal([]byte(rest), &cmd); err != nil {
				t.Fatalf("parsing Dockerfile CMD %q: %v", rest, err)
			}
		}
	}
	checkSubcommand(t, "Dockerfile CMD", cmd)
}

// schemaDoc is one object handed to kubernetes/schemas/validate.py.
type schemaDoc struct {
	File   string         `json:"file"`
	Object map[string]any `json:"object"`
}

func validateSchemas(t *testing.T, docs []schemaDoc) (string, error) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		skipOrFail(t, "python3 is missing; install python3-jsonschema")
	}
	if err := exec.Command("python3", "-c", "import jsonschema").Run(); err != nil {
		skipOrFail(t, "python3-jsonschema is missing; install python3-jsonschema")
	}
	input, err := json.Marshal(docs)
	if err != nil {
		t.Fatalf("encoding manifests: %v", err)
	}
	cmd := exec.Command("python3", "kubernetes/schemas/validate.py")
	cmd.Stdin = bytes.NewReader(input)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func skipOrFail(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func TestKubernetesMatchesSchemas(t *testing.T) {
	var docs []schemaDoc
	for _, path := range kubernetesFiles(t) {
		for _, doc := range readYAMLDocs(t, path) {
			docs = append(docs, schemaDoc{File: path, Object: doc})
		}
	}
	if out, err := validateSchemas(t, docs); err != nil {
		t.Errorf("manifests do not match the schemas: %v\n%s", err, out)
	}
}

func TestSchemasRejectBrokenManifest(t *testing.T) {
	docs := []schemaDoc{
		{File: "no-probes.yaml", Object: map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": "broken"},
			"spec": map[string]any{
				"selector": map[string]any{"matchLabels": map[string]any{"app": "x"}},
				"template": map[string]any{
					"metadata": map[string]any{},
					"spec": map[string]any{"containers": []any{
						map[string]any{"name": "x", "image": "x"},
					}},
				},
			},
		}},
		{File: "unknown-kind.yaml", Object: map[string]any{"apiVersion": "v1", "kind": "Pod"}},
	}
	out, err := validateSchemas(t, docs)
	if err == nil {
		t.Fatal("validate.py accepted a Deployment without probes and a kind without a schema")
	}
	for _, want := range []string{"readinessProbe", "'pod' has no schema"} {
		if !strings.Contains(out, want) {
			t.Errorf("validate.py output does not mention %q:\n%s", want, out)
		}
	}
}
