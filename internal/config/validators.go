package config

import (
	"errors"
	"fmt"
	htmlcharset "golang.org/x/net/html/charset"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A validator receives the Go value of one field (string, int, bool,
// time.Duration, ByteSize, []string or a slice of list elements) and returns
// nil or an error whose text is the fix, such as "use one of text, json".
// Validators of []string return *elementError so that the message names the
// bad element.

// elementError is a validator result for one bad element of a []string.
type elementError struct {
	index int
	value string
	fix   string
}

func (e *elementError) Error() string { return e.fix }

func oneOf(allowed ...string) func(any) error {
	return func(v any) error {
		if slices.Contains(allowed, v.(string)) {
			return nil
		}
		return fmt.Errorf("use one of %s", strings.Join(allowed, ", "))
	}
}

func intOneOf(allowed ...int) func(any) error {
	return func(v any) error {
		if slices.Contains(allowed, v.(int)) {
			return nil
		}
		names := make([]string, len(allowed))
		for i, n := range allowed {
			names[i] = strconv.Itoa(n)
		}
		return fmt.Errorf("use one of %s", strings.Join(names, ", "))
	}
}

func required(fix string) func(any) error {
	return func(v any) error {
		if strings.TrimSpace(v.(string)) == "" {
			return errors.New(fix)
		}
		return nil
	}
}

func intRange(lo, hi int) func(any) error {
	return func(v any) error {
		if n := v.(int); n < lo || n > hi {
			return fmt.Errorf("use a whole number from %d to %d", lo, hi)
		}
		return nil
	}
}

// durationRange accepts durations from lo to hi inclusive. A hi of 0 places
// no upper limit.
func durationRange(lo, hi time.Duration) func(any) error {
	return func(v any) error {
		d := v.(time.Duration)
		if d >= lo && (hi == 0 || d <= hi) {
			return nil
		}
		if hi == 0 {
			return fmt.Errorf("use a duration of at least %s", formatDuration(lo))
		}
		return fmt.Errorf("use a duration from %s to %s", formatDuration(lo), formatDuration(hi))
	}
}

func sizeRange(lo, hi ByteSize) func(any) error {
	return func(v any) error {
		if b := v.(ByteSize); b < lo || b > hi {
			return fmt.Errorf("use a size from %s to %s", lo, hi)
		}
		return nil
	}
}

// hostPort accepts the listen addresses of net.Listen, with a numeric port.
func hostPort(v any) error {
	const fix = "use host:port, such as 127.0.0.1:8080 or :8080"
	_, port, err := net.SplitHostPort(v.(string))
	if err != nil {
		return errors.New(fix)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return errors.New(fix)
	}
	return nil
}

// httpURL accepts an absolute http or https URL without a fragment, and the
// empty string when optional is true.
func httpURL(optional bool) func(any) error {
	return func(v any) error {
		s := v.(string)
		if s == "" && optional {
			return nil
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
			return errors.New("use an absolute http:// or https:// URL, such as https://syndic.example.org")
		}
		return nil
	}
}

// contactURL accepts the empty string, an http(s) URL or a mailto: address,
// which is what crawler operators put in a User-Agent.
func contactURL(v any) error {
	s := v.(string)
	if strings.HasPrefix(s, "mailto:") && len(s) > len("mailto:") {
		return nil
	}
	if httpURL(true)(v) != nil {
		return errors.New("use an https:// page or a mailto: address where feed owners can reach you, or leave it empty")
	}
	return nil
}

// natsURLs accepts the empty string or a comma-separated list of server
// URLs in the forms that nats.go connects to.
func natsURLs(v any) error {
	s := v.(string)
	if s == "" {
		return nil
	}
	for part := range strings.SplitSeq(s, ",") {
		u, err := url.Parse(strings.TrimSpace(part))
		if err != nil || u.Host == "" || !slices.Contains([]string{"nats", "tls", "ws", "wss"}, u.Scheme) {
			return errors.New("use nats://, tls://, ws:// or wss:// URLs separated by commas, or leave it empty to run the embedded server")
		}
	}
	return nil
}

// redisURL accepts the empty string or a URL in a form that go-redis
// ParseURL reads: redis:// or rediss:// with a host and an optional numeric
// database, or unix:// with a socket path.
func redisURL(v any) error {
	s := v.(string)
	if s == "" {
		return nil
	}
	const fix = "use redis://host:6379/0, rediss://host:6380/0 or unix:///path/to/redis.sock, or leave it empty to use the embedded cache"
	u, err := url.Parse(s)
	if err != nil {
		return errors.New(fix)
	}
	switch u.Scheme {
	case "redis", "rediss":
		db := strings.TrimPrefix(u.Path, "/")
		if _, err := strconv.Atoi(db); u.Host == "" || (db != "" && err != nil) {
			return errors.New(fix)
		}
	case "unix":
		if u.Path == "" {
			return errors.New(fix)
		}
	default:
		return errors.New(fix)
	}
	return nil
}

var natsNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// natsName accepts JetStream stream and bucket names. The server rejects
// spaces, dots, wildcards and path separators in them.
func natsName(v any) error {
	if !natsNamePattern.MatchString(v.(string)) {
		return errors.New("use letters, digits, '-' and '_' only, such as SYNDIC_ITEMS")
	}
	return nil
}

// natsSubject accepts a literal subject prefix: tokens separated by dots,
// none empty, with no whitespace or wildcard.
func natsSubject(v any) error {
	for token := range strings.SplitSeq(v.(string), ".") {
		if token == "" || strings.ContainsAny(token, " \t\r\n*>") {
			return errors.New("use dot-separated tokens without spaces or wildcards, such as syndic.items")
		}
	}
	return nil
}

var identifierPattern = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)

const identifierFix = "use 1 to 32 characters from a-z, 0-9 and '-'"

// identifier accepts the ids of partners, feeds and channels. They appear in
// NATS subjects, item ids and URL paths, so they are limited to characters
// that need no escaping in any of them.
func identifier(v any) error {
	if !identifierPattern.MatchString(v.(string)) {
		return errors.New(identifierFix)
	}
	return nil
}

var languagePattern = regexp.MustCompile(`^[a-z]{2}$`)

func languageCode(v any) error {
	if !languagePattern.MatchString(v.(string)) {
		return errors.New("use a lowercase two-letter ISO 639-1 code, such as en or pl")
	}
	return nil
}

func timezone(v any) error {
	if _, err := time.LoadLocation(v.(string)); err != nil {
		return errors.New("use an IANA time zone name, such as Europe/Warsaw or UTC")
	}
	return nil
}

// feedURL accepts an absolute http or https URL, or a file: URL with a path.
// Whether file: URLs are enabled is a cross-check, because it depends on
// fetch.allow_file_urls.
func feedURL(v any) error {
	const fix = "use an http://, https:// or file: URL"
	u, err := url.Parse(v.(string))
	if err != nil {
		return errors.New(fix)
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return errors.New(fix)
		}
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return errors.New("use file:feeds/name.xml for a path relative to the config file, or file:///absolute/path")
		}
		if u.Path == "" && u.Opaque == "" {
			return errors.New(fix)
		}
	default:
		return errors.New(fix)
	}
	return nil
}

func nonEmptyFeeds(v any) error {
	if len(v.([]PartnerFeed)) == 0 {
		return errors.New("add at least one feed under feeds")
	}
	return nil
}

// eachString applies check to every element of a []string value.
func eachString(check func(any) error) func(any) error {
	return func(v any) error {
		for i, s := range v.([]string) {
			if err := check(s); err != nil {
				return &elementError{index: i, value: s, fix: err.Error()}
			}
		}
		return nil
	}
}

var languageTagPattern = regexp.MustCompile(`^[a-z]{2}(-[A-Za-z0-9]{1,8})*$`)

// languageTag accepts a two-letter language code with optional BCP 47
// subtags, such as en or en-GB, because the feeds package matches filter
// languages by prefix.
func languageTag(v any) error {
	if !languageTagPattern.MatchString(v.(string)) {
		return errors.New("use a two-letter language code with optional subtags, such as pl or en-GB")
	}
	return nil
}

// formatDuration formats d as time.Duration.String does, without the zero
// minutes and seconds that make "2160h0m0s" hard to read.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// optionalCharset accepts an empty value or a character set label that the
// feed decoder knows (WHATWG encoding labels).
func optionalCharset(v any) error {
	label := v.(string)
	if label == "" {
		return nil
	}
	if enc, _ := htmlcharset.Lookup(label); enc == nil {
		return errors.New("use a character set label such as windows-1250, iso-8859-2 or windows-1257")
	}
	return nil
}

// Lowest and highest sizes memory_limit accepts. Below 64 MiB a process
// with the embedded server would spend most of its time collecting.
const (
	minMemoryLimit = 64 * MiB
	maxMemoryLimit = 1024 * GiB
)

// memoryLimit accepts auto, none or a size from minMemoryLimit to
// maxMemoryLimit.
func memoryLimit(v any) error {
	_, _, err := MemoryLimitBytes(v.(string))
	return err
}

// MemoryLimitBytes reads a memory_limit value. It returns auto true for
// "auto", and otherwise the limit in bytes, 0 for "none".
func MemoryLimitBytes(s string) (limit int64, auto bool, err error) {
	switch s {
	case "auto":
		return 0, true, nil
	case "none":
		return 0, false, nil
	}
	const fix = "use auto, none or a size from 64MiB to 1024GiB, such as 450MiB"
	size, err := ParseByteSize(s)
	if err != nil {
		return 0, false, errors.New(fix)
	}
	if size < minMemoryLimit || size > maxMemoryLimit {
		return 0, false, errors.New(fix)
	}
	return int64(size), false, nil
}
