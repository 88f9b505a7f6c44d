package config

import (
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// masked replaces secrets and the user information of URLs.
const masked = "***"

// Masked returns the effective configuration as YAML. The value of every
// secret key is replaced with "***" (empty secrets stay empty, so the output
// still shows which servers are embedded), and the user information of every
// other URL, such as https://user:password@host/, becomes "***".
func (c *Config) Masked() ([]byte, error) {
	var root yaml.Node
	if err := root.Encode(c); err != nil {
		return nil, fmt.Errorf("encoding config: %w", err)
	}
	maskNode(&root, "", fieldTypes())
	out, err := yaml.Marshal(&root)
	if err != nil {
		return nil, fmt.Errorf("encoding config: %w", err)
	}
	return out, nil
}

// maskNode masks the scalars under node, whose key pattern path is pattern,
// and shortens durations ("2160h0m0s" becomes "2160h").
func maskNode(node *yaml.Node, pattern string, types map[string]reflect.Type) {
	switch node.Kind {
	case yaml.DocumentNode:
		for _, child := range node.Content {
			maskNode(child, pattern, types)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(node.Content); i += 2 {
			name := node.Content[i].Value
			maskNode(node.Content[i+1], (keyPath{pattern: pattern}).child(name).pattern, types)
		}
	case yaml.SequenceNode:
		for _, child := range node.Content {
			maskNode(child, pattern+"[]", types)
		}
	case yaml.ScalarNode:
		node.Value = maskScalar(pattern, node.Value, types[pattern])
	}
}

func maskScalar(pattern, value string, t reflect.Type) string {
	if key := keyFor(pattern); key != nil && key.Secret && value != "" {
		return masked
	}
	if t == durationType {
		if d, err := time.ParseDuration(value); err == nil {
			return formatDuration(d)
		}
	}
	if u, err := url.Parse(value); err == nil && u.User != nil && u.Host != "" {
		u.User = nil
		return strings.Replace(u.String(), "//", "//"+masked+"@", 1)
	}
	return value
}

// maskURLs masks the user information and the query values of each URL in a
// comma-separated list, and replaces an element that is not a URL with a
// host entirely. The scheme, host and path stay visible, so an error
// message can still show what is wrong.
func maskURLs(value string) string {
	parts := strings.Split(value, ",")
	for i, part := range parts {
		parts[i] = maskURL(strings.TrimSpace(part))
	}
	return strings.Join(parts, ",")
}

func maskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Host == "" && u.Path == "") || u.Opaque != "" {
		if raw == "" {
			return ""
		}
		return masked
	}
	query := u.Query()
	for name := range query {
		query[name] = []string{masked}
	}
	u.RawQuery = strings.ReplaceAll(query.Encode(), url.QueryEscape(masked), masked)
	u.Fragment = ""
	if u.User == nil {
		return u.String()
	}
	u.User = nil
	return strings.Replace(u.String(), "//", "//"+masked+"@", 1)
}

// fieldTypes maps the pattern path of every leaf field and list to its type.
func fieldTypes() map[string]reflect.Type {
	types := map[string]reflect.Type{}
	walkType(reflect.TypeFor[Config](), "", func(pattern string, field reflect.Type) {
		types[pattern] = field
	})
	return types
}
