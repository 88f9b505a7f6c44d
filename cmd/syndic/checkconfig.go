package main

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"github.com/syndic-network/syndic/internal/config"
	"github.com/syndic-network/syndic/workers"
)

// privateFeedWarnings returns one warning for each feed whose URL names
// a host that the fetcher's address check rejects: localhost, or a
// loopback, private or otherwise internal IP address written as such,
// when neither the feed's allow_private_network nor
// fetch.allow_private_networks allows it. Such a configuration is valid,
// but every poll of the feed fails. Host names that resolve to such
// addresses are only found when polled.
func privateFeedWarnings(cfg *config.Config) []string {
	var out []string
	for _, p := range cfg.Partners {
		for j, f := range p.Feeds {
			problem := privateHostProblem(f.URL, f.AllowPrivateNetwork || cfg.Fetch.AllowPrivateNetworks)
			if problem != "" {
				out = append(out, fmt.Sprintf("partners[%s].feeds[%d].url: %s", p.ID, j, problem))
			}
		}
	}
	return out
}

// privateHostProblem describes why polls of rawURL fail on its host, or
// returns "" when the host is a name other than localhost or a public
// address. allowPrivate is whether the feed may reach private networks.
func privateHostProblem(rawURL string, allowPrivate bool) string {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	host := u.Hostname()
	hint := "polls fail unless the feed sets allow_private_network: true (or fetch.allow_private_networks: true for every feed)"
	if strings.EqualFold(host, "localhost") {
		if allowPrivate {
			return ""
		}
		return fmt.Sprintf("the host %s is this machine, so %s", host, hint)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return ""
	}
	if err := workers.CheckAddress(ip, allowPrivate); err != nil {
		if workers.CheckAddress(ip, true) != nil {
			return fmt.Sprintf("%v, which no setting allows, so every poll fails", err)
		}
		return fmt.Sprintf("%v, so %s", err, hint)
	}
	return ""
}
