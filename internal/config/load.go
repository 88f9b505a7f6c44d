package config

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// EnvConfig is the variable that commands read the config file path from.
// Load itself never reads it, but accepts it in environ.
const EnvConfig = "SYNDIC_CONFIG"

// envTestPrefix starts the variables of the test helpers (such as
// SYNDIC_TEST_REDIS_URL), which Load accepts and ignores.
const envTestPrefix = "SYNDIC_TEST_"

// loader collects the problems and the value sources of one Load call.
type loader struct {
	errs []error
	// sources maps the index path of a field ("partners[0].feeds[0].url")
	// to where its value came from.
	sources map[string]string
}

// Load builds the configuration from the defaults in Keys, then the YAML file
// at path, then the variables in environ ("NAME=value" strings, as
// os.Environ returns them), and validates the result. An empty path skips
// the file. Relative file: feed URLs are resolved against the directory of
// the file, or against the working directory when path is empty.
//
// A file that cannot be read returns the read error. Every other problem
// (YAML syntax, unknown keys or variables, bad values, failed cross-checks)
// returns an error wrapping ErrInvalidConfig that joins one *FieldError per
// problem, so one run reports them all.
func Load(path string, environ []string) (*Config, error) {
	baseDir, err := baseDirectory(path)
	if err != nil {
		return nil, err
	}
	cfg := Default()
	l := &loader{sources: map[string]string{}}
	if path != "" {
		if err := l.decodeFile(cfg, path, baseDir); err != nil {
			return nil, err
		}
	}
	l.applyEnv(cfg, parseEnviron(environ), baseDir)
	resolveFileURLs(cfg, baseDir)
	l.errs = append(l.errs, validate(cfg, l.sources)...)
	sortProblems(l.errs)
	if err := joinProblems(l.errs); err != nil {
		return nil, err
	}
	return cfg, nil
}

func baseDirectory(path string) (string, error) {
	dir := "."
	if path != "" {
		dir = filepath.Dir(path)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("resolving config directory %q: %w", dir, err)
	}
	return abs, nil
}

// joinProblems returns nil for no problems, or one error that lists them a
// line each.
func joinProblems(errs []error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("%w (1 error):\n%w", ErrInvalidConfig, errs[0])
	default:
		return fmt.Errorf("%w (%d errors):\n%w", ErrInvalidConfig, len(errs), errors.Join(errs...))
	}
}

// sortProblems orders problems as an operator fixes them: by line of the
// file, then by variable, then the rest, keeping the order of equal ones.
func sortProblems(errs []error) {
	slices.SortStableFunc(errs, func(a, b error) int {
		return cmp.Compare(problemRank(a), problemRank(b))
	})
}

// problemRank returns the line of a problem found in the file, or a rank
// above every line for problems from variables and from other sources.
func problemRank(err error) int {
	const (
		envRank   = math.MaxInt - 1
		otherRank = math.MaxInt
	)
	var problem *FieldError
	if !errors.As(err, &problem) {
		return otherRank
	}
	if strings.HasPrefix(problem.Source, "env ") {
		return envRank
	}
	_, line, ok := cutLast(problem.Source, ":")
	n, err := strconv.Atoi(line)
	if !ok || err != nil {
		return otherRank
	}
	return n
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// decodeFile decodes the YAML file at path into cfg. It returns an error
// only when the file cannot be read or parsed, and collects the problems of
// single keys in l.errs.
func (l *loader) decodeFile(cfg *Config, path, baseDir string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading config: %w", err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return fmt.Errorf("%w: parsing %s: %w%s", ErrInvalidConfig, path, err, tabHint(data, err))
	}
	if len(root.Content) == 0 {
		return nil
	}
	d := &decoder{origin: path, baseDir: baseDir, loader: l}
	d.decodeStruct(root.Content[0], reflect.ValueOf(cfg).Elem(), keyPath{})
	return nil
}

// yamlErrorLine matches the line number in a YAML syntax error, such as
// "yaml: line 3: found character that cannot start any token".
var yamlErrorLine = regexp.MustCompile(`^yaml: line (\d+):`)

// tabHint returns a hint for a YAML syntax error on a line of data that
// contains a tab, or "". The parser's message for a tab used to indent
// ("found character that cannot start any token") does not name it.
func tabHint(data []byte, err error) string {
	m := yamlErrorLine.FindStringSubmatch(err.Error())
	if m == nil {
		return ""
	}
	n, convErr := strconv.Atoi(m[1])
	if convErr != nil {
		return ""
	}
	lines := strings.Split(string(data), "\n")
	// The parser names the line of the tab, or for "found a tab character
	// that violates indentation" the line before it.
	for _, at := range []int{n, n + 1} {
		if at >= 1 && at <= len(lines) && strings.Contains(lines[at-1], "\t") {
			return fmt.Sprintf(" (line %d contains a tab: YAML does not allow tabs for indentation, so indent with spaces)", at)
		}
	}
	return ""
}

// parseEnviron turns "NAME=value" strings into a map. A later entry wins,
// as it does for os/exec.
func parseEnviron(environ []string) map[string]string {
	env := make(map[string]string, len(environ))
	for _, entry := range environ {
		name, value, ok := strings.Cut(entry, "=")
		if ok {
			env[name] = value
		}
	}
	return env
}

// applyEnv overrides the keys that have a variable in env.
func (l *loader) applyEnv(cfg *Config, env map[string]string, baseDir string) {
	root := reflect.ValueOf(cfg).Elem()
	for i := range Keys {
		key := &Keys[i]
		if key.Env == "" {
			continue
		}
		text, origin, ok := l.lookupEnv(key, env)
		if !ok {
			continue
		}
		field := fieldByPattern(root, key.Path)
		if isList(field.Type()) {
			l.decodeEnvList(field, key, text, baseDir)
			continue
		}
		if err := setFromString(field, text); err != nil {
			l.errs = append(l.errs, &FieldError{
				Source:  origin,
				Key:     key.Path,
				Message: fmt.Sprintf("invalid value %s: use %s", displayValue(key.Path, text), typeHint(field.Type())),
			})
			continue
		}
		l.sources[key.Path] = origin
	}
	l.checkUnknownEnv(env)
}

// lookupEnv returns the value of the key's variable, or the contents of the
// file named by <Env>_FILE for a secret key, and the source of the value.
func (l *loader) lookupEnv(key *Key, env map[string]string) (string, string, bool) {
	value, hasValue := env[key.Env]
	file, hasFile := env[key.Env+"_FILE"]
	if !key.Secret || !hasFile {
		return value, "env " + key.Env, hasValue
	}
	origin := "env " + key.Env + "_FILE"
	if hasValue {
		l.errs = append(l.errs, &FieldError{
			Source: origin, Key: key.Path,
			Message: fmt.Sprintf("both %s and %s_FILE are set: keep only one", key.Env, key.Env),
		})
		return "", "", false
	}
	secret, err := readSecretFile(file)
	if err != nil {
		l.errs = append(l.errs, &FieldError{
			Source: origin, Key: key.Path,
			Message: err.Error() + ": make the file readable or unset the variable", Err: err,
		})
		return "", "", false
	}
	return secret, origin, true
}

// decodeEnvList replaces a list with the YAML or JSON list in text.
func (l *loader) decodeEnvList(field reflect.Value, key *Key, text, baseDir string) {
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(text), &root); err != nil {
		l.errs = append(l.errs, &FieldError{
			Source: "env " + key.Env, Key: key.Path,
			Message: fmt.Sprintf("parsing the value as YAML or JSON: %v: write a list such as [{id: a, ...}]", err),
			Err:     err,
		})
		return
	}
	d := &decoder{origin: "env " + key.Env, baseDir: baseDir, loader: l}
	var node *yaml.Node
	if len(root.Content) > 0 {
		node = root.Content[0]
	}
	d.decodeList(node, field, keyPath{key.Path, key.Path, key.Path})
}

// checkUnknownEnv reports SYNDIC_ variables that match no key, because a
// misspelt variable would otherwise be ignored without a trace.
func (l *loader) checkUnknownEnv(env map[string]string) {
	known := map[string]bool{EnvConfig: true}
	var names []string
	for _, key := range Keys {
		if key.Env == "" {
			continue
		}
		known[key.Env] = true
		names = append(names, key.Env)
		if key.Secret {
			known[key.Env+"_FILE"] = true
		}
	}
	var unknown []string
	for name := range env {
		if strings.HasPrefix(name, "SYNDIC_") && !known[name] && !strings.HasPrefix(name, envTestPrefix) {
			unknown = append(unknown, name)
		}
	}
	slices.Sort(unknown)
	for _, name := range unknown {
		l.errs = append(l.errs, &FieldError{
			Source:  "env " + name,
			Message: "unknown variable " + suggest(name, names, "unset it or use a variable listed in docs/configuration.md"),
		})
	}
}

// fieldByPattern returns the field of root at a path without list elements,
// such as "fetch.max_body" or "partners".
func fieldByPattern(root reflect.Value, pattern string) reflect.Value {
	v := root
	for name := range strings.SplitSeq(pattern, ".") {
		v = v.Field(fieldsByName(v.Type())[name])
	}
	return v
}

func readSecretFile(name string) (string, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("reading secret file: %w", err)
	}
	return strings.TrimRight(string(data), "\r\n"), nil
}

// resolveFileURLs rewrites every file: feed URL without a host into the
// form file:///abs/path. A relative path, written file:feeds/news.xml, is
// resolved against baseDir. URLs with a host are left for the validators.
func resolveFileURLs(cfg *Config, baseDir string) {
	for i := range cfg.Partners {
		for j := range cfg.Partners[i].Feeds {
			feed := &cfg.Partners[i].Feeds[j]
			feed.URL = resolveFileURL(feed.URL, baseDir)
		}
	}
}

func resolveFileURL(raw, baseDir string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "file" || u.Host != "" {
		return raw
	}
	path := u.Path
	if u.Opaque != "" {
		unescaped, err := url.PathUnescape(u.Opaque)
		if err != nil {
			return raw
		}
		path = filepath.Join(baseDir, filepath.FromSlash(unescaped))
	}
	if path == "" {
		return raw
	}
	resolved := url.URL{Scheme: "file", Path: filepath.ToSlash(path)}
	return "file://" + resolved.EscapedPath()
}
