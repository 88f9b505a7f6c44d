package workers

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// freshnessLifetime returns how long the server declares a response
// fresh (RFC 9111, section 4.2.1), or 0 when it gives no lifetime. The
// precedence is: no-store or no-cache give 0, then max-age, then Expires
// minus Date (or minus now when Date is missing or invalid). s-maxage is
// ignored because it applies to shared caches and Syndic is a private
// client. An invalid Expires, such as "0", means already expired.
func freshnessLifetime(h http.Header, now time.Time) time.Duration {
	directives := cacheDirectives(h.Values("Cache-Control"))
	if _, ok := directives["no-store"]; ok {
		return 0
	}
	if _, ok := directives["no-cache"]; ok {
		return 0
	}
	if v, ok := directives["max-age"]; ok {
		return deltaSeconds(v)
	}
	expires := h.Get("Expires")
	if expires == "" {
		return 0
	}
	when, err := http.ParseTime(expires)
	if err != nil {
		return 0
	}
	base := now
	if date, err := http.ParseTime(h.Get("Date")); err == nil {
		base = date
	}
	return min(max(when.Sub(base), 0), maxRetryAfter)
}

// cacheDirectives splits Cache-Control header values into lower-case
// directive names and their unquoted arguments. When a directive repeats,
// the first one wins, as RFC 9111 recommends for max-age.
func cacheDirectives(values []string) map[string]string {
	out := map[string]string{}
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			name, arg, _ := strings.Cut(strings.TrimSpace(part), "=")
			name = strings.ToLower(strings.TrimSpace(name))
			if name == "" {
				continue
			}
			if _, seen := out[name]; !seen {
				out[name] = strings.Trim(strings.TrimSpace(arg), `"`)
			}
		}
	}
	return out
}

// deltaSeconds parses a delta-seconds argument. An invalid one gives 0,
// which the scheduler treats as no hint, and a huge one is capped at
// maxRetryAfter.
func deltaSeconds(v string) time.Duration {
	if !isDigits(v) {
		return 0
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n > uint64(maxRetryAfter/time.Second) {
		return maxRetryAfter
	}
	return time.Duration(n) * time.Second
}
