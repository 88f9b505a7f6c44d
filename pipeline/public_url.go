package pipeline

import (
	"net/url"
	"strings"
)

// secretParamParts are parts of query parameter names that suggest a
// secret, such as apikey, access_token, client_secret, password, auth or
// X-Amz-Signature. A harmless parameter that matches, such as author,
// only leaves the public link less exact.
var secretParamParts = []string{"key", "token", "secret", "pass", "auth", "sig", "session", "credential"}

// PublicFeedURL returns a feed's address as readers may see it: without
// the user name and password, and without query parameters whose names
// suggest a secret (see secretParamParts). Events and the source links of
// merged feeds carry it, while polls keep fetching the configured URL.
// Text that does not parse as a URL but contains '@' becomes "", because
// its user info cannot be separated from the rest.
func PublicFeedURL(raw string) string {
	if !strings.ContainsAny(raw, "@?") {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		if strings.Contains(raw, "@") {
			return ""
		}
		return raw
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = withoutSecretParams(u.RawQuery)
		u.ForceQuery = false
	}
	return u.String()
}

// withoutSecretParams returns query without the parameters whose names
// suggest a secret, keeping the others in their order and encoding.
func withoutSecretParams(query string) string {
	var public []string
	for param := range strings.SplitSeq(query, "&") {
		name, _, _ := strings.Cut(param, "=")
		if decoded, err := url.QueryUnescape(name); err == nil {
			name = decoded
		}
		if !secretParamName(name) {
			public = append(public, param)
		}
	}
	return strings.Join(public, "&")
}

func secretParamName(name string) bool {
	name = strings.ToLower(name)
	for _, part := range secretParamParts {
		if strings.Contains(name, part) {
			return true
		}
	}
	return false
}
