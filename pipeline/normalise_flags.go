package pipeline

import "slices"

// Flags set in Item.Flags. Each names a guess or repair that a consumer
// may want to show or count.
const (
	// FlagDateInFuture means the feed's published date lay more than
	// maxFutureSkew after the fetch: Published is the first-seen time and
	// PublishedOriginal keeps the feed's value.
	FlagDateInFuture = "date_in_future"
	// FlagDateZoneAssumed means the date had no zone and was read in the
	// partner's time zone, or in UTC when the partner has none.
	FlagDateZoneAssumed = "date_zone_assumed"
	// FlagDateZoneUnknown means the date named a zone that is unknown or
	// ambiguous (IST, for example). Its wall time was read as for
	// FlagDateZoneAssumed.
	FlagDateZoneUnknown = "date_zone_unknown"
	// FlagDateMissing means the feed gave no usable date: Published is the
	// first-seen time.
	FlagDateMissing = "date_missing"
	// FlagLinkShared means the item's link is the feed's home page or is
	// shared by items with other titles in the same document, such as a
	// news listing page. The link then identifies neither the item nor its
	// story, so grouping ignores it.
	FlagLinkShared = "link_shared"
	// FlagEnclosureTypeInferred means an enclosure had no media type and
	// one was inferred from its file extension.
	FlagEnclosureTypeInferred = "enclosure_type_inferred"
)

// addFlag adds flag to flags once.
func addFlag(flags []string, flag string) []string {
	if slices.Contains(flags, flag) {
		return flags
	}
	return append(flags, flag)
}
