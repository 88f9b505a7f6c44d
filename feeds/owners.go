package feeds

import (
	"net"
	"net/url"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/syndic-network/syndic/pipeline"
)

// PartnerDomains maps a registrable domain, such as "example.org" for
// "news.example.org", to the id of the partner whose site or feeds are on
// it. Within a story, the item of the partner that owns the domain of its
// link is shown, so another partner cannot replace a story's title and
// text by pushing the same link first.
type PartnerDomains map[string]string

// NewPartnerDomains returns the domains of links, which maps a partner id
// to its home page and feed URLs. A domain named by the links of more than
// one partner belongs to none of them, because a shared host (a feed
// service or a common publishing platform) proves nothing about who wrote
// an item. URLs without an http or https host are skipped.
func NewPartnerDomains(links map[string][]string) PartnerDomains {
	owners := make(map[string]string)
	shared := make(map[string]bool)
	for partner, urls := range links {
		for _, raw := range urls {
			domain := linkDomain(raw)
			if domain == "" {
				continue
			}
			if prev, ok := owners[domain]; ok && prev != partner {
				shared[domain] = true
			}
			owners[domain] = partner
		}
	}
	out := make(PartnerDomains, len(owners))
	for domain, partner := range owners {
		if !shared[domain] {
			out[domain] = partner
		}
	}
	return out
}

// ownsLink reports whether the link of ev is on a domain of ev's partner.
func (d PartnerDomains) ownsLink(ev pipeline.Event) bool {
	if len(d) == 0 || ev.URL == "" {
		return false
	}
	owner, ok := d[linkDomain(ev.URL)]
	return ok && owner == ev.Partner
}

// linkDomain returns the registrable domain (public suffix plus one label)
// of an http or https URL's host in lower case. It returns the host itself
// for an IP address or a host that is a public suffix, and "" when raw has
// no such host.
func linkDomain(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "" {
		return ""
	}
	if net.ParseIP(host) != nil {
		return host
	}
	domain, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return host
	}
	return domain
}
