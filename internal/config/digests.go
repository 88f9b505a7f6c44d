package config

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
)

// SMTP is the section of the mail relay that sends digests.
type SMTP struct {
	Host          string        `yaml:"host"`
	Port          int           `yaml:"port"`
	Username      string        `yaml:"username"`
	Password      string        `yaml:"password"`
	TLS           string        `yaml:"tls"`
	Timeout       time.Duration `yaml:"timeout"`
	RatePerMinute int           `yaml:"rate_per_minute"`
}

// Digest is one email digest: the items of a channel, sent on a schedule to
// the digest's subscribers.
type Digest struct {
	ID                 string        `yaml:"id"`
	Channel            string        `yaml:"channel"`
	Schedule           string        `yaml:"schedule"`
	Timezone           string        `yaml:"timezone"`
	Subject            DigestSubject `yaml:"subject"`
	MaxItems           int           `yaml:"max_items"`
	MaxItemsPerPartner int           `yaml:"max_items_per_partner"`
	From               string        `yaml:"from"`
	GroupBy            string        `yaml:"group_by"`
}

// DigestSubject is the subject line of a digest in each supported locale.
// An empty entry falls back to the built-in subject of that locale.
type DigestSubject struct {
	EN string `yaml:"en"`
	PL string `yaml:"pl"`
	FR string `yaml:"fr"`
	LT string `yaml:"lt"`
	DE string `yaml:"de"`
}

// ForLocale returns the configured subject for a locale code, or "" when
// none is set.
func (s DigestSubject) ForLocale(locale string) string {
	switch locale {
	case "pl":
		return s.PL
	case "fr":
		return s.FR
	case "lt":
		return s.LT
	case "de":
		return s.DE
	default:
		return s.EN
	}
}

// minSecretLen is the shortest accepted digests_secret. HMAC-SHA256 keys
// shorter than its 32-byte output weaken the signature.
const minSecretLen = 32

// schedulePattern matches "daily HH:MM" and "weekly DAY HH:MM" with a
// three-letter English day name.
var schedulePattern = regexp.MustCompile(`^(daily|weekly (mon|tue|wed|thu|fri|sat|sun)) ([01][0-9]|2[0-3]):[0-5][0-9]$`)

func digestSchedule(v any) error {
	if !schedulePattern.MatchString(v.(string)) {
		return errors.New(`use "daily HH:MM" or "weekly DAY HH:MM" with DAY one of mon, tue, wed, thu, fri, sat, sun, such as "weekly mon 07:00"`)
	}
	return nil
}

// emailAddress accepts one RFC 5322 address, with or without a display
// name, such as "News <news@example.org>".
func emailAddress(v any) error {
	if _, err := mail.ParseAddress(v.(string)); err != nil {
		return errors.New(`use an email address such as "Partner News <news@example.org>"`)
	}
	return nil
}

func digestsSecret(v any) error {
	if s := v.(string); s != "" && len(s) < minSecretLen {
		return fmt.Errorf("use at least %d random characters, such as the output of `openssl rand -hex 32`", minSecretLen)
	}
	return nil
}

// digests checks the keys that digests need together: a relay, a signing
// secret, a plain-text relay only on a trusted network, known channels and
// unique ids.
func (cc *crossChecker) digests(c *Config) {
	if len(c.Digests) > 0 {
		if c.SMTP.Host == "" {
			cc.add("smtp.host", "smtp.host", "missing value: digests are configured, so set the host name of the SMTP relay")
		}
		if c.DigestsSecret == "" {
			cc.add("digests_secret", "digests_secret", "missing value: digests are configured, so set a random secret of at least %d characters", minSecretLen)
		}
	}
	if c.SMTP.TLS == "none" && c.SMTP.Host != "" && !isTrustedRelay(c.SMTP.Host) {
		cc.add("smtp.tls", "smtp.tls",
			"invalid value \"none\" for relay %q: use starttls or tls, because none is allowed only for a relay on a loopback or private IP address or localhost", c.SMTP.Host)
	}
	channels := make([]string, len(c.Channels))
	for i, ch := range c.Channels {
		channels[i] = ch.ID
	}
	ids := make([]string, len(c.Digests))
	for i, d := range c.Digests {
		ids[i] = d.ID
	}
	labels := elementLabels("digests", ids)
	seen := map[string]int{}
	for i, d := range c.Digests {
		index := fmt.Sprintf("digests[%d]", i)
		display := "digests[" + labels[i] + "]"
		if first, ok := seen[d.ID]; ok && d.ID != "" {
			cc.add(index+".id", display+".id", "duplicate id %q, also used by digests[%d]: give each digest a unique id", d.ID, first)
		} else {
			seen[d.ID] = i
		}
		cc.perPartnerCap(index, display, "digests[]", d.MaxItemsPerPartner, d.MaxItems)
		if d.Channel != "" && !slices.Contains(channels, d.Channel) {
			cc.add(index+".channel", display+".channel", "unknown channel %q: use the id of a configured channel (%s)", d.Channel, strings.Join(channels, ", "))
		}
	}
}

// isTrustedRelay reports whether host is localhost or a literal loopback
// or private address. Names other than localhost are not resolved, because
// a DNS answer can change after start-up.
func isTrustedRelay(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsPrivate())
}
