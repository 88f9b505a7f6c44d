package main

import (
	"fmt"
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

// positionalConfig returns args with a positional FILE rewritten as
// --config FILE, for commands whose only argument is the configuration
// file. It fails when there are several positional arguments, or one
// next to a --config flag.
func positionalConfig(args []string) ([]string, error) {
	flags, rest := splitPositional(args, "config")
	switch {
	case len(rest) == 0:
		return args, nil
	case len(rest) > 1:
		return nil, fmt.Errorf("unexpected arguments %q: name one configuration file", rest)
	case slices.ContainsFunc(flags, isConfigFlag):
		return nil, fmt.Errorf("unexpected argument %q: --config names the configuration file already", rest[0])
	}
	return append(flags, "--config", rest[0]), nil
}

// isConfigFlag reports whether arg is the --config flag, with or without
// its value attached.
func isConfigFlag(arg string) bool {
	name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	return strings.HasPrefix(arg, "-") && name == "config"
}
