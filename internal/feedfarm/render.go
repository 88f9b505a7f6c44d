package feedfarm

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// vocabulary is the head of the word list item texts are drawn from.
// Common English words make the language detector see English, as it
// would for a real partner. contentWord extends the list with made-up
// words, so that, as in real news, two items share common words but
// rarely a run of rare ones, which is what near-duplicate detection
// looks for.
var vocabulary = strings.Fields(`
	chamber commerce export fair region members companies buyers training
	grant programme support business industry market workshop seminar
	network partners innovation digital energy transport food furniture
	wood metal textile design research university students jobs skills
	investment funding application deadline registration conference city
	council agency development cluster tourism health software logistics
	harbour railway airport bridge factory plant office hall meeting report
	survey growth sales prices costs orders customers suppliers contracts
	quality safety climate water waste recycling solar wind heating building
	school college course award prize competition festival exhibition visit
	delegation mission trade route border customs rules law tax insurance
	bank credit loan interest rate budget plan strategy project pilot test
	launch opening week month year spring summer autumn winter morning
	the a of and to in for on with at by from about new local regional
	national european small large young open free first next last annual`)

// functionWords are drawn for about a third of the words of a sentence.
var functionWords = strings.Fields(`the a of and to in for on with at by from is are was
	will has have this that it its as be their our`)

// syllables build the made-up words of contentWord.
var syllables = strings.Fields(`ban cor del fin gar hol ker lan mor nes par ros sal
	ten ver wil ant ber cal den est fal gen ist lor man ner ost pen rin ter`)

// contentWordCount is the size of the content vocabulary: large enough
// that a rare word names a story, as place and company names do.
const contentWordCount = 20000

// contentWord returns content word n: a listed word for small n, else a
// made-up word of two or three syllables.
func contentWord(n int) string {
	if n < len(vocabulary) {
		return vocabulary[n]
	}
	s := len(syllables)
	w := syllables[n%s] + syllables[(n/s)%s]
	if n >= s*s {
		w += syllables[(n/(s*s))%s]
	}
	return w
}

// item returns the RSS item numbered k of feed i. The same (i, k) always
// gives the same bytes, so a slid window repeats its known items exactly.
func (f *Farm) item(buf *bytes.Buffer, i, k int) {
	rng := rand.New(rand.NewPCG(uint64(i), uint64(k)))
	title := sentence(rng, 6+rng.IntN(5))
	published := f.epoch.Add(time.Duration(k) * time.Minute)
	host := fmt.Sprintf("partner%d.example", i/20)
	fmt.Fprintf(buf, "<item>\n<title>%s</title>\n", title)
	fmt.Fprintf(buf, "<link>https://%s/news/%d/%d?utm_source=rss&amp;utm_medium=feed</link>\n", host, i, k)
	fmt.Fprintf(buf, "<guid isPermaLink=\"false\">farm-%d-%d</guid>\n", i, k)
	fmt.Fprintf(buf, "<pubDate>%s</pubDate>\n", published.Format(time.RFC1123Z))
	fmt.Fprintf(buf, "<category>%s</category><category>%s</category>\n", word(rng), word(rng))
	buf.WriteString("<description><![CDATA[")
	for p := range 3 {
		buf.WriteString("<p>")
		for range 3 + rng.IntN(2) {
			buf.WriteString(sentence(rng, 8+rng.IntN(8)))
			buf.WriteByte(' ')
		}
		if p == 1 {
			fmt.Fprintf(buf, `<a href="/news/%d/%d/more?utm_campaign=x" onclick="track()">Read more</a>`, i, k)
		}
		buf.WriteString("</p>")
	}
	fmt.Fprintf(buf, `<p><img src="/img/%d-%d.jpg" alt="%s" width="640"></p>`, i, k, word(rng))
	buf.WriteString("]]></description>\n</item>\n")
}

// word draws a function word or a content word. Content words are drawn
// log-uniformly, so frequent words repeat across items and rare ones
// seldom do.
func word(rng *rand.Rand) string {
	if rng.IntN(3) == 0 {
		return functionWords[rng.IntN(len(functionWords))]
	}
	return contentWord(int(math.Exp(rng.Float64() * math.Log(contentWordCount))))
}

// sentence returns n words, capitalised and ending with a full stop.
func sentence(rng *rand.Rand, n int) string {
	var b strings.Builder
	for w := range n {
		if w > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(word(rng))
	}
	s := b.String()
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// render returns the RSS 2.0 document of feed i whose newest item is
// numbered top: items top down to top-items+1, newest first.
func (f *Farm) render(i, top int) []byte {
	var buf bytes.Buffer
	buf.Grow(f.o.Items * 1200)
	buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	buf.WriteString(`<rss version="2.0"><channel>` + "\n")
	fmt.Fprintf(&buf, "<title>Farm partner %d</title>\n", i)
	fmt.Fprintf(&buf, "<link>https://partner%d.example/</link>\n", i/20)
	buf.WriteString("<description>Synthetic partner news</description>\n<language>en</language>\n")
	for k := top; k > top-f.o.Items; k-- {
		f.item(&buf, i, k)
	}
	buf.WriteString("</channel></rss>\n")
	return buf.Bytes()
}
