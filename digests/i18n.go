package digests

import (
	"strconv"
	"strings"
	"time"
)

// messages is the fixed text of a digest in one locale.
type messages struct {
	Subject      string // built-in subject; {date} is the issue date
	Intro        string
	ReadMore     string
	Other        string // group of items without a category
	MoreItems    string // {n} is the number of items left out
	Footer       string
	Manage       string
	Unsubscribe  string
	ConfirmTitle string
	ConfirmBody  string
	ConfirmLink  string
	ConfirmNote  string
}

// catalog holds the messages of each locale in Locales.
var catalog = map[string]messages{
	"en": {
		Subject: "Partner news, {date}", Intro: "News from our partners since your last digest.",
		ReadMore: "Read more", Other: "Other news", MoreItems: "{n} more items are in the online feed.",
		Footer: "You receive this digest because you subscribed to it.", Manage: "Change your preferences",
		Unsubscribe:  "Unsubscribe",
		ConfirmTitle: "Confirm your subscription", ConfirmBody: "Someone, hopefully you, asked to receive this digest at this address.",
		ConfirmLink: "Confirm the subscription", ConfirmNote: "If it was not you, ignore this message: without confirmation nothing will be sent.",
	},
	"pl": {
		Subject: "Wiadomości partnerów, {date}", Intro: "Wiadomości od naszych partnerów od ostatniego przeglądu.",
		ReadMore: "Czytaj dalej", Other: "Pozostałe wiadomości", MoreItems: "Kolejne wiadomości ({n}) są w kanale online.",
		Footer: "Ten przegląd przychodzi, ponieważ adres zapisano na listę odbiorców.", Manage: "Zmień ustawienia",
		Unsubscribe:  "Wypisz się",
		ConfirmTitle: "Potwierdź subskrypcję", ConfirmBody: "Ktoś, miejmy nadzieję, że Ty, poprosił o wysyłanie tego przeglądu na ten adres.",
		ConfirmLink: "Potwierdź subskrypcję", ConfirmNote: "Jeśli to nie Ty, zignoruj tę wiadomość: bez potwierdzenia nic nie zostanie wysłane.",
	},
	"fr": {
		Subject: "Actualités des partenaires, {date}", Intro: "Les actualités de nos partenaires depuis votre dernier résumé.",
		ReadMore: "Lire la suite", Other: "Autres actualités", MoreItems: "{n} autres articles sont dans le flux en ligne.",
		Footer: "Vous recevez ce résumé parce que vous vous y êtes abonné.", Manage: "Modifier vos préférences",
		Unsubscribe:  "Se désabonner",
		ConfirmTitle: "Confirmez votre abonnement", ConfirmBody: "Quelqu'un, sans doute vous, a demandé à recevoir ce résumé à cette adresse.",
		ConfirmLink: "Confirmer l'abonnement", ConfirmNote: "Si ce n'était pas vous, ignorez ce message : sans confirmation, rien ne sera envoyé.",
	},
	"lt": {
		Subject: "Partnerių naujienos, {date}", Intro: "Mūsų partnerių naujienos nuo paskutinės apžvalgos.",
		ReadMore: "Skaityti toliau", Other: "Kitos naujienos", MoreItems: "Dar {n} naujienų rasite internetiniame sraute.",
		Footer: "Gaunate šią apžvalgą, nes ją užsisakėte.", Manage: "Keisti nustatymus",
		Unsubscribe:  "Atsisakyti",
		ConfirmTitle: "Patvirtinkite prenumeratą", ConfirmBody: "Kažkas, tikriausiai jūs, paprašė siųsti šią apžvalgą šiuo adresu.",
		ConfirmLink: "Patvirtinti prenumeratą", ConfirmNote: "Jei tai buvote ne jūs, nekreipkite dėmesio: be patvirtinimo nieko nebus išsiųsta.",
	},
	"de": {
		Subject: "Neuigkeiten der Partner, {date}", Intro: "Neuigkeiten unserer Partner seit Ihrem letzten Überblick.",
		ReadMore: "Weiterlesen", Other: "Weitere Neuigkeiten", MoreItems: "{n} weitere Beiträge finden Sie im Online-Feed.",
		Footer: "Sie erhalten diesen Überblick, weil Sie ihn abonniert haben.", Manage: "Einstellungen ändern",
		Unsubscribe:  "Abbestellen",
		ConfirmTitle: "Bestätigen Sie Ihr Abonnement", ConfirmBody: "Jemand, hoffentlich Sie, hat diesen Überblick für diese Adresse bestellt.",
		ConfirmLink: "Abonnement bestätigen", ConfirmNote: "Falls Sie das nicht waren, ignorieren Sie diese Nachricht: ohne Bestätigung wird nichts gesendet.",
	},
}

func messagesFor(locale string) messages {
	if m, ok := catalog[locale]; ok {
		return m
	}
	return catalog["en"]
}

// monthNames are the month names as they appear in a date: genitive in
// Polish and Lithuanian, as "7 grudnia 2026" and "gruodžio 7 d." need.
var monthNames = map[string][12]string{
	"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	"pl": {"stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia", "września", "października", "listopada", "grudnia"},
	"fr": {"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
	"lt": {"sausio", "vasario", "kovo", "balandžio", "gegužės", "birželio", "liepos", "rugpjūčio", "rugsėjo", "spalio", "lapkričio", "gruodžio"},
	"de": {"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"},
}

// formatDate writes the calendar date of t in loc as the locale writes it.
func formatDate(locale string, t time.Time, loc *time.Location) string {
	t = t.In(loc)
	names, ok := monthNames[locale]
	if !ok {
		locale, names = "en", monthNames["en"]
	}
	day, month, year := strconv.Itoa(t.Day()), names[t.Month()-1], strconv.Itoa(t.Year())
	switch locale {
	case "de":
		return day + ". " + month + " " + year
	case "lt":
		return year + " m. " + month + " " + day + " d."
	default:
		return day + " " + month + " " + year
	}
}

// formatDateTime writes date and 24-hour time of t in loc, with the zone
// abbreviation, which shows the offset in force across a DST change.
func formatDateTime(locale string, t time.Time, loc *time.Location) string {
	return formatDate(locale, t, loc) + ", " + t.In(loc).Format("15:04 MST")
}

func expand(text string, vars map[string]string) string {
	for k, v := range vars {
		text = strings.ReplaceAll(text, "{"+k+"}", v)
	}
	return text
}
