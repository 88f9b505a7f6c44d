package digests

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/syndic-network/syndic/pipeline"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

var (
	htmlTemplates = htmltemplate.Must(htmltemplate.New("").Funcs(htmltemplate.FuncMap{
		"join": func(values []string) string { return strings.Join(values, ", ") },
	}).ParseFS(templateFS, "templates/*.html.tmpl"))
	textTemplates = texttemplate.Must(texttemplate.ParseFS(templateFS, "templates/*.txt.tmpl"))
)

// MaxHTMLBytes is the size limit of the HTML part before transfer
// encoding. Gmail clips a message whose HTML exceeds about 102 KB, hiding
// the footer with the unsubscribe link. Quoted-printable encoding adds
// "3D" after each "=" of the inline styles and a soft break every 76
// octets, about 10% here, so 90 KB of HTML stays under the clip.
const MaxHTMLBytes = 90_000

// Lengths in runes of the text one item shows. The pipeline cuts titles
// and summaries on ingest, but items stored before it did so stay in the
// stream for up to 35 days, so the digest cuts them again. One item with
// a 300,000-character title must not stop the digest.
const (
	// maxTitleRunes is the longest title and group heading. A headline
	// past 300 characters no longer reads as one, and its link leads to
	// the full text.
	maxTitleRunes = 300
	// maxSummaryRunes is above the pipeline's 500, so only summaries
	// stored before that limit are cut.
	maxSummaryRunes = 600
)

// Issue is everything one message of a digest shows.
type Issue struct {
	Subscriber *Subscriber
	// Subject is the configured subject for the subscriber's locale, or
	// "" for the built-in one.
	Subject string
	// GroupBy is "partner" or "category".
	GroupBy string
	// Partners maps partner ids to display names.
	Partners map[string]string
	// Items are the items to show, newest first, at most max_items.
	Items []pipeline.Item
	// More is the number of items left out beyond max_items.
	More int
	// Due is the send time of the period.
	Due            time.Time
	ChannelURL     string
	ManageURL      string
	UnsubscribeURL string
}

// Rendered is a message body in both parts.
type Rendered struct {
	Subject string
	HTML    string
	Text    string
	// Omitted are the items left out because the HTML of each, alone in
	// a message, exceeds MaxHTMLBytes. They count in the "more items"
	// line.
	Omitted []pipeline.Item
}

type renderItem struct {
	Title, URL, Published, Summary, Image string
	Body                                  htmltemplate.HTML
	Links                                 []string
}

type renderGroup struct {
	Name  string
	Items []renderItem
}

type renderData struct {
	Locale, Subject, MoreText string
	M                         messages
	Groups                    []renderGroup
	More                      int
	ChannelURL                string
	ManageURL                 string
	UnsubscribeURL            string
}

// Render builds subject, HTML and text of an issue in the subscriber's
// locale, with dates in the subscriber's time zone. Titles and summaries
// longer than maxTitleRunes and maxSummaryRunes are cut at a word. When
// the HTML part would exceed MaxHTMLBytes it shows plain summaries instead
// of item content, leaves out the items that cannot fit even alone (see
// Rendered.Omitted), and then leaves out the oldest items until it fits.
// With every item left out, the message shows only the "more items" line.
func Render(is Issue) (Rendered, error) {
	out, err := render(is, true)
	if err != nil || len(out.HTML) <= MaxHTMLBytes {
		return out, err
	}
	is, omitted, err := leaveOutUnfit(is)
	if err != nil {
		return Rendered{}, err
	}
	for {
		out, err := render(is, false)
		if err != nil {
			return out, err
		}
		if len(out.HTML) <= MaxHTMLBytes || len(is.Items) == 0 {
			out.Omitted = omitted
			return out, nil
		}
		is.Items = is.Items[:len(is.Items)-1]
		is.More++
	}
}

// leaveOutUnfit returns is without the items whose HTML alone, as a
// summary with the "more items" line, exceeds MaxHTMLBytes, and those
// items. Such an item has a link, image URL or partner name too long for
// a message, none of which can be cut.
func leaveOutUnfit(is Issue) (Issue, []pipeline.Item, error) {
	var fitting, omitted []pipeline.Item
	for _, it := range is.Items {
		alone := is
		alone.Items, alone.More = []pipeline.Item{it}, is.More+1
		out, err := render(alone, false)
		if err != nil {
			return is, nil, err
		}
		if len(out.HTML) > MaxHTMLBytes {
			omitted = append(omitted, it)
			continue
		}
		fitting = append(fitting, it)
	}
	is.Items, is.More = fitting, is.More+len(omitted)
	return is, omitted, nil
}

func render(is Issue, withContent bool) (Rendered, error) {
	s := is.Subscriber
	loc := s.Location()
	m := messagesFor(s.Locale)
	subject := is.Subject
	if subject == "" {
		subject = m.Subject
	}
	subject = expand(subject, map[string]string{"date": formatDate(s.Locale, is.Due, loc)})
	data := renderData{
		Locale: s.Locale, Subject: subject, M: m,
		Groups: groupItems(is, loc, withContent), More: is.More,
		MoreText:   expand(m.MoreItems, map[string]string{"n": strconv.Itoa(is.More)}),
		ChannelURL: is.ChannelURL, ManageURL: is.ManageURL, UnsubscribeURL: is.UnsubscribeURL,
	}
	var html, text bytes.Buffer
	if err := htmlTemplates.ExecuteTemplate(&html, "digest.html.tmpl", data); err != nil {
		return Rendered{}, fmt.Errorf("rendering digest HTML: %w", err)
	}
	if err := textTemplates.ExecuteTemplate(&text, "digest.txt.tmpl", data); err != nil {
		return Rendered{}, fmt.Errorf("rendering digest text: %w", err)
	}
	return Rendered{Subject: subject, HTML: html.String(), Text: text.String()}, nil
}

// groupItems groups the items by partner name or first category, keeping
// the order in which each group first appears, so the newest item's group
// comes first.
func groupItems(is Issue, loc *time.Location, withContent bool) []renderGroup {
	var groups []renderGroup
	index := map[string]int{}
	for _, it := range is.Items {
		name := groupName(is, it)
		i, ok := index[name]
		if !ok {
			i = len(groups)
			index[name] = i
			groups = append(groups, renderGroup{Name: name})
		}
		groups[i].Items = append(groups[i].Items, toRenderItem(is.Subscriber.Locale, it, loc, withContent))
	}
	return groups
}

func groupName(is Issue, it pipeline.Item) string {
	if is.GroupBy == "category" {
		if len(it.Categories) > 0 {
			if name := strings.TrimSpace(pipeline.StripControls(it.Categories[0])); name != "" {
				return cutText(name, maxTitleRunes)
			}
		}
		return messagesFor(is.Subscriber.Locale).Other
	}
	if name := is.Partners[it.Partner]; name != "" {
		return name
	}
	return it.Partner
}

// toRenderItem removes the controls of pipeline.StripControls from the
// item's text again, because events stored before the pipeline removed
// them still contain them, and escapes them in its URLs.
func toRenderItem(locale string, it pipeline.Item, loc *time.Location, withContent bool) renderItem {
	it.Content = pipeline.StripControls(it.Content)
	out := renderItem{
		Title:     cutText(pipeline.StripControls(it.Title), maxTitleRunes),
		URL:       pipeline.EscapeControls(it.URL),
		Published: formatDateTime(locale, it.Published, loc),
		Summary:   cutText(pipeline.StripControls(it.Summary), maxSummaryRunes),
		Image:     pipeline.EscapeControls(it.Image),
	}
	// Both parts show the same text: the content when it fits, as HTML
	// and as its plain text, else the summary.
	switch {
	case withContent && it.Content != "":
		body, links := emailHTML(it.Content)
		out.Body, out.Links = htmltemplate.HTML(body), links
		out.Summary = textFromHTML(it.Content)
	case out.Summary != "":
		out.Body = htmltemplate.HTML("<p style=\"margin:0;\">" + htmltemplate.HTMLEscapeString(out.Summary) + "</p>")
	}
	return out
}

// cutText returns s shortened to at most limit runes, an ellipsis
// included. The cut falls after the last whole word, unless that would
// drop more than half of the text kept, as in a title without spaces.
func cutText(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	end := 0
	for range limit - 1 {
		_, size := utf8.DecodeRuneInString(s[end:])
		end += size
	}
	head := s[:end]
	if next, _ := utf8.DecodeRuneInString(s[end:]); !unicode.IsSpace(next) {
		if i := strings.LastIndexFunc(head, unicode.IsSpace); i > len(head)/2 {
			head = head[:i]
		}
	}
	return strings.TrimRightFunc(head, unicode.IsSpace) + "…"
}

// RenderConfirmation builds the double opt-in message in locale.
func RenderConfirmation(locale, confirmURL string) (Rendered, error) {
	m := messagesFor(locale)
	data := struct {
		Locale, ConfirmURL string
		M                  messages
	}{locale, confirmURL, m}
	var html, text bytes.Buffer
	if err := htmlTemplates.ExecuteTemplate(&html, "confirm.html.tmpl", data); err != nil {
		return Rendered{}, fmt.Errorf("rendering confirmation HTML: %w", err)
	}
	if err := textTemplates.ExecuteTemplate(&text, "confirm.txt.tmpl", data); err != nil {
		return Rendered{}, fmt.Errorf("rendering confirmation text: %w", err)
	}
	return Rendered{Subject: m.ConfirmTitle, HTML: html.String(), Text: text.String()}, nil
}
