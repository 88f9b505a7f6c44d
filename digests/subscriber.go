package digests

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"
)

// Subscriber statuses.
const (
	// StatusPending is a sign-up whose confirmation link was not yet used.
	StatusPending = "pending"
	// StatusConfirmed is a subscriber who confirmed and receives digests.
	StatusConfirmed = "confirmed"
)

// Locales lists the message languages, in the order of the sign-up form.
var Locales = []string{"en", "pl", "fr", "lt", "de"}

// maxFilterValues bounds each filter list of a subscriber. The form offers
// at most the configured partners and categories, so more is abuse.
const maxFilterValues = 50

// maxCategoryRunes is the longest category filter. The pipeline drops item
// categories longer than 100 characters, so a longer filter matches
// nothing.
const maxCategoryRunes = 100

// Patterns of the filter values. Partner ids follow the configuration's
// rule for ids. Languages are BCP 47 tags such as pl or en-GB, which the
// feeds package matches by prefix. A tag with script and region, such as
// zh-Hant-TW, has 10 characters, so 35 leave room for variants.
var (
	partnerIDPattern   = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)
	languageTagPattern = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)
)

const maxLanguageTagBytes = 35

// Subscriber is one address subscribed to one digest. It stores only what
// sending needs plus the consent record (CreatedAt, ConfirmedAt).
type Subscriber struct {
	Digest     string   `json:"digest"`
	Email      string   `json:"email"`
	Locale     string   `json:"locale"`
	TimeZone   string   `json:"time_zone"`
	Languages  []string `json:"languages,omitempty"`
	Partners   []string `json:"partners,omitempty"`
	Categories []string `json:"categories,omitempty"`
	Status     string   `json:"status"`
	// CreatedAt is when the sign-up arrived.
	CreatedAt time.Time `json:"created_at"`
	// ConfirmedAt is when the subscriber used the confirmation link: the
	// consent record.
	ConfirmedAt *time.Time `json:"confirmed_at,omitempty"`
	// CoveredUntil is the end of the last period sent, or the confirmation
	// time before the first digest. The next digest covers items
	// ingested after it.
	CoveredUntil time.Time `json:"covered_until"`
	// Undeliverable is set when the relay rejected the address
	// permanently (5xx). Runs skip the subscriber until it signs up again.
	Undeliverable bool `json:"undeliverable,omitempty"`
}

// Key returns the subscriber's key in the bucket.
func (s *Subscriber) Key() string { return subscriberKey(s.Digest, s.Email) }

// Location returns the subscriber's time zone, or UTC when it is unknown.
func (s *Subscriber) Location() *time.Location {
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Normalize cleans the fields of a sign-up and checks them. It returns an
// error wrapping ErrInvalidSubscriber that names the bad field.
func (s *Subscriber) Normalize() error {
	addr, ok := plainAddress(s.Email)
	if !ok {
		return fmt.Errorf("%w: email: use a single address such as name@example.org, without a name, quotes or comments", ErrInvalidSubscriber)
	}
	if !isASCII(addr) {
		// Delivering to a non-ASCII address needs SMTPUTF8 (RFC 6531) on
		// every relay on the way, which Syndic cannot check at sign-up.
		return fmt.Errorf("%w: email: use an address in ASCII characters; internationalised addresses are not supported", ErrInvalidSubscriber)
	}
	s.Email = normalizeEmail(addr)
	s.Locale = strings.ToLower(strings.TrimSpace(s.Locale))
	if s.Locale == "" {
		s.Locale = "en"
	}
	if !slices.Contains(Locales, s.Locale) {
		return fmt.Errorf("%w: locale: use one of %s", ErrInvalidSubscriber, strings.Join(Locales, ", "))
	}
	if s.TimeZone == "" {
		s.TimeZone = "UTC"
	}
	if _, err := time.LoadLocation(s.TimeZone); err != nil || strings.HasPrefix(s.TimeZone, "Local") {
		return fmt.Errorf("%w: time_zone: use an IANA name such as Europe/Warsaw", ErrInvalidSubscriber)
	}
	if err := checkFilters(s); err != nil {
		return err
	}
	s.Languages = cleanList(s.Languages)
	s.Partners = cleanList(s.Partners)
	s.Categories = cleanList(s.Categories)
	return nil
}

// plainAddress returns email without surrounding blanks when it is a
// plain addr-spec (RFC 5322) of at most 254 bytes, such as
// name@example.org. A display name, comment, quoted local part or domain
// literal is rejected, because net/mail decodes "a,b"@example.org to an
// address that the mail library cannot put in a To header, and a quoted
// string may contain line breaks.
func plainAddress(email string) (string, bool) {
	email = strings.TrimSpace(email)
	addr, err := mail.ParseAddress(email)
	switch {
	case err != nil, addr.Name != "", addr.Address != email:
		return "", false
	case len(email) > 254, strings.ContainsAny(email, `"\[]`):
		return "", false
	}
	at := strings.LastIndexByte(email, '@')
	if !publicDomain(email[at+1:]) {
		return "", false
	}
	return email, true
}

// publicDomain reports whether domain can be a mail domain on the
// internet: it has a dot, its last label is not a number, so it is no
// IPv4 address, and it is not localhost or under it (RFC 6761). Mail to
// root@localhost or to g@127.0.0.1 would go to the relay's own machine.
func publicDomain(domain string) bool {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	dot := strings.LastIndexByte(domain, '.')
	if dot < 0 || domain == "localhost" || strings.HasSuffix(domain, ".localhost") {
		return false
	}
	last := domain[dot+1:]
	return strings.Trim(last, "0123456789") != ""
}

// checkFilters checks the count of each filter list and each value. The
// errors wrap ErrInvalidSubscriber and name the value as categories[i].
func checkFilters(s *Subscriber) error {
	lists := []struct {
		name   string
		values []string
		check  func(string) string
	}{
		{"languages", s.Languages, checkLanguage},
		{"partners", s.Partners, checkPartnerID},
		{"categories", s.Categories, checkCategory},
	}
	for _, l := range lists {
		if len(l.values) > maxFilterValues {
			return fmt.Errorf("%w: %s: use at most %d values", ErrInvalidSubscriber, l.name, maxFilterValues)
		}
		for i, v := range l.values {
			v = strings.TrimSpace(v)
			if v == "" {
				continue // cleanList drops it
			}
			if fix := l.check(v); fix != "" {
				return fmt.Errorf("%w: %s[%d]: %s", ErrInvalidSubscriber, l.name, i, fix)
			}
		}
	}
	return nil
}

// checkLanguage, checkPartnerID and checkCategory return what to change
// in a filter value, or "" for a valid one.
func checkLanguage(v string) string {
	if len(v) > maxLanguageTagBytes || !languageTagPattern.MatchString(v) {
		return "use a language code with optional subtags, such as pl or en-GB"
	}
	return ""
}

func checkPartnerID(v string) string {
	if !partnerIDPattern.MatchString(v) {
		return "use a partner id of 1 to 32 characters from a-z, 0-9 and '-'"
	}
	return ""
}

func checkCategory(v string) string {
	if n := utf8.RuneCountInString(v); n > maxCategoryRunes {
		return fmt.Sprintf("use at most %d characters, not %d", maxCategoryRunes, n)
	}
	for _, r := range v {
		if !isCategoryRune(r) {
			return fmt.Sprintf("remove %U: use visible characters and plain spaces only", r)
		}
	}
	return ""
}

// isCategoryRune reports whether r may appear in a category: a visible
// character or the plain space. Control and format characters (such as
// right-to-left overrides) and other spaces are rejected, because no
// feed category needs them and they hide text. So is U+FFFD, which the
// JSON decoder puts in place of invalid UTF-8.
func isCategoryRune(r rune) bool {
	if r == ' ' {
		return true
	}
	return r != utf8.RuneError && unicode.IsGraphic(r) && !unicode.IsSpace(r)
}

// normalizeEmail lower-cases the domain of an address. The local part keeps
// its case, because RFC 5321 lets the receiving host treat it as case
// sensitive, but keys use the whole address in lower case (see hashEmail).
func normalizeEmail(addr string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok {
		return addr
	}
	return local + "@" + strings.ToLower(domain)
}

func cleanList(values []string) []string {
	var out []string
	for _, v := range values {
		v = strings.TrimSpace(v)
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// hashEmail returns 32 hex digits of SHA-256 over digest id and address.
// Providers deliver Name@Example.org and name@example.org to one mailbox in
// practice, so the address is lower-cased first.
func hashEmail(digest, email string) string {
	sum := sha256.Sum256([]byte(digest + "\x00" + strings.ToLower(email)))
	return hex.EncodeToString(sum[:16])
}

// allDigests is the digest id of suppressions that apply to every digest,
// such as hard bounces.
const allDigests = "all"

func subscriberKey(digest, email string) string {
	return "sub." + digest + "." + hashEmail(digest, email)
}

func suppressionKey(digest, email string) string {
	return "sup." + digest + "." + hashEmail(digest, email)
}

// Suppression is the record left of an address after unsubscribe, delete,
// a hard bounce or a complaint. It holds the reason and the time, and the
// key holds only a hash of the address.
type Suppression struct {
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// Suppression reasons.
const (
	ReasonUnsubscribed = "unsubscribed"
	ReasonDeleted      = "deleted"
	ReasonBounced      = "bounced"
	ReasonComplained   = "complained"
)

// Store keeps subscribers and suppressions in a JetStream KV bucket. It is
// safe for concurrent use.
type Store struct {
	kv jetstream.KeyValue
}

// NewStore returns a store on kv, a bucket with history 1.
func NewStore(kv jetstream.KeyValue) *Store { return &Store{kv: kv} }

// Get returns the subscriber stored under key and its revision, or
// ErrNotFound.
func (st *Store) Get(ctx context.Context, key string) (*Subscriber, uint64, error) {
	entry, err := st.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return nil, 0, ErrNotFound
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading subscriber %s: %w", key, err)
	}
	var s Subscriber
	if err := json.Unmarshal(entry.Value(), &s); err != nil {
		return nil, 0, fmt.Errorf("decoding subscriber %s: %w", key, err)
	}
	return &s, entry.Revision(), nil
}

// Find returns the subscriber of digest with address email, or ErrNotFound.
func (st *Store) Find(ctx context.Context, digest, email string) (*Subscriber, uint64, error) {
	return st.Get(ctx, subscriberKey(digest, email))
}

// Put stores s. A revision of 0 creates the record and fails with
// jetstream.ErrKeyExists when it exists. Any other revision replaces the
// record only if it is still at that revision.
func (st *Store) Put(ctx context.Context, s *Subscriber, revision uint64) (uint64, error) {
	return st.put(ctx, s, revision, 0)
}

// CreatePending stores a new pending sign-up that the server removes after
// ttl unless a confirmation replaces it first. A pending record at
// revision is replaced. The replacement is new, so its ttl starts again.
func (st *Store) CreatePending(ctx context.Context, s *Subscriber, revision uint64, ttl time.Duration) error {
	if revision != 0 {
		err := st.kv.Purge(ctx, s.Key(), jetstream.LastRevision(revision))
		if err != nil {
			return fmt.Errorf("replacing pending subscriber %s: %w", s.Key(), err)
		}
	}
	_, err := st.put(ctx, s, 0, ttl)
	return err
}

func (st *Store) put(ctx context.Context, s *Subscriber, revision uint64, ttl time.Duration) (uint64, error) {
	data, err := json.Marshal(s)
	if err != nil {
		return 0, fmt.Errorf("encoding subscriber: %w", err)
	}
	var rev uint64
	switch {
	case revision == 0 && ttl > 0:
		rev, err = st.kv.Create(ctx, s.Key(), data, jetstream.KeyTTL(ttl))
	case revision == 0:
		rev, err = st.kv.Create(ctx, s.Key(), data)
	default:
		rev, err = st.kv.Update(ctx, s.Key(), data, revision)
	}
	if err != nil {
		return 0, fmt.Errorf("storing subscriber %s: %w", s.Key(), err)
	}
	return rev, nil
}

// Remove purges the subscriber of digest with address email and records a
// suppression with reason. Removing an absent subscriber still records the
// suppression.
func (st *Store) Remove(ctx context.Context, digest, email, reason string, now time.Time) error {
	if err := st.suppress(ctx, suppressionKey(digest, email), reason, now); err != nil {
		return err
	}
	// Purge, unlike Delete, drops the stored value from the stream, so
	// the address does not linger in the bucket's history.
	if err := st.kv.Purge(ctx, subscriberKey(digest, email)); err != nil {
		return fmt.Errorf("purging subscriber %s: %w", subscriberKey(digest, email), err)
	}
	return nil
}

// SuppressEverywhere records a suppression for email in every digest, as
// for a hard bounce or a complaint, and purges its records in digests.
func (st *Store) SuppressEverywhere(ctx context.Context, digests []string, email, reason string, now time.Time) error {
	if err := st.suppress(ctx, suppressionKey(allDigests, email), reason, now); err != nil {
		return err
	}
	for _, d := range digests {
		if err := st.Remove(ctx, d, email, reason, now); err != nil {
			return err
		}
	}
	return nil
}

func (st *Store) suppress(ctx context.Context, key, reason string, now time.Time) error {
	data, err := json.Marshal(Suppression{Reason: reason, At: now.UTC()})
	if err != nil {
		return fmt.Errorf("encoding suppression: %w", err)
	}
	if _, err := st.kv.Put(ctx, key, data); err != nil {
		return fmt.Errorf("storing suppression %s: %w", key, err)
	}
	return nil
}

// Suppressed reports whether email is suppressed for digest or for every
// digest.
func (st *Store) Suppressed(ctx context.Context, digest, email string) (bool, error) {
	for _, key := range []string{suppressionKey(digest, email), suppressionKey(allDigests, email)} {
		_, err := st.kv.Get(ctx, key)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted):
		default:
			return false, fmt.Errorf("reading suppression %s: %w", key, err)
		}
	}
	return false, nil
}

// Unsuppress removes the suppression of email for digest, after the owner
// of the address confirmed a new sign-up. Bounce suppressions for every
// digest stay.
func (st *Store) Unsuppress(ctx context.Context, digest, email string) error {
	if err := st.kv.Purge(ctx, suppressionKey(digest, email)); err != nil {
		return fmt.Errorf("purging suppression of %s: %w", digest, err)
	}
	return nil
}

// List returns every subscriber of digest, in key order.
func (st *Store) List(ctx context.Context, digest string) ([]*Subscriber, error) {
	lister, err := st.kv.ListKeysFiltered(ctx, "sub."+digest+".*")
	if err != nil {
		return nil, fmt.Errorf("listing subscribers of %s: %w", digest, err)
	}
	var keys []string
	// The lister closes the channel and stops itself after the last key.
	for key := range lister.Keys() {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	out := make([]*Subscriber, 0, len(keys))
	for _, key := range keys {
		s, _, err := st.Get(ctx, key)
		if errors.Is(err, ErrNotFound) {
			continue // removed after the listing
		}
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
