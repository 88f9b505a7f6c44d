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
// locale, with dates in the subscriber's time zone. When the HTML part
// would exceed MaxHTMLBytes it shows plain summaries instead of item
// content, and then leaves out the oldest items until it fits.
func Render(is Issue) (Rendered, error) {
	withContent := true
	for {
		out, err := render(is, withContent)
		if err != nil || len(out.HTML) <= MaxHTMLBytes {
			return out, err
		}
		switch {
		case withContent:
			withContent = false
		case len(is.Items) > 1:
			is.Items = is.Items[:len(is.Items)-1]
			is.More++
		default:
			return out, fmt.Errorf("rendering digest: one item alone exceeds %d bytes of HTML", MaxHTMLBytes)
		}
	}
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
		if len(it.Categories) > 0 && strings.TrimSpace(it.Categories[0]) != "" {
			return it.Categories[0]
		}
		return messagesFor(is.Subscriber.Locale).Other
	}
	if name := is.Partners[it.Partner]; name != "" {
		return name
	}
	return it.Partner
}

func toRenderItem(locale string, it pipeline.Item, loc *time.Location, withContent bool) renderItem {
	out := renderItem{
		Title:     it.Title,
		URL:       it.URL,
		Published: formatDateTime(locale, it.Published, loc),
		Summary:   it.Summary,
		Image:     it.Image,
	}
	// Both parts show the same text: the content when it fits, as HTML
	// and as its plain text, else the summary.
	switch {
	case withContent && it.Content != "":
		body, links := emailHTML(it.Content)
		out.Body, out.Links = htmltemplate.HTML(body), links
		out.Summary = textFromHTML(it.Content)
	case it.Summary != "":
		out.Body = htmltemplate.HTML("<p style=\"margin:0;\">" + htmltemplate.HTMLEscapeString(it.Summary) + "</p>")
	}
	return out
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
