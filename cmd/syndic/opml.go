package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/syndic-network/syndic/internal/app"
	"github.com/syndic-network/syndic/workers"
)

const importOPMLUsage = `Usage:
  syndic partners import-opml FILE [--partner ID] [--config FILE]

import-opml reads an OPML subscription list and prints a partners: block for
the configuration. Each top-level group becomes a partner, or every feed goes
to the partner given with --partner. An outline without xmlUrl is resolved
through its htmlUrl page's <link rel="alternate">. Only absolute http:// and
https:// feed URLs are taken: other outlines are skipped and named on stderr,
and a feed URL listed twice becomes one feed. Review the ids before you use
them: item ids depend on partner and feed ids.
`

// importOPML implements `syndic partners import-opml FILE`. It exits 2 on
// a usage error, and 1 when some outline could not be resolved or has a
// URL that is not http(s). The imported feeds are printed in both cases.
func (c *cli) importOPML(ctx context.Context, args []string) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(c.stderr, importOPMLUsage)
		return 2
	}
	var partner string
	cfg, err := c.flags("partners import-opml", args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&partner, "partner", "", "put every feed under this partner id")
	})
	if err != nil {
		c.fail(err)
		return 2
	}
	feeds, err := readOPML(args[0])
	if err != nil {
		return c.fail(err)
	}
	fetcher := workers.NewFetcher(workers.FetcherOptions{
		Timeout:              cfg.Fetch.Timeout,
		MaxBody:              int64(cfg.Fetch.MaxBody),
		AllowPrivateNetworks: cfg.Fetch.AllowPrivateNetworks,
		UserAgent:            "Syndic/" + app.Version,
		MaxRedirects:         cfg.Fetch.MaxRedirects,
	})
	partners, n := c.opmlPartners(ctx, fetcher, feeds, partner)
	out, err := yaml.Marshal(map[string][]importedPartner{"partners": partners})
	if err != nil {
		return c.fail(err)
	}
	fmt.Fprintf(c.stdout, "# Imported from %s: %d feeds, %d unresolved, %d with an invalid URL, %d duplicates.\n",
		args[0], n.imported, n.unresolved, n.invalid, n.duplicates)
	_, _ = c.stdout.Write(out)
	if n.unresolved > 0 || n.invalid > 0 {
		return 1
	}
	return 0
}

// importCounts counts what happened to the outlines of an OPML file.
type importCounts struct {
	imported   int // feeds printed
	unresolved int // page-only outlines whose feed was not found
	invalid    int // outlines with a URL that is not http(s)
	duplicates int // outlines whose feed URL an earlier outline listed
}

func readOPML(path string) ([]workers.OPMLFeed, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening OPML file: %w", err)
	}
	defer f.Close()
	feeds, err := workers.ParseOPML(f)
	if err != nil {
		return nil, fmt.Errorf("reading OPML file %s: %w", path, err)
	}
	return feeds, nil
}

// importedPartner and importedFeed are the YAML shapes of the printed
// partners: block, with only the keys the import fills in.
type importedPartner struct {
	ID    string         `yaml:"id"`
	Name  string         `yaml:"name"`
	Feeds []importedFeed `yaml:"feeds"`
}

type importedFeed struct {
	ID  string `yaml:"id"`
	URL string `yaml:"url"`
}

// opmlPartners groups feeds into partners, resolving page-only outlines
// with feed discovery. Each outline it skips is reported on stderr: one
// that could not be resolved, one whose page or feed URL is not an
// absolute http(s) URL, and one whose feed URL an earlier outline listed.
func (c *cli) opmlPartners(ctx context.Context, fetcher *workers.Fetcher, feeds []workers.OPMLFeed, only string) ([]importedPartner, importCounts) {
	var partners []importedPartner
	var n importCounts
	byName := map[string]int{}
	ids := map[string]bool{}
	firstTitle := map[string]string{} // feed URL key to the title of its first outline
	for _, f := range feeds {
		feedURL, ok := c.resolveOutline(ctx, fetcher, f, &n)
		if !ok {
			continue
		}
		key := feedURLKey(feedURL)
		if first, seen := firstTitle[key]; seen {
			fmt.Fprintf(c.stderr, "syndic: skipping %q: feed URL %s is already imported from %q\n", f.Title, feedURL, first)
			n.duplicates++
			continue
		}
		firstTitle[key] = f.Title
		name := only
		if name == "" {
			name = firstNonEmpty(f.Group, f.Title, hostName(feedURL))
		}
		i, ok := byName[name]
		if !ok {
			id := uniqueID(slugID(name), func(s string) bool { return ids[s] })
			ids[id] = true
			i = len(partners)
			byName[name] = i
			partners = append(partners, importedPartner{ID: id, Name: name})
		}
		p := &partners[i]
		feedID := uniqueID(slugID(firstNonEmpty(f.Title, "feed")), func(s string) bool {
			return slices.ContainsFunc(p.Feeds, func(x importedFeed) bool { return x.ID == s })
		})
		p.Feeds = append(p.Feeds, importedFeed{ID: feedID, URL: feedURL})
		n.imported++
	}
	return partners, n
}

// resolveOutline returns the feed URL of an outline: its xmlUrl, or the
// feed that its htmlUrl page links to. It reports false, after writing
// why to stderr and counting the outline in n, when the outline has no
// usable feed URL.
func (c *cli) resolveOutline(ctx context.Context, fetcher *workers.Fetcher, f workers.OPMLFeed, n *importCounts) (string, bool) {
	if f.FeedURL == "" {
		if !isFeedURL(f.HTMLURL) {
			fmt.Fprintf(c.stderr, "syndic: skipping %q: page URL %q is not an absolute http:// or https:// URL\n", f.Title, f.HTMLURL)
			n.invalid++
			return "", false
		}
		found, err := fetcher.Discover(ctx, f.HTMLURL, false)
		if err != nil {
			fmt.Fprintf(c.stderr, "syndic: skipping %q: %v\n", f.Title, err)
			n.unresolved++
			return "", false
		}
		f.FeedURL = found
	}
	if !isFeedURL(f.FeedURL) {
		fmt.Fprintf(c.stderr, "syndic: skipping %q: feed URL %q is not an absolute http:// or https:// URL\n", f.Title, f.FeedURL)
		n.invalid++
		return "", false
	}
	return f.FeedURL, true
}

// isFeedURL reports whether raw is an absolute http or https URL with a
// host, which is the rule check-config applies to partner feed URLs
// (internal/config, feedURL). The file: URLs that check-config also
// accepts are left out, because an OPML list comes from outside, and a
// file: URL in it would read a local file once fetch.allow_file_urls is
// set.
func isFeedURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// feedURLKey returns the form of a feed URL that two outlines of the same
// feed share: url.Parse lowers the scheme, and host names are case
// insensitive, so the host is lowered too.
func feedURLKey(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Host = strings.ToLower(u.Host)
	return u.String()
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func hostName(raw string) string {
	s := strings.TrimPrefix(strings.TrimPrefix(raw, "https://"), "http://")
	host, _, _ := strings.Cut(s, "/")
	return host
}

// maxIDLength is the length limit of partner and feed ids in the
// configuration.
const maxIDLength = 32

// slugID turns a title into an id of a-z, 0-9 and "-", at most
// maxIDLength characters. Accents are stripped ("Kraków" gives "krakow"),
// other letters outside a-z are dropped, and a title left empty gives
// "feed".
func slugID(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(stripAccents(s)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	id := strings.Trim(b.String(), "-")
	if len(id) > maxIDLength {
		id = strings.Trim(id[:maxIDLength], "-")
	}
	if id == "" {
		return "feed"
	}
	return id
}

// letterBases maps letters that Unicode does not decompose into a base
// letter and a mark.
var letterBases = strings.NewReplacer("ł", "l", "Ł", "L", "đ", "d", "Đ", "D", "ø", "o", "Ø", "O", "ß", "ss")

// stripAccents removes combining marks after canonical decomposition.
func stripAccents(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, letterBases.Replace(s))
	if err != nil {
		return s
	}
	return out
}

// uniqueID returns id, or id with a numeric suffix, such that taken
// reports false for it.
func uniqueID(id string, taken func(string) bool) string {
	candidate := id
	for n := 2; taken(candidate); n++ {
		suffix := "-" + strconv.Itoa(n)
		candidate = id[:min(len(id), maxIDLength-len(suffix))] + suffix
	}
	return candidate
}
