package digests

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"golang.org/x/text/language"
)

// pageText is the fixed wording of the sign-up, confirmation, preference
// and unsubscribe pages in one language. The mail itself uses messages.
type pageText struct {
	// Lang is the locale code of the wording, for <html lang> and
	// Content-Language.
	Lang string

	IndexTitle, IndexMessage string

	SubscribeTitle, SubscribeButton     string
	ConfirmTitle, ConfirmButton         string
	UnsubscribeTitle, UnsubscribeButton string
	PrefsTitle, SaveButton              string

	// Form labels.
	EmailLabel, LocaleLabel, TimeZoneLabel         string
	PartnersLabel, LanguagesLabel, CategoriesLabel string

	CheckInboxTitle, CheckInbox     string
	ConfirmedTitle, Confirmed       string
	UnsubscribedTitle, Unsubscribed string
	SavedTitle, Saved               string

	NotFoundTitle, NoDigest                 string // {digest} is the digest id
	FormTooLargeTitle, FormTooLarge         string
	InvalidRequestTitle, Unreadable         string
	CheckFormTitle, InvalidField            string // InvalidField: a field without its own message
	TooManyTitle, TooMany                   string
	LaterTitle, SignUpFailed                string
	RequestFailed                           string
	InvalidLinkTitle, NoToken               string
	DamagedLink                             string
	ExpiredTitle, Expired                   string
	SubscriptionGoneTitle, SubscriptionGone string
	InvalidEmail, InvalidLocale             string
	InvalidTimeZone, InvalidLanguage        string
	InvalidPartner, InvalidCategory         string
}

// pageTexts holds the page wording of each locale in Locales. The
// limits named in InvalidLanguage and InvalidCategory are maxFilterValues
// and maxCategoryRunes.
var pageTexts = map[string]pageText{
	"en": {
		Lang:       "en",
		IndexTitle: "Email digests", IndexMessage: "Choose a digest to subscribe to.",
		SubscribeTitle: "Subscribe to the digest", SubscribeButton: "Subscribe",
		ConfirmTitle: "Confirm your subscription", ConfirmButton: "Confirm",
		UnsubscribeTitle: "Unsubscribe", UnsubscribeButton: "Unsubscribe",
		PrefsTitle: "Digest preferences", SaveButton: "Save",
		EmailLabel: "Email address", LocaleLabel: "Language of the digest", TimeZoneLabel: "Time zone (IANA name)",
		PartnersLabel:   "Partners (none selected: all)",
		LanguagesLabel:  "Languages of the items, comma-separated (empty: all)",
		CategoriesLabel: "Categories, comma-separated (empty: all)",
		CheckInboxTitle: "Check your inbox", CheckInbox: "Unless the address is already subscribed, it will receive a link to confirm the subscription.",
		ConfirmedTitle: "Subscription confirmed", Confirmed: "The first digest will contain news from now on.",
		UnsubscribedTitle: "Unsubscribed", Unsubscribed: "You will receive no more digests. Your address was deleted.",
		SavedTitle: "Preferences saved", Saved: "The next digest follows your new preferences.",
		NotFoundTitle: "Not found", NoDigest: "There is no digest {digest}.",
		FormTooLargeTitle: "Form too large", FormTooLarge: "The form is larger than a sign-up can be. Enter fewer categories.",
		InvalidRequestTitle: "Invalid request", Unreadable: "The form could not be read.",
		CheckFormTitle: "Please check the form", InvalidField: "One of the entries is invalid.",
		TooManyTitle: "Too many requests", TooMany: "Please try again later.",
		LaterTitle: "Try again later", SignUpFailed: "The sign-up could not be completed.",
		RequestFailed:    "The request could not be completed.",
		InvalidLinkTitle: "Invalid link", NoToken: "The link has no token. Copy the whole link from the message.",
		DamagedLink:  "The link is damaged. Copy the whole link from the message.",
		ExpiredTitle: "Link expired", Expired: "The link has expired. Sign up again to get a new one.",
		SubscriptionGoneTitle: "Subscription not found", SubscriptionGone: "The subscription expired unconfirmed or was removed. Sign up again.",
		InvalidEmail:    "Enter a single address such as name@example.org, in ASCII characters and without a name.",
		InvalidLocale:   "Choose one of the offered languages.",
		InvalidTimeZone: "Enter an IANA time zone such as Europe/London.",
		InvalidLanguage: "Enter at most 50 language tags such as pl or en-GB.",
		InvalidPartner:  "Choose partners from the list.",
		InvalidCategory: "Enter at most 50 categories of up to 100 characters each.",
	},
	"pl": {
		Lang:       "pl",
		IndexTitle: "Przeglądy e-mailowe", IndexMessage: "Proszę wybrać przegląd do subskrypcji.",
		SubscribeTitle: "Subskrypcja przeglądu", SubscribeButton: "Subskrybuj",
		ConfirmTitle: "Potwierdzenie subskrypcji", ConfirmButton: "Potwierdź",
		UnsubscribeTitle: "Rezygnacja z subskrypcji", UnsubscribeButton: "Zrezygnuj",
		PrefsTitle: "Ustawienia przeglądu", SaveButton: "Zapisz",
		EmailLabel: "Adres e-mail", LocaleLabel: "Język przeglądu", TimeZoneLabel: "Strefa czasowa (nazwa IANA)",
		PartnersLabel:   "Partnerzy (brak wyboru: wszyscy)",
		LanguagesLabel:  "Języki wiadomości, oddzielone przecinkami (puste: wszystkie)",
		CategoriesLabel: "Kategorie, oddzielone przecinkami (puste: wszystkie)",
		CheckInboxTitle: "Proszę sprawdzić skrzynkę pocztową", CheckInbox: "Jeśli adres nie jest jeszcze zapisany, otrzyma link do potwierdzenia subskrypcji.",
		ConfirmedTitle: "Subskrypcja potwierdzona", Confirmed: "Pierwszy przegląd obejmie wiadomości od tej chwili.",
		UnsubscribedTitle: "Subskrypcja anulowana", Unsubscribed: "Przeglądy nie będą już wysyłane. Adres został usunięty.",
		SavedTitle: "Ustawienia zapisane", Saved: "Kolejny przegląd uwzględni nowe ustawienia.",
		NotFoundTitle: "Nie znaleziono", NoDigest: "Przegląd {digest} nie istnieje.",
		FormTooLargeTitle: "Formularz jest za duży", FormTooLarge: "Formularz przekracza dopuszczalny rozmiar. Proszę podać mniej kategorii.",
		InvalidRequestTitle: "Nieprawidłowe żądanie", Unreadable: "Nie udało się odczytać formularza.",
		CheckFormTitle: "Proszę sprawdzić formularz", InvalidField: "Jedno z pól zawiera nieprawidłową wartość.",
		TooManyTitle: "Zbyt wiele żądań", TooMany: "Proszę spróbować ponownie później.",
		LaterTitle: "Proszę spróbować później", SignUpFailed: "Nie udało się dokończyć zapisu.",
		RequestFailed:    "Nie udało się zrealizować żądania.",
		InvalidLinkTitle: "Nieprawidłowy link", NoToken: "Link nie zawiera tokenu. Proszę skopiować cały link z wiadomości.",
		DamagedLink:  "Link jest uszkodzony. Proszę skopiować cały link z wiadomości.",
		ExpiredTitle: "Link wygasł", Expired: "Link stracił ważność. Aby otrzymać nowy, proszę zapisać się ponownie.",
		SubscriptionGoneTitle: "Nie znaleziono subskrypcji", SubscriptionGone: "Subskrypcja wygasła bez potwierdzenia lub została usunięta. Proszę zapisać się ponownie.",
		InvalidEmail:    "Proszę podać jeden adres, np. nazwa@example.org, złożony ze znaków ASCII, bez nazwy odbiorcy.",
		InvalidLocale:   "Proszę wybrać jeden z dostępnych języków.",
		InvalidTimeZone: "Proszę podać strefę czasową IANA, np. Europe/Warsaw.",
		InvalidLanguage: "Proszę podać najwyżej 50 kodów języków, np. pl lub en-GB.",
		InvalidPartner:  "Proszę wybrać partnerów z listy.",
		InvalidCategory: "Proszę podać najwyżej 50 kategorii, każdą do 100 znaków.",
	},
	"fr": {
		Lang:       "fr",
		IndexTitle: "Résumés par e-mail", IndexMessage: "Choisissez le résumé auquel vous souhaitez vous abonner.",
		SubscribeTitle: "Abonnement au résumé", SubscribeButton: "S'abonner",
		ConfirmTitle: "Confirmez votre abonnement", ConfirmButton: "Confirmer",
		UnsubscribeTitle: "Désabonnement", UnsubscribeButton: "Se désabonner",
		PrefsTitle: "Préférences du résumé", SaveButton: "Enregistrer",
		EmailLabel: "Adresse e-mail", LocaleLabel: "Langue du résumé", TimeZoneLabel: "Fuseau horaire (nom IANA)",
		PartnersLabel:   "Partenaires (aucune sélection : tous)",
		LanguagesLabel:  "Langues des articles, séparées par des virgules (vide : toutes)",
		CategoriesLabel: "Catégories, séparées par des virgules (vide : toutes)",
		CheckInboxTitle: "Consultez votre boîte de réception", CheckInbox: "Sauf si l'adresse est déjà abonnée, elle recevra un lien pour confirmer l'abonnement.",
		ConfirmedTitle: "Abonnement confirmé", Confirmed: "Le premier résumé contiendra les actualités publiées à partir de maintenant.",
		UnsubscribedTitle: "Désabonnement effectué", Unsubscribed: "Vous ne recevrez plus de résumés. Votre adresse a été supprimée.",
		SavedTitle: "Préférences enregistrées", Saved: "Le prochain résumé suivra vos nouvelles préférences.",
		NotFoundTitle: "Introuvable", NoDigest: "Le résumé {digest} n'existe pas.",
		FormTooLargeTitle: "Formulaire trop volumineux", FormTooLarge: "Le formulaire dépasse la taille autorisée. Indiquez moins de catégories.",
		InvalidRequestTitle: "Requête invalide", Unreadable: "Le formulaire n'a pas pu être lu.",
		CheckFormTitle: "Veuillez vérifier le formulaire", InvalidField: "L'une des valeurs saisies est invalide.",
		TooManyTitle: "Trop de demandes", TooMany: "Veuillez réessayer plus tard.",
		LaterTitle: "Réessayez plus tard", SignUpFailed: "L'inscription n'a pas pu aboutir.",
		RequestFailed:    "La demande n'a pas pu aboutir.",
		InvalidLinkTitle: "Lien invalide", NoToken: "Le lien ne contient pas de jeton. Copiez le lien complet depuis le message.",
		DamagedLink:  "Le lien est endommagé. Copiez le lien complet depuis le message.",
		ExpiredTitle: "Lien expiré", Expired: "Le lien a expiré. Inscrivez-vous à nouveau pour en recevoir un nouveau.",
		SubscriptionGoneTitle: "Abonnement introuvable", SubscriptionGone: "L'abonnement a expiré sans confirmation ou a été supprimé. Veuillez vous réinscrire.",
		InvalidEmail:    "Indiquez une seule adresse, par exemple nom@example.org, en caractères ASCII et sans nom.",
		InvalidLocale:   "Choisissez l'une des langues proposées.",
		InvalidTimeZone: "Indiquez un fuseau horaire IANA, par exemple Europe/Paris.",
		InvalidLanguage: "Indiquez au plus 50 codes de langue, par exemple fr ou en-GB.",
		InvalidPartner:  "Choisissez des partenaires dans la liste.",
		InvalidCategory: "Indiquez au plus 50 catégories de 100 caractères au maximum chacune.",
	},
	"lt": {
		Lang:       "lt",
		IndexTitle: "Apžvalgos el. paštu", IndexMessage: "Pasirinkite apžvalgą, kurią norite užsisakyti.",
		SubscribeTitle: "Apžvalgos prenumerata", SubscribeButton: "Užsisakyti",
		ConfirmTitle: "Patvirtinkite prenumeratą", ConfirmButton: "Patvirtinti",
		UnsubscribeTitle: "Prenumeratos atsisakymas", UnsubscribeButton: "Atsisakyti",
		PrefsTitle: "Apžvalgos nustatymai", SaveButton: "Išsaugoti",
		EmailLabel: "El. pašto adresas", LocaleLabel: "Apžvalgos kalba", TimeZoneLabel: "Laiko juosta (IANA pavadinimas)",
		PartnersLabel:   "Partneriai (nieko nepasirinkus – visi)",
		LanguagesLabel:  "Naujienų kalbos, atskirtos kableliais (tuščia – visos)",
		CategoriesLabel: "Kategorijos, atskirtos kableliais (tuščia – visos)",
		CheckInboxTitle: "Patikrinkite pašto dėžutę", CheckInbox: "Jei šis adresas dar neužsakė apžvalgos, į jį bus išsiųsta nuoroda prenumeratai patvirtinti.",
		ConfirmedTitle: "Prenumerata patvirtinta", Confirmed: "Pirmoje apžvalgoje bus naujienos nuo šios akimirkos.",
		UnsubscribedTitle: "Prenumeratos atsisakyta", Unsubscribed: "Apžvalgų daugiau negausite. Jūsų adresas ištrintas.",
		SavedTitle: "Nustatymai išsaugoti", Saved: "Kita apžvalga bus parengta pagal naujus nustatymus.",
		NotFoundTitle: "Nerasta", NoDigest: "Apžvalgos {digest} nėra.",
		FormTooLargeTitle: "Forma per didelė", FormTooLarge: "Forma viršija leistiną dydį. Nurodykite mažiau kategorijų.",
		InvalidRequestTitle: "Neteisinga užklausa", Unreadable: "Formos nepavyko perskaityti.",
		CheckFormTitle: "Patikrinkite formą", InvalidField: "Viena iš įvestų reikšmių neteisinga.",
		TooManyTitle: "Per daug užklausų", TooMany: "Bandykite dar kartą vėliau.",
		LaterTitle: "Bandykite vėliau", SignUpFailed: "Užsakymo užbaigti nepavyko.",
		RequestFailed:    "Užklausos įvykdyti nepavyko.",
		InvalidLinkTitle: "Neteisinga nuoroda", NoToken: "Nuorodoje nėra žetono. Nukopijuokite visą nuorodą iš laiško.",
		DamagedLink:  "Nuoroda sugadinta. Nukopijuokite visą nuorodą iš laiško.",
		ExpiredTitle: "Nuoroda nebegalioja", Expired: "Nuorodos galiojimas baigėsi. Užsisakykite iš naujo ir gausite naują nuorodą.",
		SubscriptionGoneTitle: "Prenumerata nerasta", SubscriptionGone: "Prenumerata nebuvo laiku patvirtinta arba buvo pašalinta. Užsisakykite iš naujo.",
		InvalidEmail:    "Nurodykite vieną adresą, pvz., vardas@example.org, ASCII simboliais ir be vardo.",
		InvalidLocale:   "Pasirinkite vieną iš siūlomų kalbų.",
		InvalidTimeZone: "Nurodykite IANA laiko juostą, pvz., Europe/Vilnius.",
		InvalidLanguage: "Nurodykite ne daugiau kaip 50 kalbų kodų, pvz., lt arba en-GB.",
		InvalidPartner:  "Pasirinkite partnerius iš sąrašo.",
		InvalidCategory: "Nurodykite ne daugiau kaip 50 kategorijų, kiekvieną iki 100 simbolių.",
	},
	"de": {
		Lang:       "de",
		IndexTitle: "Überblicke per E-Mail", IndexMessage: "Wählen Sie den Überblick, den Sie abonnieren möchten.",
		SubscribeTitle: "Überblick abonnieren", SubscribeButton: "Abonnieren",
		ConfirmTitle: "Bestätigen Sie Ihr Abonnement", ConfirmButton: "Bestätigen",
		UnsubscribeTitle: "Abonnement abbestellen", UnsubscribeButton: "Abbestellen",
		PrefsTitle: "Einstellungen des Überblicks", SaveButton: "Speichern",
		EmailLabel: "E-Mail-Adresse", LocaleLabel: "Sprache des Überblicks", TimeZoneLabel: "Zeitzone (IANA-Name)",
		PartnersLabel:   "Partner (keine Auswahl: alle)",
		LanguagesLabel:  "Sprachen der Beiträge, durch Kommas getrennt (leer: alle)",
		CategoriesLabel: "Kategorien, durch Kommas getrennt (leer: alle)",
		CheckInboxTitle: "Bitte prüfen Sie Ihr Postfach", CheckInbox: "Sofern die Adresse noch nicht angemeldet ist, erhält sie einen Link zur Bestätigung des Abonnements.",
		ConfirmedTitle: "Abonnement bestätigt", Confirmed: "Der erste Überblick enthält die Neuigkeiten ab diesem Zeitpunkt.",
		UnsubscribedTitle: "Abbestellt", Unsubscribed: "Sie erhalten keine Überblicke mehr. Ihre Adresse wurde gelöscht.",
		SavedTitle: "Einstellungen gespeichert", Saved: "Der nächste Überblick berücksichtigt Ihre neuen Einstellungen.",
		NotFoundTitle: "Nicht gefunden", NoDigest: "Den Überblick {digest} gibt es nicht.",
		FormTooLargeTitle: "Formular zu groß", FormTooLarge: "Das Formular überschreitet die zulässige Größe. Bitte geben Sie weniger Kategorien an.",
		InvalidRequestTitle: "Ungültige Anfrage", Unreadable: "Das Formular konnte nicht gelesen werden.",
		CheckFormTitle: "Bitte prüfen Sie das Formular", InvalidField: "Eine der Angaben ist ungültig.",
		TooManyTitle: "Zu viele Anfragen", TooMany: "Bitte versuchen Sie es später erneut.",
		LaterTitle: "Bitte später erneut versuchen", SignUpFailed: "Die Anmeldung konnte nicht abgeschlossen werden.",
		RequestFailed:    "Die Anfrage konnte nicht abgeschlossen werden.",
		InvalidLinkTitle: "Ungültiger Link", NoToken: "Der Link enthält kein Token. Bitte kopieren Sie den vollständigen Link aus der Nachricht.",
		DamagedLink:  "Der Link ist beschädigt. Bitte kopieren Sie den vollständigen Link aus der Nachricht.",
		ExpiredTitle: "Link abgelaufen", Expired: "Der Link ist abgelaufen. Bitte melden Sie sich erneut an, um einen neuen zu erhalten.",
		SubscriptionGoneTitle: "Abonnement nicht gefunden", SubscriptionGone: "Das Abonnement ist unbestätigt abgelaufen oder wurde entfernt. Bitte melden Sie sich erneut an.",
		InvalidEmail:    "Bitte geben Sie eine einzelne Adresse wie name@example.org in ASCII-Zeichen und ohne Namen an.",
		InvalidLocale:   "Bitte wählen Sie eine der angebotenen Sprachen.",
		InvalidTimeZone: "Bitte geben Sie eine IANA-Zeitzone wie Europe/Berlin an.",
		InvalidLanguage: "Bitte geben Sie höchstens 50 Sprachcodes wie de oder en-GB an.",
		InvalidPartner:  "Bitte wählen Sie Partner aus der Liste.",
		InvalidCategory: "Bitte geben Sie höchstens 50 Kategorien mit je höchstens 100 Zeichen an.",
	},
}

// localeNames are the names of the digest languages in the languages
// themselves, so a reader finds their own on a page in any language.
var localeNames = map[string]string{
	"en": "English", "pl": "Polski", "fr": "Français", "lt": "Lietuvių", "de": "Deutsch",
}

// localeOption is one entry of the language menu of a form.
type localeOption struct{ Code, Name string }

func localeOptions() []localeOption {
	out := make([]localeOption, len(Locales))
	for i, code := range Locales {
		out[i] = localeOption{Code: code, Name: localeNames[code]}
	}
	return out
}

// pageMatcher matches requested languages against Locales, whose first
// entry, English, is the fallback. A Matcher is safe for concurrent use.
var pageMatcher = language.NewMatcher(func() []language.Tag {
	tags := make([]language.Tag, len(Locales))
	for i, code := range Locales {
		tags[i] = language.MustParse(code)
	}
	return tags
}())

// matchLocale returns the locale in Locales that best fits a list of
// language tags with weights, as in Accept-Language or ?lang=pl, or ""
// when the list is invalid or names none of them.
func matchLocale(tagList string) string {
	tags, _, err := language.ParseAcceptLanguage(tagList)
	if err != nil || len(tags) == 0 {
		return ""
	}
	_, index, confidence := pageMatcher.Match(tags...)
	if confidence == language.No {
		return ""
	}
	return Locales[index]
}

// pageLanguage chooses the language of a page: the ?lang query parameter,
// then the subscriber's stored locale (stored may be ""), then
// Accept-Language, then English. The merged-feed pages use the same
// Accept-Language rule.
func pageLanguage(r *http.Request, stored string) pageText {
	if locale := matchLocale(r.URL.Query().Get("lang")); locale != "" {
		return pageTexts[locale]
	}
	if t, ok := pageTexts[stored]; ok {
		return t
	}
	if locale := matchLocale(r.Header.Get("Accept-Language")); locale != "" {
		return pageTexts[locale]
	}
	return pageTexts["en"]
}

// storedLocale returns the locale of the subscription named by token, or
// "" when the token is invalid or the subscription is gone. An expired
// token still names its subscriber, so its error page can use the locale.
func (s *Service) storedLocale(ctx context.Context, token, action string) string {
	if token == "" {
		return ""
	}
	t, err := s.o.Links.Signer.Verify(token, action, s.o.Now())
	if err != nil && !errors.Is(err, ErrExpiredToken) {
		return ""
	}
	sub, _, err := s.o.Store.Find(ctx, t.Digest, t.Email)
	if err != nil {
		return ""
	}
	return sub.Locale
}

// invalidMessage returns the wording for an ErrInvalidSubscriber error,
// chosen by the field that the error names after the sentinel's text.
func (t pageText) invalidMessage(err error) string {
	field, _, _ := strings.Cut(strings.TrimPrefix(err.Error(), ErrInvalidSubscriber.Error()+": "), ":")
	field, _, _ = strings.Cut(field, "[")
	switch field {
	case "email":
		return t.InvalidEmail
	case "locale":
		return t.InvalidLocale
	case "time_zone":
		return t.InvalidTimeZone
	case "languages":
		return t.InvalidLanguage
	case "partners":
		return t.InvalidPartner
	case "categories":
		return t.InvalidCategory
	default:
		return t.InvalidField
	}
}

// withLang returns path with the page language as ?lang, so that a link
// or form keeps the language the reader chose.
func withLang(path string, t pageText) string {
	return path + "?lang=" + t.Lang
}
