package pipeline

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"unicode"
)

// trackingParams are query parameters that only identify the campaign or
// click that led to a link. Every utm_* parameter is removed as well.
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "dclid": true, "msclkid": true,
	"mc_cid": true, "mc_eid": true, "_hsenc": true, "_hsmi": true,
	"igshid": true, "yclid": true, "ref_src": true,
}

// errNotHTTP is wrapped by CanonicalURL for links with another scheme.
var errNotHTTP = errors.New("not an http or https url")

// CanonicalURL returns raw as an absolute http or https URL, resolved
// against base (which may be nil), with the scheme and host in lower
// case, the default port, the user name and password, the fragment and
// tracking parameters removed, and the remaining query parameters in
// their original order. It returns an error for text that is not a URL,
// a relative URL without a base, and schemes other than http and https.
func CanonicalURL(raw string, base *url.URL) (string, error) {
	u, err := canonicalParts(raw, base)
	if err != nil {
		return "", err
	}
	// Credentials in a link are the publisher's secret, and Syndic
	// republishes every link (rules version 4).
	u.User = nil
	return formatCanonical(u, raw)
}

// identityURL returns the canonical form of raw with its user name and
// password kept, for the link identity key. Rules version 3 kept them in
// canonical links, so an item keyed by such a link keeps its id. link is
// CanonicalURL(raw, base), returned as it is when raw has no user info.
func identityURL(raw string, base *url.URL, link string) string {
	u, err := canonicalParts(raw, base)
	if err != nil || u.User == nil {
		return link
	}
	if withUser, err := formatCanonical(u, raw); err == nil {
		return withUser
	}
	return link
}

// canonicalParts applies every rule of CanonicalURL except removing the
// user info and formatting.
func canonicalParts(raw string, base *url.URL) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("parsing url %q: %w", raw, err)
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("canonicalising url %q: %w", raw, errNotHTTP)
	}
	u.Host = canonicalHost(u.Scheme, u.Host)
	if u.Host == "" {
		return nil, fmt.Errorf("canonicalising url %q: missing host", raw)
	}
	u.Fragment, u.RawFragment = "", ""
	// A query is not escaped on output, so blanks at its end would end the
	// URL and be trimmed on the next pass.
	u.RawQuery = strings.TrimRightFunc(stripTracking(u.RawQuery), unicode.IsSpace)
	u.ForceQuery = false
	if u.Path == "" {
		u.Path = "/"
	}
	return u, nil
}

func formatCanonical(u *url.URL, raw string) (string, error) {
	out := u.String()
	// Go's parser accepts some hosts, such as "::", that it cannot read
	// back once they are written out. Such a URL is no use to a reader.
	if _, err := url.Parse(out); err != nil {
		return "", fmt.Errorf("canonicalising url %q: %w", raw, err)
	}
	return out, nil
}

// canonicalHost lowers the case of host, drops trailing dots and drops
// the scheme's default port.
func canonicalHost(scheme, host string) string {
	host = strings.ToLower(host)
	h, port, err := net.SplitHostPort(host)
	if err != nil {
		return strings.TrimRight(host, ".")
	}
	h = strings.TrimRight(h, ".")
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	if port == "" || scheme == "http" && port == "80" || scheme == "https" && port == "443" {
		return h
	}
	if h == "" {
		return ""
	}
	return h + ":" + port
}

// stripTracking removes tracking parameters from a raw query and keeps
// the rest byte for byte in their original order.
func stripTracking(rawQuery string) string {
	if rawQuery == "" {
		return ""
	}
	var kept []string
	for _, pair := range strings.Split(rawQuery, "&") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		name, _, _ := strings.Cut(pair, "=")
		if key, err := url.QueryUnescape(name); err == nil {
			name = key
		}
		name = strings.ToLower(name)
		if trackingParams[name] || strings.HasPrefix(name, "utm_") {
			continue
		}
		kept = append(kept, pair)
	}
	return strings.Join(kept, "&")
}
