package pipeline

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/rss"
)

// imageCases are item HTML fragments for the image search: every branch
// of firstHTMLImage and the tree-building cases that move, drop or
// rename an img.
var imageCases = []string{
	"",
	"<p>No image at all.</p>",
	`<p>Text</p><p><img src="/img/1.jpg" alt="x" width="640"></p>`,
	`<IMG SRC='/a.png'><img src="/b.png">`,
	`<img alt="no source"><img src="/second.png">`,
	`<img/src=/self.png/>`,
	`<img src="/first.png" src="/second.png">`,
	`<img src="">`,
	`<img src=" /blank.png ">`,
	`<img src="/a.png?x=1&amp;y=2&lt;">`,
	`<!-- <img src="/comment.png"> --><img src="/after.png">`,
	`<image src="/renamed.png">`,
	`<table><td><img src="/cell.png"></td><img src="/fostered.png"></table>`,
	`<select><img src="/dropped.png"></select><img src="/kept.png">`,
	`<svg><img src="/breakout.png"></svg>`,
	`<math><mi><img src="/math.png"></mi></math>`,
	`<template><img src="/template.png"></template><img src="/body.png">`,
	`<noscript><img src="/noscript.png"></noscript><img src="/script.png">`,
	`<script>"<img src='/script.png'>"</script><img src="/real.png">`,
	`<textarea><img src="/text.png"></textarea>`,
	`<title><img src="/title.png"></title><img src="/x.png">`,
	`<frameset><img src="/frame.png"></frameset>`,
	`<b><p>one<img src="/misnested.png"></b>two</p><img src="/later.png">`,
	`<a><div><a><img src="/adopted.png"></a></div></a>`,
	`<b><i><u><img src="/deep.png"></b></i></u>`,
	`</br><img src="/after-br.png">`,
	`<img src="/zero` + "\x00" + `.png">`,
	"<img src=\"/\xff.png\">",
	`<imgx src="/not-img.png"><img2 src="/no.png">`,
	"<\u212Ag><img src=\"/kelvin.png\">",
	`<html><body></body></html><img src="/after-html.png">`,
	`<head><img src="/head.png"></head>`,
	`<plaintext><img src="/plain.png">`,
}

// defaultItemImage is the image gofeed's own RSS translator gives an item
// with this content and description: the reference for rssTranslator.
func defaultItemImage(t *testing.T, content, description string) *gofeed.Image {
	t.Helper()
	doc := &rss.Feed{Items: []*rss.Item{{Content: content, Description: description}}}
	out, err := (&gofeed.DefaultRSSTranslator{}).Translate(doc)
	if err != nil {
		t.Fatalf("translating one item: %v", err)
	}
	return out.Items[0].Image
}

func checkFirstHTMLImage(t *testing.T, document string) {
	t.Helper()
	want := defaultItemImage(t, document, "")
	if got := firstHTMLImage(document); !reflect.DeepEqual(got, want) {
		t.Fatalf("firstHTMLImage(%q) = %+v, want %+v", document, got, want)
	}
	if got := parsedFirstImage(document); !reflect.DeepEqual(got, want) {
		t.Fatalf("parsedFirstImage(%q) = %+v, want %+v", document, got, want)
	}
}

func TestFirstHTMLImageMatchesGofeed(t *testing.T) {
	for _, c := range imageCases {
		checkFirstHTMLImage(t, c)
	}
}

// checkTranslators translates an RSS document with gofeed's default
// translator and with rssTranslator and compares the feeds in full.
func checkTranslators(t *testing.T, name string, text []byte) {
	t.Helper()
	want, wantErr := gofeed.NewParser().Parse(bytes.NewReader(text))
	got, gotErr := newFeedParser().Parse(bytes.NewReader(text))
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("%s: error %v, want %v", name, gotErr, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: rssTranslator gives a different feed than gofeed's translator", name)
	}
}

func TestRSSTranslatorMatchesGofeed(t *testing.T) {
	for _, doc := range fastPathDocuments(t) {
		checkTranslators(t, doc.name, doc.body)
		// ParseFeed hands gofeed decoded and repaired text, which parses
		// in more cases than the raw bytes.
		dec, err := decodeToUTF8(doc.body, "", "")
		if err != nil {
			continue
		}
		repaired, _ := repairXML(dec.text)
		checkTranslators(t, doc.name+" repaired", repaired)
	}
}

// itemDocument returns an RSS document with one item of this content,
// description, media and enclosure markup, for comparing translators.
func itemDocument(content, description, extra string) []byte {
	var b bytes.Buffer
	b.WriteString(`<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"` +
		` xmlns:media="http://search.yahoo.com/mrss/" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"` +
		` xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>t</title><item><title>i</title>`)
	b.WriteString("<content:encoded><![CDATA[" + content + "]]></content:encoded>")
	if description != "" {
		b.WriteString("<description><![CDATA[" + description + "]]></description>")
	}
	b.WriteString(extra + "</item></channel></rss>")
	return b.Bytes()
}

var itemImageExtras = []string{
	"",
	`<itunes:image href="/itunes.png"/>`,
	`<itunes:image href=""/>`,
	`<media:content url="/media.png" medium="image"/>`,
	`<media:content url="/video.mp4" type="video/mp4"/>`,
	`<enclosure url="/enclosure.jpg" type="image/jpeg" length="1"/>`,
	`<enclosure url="/a.mp3" type="audio/mpeg" length="1"/><enclosure url="/b.png" type="image/png"/>`,
	`<enclosure url="/a.mp3" type="audio/mpeg" length="1"/>`,
	`<media:content medium="image"/><enclosure url="/c.png" type="image/png"/>`,
	`<media:thumbnail url="/thumb.png"/><media:group><media:content url="/g.png" type="image/png"/></media:group>`,
	`<itunes:image href="/i.png"/><media:content url="/m.png" type="image/png"/>`,
	`<dc:description>dublin core</dc:description>`,
	`<itunes:summary>summary</itunes:summary>`,
}

func TestRSSTranslatorItemImages(t *testing.T) {
	for _, extra := range itemImageExtras {
		for _, c := range imageCases {
			checkTranslators(t, extra+c, itemDocument(c, `<img src="/description.png">`, extra))
			checkTranslators(t, extra+c, itemDocument("", c, extra))
		}
	}
}

func FuzzFirstHTMLImage(f *testing.F) {
	for _, c := range imageCases {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, document string) {
		checkFirstHTMLImage(t, document)
	})
}

// FuzzRSSTranslator compares rssTranslator with gofeed's translator on a
// one-item document built from fuzzed content, description and item
// markup.
func FuzzRSSTranslator(f *testing.F) {
	for k, extra := range itemImageExtras {
		f.Add(imageCases[k%len(imageCases)], `<img src="/d.png">`, extra)
	}
	f.Fuzz(func(t *testing.T, content, description, extra string) {
		checkTranslators(t, "fuzz input", itemDocument(content, description, extra))
	})
}
