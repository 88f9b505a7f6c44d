package workers

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// openAPISchemas decodes the property names of each schema and the
// parameters and responses of the item path of the OpenAPI document.
type openAPISchemas struct {
	Paths map[string]struct {
		Parameters []struct {
			Name string `json:"name"`
		} `json:"parameters"`
		Get struct {
			Responses map[string]any `json:"responses"`
		} `json:"get"`
		Delete struct {
			Responses map[string]any `json:"responses"`
		} `json:"delete"`
	} `json:"paths"`
	Components struct {
		Schemas map[string]struct {
			Properties map[string]any `json:"properties"`
		} `json:"schemas"`
	} `json:"components"`
}

func readOpenAPI(t *testing.T) openAPISchemas {
	t.Helper()
	var doc openAPISchemas
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatalf("decoding push_openapi.json: %v", err)
	}
	return doc
}

func jsonFields(v any) []string {
	var out []string
	rt := reflect.TypeOf(v)
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestOpenAPISchemasMatchTypes(t *testing.T) {
	doc := readOpenAPI(t)
	tests := []struct {
		schema string
		want   []string
	}{
		{"Item", sortedKeys(pushItemFields)},
		{"ItemResult", jsonFields(ItemResult{})},
		{"ItemStatus", jsonFields(ItemStatus{})},
	}
	for _, tt := range tests {
		t.Run(tt.schema, func(t *testing.T) {
			got := sortedKeys(doc.Components.Schemas[tt.schema].Properties)
			if !slices.Equal(got, tt.want) {
				t.Errorf("schema %s has properties %v, want %v", tt.schema, got, tt.want)
			}
		})
	}
}

func TestAPIDocMatchesOpenAPI(t *testing.T) {
	doc := readOpenAPI(t)
	raw, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatalf("reading docs/api.md: %v", err)
	}
	text := string(raw)
	for _, schema := range []string{"Item", "ItemResult"} {
		for name := range doc.Components.Schemas[schema].Properties {
			if !strings.Contains(text, "`"+name+"`") && !strings.Contains(text, `"`+name+`"`) {
				t.Errorf("docs/api.md does not name the %s field %s", schema, name)
			}
		}
	}
	item := doc.Paths["/api/v1/items/{id}"]
	for _, p := range item.Parameters {
		if !strings.Contains(text, "`"+p.Name+"`") && !strings.Contains(text, "{"+p.Name+"}") {
			t.Errorf("docs/api.md does not name the parameter %s", p.Name)
		}
	}
	for _, responses := range []map[string]any{item.Get.Responses, item.Delete.Responses} {
		for status := range responses {
			if !strings.Contains(text, "| "+status+" |") {
				t.Errorf("docs/api.md has no row for status %s", status)
			}
		}
	}
}
