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
	return hex.EncodeToString(sum[:])[:32]
}

// ContentHash returns the hex SHA-256 over the normalised fields a reader
// sees: title, summary, content, URL, authors, categories, enclosures,
// image and language. Dates are left out, so a feed that only touches
// its dates does not produce an update.
func ContentHash(it *Item) string {
	h := sha256.New()
	writeField(h, "title", it.Title)
	writeField(h, "summary", it.Summary)
	writeField(h, "content", it.Content)
	writeField(h, "url", it.URL)
	for _, a := range it.Authors {
		writeField(h, "author", a.Name+"\x00"+a.Email+"\x00"+a.URL)
	}
	for _, c := range it.Categories {
		writeField(h, "category", c)
	}
	for _, e := range it.Enclosures {
		writeField(h, "enclosure", e.URL+"\x00"+e.Type+"\x00"+strconv.FormatInt(e.Length, 10))
	}
	writeField(h, "image", it.Image)
	writeField(h, "language", it.Language)
	return hex.EncodeToString(h.Sum(nil))
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
	title     string // normalised title
	summary   string // normalised summary
	published string // the date as the feed wrote it
}

// itemKey returns the identity key of an item: the normalised GUID unless
// the feed repeats GUIDs, else the link with its scheme set to https, else
// "h:" and a hash of the feed id, title, summary and published date.
// The feed URL is never part of a key because a feed may move.
func itemKey(in identityInput, linkKeys bool) string {
	if in.guid != "" && !linkKeys {
		return guidKey(in.guid)
	}
	if in.link != "" {
		return httpsKey(in.link)
	}
	h := sha256.New()
	for _, part := range []string{in.feed, in.title, in.summary, in.published} {
		writeField(h, "part", part)
	}
	return "h:" + hex.EncodeToString(h.Sum(nil))
}

// guidKey normalises a GUID. A URL-shaped GUID gets the https scheme and a
// lower-case host, so a feed that flips between http and https keeps its
// ids. Other GUIDs are opaque and stay as they are.
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
	return u.String()
}
