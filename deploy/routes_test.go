package deploy_test

import (
	"bufio"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// publicPaths are sample requests for every public route group, with the
// subcommand whose listener serves them.
var publicPaths = []struct{ path, process string }{
	{"/", "serve"},
	{"/feeds", "serve"},
	{"/feeds/all.rss", "serve"},
	{"/channels/all", "serve"},
	{"/opml", "serve"},
	{"/digests", "serve"},
	{"/digests/weekly/confirm", "serve"},
	{"/api/v1/digests/weekly/subscribers", "serve"},
	{"/api/v1/partners/me/health", "serve"},
	{"/hub", "serve"},
	{"/api/v1/items", "ingest"},
	{"/api/v1/items/n-42", "ingest"},
	{"/api/v1/openapi.json", "ingest"},
	{"/websub/farm/news", "ingest"},
}

// docRoutes reads the path -> process table of docs/deployment.md: each
// backticked path pattern becomes a regular expression mapped to the
// process column. "{x}" stands for one path segment and "…" for any rest.
func docRoutes(t *testing.T) map[*regexp.Regexp]string {
	t.Helper()
	f, err := os.Open("../docs/deployment.md")
	if err != nil {
		t.Fatalf("opening docs/deployment.md: %v", err)
	}
	defer f.Close()
	routes := map[*regexp.Regexp]string{}
	inTable := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "| path | process |" {
			inTable = true
			continue
		}
		if !inTable || strings.HasPrefix(line, "| ---") {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 2 || strings.Contains(cells[0], "admin") {
			continue
		}
		process := strings.TrimSpace(cells[1])
		for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(cells[0], -1) {
			routes[docPattern(m[1])] = process
		}
	}
	if len(routes) == 0 {
		t.Fatal("docs/deployment.md has no path -> process table")
	}
	return routes
}

func docPattern(p string) *regexp.Regexp {
	expr := regexp.QuoteMeta(p)
	expr = regexp.MustCompile(`\\\{[^}]*\\\}`).ReplaceAllString(expr, `[^/]+`)
	expr = strings.ReplaceAll(expr, "…", ".*")
	return regexp.MustCompile("^" + expr + "$")
}

// caddyRoutes reads the path matchers and reverse_proxy upstreams of the
// compose Caddyfile and returns, per matcher, its paths and upstream
// hosts.
func caddyRoutes(t *testing.T) (paths, upstreams map[string][]string) {
	t.Helper()
	data, err := os.ReadFile("compose/Caddyfile")
	if err != nil {
		t.Fatalf("reading Caddyfile: %v", err)
	}
	paths, upstreams = map[string][]string{}, map[string][]string{}
	handle := ""
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		switch {
		case len(fields) > 2 && strings.HasPrefix(fields[0], "@") && fields[1] == "path":
			paths[fields[0]] = fields[2:]
		case len(fields) > 1 && fields[0] == "handle" && strings.HasPrefix(fields[1], "@"):
			handle = fields[1]
		case len(fields) > 1 && fields[0] == "reverse_proxy" && handle != "":
			for _, u := range fields[1:] {
				if u == "{" {
					break
				}
				host, _, _ := strings.Cut(u, ":")
				upstreams[handle] = append(upstreams[handle], host)
			}
		}
	}
	return paths, upstreams
}

// caddyMatches reports whether a Caddy path matcher entry matches path:
// an exact path, or a prefix ending in "*".
func caddyMatches(pattern, path string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(path, prefix)
	}
	return pattern == path
}

// composeCommands returns the subcommand of every syndic compose service.
func composeCommands(t *testing.T) map[string]string {
	t.Helper()
	services := readYAMLDocs(t, "compose/compose.yaml")[0]["services"].(map[string]any)
	out := map[string]string{}
	for name, raw := range services {
		svc := raw.(map[string]any)
		if cmd := stringList(svc["command"]); svc["image"] == "syndic:local" && len(cmd) > 0 {
			out[name] = cmd[0]
		}
	}
	return out
}

func TestDocsTableNamesProcessOfPath(t *testing.T) {
	routes := docRoutes(t)
	for _, p := range publicPaths {
		var got []string
		for re, process := range routes {
			if re.MatchString(p.path) {
				got = append(got, process)
			}
		}
		if len(got) != 1 || got[0] != p.process {
			t.Errorf("docs table: %s is served by %q, want exactly %q", p.path, got, p.process)
		}
	}
}

func TestCaddyfileFollowsDocsTable(t *testing.T) {
	paths, upstreams := caddyRoutes(t)
	commands := composeCommands(t)
	for _, p := range publicPaths {
		var matched []string
		for matcher, patterns := range paths {
			if slices.ContainsFunc(patterns, func(pat string) bool { return caddyMatches(pat, p.path) }) {
				matched = append(matched, matcher)
			}
		}
		if len(matched) != 1 {
			t.Errorf("Caddyfile: %s matches %q, want exactly one matcher", p.path, matched)
			continue
		}
		hosts := upstreams[matched[0]]
		if len(hosts) < 2 {
			t.Errorf("Caddyfile: %s goes to %q, want at least two upstreams", matched[0], hosts)
		}
		for _, host := range hosts {
			if commands[host] != p.process {
				t.Errorf("Caddyfile: %s (%s) goes to %s, which runs %q, want %q",
					p.path, matched[0], host, commands[host], p.process)
			}
		}
	}
}

// TestKubernetesExposesPublicListeners checks that every process that
// serves a public path has an http container port and a Service.
func TestKubernetesExposesPublicListeners(t *testing.T) {
	ports := map[string]bool{}
	services := map[string]bool{}
	for _, path := range kubernetesFiles(t) {
		for _, doc := range readYAMLDocs(t, path) {
			meta, _ := doc["metadata"].(map[string]any)
			labels, _ := meta["labels"].(map[string]any)
			component, _ := labels["app.kubernetes.io/component"].(string)
			switch doc["kind"] {
			case "Deployment":
				if deploymentHasPort(doc, "http") {
					ports[component] = true
				}
			case "Service":
				services[component] = true
			}
		}
	}
	for _, p := range publicPaths {
		if !ports[p.process] {
			t.Errorf("kubernetes: the %s Deployment has no container port named http for %s", p.process, p.path)
		}
		if !services[p.process] {
			t.Errorf("kubernetes: no Service selects %s, which serves %s", p.process, p.path)
		}
	}
}

func deploymentHasPort(doc map[string]any, name string) bool {
	spec := doc["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
	for _, raw := range spec["containers"].([]any) {
		ports, _ := raw.(map[string]any)["ports"].([]any)
		for _, p := range ports {
			if p.(map[string]any)["name"] == name {
				return true
			}
		}
	}
	return false
}
