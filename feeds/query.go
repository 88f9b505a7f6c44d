package feeds

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Bounds on an ad-hoc query. They keep one request's matching work small and
// the normalised query, which is part of the render cache key, short.
const (
	// maxQueryValues is the number of values one parameter may carry, such
	// as partners in "partner=a,b,c". No channel needs more in one request.
	maxQueryValues = 20
	// maxQueryTerms is the number of words in q. Every word must match, so
	// more words would only narrow a feed further.
	maxQueryTerms = 10
	// maxQueryValueBytes caps one category or the whole of q.
	maxQueryValueBytes = 200
)

// partnerIDPattern is the form of partner ids that the configuration
// accepts, so a query naming anything else cannot match.
var partnerIDPattern = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)

// feedQuery is an ad-hoc filter on one channel, parsed from the query
// string of a feed request:
//
//	?lang=pl&partner=wipk&category=export&q=word&limit=50
//
// lang and partner take comma-separated lists, and every parameter except
// limit may repeat. Values of one parameter combine with "or", parameters
// with "and", and every word of q must appear. Unknown parameters are
// ignored, as feed readers and widgets add cache busters of their own.
type feedQuery struct {
	filter Filter
	// limit caps the entries; 0 keeps the channel's own cap.
	limit int
	// key is the normalised query string: recognised parameters only, in
	// a fixed order, values sorted, folded and without duplicates. It is
	// empty when the query selects the whole channel.
	key string
}

// parseFeedQuery validates the recognised parameters of values. maxItems is
// the channel's cap: a larger limit is lowered to it. The returned map
// names each invalid parameter with the fix, and is nil when all are valid.
func parseFeedQuery(values url.Values, maxItems int) (feedQuery, map[string]string) {
	var q feedQuery
	problems := map[string]string{}
	norm := url.Values{}

	if langs, fix := parseLanguages(values["lang"]); fix != "" {
		problems["lang"] = fix
	} else if len(langs) > 0 {
		q.filter.Languages = langs
		norm["lang"] = langs
	}
	if partners, fix := parsePartners(values["partner"]); fix != "" {
		problems["partner"] = fix
	} else if len(partners) > 0 {
		q.filter.Partners = partners
		norm["partner"] = partners
	}
	if cats, fix := parseCategories(values["category"]); fix != "" {
		problems["category"] = fix
	} else if len(cats) > 0 {
		q.filter.Categories = cats
		norm["category"] = cats
	}
	if terms, fix := parseTerms(values["q"]); fix != "" {
		problems["q"] = fix
	} else if len(terms) > 0 {
		q.filter.Terms = terms
		norm["q"] = []string{strings.Join(terms, " ")}
	}
	if limit, fix := parseLimit(values["limit"], maxItems); fix != "" {
		problems["limit"] = fix
	} else if limit > 0 {
		q.limit = limit
		norm["limit"] = []string{strconv.Itoa(limit)}
	}
	if len(problems) > 0 {
		return feedQuery{}, problems
	}
	// url.Values.Encode sorts by key, and each list above is sorted.
	q.key = norm.Encode()
	return q, nil
}

// splitValues splits every value at commas and trims the parts. An empty
// part is kept so the caller can reject "lang=pl,,en".
func splitValues(values []string) []string {
	var out []string
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			out = append(out, strings.TrimSpace(part))
		}
	}
	return out
}

// sortedUnique sorts list and removes repeated values.
func sortedUnique(list []string) []string {
	slices.Sort(list)
	return slices.Compact(list)
}

func parseLanguages(values []string) ([]string, string) {
	const fix = "use BCP 47 language tags such as pl or en-GB, separated by commas"
	parts := splitValues(values)
	if len(parts) > maxQueryValues {
		return nil, fmt.Sprintf("use at most %d languages", maxQueryValues)
	}
	for i, p := range parts {
		if languageTag(p) != p || p == "" {
			return nil, fix
		}
		// ISO 639 codes have two or three letters, so "english" is a
		// mistake, not a language that no item happens to have.
		if primary, _, _ := strings.Cut(p, "-"); len(primary) < 2 || len(primary) > 3 {
			return nil, fix
		}
		parts[i] = strings.ToLower(p)
	}
	return sortedUnique(parts), ""
}

func parsePartners(values []string) ([]string, string) {
	parts := splitValues(values)
	if len(parts) > maxQueryValues {
		return nil, fmt.Sprintf("use at most %d partner ids", maxQueryValues)
	}
	for _, p := range parts {
		if !partnerIDPattern.MatchString(p) {
			return nil, "use partner ids of 1 to 32 characters from a-z, 0-9 and '-', separated by commas"
		}
	}
	return sortedUnique(parts), ""
}

// parseCategories accepts one category per value, because category names
// may contain commas.
func parseCategories(values []string) ([]string, string) {
	if len(values) > maxQueryValues {
		return nil, fmt.Sprintf("use at most %d categories", maxQueryValues)
	}
	out := make([]string, 0, len(values))
	for _, v := range values {
		v = strings.TrimSpace(v)
		if v == "" || len(v) > maxQueryValueBytes {
			return nil, fmt.Sprintf("use a category of 1 to %d bytes of text, one per category parameter", maxQueryValueBytes)
		}
		if !isQueryText(v) {
			return nil, invalidTextFix
		}
		// Categories match without regard to case, so the folded form
		// gives one cache entry for "Export" and "export".
		out = append(out, foldText(v))
	}
	return sortedUnique(out), ""
}

func parseTerms(values []string) ([]string, string) {
	joined := strings.Join(values, " ")
	if len(joined) > maxQueryValueBytes {
		return nil, fmt.Sprintf("use at most %d bytes of text", maxQueryValueBytes)
	}
	if !isQueryText(joined) {
		return nil, invalidTextFix
	}
	terms := strings.Fields(foldText(joined))
	if len(values) > 0 && len(terms) == 0 {
		return nil, "use at least one word, or leave q out"
	}
	if len(terms) > maxQueryTerms {
		return nil, fmt.Sprintf("use at most %d words", maxQueryTerms)
	}
	return sortedUnique(terms), ""
}

// invalidTextFix is the message for a category or search value that is
// not valid UTF-8 or contains a control character such as NUL.
const invalidTextFix = "use UTF-8 text without control characters"

// isQueryText reports whether v is valid UTF-8 without characters that
// XML forbids, which are the C0 controls other than tab and line breaks.
func isQueryText(v string) bool {
	return utf8.ValidString(v) && xmlText(v) == v
}

// parseLimit returns 0 when limit is absent or not below maxItems, because
// such a limit changes nothing.
func parseLimit(values []string, maxItems int) (int, string) {
	if len(values) == 0 {
		return 0, ""
	}
	fix := "use one whole number of 1 or more"
	if maxItems > 0 {
		fix += fmt.Sprintf(" (values above %d return the channel's %d newest items)", maxItems, maxItems)
	}
	if len(values) > 1 {
		return 0, fix
	}
	n, err := strconv.Atoi(strings.TrimSpace(values[0]))
	if err != nil || n < 1 {
		return 0, fix
	}
	if maxItems > 0 && n >= maxItems {
		return 0, ""
	}
	return n, ""
}
