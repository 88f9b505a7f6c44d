package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestKeysMatchConfigFields(t *testing.T) {
	var fields []string
	walkType(reflect.TypeFor[Config](), "", func(pattern string, _ reflect.Type) {
		fields = append(fields, pattern)
	})
	var rows []string
	for _, key := range Keys {
		rows = append(rows, key.Path)
	}
	for _, f := range fields {
		if !slices.Contains(rows, f) {
			t.Errorf("field %s has no row in Keys", f)
		}
	}
	for _, r := range rows {
		if !slices.Contains(fields, r) {
			t.Errorf("row %s of Keys matches no field of Config", r)
		}
	}
	if !slices.Equal(fields, rows) {
		t.Errorf("Keys order differs from Config field order:\nfields %v\nrows   %v", fields, rows)
	}
}

func TestKeysEnvNames(t *testing.T) {
	for _, key := range Keys {
		want := ""
		if !strings.Contains(key.Path, "[]") {
			want = "SYNDIC_" + strings.ToUpper(strings.ReplaceAll(key.Path, ".", "_"))
		}
		if key.Env != want {
			t.Errorf("%s: Env = %q, want %q", key.Path, key.Env, want)
		}
	}
}

func TestKeysHaveDocs(t *testing.T) {
	for _, key := range Keys {
		if strings.TrimSpace(key.Doc) == "" {
			t.Errorf("%s has no Doc", key.Path)
		}
		if key.Secret && key.Env == "" {
			t.Errorf("%s is secret but has no Env for its _FILE variable", key.Path)
		}
	}
}

// TestKeysDefaultsAreValid also checks that list-element defaults apply,
// because the defaults of Partner, PartnerFeed and Channel fields are set by
// Load only.
func TestKeysDefaultsAreValid(t *testing.T) {
	cfg := mustLoad(t, writeConfig(t, `
partners:
  - {id: a, name: A, language: en, feeds: [{url: "https://a.example.org/rss"}]}
channels:
  - {id: all, title: All}
`))
	walkValue(reflect.ValueOf(cfg).Elem(), keyPath{}, func(f fieldRef) {
		if f.key.Default == "" {
			return
		}
		want := strings.ReplaceAll(f.key.Default, "<n>", "1")
		if got := formatValue(f.path.pattern, f.value); strings.Trim(got, `"`) != want {
			t.Errorf("%s = %s, want the default %s", f.path.display, got, want)
		}
	})
}

func TestMarkdownMatchesDocs(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "configuration.md")
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	if string(got) != Markdown() {
		t.Errorf("%s is out of date: run go run ./internal/config/gendoc > docs/configuration.md", path)
	}
}

func TestMarkdownListsEveryKey(t *testing.T) {
	doc := Markdown()
	for _, key := range Keys {
		assertContains(t, doc, "| `"+key.Path+"` |")
		if key.Secret {
			assertContains(t, doc, "`"+key.Env+"_FILE`")
		}
	}
}

func TestKeysPathsAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Keys {
		if seen[k.Path] {
			t.Errorf("key %s has more than one row in Keys", k.Path)
		}
		seen[k.Path] = true
	}
}
