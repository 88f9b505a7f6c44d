package feeds

import (
	"net"
	"net/url"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/syndic-network/syndic/pipeline"
)

// PartnerDomains maps a site scope, a host without "www." and a path
// prefix ending in "/" such as "example.org/" or "medium.com/@agency/", to
// the id of the partner whose site it is. Within a story, the item of the
// partner that owns the scope of its link is shown, so another partner
// cannot replace a story's title and text by pushing the same link.
//
// Scopes are hosts, not registrable domains, because publishing platforms
// (medium.com, wordpress.com, sites.google.com) give many organisations
// pages under one domain. A partner whose site is on one of them owns only
// its own host or path there.
type PartnerDomains map[string]string

// NewPartnerDomains returns the scopes of links, which maps a partner id to
// its home page and feed URLs. A scope named by the links of more than one
// partner belongs to none of them, because a shared host (a feed service)
// proves nothing about who wrote an item. URLs without an http or https
// host are skipped.
func NewPartnerDomains(links map[string][]string) PartnerDomains {
	owners := make(map[string]string)
	shared := make(map[string]bool)
	for partner, urls := range links {
		for _, raw := range urls {
			host, dir, ok := siteScope(raw)
			if !ok {
				continue
			}
			key := host + dir
			if prev, ok := owners[key]; ok && prev != partner {
				shared[key] = true
			}
			owners[key] = partner
		}
	}
	out := make(PartnerDomains, len(owners))
	for key, partner := range owners {
		if !shared[key] {
			out[key] = partner
		}
	}
	return out
}

// ownsLink reports whether the link of ev is in a scope of ev's partner.
func (d PartnerDomains) ownsLink(ev pipeline.Event) bool {
	return ev.Partner != "" && d.ownerOf(ev.URL) == ev.Partner
}

// ownerOf returns the partner of the most specific scope that contains
// link: on its host or a parent host up to the registrable domain, and
// under one of its path prefixes. It returns "" when no scope does.
func (d PartnerDomains) ownerOf(link string) string {
	if len(d) == 0 {
		return ""
	}
	host, dir, ok := siteScope(link)
	if !ok {
		return ""
	}
	best, owner := -1, ""
	for _, h := range parentHosts(host) {
		prefix := "/"
		for {
			if p, ok := d[h+prefix]; ok && len(h)+len(prefix) > best {
				best, owner = len(h)+len(prefix), p
			}
			next := strings.IndexByte(dir[len(prefix):], '/')
			if next < 0 {
				break
			}
			prefix = dir[:len(prefix)+next+1]
		}
	}
	return owner
}

// siteScope returns the lower-case host of an http or https URL, without a
// leading "www.", and its directory. The directory is the path up to its
// last "/", or the whole path plus "/" when the last segment has no dot,
// as in "/@agency". ok is false for other URLs.
func siteScope(raw string) (host, dir string, ok bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", "", false
	}
	host = strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	host = strings.TrimPrefix(host, "www.")
	if host == "" {
		return "", "", false
	}
	dir = u.EscapedPath()
	if dir == "" {
		dir = "/"
	}
	if i := strings.LastIndexByte(dir, '/'); !strings.Contains(dir[i+1:], ".") {
		dir += "/"
		dir = strings.ReplaceAll(dir, "//", "/")
	} else {
		dir = dir[:i+1]
	}
	return host, dir, true
}

// parentHosts returns host and its parents up to its registrable domain,
// most specific first: "a.b.example.org" gives it, "b.example.org" and
// "example.org". An IP address or a public suffix gives itself alone.
func parentHosts(host string) []string {
	if net.ParseIP(host) != nil {
		return []string{host}
	}
	top, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return []string{host}
	}
	hosts := []string{host}
	for h := host; h != top; {
		i := strings.IndexByte(h, '.')
		if i < 0 {
			break
		}
		h = h[i+1:]
		hosts = append(hosts, h)
	}
	return hosts
}
