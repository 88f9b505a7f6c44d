// Package feeds builds merged feeds from the item event stream and serves
// them as RSS 2.0, Atom 1.0 and JSON Feed 1.1.
//
// A View keeps the newest items of the stream in memory, one revision per
// item id. Channels select from the View with a Filter (partners, languages,
// categories, keywords), and a request may narrow a channel further with
// query parameters. Copies of one story are grouped into one entry that
// names the others as rel="via". RenderRSS, RenderAtom and RenderJSON turn
// a channel's entries into documents, and NewHandler serves them over HTTP
// with validators (ETag, Last-Modified), gzip and a render cache that
// bounds ad-hoc queries with an LRU list. The handler also serves RFC 5005
// archive pages read from the stream through an ArchiveSource, an OPML list
// and HTML pages in five languages. Hub is a WebSub hub for the channel
// feeds.
//
// The renderers use the exported document types of github.com/gorilla/feeds
// v1.2.0 where they fit. They fill in or replace the parts the library gets
// wrong; a comment at each spot explains why. Every text field is stripped of
// characters that XML 1.0 forbids before it is written, so one bad item can
// never make a merged document unparseable. The package returns errors and
// never logs, except in the HTTP handler and the hub, which log through the
// injected *slog.Logger.
package feeds
