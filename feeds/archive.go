package feeds

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/syndic-network/syndic/internal/apierror"
	"github.com/syndic-network/syndic/pipeline"
)

// DefaultArchivePageSize is the number of stream messages one archive page
// covers when HandlerOptions.ArchivePageSize is below 1. Page URLs number pages
// of this size, so changing it on a running site would make the pages that
// readers and caches hold differ from what the same URLs then
// serve.
const DefaultArchivePageSize = 200

// archiveCacheControl lets caches keep an archive page for a day. Its
// stream range is complete, but a later retraction removes an item from
// it, so the page is not immutable: a retracted item leaves every cache
// within a day.
const archiveCacheControl = "public, max-age=86400"

// ArchiveSource reads the item stream by sequence for archive pages. Its
// methods are called concurrently by HTTP requests and must be safe for
// concurrent use. An error fails the request that caused it, and the
// handler does not retry.
type ArchiveSource interface {
	// Bounds returns the first and last sequence of the stream, both 0
	// when the stream is empty.
	Bounds(ctx context.Context) (first, last uint64, err error)
	// Events returns the item events with sequences from from to to
	// inclusive, in stream order. Sequences that no longer exist, or hold
	// no item event, are left out, so the result may be empty.
	Events(ctx context.Context, from, to uint64) ([]pipeline.Event, error)
}

// archivePages is the range of archive pages that can be served: page k
// covers stream sequences (k-1)*size+1 to k*size, and only pages whose
// range is complete and not wholly removed from the stream exist.
type archivePages struct {
	size   uint64
	oldest uint64
	newest uint64
}

func newArchivePages(size int, first, last uint64) archivePages {
	p := archivePages{size: uint64(size)}
	if first == 0 || last == 0 {
		return p
	}
	p.oldest = (first-1)/p.size + 1
	p.newest = last / p.size
	return p
}

func (p archivePages) exists(k uint64) bool {
	return k >= 1 && k >= p.oldest && k <= p.newest
}

// bounds returns the stream sequences of page k.
func (p archivePages) bounds(k uint64) (from, to uint64) {
	return (k-1)*p.size + 1, k * p.size
}

func (h *handler) archiveURL(ch Channel, f format, k uint64) string {
	return h.baseURL + "/feeds/" + ch.ID + "/archive/" + strconv.FormatUint(k, 10) + "." + f.ext
}

// history returns the archive links of page k. Page 0 stands for the
// subscription document, which links only to the newest page.
func (h *handler) history(ch Channel, f format, p archivePages, k uint64) History {
	if k == 0 {
		if p.exists(p.newest) {
			return History{Prev: h.archiveURL(ch, f, p.newest)}
		}
		return History{}
	}
	hist := History{Archive: true, Current: h.feedURL(ch, f)}
	if p.exists(k - 1) {
		hist.Prev = h.archiveURL(ch, f, k-1)
	}
	if p.exists(k + 1) {
		hist.Next = h.archiveURL(ch, f, k+1)
	}
	return hist
}

// currentHistory returns the history of a channel's subscription document.
// An archive that cannot be read must not take the live feed down, so a
// failure is logged and the document goes out without archive links.
func (h *handler) currentHistory(ctx context.Context, ch Channel, f format) History {
	if h.opts.Archive == nil {
		return History{}
	}
	first, last, err := h.opts.Archive.Bounds(ctx)
	if err != nil {
		h.log.WarnContext(ctx, "reading archive bounds failed", "channel", ch.ID, "error", err)
		return History{}
	}
	return h.history(ch, f, newArchivePages(h.archivePageSize(), first, last), 0)
}

func (h *handler) archivePageSize() int {
	if h.opts.ArchivePageSize > 0 {
		return h.opts.ArchivePageSize
	}
	return DefaultArchivePageSize
}

// parseArchiveFile splits "12.atom" into page 12 and format atom. The
// page number must be written without leading zeros, so one page has one
// URL.
func parseArchiveFile(file string) (uint64, format, bool) {
	num, ext, ok := strings.Cut(file, ".")
	if !ok || num == "" || num[0] == '0' {
		return 0, format{}, false
	}
	k, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return 0, format{}, false
	}
	f, ok := formatByExt(ext)
	return k, f, ok
}

// serveArchive sends one archive page of a channel.
func (h *handler) serveArchive(w http.ResponseWriter, r *http.Request) {
	if h.writeNotReady(w) {
		return
	}
	id := r.PathValue("id")
	ch, known := h.channels[id]
	if !known || h.opts.Archive == nil {
		apierror.Write(w, http.StatusNotFound, "channel_not_found", "no archived channel with this id", map[string]string{"channel": id})
		return
	}

	k, f, ok := parseArchiveFile(r.PathValue("file"))
	if !ok {
		apierror.Write(w, http.StatusNotFound, "archive_not_found", "use /feeds/{channel}/archive/{page}.rss, .atom or .json, where page is a number from 1", map[string]string{"file": r.PathValue("file")})
		return
	}

	first, last, err := h.opts.Archive.Bounds(r.Context())
	if err != nil {
		h.log.ErrorContext(r.Context(), "reading archive bounds failed", "channel", ch.ID, "error", err)
		apierror.Write(w, http.StatusServiceUnavailable, "archive_unavailable", "reading the archive failed, try again later", nil)
		return
	}
	pages := newArchivePages(h.archivePageSize(), first, last)
	if !pages.exists(k) {
		msg := fmt.Sprintf("archive pages run from %d to %d", pages.oldest, pages.newest)
		if pages.newest == 0 || pages.newest < pages.oldest {
			msg = fmt.Sprintf("the stream has no full archive page yet; the current items are in /feeds/%s.%s", ch.ID, f.ext)
		}
		apierror.Write(w, http.StatusNotFound, "archive_not_found", msg, map[string]string{"page": strconv.FormatUint(k, 10)})
		return
	}

	key := cacheKey{channel: ch.ID, format: f.ext, query: "archive/" + strconv.FormatUint(k, 10)}
	doc, err := h.cachedDocument(r, key, false, func() (built, error) {
		return h.renderArchive(r.Context(), ch, f, pages, k)
	})
	if err != nil {
		h.log.ErrorContext(r.Context(), "rendering archive failed", "channel", ch.ID, "format", f.ext, "page", k, "error", err)
		apierror.Write(w, http.StatusServiceUnavailable, "archive_unavailable", "reading the archive failed, try again later", nil)
		return
	}
	writeDocument(w, r, f, doc)
}

// renderArchive builds page k from its stream range. The events are folded
// into a View of their own, so the page lists the last revision that its
// range holds of each item and leaves out items retracted within it.
//
// Items that the live view has seen retracted since are left out too, so
// a retraction removes an item from the archives as well.
//
// The channel's MaxItems and MaxItemsPerPartner do not apply. A page
// lists every item of its range, so no item pushes another out, and the
// items that the cap keeps out of the channel's feed stay reachable here.
// A page also stays the same when an operator changes the cap.
//
// NOTE: a page keeps an item that a later page updates. RFC 5005 readers
// take the newest entry per id.
func (h *handler) renderArchive(ctx context.Context, ch Channel, f format, pages archivePages, k uint64) (built, error) {
	from, to := pages.bounds(k)
	events, err := h.opts.Archive.Events(ctx, from, to)
	if err != nil {
		return built{}, fmt.Errorf("reading stream sequences %d to %d: %w", from, to, err)
	}
	v := NewView(len(events) + 1)
	var modified time.Time
	for _, ev := range events {
		v.Apply(ev)
		if ev.IngestedAt.After(modified) {
			modified = ev.IngestedAt
		}
	}
	stories := v.OwnedStories(h.opts.PartnerDomains, ch.Filter, 0, Filter{}, 0)
	stories = slices.DeleteFunc(stories, func(s Story) bool { return h.opts.View.Retracted(s.Item.ID) })
	entries := items(stories)
	m := h.meta(ch, f, feedQuery{})
	m.Copies = copiesMap(stories)
	m.SelfURL = h.archiveURL(ch, f, k)
	m.History = h.history(ch, f, pages, k)
	m.Updated = modified
	body, err := f.render(m, entries)
	if err != nil {
		return built{}, fmt.Errorf("rendering archive page %d of channel %q as %s: %w", k, ch.ID, f.ext, err)
	}
	return built{body: body, entries: len(entries), modified: modified, cacheControl: archiveCacheControl}, nil
}
