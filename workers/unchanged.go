package workers

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"

	"github.com/syndic-network/syndic/pipeline"
)

// Many partner CMSs send neither ETag nor Last-Modified, or ignore the
// conditional request, and return the whole feed on every poll. When the
// body is the one the feed's last complete ingest read, under the same
// normalisation rules and partner settings, its items are all known
// already, so the poll counts as not modified and nothing is parsed.

// documentDigest returns the hex SHA-256 of a fetched body together with
// everything else that shapes the items read from it: the rules version,
// the URL it was fetched from, its Content-Type (which may name the
// charset) and the partner's fallbacks.
func documentDigest(f Feed, url string, res FetchResult) string {
	h := sha256.New()
	location := ""
	if f.Location != nil {
		location = f.Location.String()
	}
	fields := []string{
		strconv.Itoa(pipeline.RulesVersion), f.Partner, f.ID, url, res.FinalURL, res.ContentType,
		f.Language, f.Charset, location,
	}
	for _, s := range fields {
		h.Write([]byte(strconv.Itoa(len(s)) + ":" + s))
	}
	h.Write(res.Body)
	return hex.EncodeToString(h.Sum(nil))
}

// unchangedBody reports whether a fetched document is the one the feed's
// last complete ingest read, and returns its digest.
func unchangedBody(f Feed, st fetchState, res FetchResult) (string, bool) {
	digest := documentDigest(f, pollURL(f, st), res)
	return digest, st.BodyDigest != "" && st.BodyDigest == digest
}

// skippable reports whether a later poll may skip the document of rep
// when its body comes back unchanged. A document with rejected items or
// items left out by fetch.max_items is read again, because a setting an
// operator raises may let them in, and so is one whose identity policy
// could not be stored.
func skippable(rep PollReport) bool {
	return rep.Rejected == 0 && !rep.policyUnsaved && !slices.Contains(rep.Warnings, WarningTooManyItems)
}
