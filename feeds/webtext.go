package feeds

import (
	"golang.org/x/text/language"
)

// pageText is the fixed wording of the HTML pages in one language.
type pageText struct {
	// Lang is the BCP 47 tag of the wording, for <html lang> and
	// Content-Language.
	Lang          string
	SiteTitle     string
	Intro         string
	Channels      string
	Subscribe     string
	OPML          string
	DigestSignUp  string
	LatestItems   string
	NoItems       string
	Source        string
	Language      string
	Published     string
	ReadOriginal  string
	AllChannels   string
	ItemsInFilter string
	AlsoFrom      string
}

// pageTexts are the supported page languages. The first entry is the
// fallback for readers whose Accept-Language names none of them.
var pageTexts = []pageText{
	{
		Lang:          "en",
		SiteTitle:     "Merged partner news",
		Intro:         "News from our partner organisations, merged into feeds you can follow in any feed reader.",
		Channels:      "Channels",
		Subscribe:     "Subscribe",
		OPML:          "All feeds as OPML",
		DigestSignUp:  "Get an e-mail digest",
		LatestItems:   "Latest items",
		NoItems:       "No items yet.",
		Source:        "Source",
		Language:      "Language",
		Published:     "Published",
		ReadOriginal:  "Read on the partner's site",
		AllChannels:   "All channels",
		ItemsInFilter: "Items matching your filter",
		AlsoFrom:      "Also published by",
	},
	{
		Lang:          "pl",
		SiteTitle:     "Połączone wiadomości partnerów",
		Intro:         "Wiadomości od organizacji partnerskich, połączone w kanały, które można śledzić w dowolnym czytniku.",
		Channels:      "Kanały",
		Subscribe:     "Subskrybuj",
		OPML:          "Wszystkie kanały jako OPML",
		DigestSignUp:  "Zamów przegląd e-mailem",
		LatestItems:   "Najnowsze wiadomości",
		NoItems:       "Brak wiadomości.",
		Source:        "Źródło",
		Language:      "Język",
		Published:     "Opublikowano",
		ReadOriginal:  "Czytaj na stronie partnera",
		AllChannels:   "Wszystkie kanały",
		ItemsInFilter: "Wiadomości zgodne z filtrem",
		AlsoFrom:      "Opublikowali także",
	},
	{
		Lang:          "fr",
		SiteTitle:     "Actualités réunies des partenaires",
		Intro:         "Les actualités de nos organisations partenaires, réunies en flux à suivre dans n'importe quel lecteur.",
		Channels:      "Canaux",
		Subscribe:     "S'abonner",
		OPML:          "Tous les flux en OPML",
		DigestSignUp:  "Recevoir un résumé par e-mail",
		LatestItems:   "Derniers articles",
		NoItems:       "Aucun article pour le moment.",
		Source:        "Source",
		Language:      "Langue",
		Published:     "Publié le",
		ReadOriginal:  "Lire sur le site du partenaire",
		AllChannels:   "Tous les canaux",
		ItemsInFilter: "Articles correspondant à votre filtre",
		AlsoFrom:      "Également publié par",
	},
	{
		Lang:          "lt",
		SiteTitle:     "Sujungtos partnerių naujienos",
		Intro:         "Partnerių organizacijų naujienos, sujungtos į kanalus, kuriuos galite sekti bet kurioje skaityklėje.",
		Channels:      "Kanalai",
		Subscribe:     "Prenumeruoti",
		OPML:          "Visi kanalai OPML formatu",
		DigestSignUp:  "Gauti santrauką el. paštu",
		LatestItems:   "Naujausi įrašai",
		NoItems:       "Įrašų dar nėra.",
		Source:        "Šaltinis",
		Language:      "Kalba",
		Published:     "Paskelbta",
		ReadOriginal:  "Skaityti partnerio svetainėje",
		AllChannels:   "Visi kanalai",
		ItemsInFilter: "Filtrą atitinkantys įrašai",
		AlsoFrom:      "Taip pat paskelbė",
	},
	{
		Lang:          "de",
		SiteTitle:     "Zusammengeführte Partnernachrichten",
		Intro:         "Nachrichten unserer Partnerorganisationen, zusammengeführt zu Feeds für jeden Feedreader.",
		Channels:      "Kanäle",
		Subscribe:     "Abonnieren",
		OPML:          "Alle Feeds als OPML",
		DigestSignUp:  "E-Mail-Zusammenfassung bestellen",
		LatestItems:   "Neueste Beiträge",
		NoItems:       "Noch keine Beiträge.",
		Source:        "Quelle",
		Language:      "Sprache",
		Published:     "Veröffentlicht",
		ReadOriginal:  "Auf der Seite des Partners lesen",
		AllChannels:   "Alle Kanäle",
		ItemsInFilter: "Beiträge, die Ihrem Filter entsprechen",
		AlsoFrom:      "Auch veröffentlicht von",
	},
}

// pageLanguages matches Accept-Language against the page languages, in the
// order of pageTexts. A Matcher is safe for concurrent use.
var pageLanguages = language.NewMatcher(func() []language.Tag {
	tags := make([]language.Tag, len(pageTexts))
	for i, t := range pageTexts {
		tags[i] = language.MustParse(t.Lang)
	}
	return tags
}())

// textFor returns the wording that best fits an Accept-Language header,
// and English when the header is empty, invalid or names no supported
// language.
func textFor(acceptLanguage string) pageText {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return pageTexts[0]
	}
	_, index, confidence := pageLanguages.Match(tags...)
	if confidence == language.No {
		return pageTexts[0]
	}
	return pageTexts[index]
}
