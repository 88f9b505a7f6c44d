package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// keyPath is the path of one field in three spellings.
type keyPath struct {
	// pattern is the path of the field's row in Keys: "partners[].feeds[].url".
	pattern string
	// index names list elements by position: "partners[0].feeds[0].url".
	index string
	// display names list elements as operators see them in errors:
	// "partners[wipk].feeds[0].url".
	display string
}

func (p keyPath) child(name string) keyPath {
	if p.pattern == "" {
		return keyPath{name, name, name}
	}
	return keyPath{p.pattern + "." + name, p.index + "." + name, p.display + "." + name}
}

// element returns the path of element i of the list at p, shown as label.
func (p keyPath) element(i int, label string) keyPath {
	return keyPath{p.pattern + "[]", p.index + "[" + strconv.Itoa(i) + "]", p.display + "[" + label + "]"}
}

// listsNamedByID lists the lists whose elements errors name by id. Feed ids
// are optional and default to the position, so feeds are named by position.
var listsNamedByID = map[string]bool{"partners": true, "channels": true, "digests": true}

// elementLabels returns how errors name the elements of the list at
// pattern, given their ids: by id when the list is named by id and the id is
// set and unique, else by position.
func elementLabels(pattern string, ids []string) []string {
	count := map[string]int{}
	for _, id := range ids {
		count[id]++
	}
	labels := make([]string, len(ids))
	for i, id := range ids {
		labels[i] = strconv.Itoa(i)
		if listsNamedByID[pattern] && id != "" && count[id] == 1 {
			labels[i] = id
		}
	}
	return labels
}

var keysByPath = sync.OnceValue(func() map[string]*Key {
	m := make(map[string]*Key, len(Keys))
	for i := range Keys {
		m[Keys[i].Path] = &Keys[i]
	}
	return m
})

// keyFor returns the row of Keys with the given pattern path, or nil.
func keyFor(pattern string) *Key {
	return keysByPath()[pattern]
}

// yamlName returns the YAML key of a struct field, or "" when it has none.
func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" || !f.IsExported() {
		return ""
	}
	return name
}

// isSection reports whether a field of type t groups other keys. No leaf
// type of Config is a struct.
func isSection(t reflect.Type) bool { return t.Kind() == reflect.Struct }

// isList reports whether a field of type t is a list of elements with keys
// of their own, such as partners.
func isList(t reflect.Type) bool {
	return t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct
}

// fieldRef is one field of a Config value, as found by walkValue.
type fieldRef struct {
	key   *Key
	path  keyPath
	value reflect.Value
}

// walkValue calls fn for every leaf field and every list of v, a struct
// value, depth first in field order. Lists come before their elements.
func walkValue(v reflect.Value, parent keyPath, fn func(fieldRef)) {
	t := v.Type()
	for i := range t.NumField() {
		name := yamlName(t.Field(i))
		if name == "" {
			continue
		}
		path := parent.child(name)
		field := v.Field(i)
		switch {
		case isSection(field.Type()):
			walkValue(field, path, fn)
		case isList(field.Type()):
			fn(fieldRef{keyFor(path.pattern), path, field})
			labels := elementLabels(path.pattern, listIDs(field))
			for j := range field.Len() {
				walkValue(field.Index(j), path.element(j, labels[j]), fn)
			}
		default:
			fn(fieldRef{keyFor(path.pattern), path, field})
		}
	}
}

// listIDs returns the ID field of each element of list, or "" for
// elements without one.
func listIDs(list reflect.Value) []string {
	ids := make([]string, list.Len())
	for i := range ids {
		id := list.Index(i).FieldByName("ID")
		if id.IsValid() && id.Kind() == reflect.String {
			ids[i] = id.String()
		}
	}
	return ids
}

// walkType calls fn with the pattern path and the type of every leaf field
// and every list in t, a struct type, in the order of walkValue.
func walkType(t reflect.Type, parent string, fn func(pattern string, field reflect.Type)) {
	for i := range t.NumField() {
		name := yamlName(t.Field(i))
		if name == "" {
			continue
		}
		path := (keyPath{pattern: parent}).child(name).pattern
		field := t.Field(i).Type
		switch {
		case isSection(field):
			walkType(field, path, fn)
		case isList(field):
			fn(path, field)
			walkType(field.Elem(), path+"[]", fn)
		default:
			fn(path, field)
		}
	}
}

// applyDefaults sets every field outside list elements to its default.
// List elements get theirs from fillElementDefaults as they are decoded.
func applyDefaults(c *Config) {
	root := reflect.ValueOf(c).Elem()
	for _, key := range Keys {
		if key.Default == "" || strings.Contains(key.Path, "[]") {
			continue
		}
		if err := setFromString(fieldByPattern(root, key.Path), key.Default); err != nil {
			panic(fmt.Sprintf("config: default %q of %s is invalid: %v", key.Default, key.Path, err))
		}
	}
}
