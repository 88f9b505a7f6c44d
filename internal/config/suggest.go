package config

import (
	"reflect"
	"strings"
)

// closest returns the candidate closest to name when it is close enough to
// be a typo of it.
func closest(name string, candidates []string) (string, bool) {
	best, bestDistance := "", 0
	for _, candidate := range candidates {
		d := editDistance(strings.ToLower(name), strings.ToLower(candidate))
		if best == "" || d < bestDistance {
			best, bestDistance = candidate, d
		}
	}
	// Two edits cover a swapped pair of letters or a missing underscore
	// and letter, and a third edit starts to match unrelated keys.
	return best, best != "" && bestDistance <= 2
}

// suggest returns "(did you mean X?)" for the candidate closest to name, or
// "(" + fallback + ")" when no candidate is close.
func suggest(name string, candidates []string, fallback string) string {
	if best, ok := closest(name, candidates); ok {
		return "(did you mean " + best + "?)"
	}
	return "(" + fallback + ")"
}

// suggestKey returns the hint for an unknown key of the struct type t at
// path: the closest key, or the list of valid keys.
func suggestKey(name string, t reflect.Type, path keyPath) string {
	var names []string
	for i := range t.NumField() {
		if n := yamlName(t.Field(i)); n != "" {
			names = append(names, n)
		}
	}
	if best, ok := closest(name, names); ok {
		return " (did you mean " + path.child(best).display + "?)"
	}
	where := "at the top level"
	if path.display != "" {
		where = "in " + path.display
	}
	return " (valid keys " + where + ": " + strings.Join(names, ", ") + ")"
}

// editDistance returns the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	previous := make([]int, len(b)+1)
	current := make([]int, len(b)+1)
	for j := range previous {
		previous[j] = j
	}
	for i := 1; i <= len(a); i++ {
		current[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			current[j] = min(previous[j]+1, current[j-1]+1, previous[j-1]+cost)
		}
		previous, current = current, previous
	}
	return previous[len(b)]
}
