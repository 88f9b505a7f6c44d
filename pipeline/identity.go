package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"net/url"
	"strconv"
	"strings"
)

// ItemID returns the stable id of an item: the first 32 hex digits of
// SHA-256 over partner, a NUL byte and key. Keys come from itemKey.
func ItemID(partner, key string) string {
	sum := sha256.Sum256([]byte(partner + "\x00" + key))
	// The first 16 bytes give the 32 hex digits. Encoding all 32 and
	// cutting the string would keep 64 bytes alive for each id held.
	return hex.EncodeToString(sum[:16])
}

// IsItemID reports whether s has the form of the ids ItemID returns: 32
// lower-case hex digits.
func IsItemID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// writeField writes a length-prefixed name and value, so no two field
// lists hash the same text.
func writeField(h hash.Hash, name, value string) {
	h.Write([]byte(name + ":" + strconv.Itoa(len(value)) + ":" + value + "\n"))
}

// identityInput is what the identity rule looks at for one item.
type identityInput struct {
	guid      string // trimmed GUID as the feed gave it
	link      string // canonical link, "" when the item has none
	feed      string // configured feed id
	title     string // plain title before StripControls and cutTitle
	summary   string // summary before StripControls
	published string // the date as the feed wrote it
}

// itemKey returns the identity key of an item: the normalised GUID unless
// the feed repeats GUIDs, else the link with its scheme set to https, else
// "h:" and a hash of the feed id, title, summary and published date.
// The feed URL is never part of a key because a feed may move.
func itemKey(in identityInput, linkKeys bool) string {
	if key, ok := directKey(in, linkKeys); ok {
		return key
	}
	return textKey(in)
}

// directKey returns the key from the GUID or the link, and false when
// the item has neither that may serve.
func directKey(in identityInput, linkKeys bool) (string, bool) {
	if in.guid != "" && !linkKeys {
		return guidKey(in.guid), true
	}
	if in.link != "" {
		return httpsKey(in.link), true
	}
	return "", false
}

// textKey is the key of an item with neither a usable GUID nor a link:
// "h:" and a hash of the feed id, title, summary and published date.
func textKey(in identityInput) string {
	sum := textSum(in)
	return textKeyOf(sum)
}

// textSum returns the hash in the text key of in.
func textSum(in identityInput) [sha256.Size]byte {
	h := sha256.New()
	for _, part := range []string{in.feed, in.title, in.summary, in.published} {
		writeField(h, "part", part)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// textKeyOf returns the text key with hash sum.
func textKeyOf(sum [sha256.Size]byte) string {
	return "h:" + hex.EncodeToString(sum[:])
}

// guidKey normalises a GUID. A URL-shaped GUID gets the https scheme, a
// lower-case host and no tracking parameters, so a feed that flips between
// http and https, or tags its GUIDs per campaign, keeps its ids. Its
// fragment stays: some feeds tell items apart only by fragment. Other
// GUIDs are opaque and stay as they are.
func guidKey(guid string) string {
	lower := strings.ToLower(guid)
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		return guid
	}
	return httpsKey(guid)
}

func httpsKey(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	u.Host = canonicalHost(strings.ToLower(u.Scheme), u.Host)
	u.Scheme = "https"
	u.RawQuery = stripTracking(u.RawQuery)
	u.ForceQuery = false
	return u.String()
}
