package config

import (
	"encoding"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// decoder fills a Config from a YAML node tree. It reports unknown keys and
// bad values with their line, reads the _file siblings of secret keys, fills
// the defaults of list elements, and records where each value came from.
type decoder struct {
	// origin names the input in sources, such as "syndic.yaml" or
	// "env SYNDIC_PARTNERS".
	origin string
	// baseDir resolves relative paths of secret files.
	baseDir string
	loader  *loader
}

// extensionPrefix starts the top-level keys that Load ignores. As in
// Compose files, they hold YAML anchors that other keys merge with "<<".
const extensionPrefix = "x-"

func (d *decoder) source(line int) string {
	return d.origin + ":" + strconv.Itoa(line)
}

func (d *decoder) fail(line int, path keyPath, format string, args ...any) {
	d.loader.errs = append(d.loader.errs, &FieldError{
		Source:  d.source(line),
		Key:     path.display,
		Message: fmt.Sprintf(format, args...),
	})
}

func resolveAlias(node *yaml.Node) *yaml.Node {
	for node != nil && node.Kind == yaml.AliasNode {
		node = node.Alias
	}
	return node
}

func isNull(node *yaml.Node) bool {
	return node == nil || (node.Kind == yaml.ScalarNode && node.Tag == "!!null")
}

// decodeStruct decodes a mapping node into v, a struct value, and returns
// the keys it set, including merged ones and secrets read from files.
func (d *decoder) decodeStruct(node *yaml.Node, v reflect.Value, path keyPath) map[string]bool {
	present := map[string]bool{}
	node = resolveAlias(node)
	if isNull(node) {
		return present
	}
	if node.Kind != yaml.MappingNode {
		d.fail(node.Line, path, "expected a mapping of keys, found %s", describeNode(node))
		return present
	}

	// Merge keys go first, so that the keys of this mapping override merged
	// ones wherever they stand.
	for i := 0; i+1 < len(node.Content); i += 2 {
		if node.Content[i].Value == "<<" {
			d.decodeMerge(node.Content[i+1], v, path, present)
		}
	}

	explicit, fromFile := map[string]int{}, map[string]int{}
	for i := 0; i+1 < len(node.Content); i += 2 {
		d.decodePair(node.Content[i], node.Content[i+1], v, path, explicit, fromFile)
	}

	for base, line := range fromFile {
		if _, ok := explicit[base]; ok {
			d.fail(line, path.child(base), "both %s and %s_file are set: keep only one", base, base)
		}
		present[base] = true
	}
	for name := range explicit {
		present[name] = true
	}
	return present
}

// decodePair decodes one key of a mapping into v. It records the line of
// each key it sets in explicit, or in fromFile for a secret read from the
// file named by a _file sibling.
func (d *decoder) decodePair(keyNode, value *yaml.Node, v reflect.Value, path keyPath, explicit, fromFile map[string]int) {
	name := keyNode.Value
	fields := fieldsByName(v.Type())
	index, known := fields[name]
	base, isFileKey := strings.CutSuffix(name, "_file")

	switch {
	case name == "<<":
		// Applied before the other keys.
	case path.pattern == "" && strings.HasPrefix(name, extensionPrefix):
		// Ignored, so that it can hold anchors.
	case known:
		d.decodeField(value, v.Field(index), path.child(name))
		explicit[name] = keyNode.Line
	case isFileKey && d.isSecret(fields, path, base):
		d.decodeSecretFile(value, v.Field(fields[base]), path.child(base))
		fromFile[base] = keyNode.Line
	default:
		d.fail(keyNode.Line, path.child(name), "unknown key%s", suggestKey(name, v.Type(), path))
	}
}

// decodeMerge applies the value of a YAML merge key ("<<: *defaults"), a
// mapping or a list of mappings, to v.
func (d *decoder) decodeMerge(value *yaml.Node, v reflect.Value, path keyPath, present map[string]bool) {
	value = resolveAlias(value)
	merged := []*yaml.Node{value}
	if value.Kind == yaml.SequenceNode {
		merged = value.Content
	}
	for _, m := range merged {
		for name := range d.decodeStruct(m, v, path) {
			present[name] = true
		}
	}
}

func (d *decoder) isSecret(fields map[string]int, path keyPath, base string) bool {
	_, ok := fields[base]
	if !ok {
		return false
	}
	key := keyFor(path.child(base).pattern)
	return key != nil && key.Secret
}

func (d *decoder) decodeField(node *yaml.Node, field reflect.Value, path keyPath) {
	switch {
	case isSection(field.Type()):
		d.decodeStruct(node, field, path)
	case isList(field.Type()):
		d.decodeList(node, field, path)
	default:
		d.decodeLeaf(node, field, path)
	}
}

func (d *decoder) decodeLeaf(node *yaml.Node, field reflect.Value, path keyPath) {
	node = resolveAlias(node)
	if isNull(node) {
		return
	}
	if err := node.Decode(field.Addr().Interface()); err != nil {
		d.fail(node.Line, path, "invalid value %s: use %s", d.displayNode(node, path), typeHint(field.Type()))
		return
	}
	d.loader.sources[path.index] = d.source(node.Line)
}

func (d *decoder) displayNode(node *yaml.Node, path keyPath) string {
	if node.Kind != yaml.ScalarNode {
		return "(" + describeNode(node) + ")"
	}
	return displayValue(path.pattern, node.Value)
}

func (d *decoder) decodeSecretFile(node *yaml.Node, field reflect.Value, path keyPath) {
	node = resolveAlias(node)
	if isNull(node) || node.Kind != yaml.ScalarNode {
		filePath := keyPath{path.pattern + "_file", path.index + "_file", path.display + "_file"}
		d.fail(node.Line, filePath, "missing file path: set it to the path of a file that contains the secret")
		return
	}
	name := node.Value
	if !filepath.IsAbs(name) {
		name = filepath.Join(d.baseDir, name)
	}
	secret, err := readSecretFile(name)
	if err != nil {
		d.loader.errs = append(d.loader.errs, &FieldError{
			Source: d.source(node.Line), Key: path.display + "_file",
			Message: err.Error() + ": make the file readable or remove the key", Err: err,
		})
		return
	}
	field.SetString(secret)
	d.loader.sources[path.index] = d.source(node.Line)
}

// decodeList decodes a sequence node into field, a slice of structs, and
// fills the defaults of the keys that each element leaves out.
func (d *decoder) decodeList(node *yaml.Node, field reflect.Value, path keyPath) {
	node = resolveAlias(node)
	if isNull(node) {
		field.Set(reflect.Zero(field.Type()))
		return
	}
	if node.Kind != yaml.SequenceNode {
		d.fail(node.Line, path, "expected a list, found %s", describeNode(node))
		return
	}
	list := reflect.MakeSlice(field.Type(), len(node.Content), len(node.Content))
	ids := make([]string, len(node.Content))
	for i, item := range node.Content {
		ids[i] = mappingID(item)
	}
	labels := elementLabels(path.pattern, ids)
	for i, item := range node.Content {
		elementPath := path.element(i, labels[i])
		present := d.decodeStruct(item, list.Index(i), elementPath)
		fillElementDefaults(list.Index(i), elementPath, present, i)
	}
	field.Set(list)
	d.loader.sources[path.index] = d.source(node.Line)
}

// mappingID returns the scalar value of the "id" key of a mapping node, or "".
func mappingID(node *yaml.Node) string {
	node = resolveAlias(node)
	if node == nil || node.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		if node.Content[i].Value == "id" && node.Content[i+1].Kind == yaml.ScalarNode {
			return node.Content[i+1].Value
		}
	}
	return ""
}

// fillElementDefaults sets the keys of a list element that its mapping left
// out to their defaults, with "<n>" replaced by the element's 1-based
// position. Keys set explicitly keep their value even when it is zero, so
// the validators can reject it.
func fillElementDefaults(element reflect.Value, path keyPath, present map[string]bool, i int) {
	t := element.Type()
	for j := range t.NumField() {
		name := yamlName(t.Field(j))
		key := keyFor(path.child(name).pattern)
		if name == "" || present[name] || key == nil || key.Default == "" {
			continue
		}
		value := strings.ReplaceAll(key.Default, "<n>", strconv.Itoa(i+1))
		if err := setFromString(element.Field(j), value); err != nil {
			panic(fmt.Sprintf("config: default %q of %s is invalid: %v", key.Default, key.Path, err))
		}
	}
}

func fieldsByName(t reflect.Type) map[string]int {
	fields := map[string]int{}
	for i := range t.NumField() {
		if name := yamlName(t.Field(i)); name != "" {
			fields[name] = i
		}
	}
	return fields
}

func describeNode(node *yaml.Node) string {
	switch node.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return fmt.Sprintf("%q", node.Value)
	}
}

var (
	durationType     = reflect.TypeFor[time.Duration]()
	textUnmarshalerT = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// typeHint describes the syntax of a value of type t, for error messages.
func typeHint(t reflect.Type) string {
	switch {
	case t == durationType:
		return "a duration such as 90s, 15m or 24h"
	case t == reflect.TypeFor[ByteSize]():
		return "a size such as 512KiB or 15MiB"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.Int:
		return "a whole number"
	case t.Kind() == reflect.Slice:
		return "a list of strings, such as [a, b]"
	default:
		return "a string"
	}
}

// setFromString sets field from the text of a default or an environment
// variable.
func setFromString(field reflect.Value, text string) error {
	if field.Addr().Type().Implements(textUnmarshalerT) {
		return field.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(text))
	}
	switch {
	case field.Type() == durationType:
		d, err := time.ParseDuration(text)
		if err != nil {
			return err
		}
		field.SetInt(int64(d))
	case field.Kind() == reflect.String:
		field.SetString(text)
	case field.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(text)
		if err != nil {
			return err
		}
		field.SetBool(b)
	case field.Kind() == reflect.Int:
		n, err := strconv.Atoi(text)
		if err != nil {
			return err
		}
		field.SetInt(int64(n))
	default:
		return fmt.Errorf("unsupported type %s", field.Type())
	}
	return nil
}
