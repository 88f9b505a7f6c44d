package main

import (
	"slices"
	"strings"
)

// splitPositional separates the flags of args, with the values of the
// flags named in valued, from the other arguments, so flags may come
// before or after them.
func splitPositional(args []string, valued ...string) (flags, rest []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			rest = append(rest, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if slices.Contains(valued, name) && i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	return flags, rest
}
