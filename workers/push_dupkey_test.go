package workers

import "testing"

func TestDuplicateKey(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"repeated top-level key", `{"id":"a","id":"b"}`, "id"},
		{"repeated key in a batch item", `{"items":[{"id":"a","title":"x","title":"y"}]}`, "title"},
		{"same key in sibling objects", `[{"id":"a"},{"id":"b"}]`, ""},
		{"key equal to a string value", `{"id":"title","title":"id"}`, ""},
		{"nested object then key", `{"author":{"name":"a"},"name":"b"}`, ""},
		{"repeat after a nested array", `{"tags":["a","b"],"tags":[]}`, "tags"},
		{"invalid json is left to the decoder", `{"id":`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := duplicateKey([]byte(tt.body)); got != tt.want {
				t.Errorf("duplicateKey(%s) = %q, want %q", tt.body, got, tt.want)
			}
		})
	}
}
