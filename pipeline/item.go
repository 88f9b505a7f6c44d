package pipeline

import (
	"time"
)

// EventVersion is the version of the item event JSON schema documented in
// docs/item-event.md. It changes only when a field changes meaning or is
// removed; new optional fields keep the version.
const EventVersion = 1

// Kind is the effect of an item event on the item it names.
type Kind string

// Event kinds. A consumer keeps, per item id, the event with the highest
// revision.
const (
	// KindCreated is the first event of an item.
	KindCreated Kind = "created"
	// KindUpdated replaces the content of an item seen before; its revision is
	// higher than every earlier event of the same id.
	KindUpdated Kind = "updated"
	// KindRetracted removes an item from merged feeds and pending digests.
	KindRetracted Kind = "retracted"
)

// DateSource values name the origin of Item.Published.
const (
	// DateFromFeed means the feed gave a publication or update date.
	DateFromFeed = "feed"
	// DateFirstSeen means the feed gave no usable date, so Published is the
	// time Syndic first saw the item.
	DateFirstSeen = "first_seen"
)

// Author is one person or organisation credited for an item.
type Author struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	URL   string `json:"url,omitempty"`
}

// Enclosure is a media file attached to an item (RSS enclosure, Atom
// rel="enclosure" link, JSON Feed attachment). Length is in bytes, 0 when the
// feed did not give it.
type Enclosure struct {
	URL    string `json:"url"`
	Type   string `json:"type,omitempty"`
	Length int64  `json:"length,omitempty"`
}

// Item is one normalised news item, before deduplication decides whether it
// is new, updated or a duplicate. Every text field is valid UTF-8 without
// characters that XML 1.0 forbids. The text fields and Content contain
// none of the controls that StripControls removes, but GUID and the query
// of the URL fields may (see EscapeControls).
type Item struct {
	// ID is the stable identity: see ItemID.
	ID string `json:"id"`
	// Partner is the id of the partner organisation from the configuration.
	Partner string `json:"partner"`
	// Feed is the configured id of the source feed (not its URL, which may
	// move).
	Feed string `json:"feed"`
	// FeedURL is the URL the item was fetched from as PublicFeedURL
	// gives it, without credentials, or "push" for pushed items.
	FeedURL string `json:"feed_url"`
	// GUID is the item's own identifier as the feed gave it (RSS guid, Atom
	// id, JSON Feed id), empty when it had none.
	GUID string `json:"guid,omitempty"`
	// URL is the canonical link: absolute, fragment and tracking parameters
	// removed, host in lower case.
	URL string `json:"url,omitempty"`
	// Title and Summary are plain text.
	Title   string `json:"title"`
	Summary string `json:"summary,omitempty"`
	// Content is HTML sanitised by the pipeline's policy, with absolute URLs.
	Content    string      `json:"content,omitempty"`
	Authors    []Author    `json:"authors,omitempty"`
	Categories []string    `json:"categories,omitempty"`
	Language   string      `json:"language,omitempty"`
	Published  time.Time   `json:"published"`
	DateSource string      `json:"date_source"`
	Updated    *time.Time  `json:"updated,omitempty"`
	Enclosures []Enclosure `json:"enclosures,omitempty"`
	Image      string      `json:"image,omitempty"`
	// ContentHash is the hex SHA-256 over the normalised fields that readers
	// see; a change in it under the same ID is an update.
	ContentHash string `json:"content_hash"`
	Backfill    bool   `json:"backfill,omitempty"` // old item from a feed's first poll: keep it out of digests and push notifications
	// RulesVersion is the version of the canonicalisation rules that
	// computed ID and ContentHash: see RulesVersion.
	RulesVersion int `json:"rules_version,omitempty"`
	// PublishedOriginal is the feed's published date when it lay in the
	// future and Published was set to the first-seen time instead.
	PublishedOriginal *time.Time `json:"published_original,omitempty"`
	// Flags name the repairs and guesses normalisation made: see the Flag
	// constants.
	Flags []string `json:"flags,omitempty"`
	// Alternates are canonical URLs of other versions of the item, such
	// as translations named by Atom alternate or hreflang links.
	Alternates []string `json:"alternates,omitempty"`
	// ClusterID groups the copies and translations of one story: the ID
	// of the first item of the story that Syndic saw. Set at ingest.
	ClusterID string `json:"cluster_id,omitempty"`
	// DuplicateOf is the ID of the earlier item in the same language that
	// this item copies, empty for the first copy and for translations.
	DuplicateOf string `json:"duplicate_of,omitempty"`

	// partial is set on an item a ParseMemo supplied: it holds the item
	// as gofeed read it, and only the identity, content hash and dates
	// are filled in until complete cleans it.
	partial *rawItem
}

// Event is the JSON message published on JetStream for each new or changed
// item. Its field list and meaning are documented in docs/item-event.md.
type Event struct {
	Version  int  `json:"v"`
	Kind     Kind `json:"kind"`
	Revision int  `json:"revision"`
	Item
	// IngestedAt is when the pipeline accepted this revision (UTC).
	IngestedAt time.Time `json:"ingested_at"`
}
