//go:build ignore

// Generate writes pairs.json, the labelled near-duplicate pairs, from the
// hand-written texts in stories.json. The labels follow the labelling rules
// in docs/dedup.md. Run it from this folder:
//
//	go run generate.go
package main

import (
	"encoding/json"
	"fmt"
	"log"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

type story struct {
	ID    string               `json:"id"`
	Image string               `json:"image"`
	Texts map[string][2]string `json:"texts"`
}

type corpus struct {
	Stories   []story              `json:"stories"`
	Followups map[string][2]string `json:"followups"`
	Sources   map[string]string    `json:"sources"`
	Templates map[string][2]string `json:"templates"`
	Fills     []map[string]string  `json:"fills"`
}

// pairItem is one side of a pair, as a partner would publish it.
type pairItem struct {
	Partner    string    `json:"partner"`
	Language   string    `json:"language"`
	URL        string    `json:"url"`
	Title      string    `json:"title"`
	Body       string    `json:"body"`
	Image      string    `json:"image,omitempty"`
	Alternates []string  `json:"alternates,omitempty"`
	Published  time.Time `json:"published"`
}

type pair struct {
	ID       string   `json:"id"`
	Category string   `json:"category"`
	Label    string   `json:"label"`
	A        pairItem `json:"a"`
	B        pairItem `json:"b"`
}

var languages = []string{"en", "pl", "fr", "lt", "de"}

var base = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

func main() {
	data, err := os.ReadFile("stories.json")
	if err != nil {
		log.Fatal(err)
	}
	var c corpus
	if err := json.Unmarshal(data, &c); err != nil {
		log.Fatal(err)
	}
	var out []pair
	add := func(category, label string, a, b pairItem) {
		out = append(out, pair{ID: fmt.Sprintf("%s-%03d", category, len(out)), Category: category, Label: label, A: a, B: b})
	}
	for si, s := range c.Stories {
		addStoryPairs(c, si, s, add)
	}
	addTemplatePairs(c, add)
	addStockPairs(c, add)
	enc, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("pairs.json", append(enc, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(out), "pairs")
}

func original(s story, lang string, day int) pairItem {
	t := s.Texts[lang]
	return pairItem{
		Partner: "origin-" + lang, Language: lang,
		URL:   "https://origin-" + lang + ".example/news/" + s.ID,
		Title: t[0], Body: t[1], Image: s.Image,
		Published: base.Add(time.Duration(day) * 24 * time.Hour),
	}
}

func addStoryPairs(c corpus, si int, s story, add func(string, string, pairItem, pairItem)) {
	for _, lang := range languages {
		a := original(s, lang, si)
		rep := a
		rep.Partner, rep.URL = "copy-"+lang, "https://copy-"+lang+".example/"+s.ID+"?utm_source=feed"
		rep.Title = "Partner news: " + a.Title
		rep.Body = a.Body + "\n\n" + c.Sources[lang]
		rep.Image = ""
		rep.Published = a.Published.Add(3 * time.Hour)
		add("republished", "same", a, rep)

		short := rep
		short.Title = a.Title
		short.Body = dropLastSentence(a.Body)
		short.URL = "https://digest-" + lang + ".example/items/" + strconv.Itoa(si)
		add("shortened", "same", a, short)

		upd := a
		upd.URL = a.URL + "-update"
		upd.Body = bumpFirstNumber(a.Body)
		upd.Title = a.Title
		upd.Published = a.Published.Add(48 * time.Hour)
		add("update", "different", a, upd)
	}
	if si < 4 {
		for _, lang := range languages {
			a := original(s, lang, si)
			teaser := pairItem{
				Partner: "linker-" + lang, Language: lang,
				URL:   strings.Replace(a.URL, "https://origin", "https://ORIGIN", 1) + "?utm_medium=social&fbclid=x#more",
				Title: a.Title, Body: firstSentence(a.Body),
				Published: a.Published.Add(time.Hour),
			}
			add("same-link", "same", a, teaser)
		}
	}
	n := 0
	for i, la := range languages {
		for _, lb := range languages[i+1:] {
			a, b := original(s, la, si), original(s, lb, si)
			b.Published = a.Published.Add(5 * time.Hour)
			switch {
			case n < 6:
				add("translation-image", "same", a, b)
			default:
				b.Image = ""
				b.Alternates = []string{a.URL}
				add("translation-alternate", "same", a, b)
			}
			n++
		}
	}
	a, b := original(s, "en", si), original(s, "de", si)
	b.Image = ""
	add("translation-no-evidence", "same", a, b)

	f := c.Followups[s.ID]
	follow := pairItem{
		Partner: "origin-en", Language: "en", URL: "https://origin-en.example/news/" + s.ID + "-report",
		Title: f[0], Body: f[1], Published: base.Add(time.Duration(si+3) * 24 * time.Hour),
	}
	add("follow-up", "different", original(s, "en", si), follow)
	withImage := follow
	withImage.Image = s.Image
	add("follow-up", "different", original(s, "en", si), withImage)
	add("follow-up", "different", original(s, "pl", si), withImage)
}

func addTemplatePairs(c corpus, add func(string, string, pairItem, pairItem)) {
	for _, lang := range languages {
		tpl := c.Templates[lang]
		for i := range c.Fills {
			for j := i + 1; j < len(c.Fills); j++ {
				a, b := fillTemplate(tpl, c.Fills[i], lang, i), fillTemplate(tpl, c.Fills[j], lang, j)
				add("template", "different", a, b)
			}
		}
	}
}

func fillTemplate(tpl [2]string, fill map[string]string, lang string, k int) pairItem {
	r := make([]string, 0, 2*len(fill))
	for key, v := range fill {
		r = append(r, "{"+key+"}", v)
	}
	rep := strings.NewReplacer(r...)
	return pairItem{
		Partner: "cluster-" + lang, Language: lang,
		URL:   "https://cluster-" + lang + ".example/members/" + strconv.Itoa(k),
		Title: rep.Replace(tpl[0]), Body: rep.Replace(tpl[1]),
		Image:     "https://cluster-" + lang + ".example/logo.png",
		Published: base.Add(time.Duration(k) * 24 * time.Hour),
	}
}

// addStockPairs pairs different stories that share the partner's logo as
// their image: 40 across languages, 20 in one language.
func addStockPairs(c corpus, add func(string, string, pairItem, pairItem)) {
	logo := "https://partner.example/logo.png"
	n := len(c.Stories)
	for k := range 60 {
		s, o := c.Stories[k%n], c.Stories[(k+1+k/n)%n]
		la := languages[k%len(languages)]
		lb := languages[(k+1+k/len(languages))%len(languages)]
		if k >= 40 {
			lb = la
		}
		if la == lb && k < 40 {
			lb = languages[(k+2)%len(languages)]
		}
		a, b := original(s, la, k%7), original(o, lb, k%7)
		a.Image, b.Image = logo, logo
		b.Published = a.Published.Add(2 * time.Hour)
		add("stock-image", "different", a, b)
	}
}

var sentenceEnd = regexp.MustCompile(`[.!?]\s+`)

func dropLastSentence(text string) string {
	idx := sentenceEnd.FindAllStringIndex(text, -1)
	if len(idx) == 0 {
		return text
	}
	return text[:idx[len(idx)-1][0]+1]
}

func firstSentence(text string) string {
	if loc := sentenceEnd.FindStringIndex(text); loc != nil {
		return text[:loc[0]+1]
	}
	return text
}

var firstNumber = regexp.MustCompile(`\d+`)

// bumpFirstNumber changes the first number of a text by 7, as an update
// that moves a date or an amount does.
func bumpFirstNumber(text string) string {
	done := false
	return firstNumber.ReplaceAllStringFunc(text, func(m string) string {
		if done {
			return m
		}
		done = true
		v, _ := strconv.Atoi(m)
		return strconv.Itoa(v + 7)
	})
}
