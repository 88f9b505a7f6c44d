package digests

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

// getPage requests rawURL with an optional Accept-Language header and
// returns the response and its body.
func getPage(t *testing.T, rawURL, acceptLanguage string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatalf("building request for %s: %v", rawURL, err)
	}
	if acceptLanguage != "" {
		req.Header.Set("Accept-Language", acceptLanguage)
	}
	return doPage(t, req)
}

func postPage(t *testing.T, rawURL string, form url.Values) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatalf("building request for %s: %v", rawURL, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// A header that disagrees with the expected language shows that the
	// page follows ?lang or the stored locale, not the browser.
	req.Header.Set("Accept-Language", "en")
	return doPage(t, req)
}

func doPage(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading %s: %v", req.URL, err)
	}
	return resp, string(body)
}

// putSubscriber stores a subscription in locale with the given status.
func putSubscriber(t *testing.T, e *digestEnv, email, locale, status string) {
	t.Helper()
	now := time.Now().UTC()
	s := &Subscriber{Digest: "daily", Email: email, Locale: locale, TimeZone: "UTC", Status: status, CreatedAt: now}
	if status == StatusConfirmed {
		s.ConfirmedAt, s.CoveredUntil = &now, now
	}
	if _, err := e.Store.Put(testContext(t), s, 0); err != nil {
		t.Fatalf("storing subscriber %s: %v", email, err)
	}
}

func tokenOf(t *testing.T, link string) string {
	t.Helper()
	token, err := url.QueryUnescape(link[strings.Index(link, "token=")+len("token="):])
	if err != nil {
		t.Fatalf("unescaping token of %s: %v", link, err)
	}
	return token
}

// assertPage checks the language of a rendered page and its heading.
func assertPage(t *testing.T, resp *http.Response, body, lang, heading string) {
	t.Helper()
	if want := `<html lang="` + lang + `">`; !strings.Contains(body, want) {
		t.Errorf("page lacks %s:\n%s", want, body)
	}
	if got := resp.Header.Get("Content-Language"); got != lang {
		t.Errorf("Content-Language = %q, want %q", got, lang)
	}
	if want := ">" + html.EscapeString(heading) + "</h1>"; !strings.Contains(body, want) {
		t.Errorf("page lacks heading %q:\n%s", heading, body)
	}
}

func TestPageTextsComplete(t *testing.T) {
	for _, locale := range Locales {
		text, ok := pageTexts[locale]
		if !ok {
			t.Errorf("locale %s has no page text", locale)
			continue
		}
		if text.Lang != locale {
			t.Errorf("pageTexts[%s].Lang = %q", locale, text.Lang)
		}
		v := reflect.ValueOf(text)
		for i := range v.NumField() {
			if v.Field(i).String() == "" {
				t.Errorf("pageTexts[%s].%s is empty", locale, v.Type().Field(i).Name)
			}
		}
		if localeNames[locale] == "" {
			t.Errorf("locale %s has no name for the language menu", locale)
		}
	}
}

// pageKeywords are words that each locale's sign-up form must contain,
// written here rather than read from pageTexts so that a translation
// replaced by English fails.
var pageKeywords = map[string][]string{
	"en": {"Subscribe to the digest", "Email address", "Time zone"},
	"pl": {"Subskrypcja przeglądu", "Adres e-mail", "Strefa czasowa", "Subskrybuj"},
	"fr": {"Abonnement au résumé", "Adresse e-mail", "Fuseau horaire", "S&#39;abonner"},
	"lt": {"Apžvalgos prenumerata", "El. pašto adresas", "Laiko juosta", "Užsisakyti"},
	"de": {"Überblick abonnieren", "E-Mail-Adresse", "Zeitzone", "Abonnieren"},
}

// englishLeftovers returns the English wording of the pages, with the
// short phrases that other languages may share (such as "Partner" in
// German) left out, and a few English words that would show an
// untranslated label.
func englishLeftovers() []string {
	out := []string{"Subscribe", ">Confirm<", "Unsubscribe", "Please", "Invalid", "expired"}
	v := reflect.ValueOf(pageTexts["en"])
	for i := range v.NumField() {
		if text := v.Field(i).String(); len(text) > 10 {
			out = append(out, html.EscapeString(text))
		}
	}
	return out
}

func TestPagesInEveryLocale(t *testing.T) {
	e := newDigestEnv(t)
	for _, locale := range Locales {
		text := pageTexts[locale]
		// Every subscriber below is stored in locale, and every request
		// sends Accept-Language: en, so an English page is a failure.
		email := "reader-" + locale + "@example.org"
		putSubscriber(t, e, email, locale, StatusPending)
		confirm := e.Links.Confirm("daily", email, time.Now())
		manage := e.Links.Manage("daily", email, time.Now())
		unsubscribe := e.Links.Unsubscribe("daily", email, time.Now())
		lang := "?lang=" + locale
		pages := []struct {
			name    string
			request func() (*http.Response, string)
			status  int
			heading string
			message string
		}{
			{"index", func() (*http.Response, string) { return getPage(t, e.HTTP.URL+"/digests"+lang, "en") }, http.StatusOK, text.IndexTitle, text.IndexMessage},
			{"sign-up form", func() (*http.Response, string) {
				return getPage(t, e.HTTP.URL+"/digests/daily/subscribe"+lang, "en")
			}, http.StatusOK, text.SubscribeTitle, ""},
			{"unknown digest", func() (*http.Response, string) {
				return getPage(t, e.HTTP.URL+"/digests/hourly/subscribe"+lang, "en")
			}, http.StatusNotFound, text.NotFoundTitle, strings.ReplaceAll(text.NoDigest, "{digest}", "hourly")},
			{"check your inbox", func() (*http.Response, string) {
				return postPage(t, e.HTTP.URL+"/digests/daily/subscribe"+lang, url.Values{"email": {"new-" + locale + "@example.org"}, "locale": {locale}})
			}, http.StatusOK, text.CheckInboxTitle, text.CheckInbox},
			{"invalid time zone", func() (*http.Response, string) {
				return postPage(t, e.HTTP.URL+"/digests/daily/subscribe"+lang, url.Values{"email": {"tz@example.org"}, "time_zone": {"Mars/Olympus"}})
			}, http.StatusUnprocessableEntity, text.CheckFormTitle, text.InvalidTimeZone},
			{"invalid email", func() (*http.Response, string) {
				return postPage(t, e.HTTP.URL+"/digests/daily/subscribe"+lang, url.Values{"email": {"Ann <ann@example.org>"}})
			}, http.StatusUnprocessableEntity, text.CheckFormTitle, text.InvalidEmail},
			{"link without token", func() (*http.Response, string) {
				return getPage(t, e.HTTP.URL+"/digests/confirm"+lang, "en")
			}, http.StatusBadRequest, text.InvalidLinkTitle, text.NoToken},
			{"damaged link", func() (*http.Response, string) {
				return postPage(t, e.HTTP.URL+"/digests/confirm"+lang, url.Values{"token": {"garbage"}})
			}, http.StatusBadRequest, text.InvalidLinkTitle, text.DamagedLink},
			{"confirm button", func() (*http.Response, string) { return getPage(t, confirm, "en") }, http.StatusOK, text.ConfirmTitle, ""},
			{"confirmed", func() (*http.Response, string) {
				return postPage(t, e.HTTP.URL+"/digests/confirm", url.Values{"token": {tokenOf(t, confirm)}})
			}, http.StatusOK, text.ConfirmedTitle, text.Confirmed},
			{"preferences", func() (*http.Response, string) { return getPage(t, manage, "en") }, http.StatusOK, text.PrefsTitle, ""},
			{"invalid preferences", func() (*http.Response, string) {
				return postPage(t, e.HTTP.URL+"/digests/manage", url.Values{"token": {tokenOf(t, manage)}, "locale": {locale}, "partners": {"nope"}})
			}, http.StatusUnprocessableEntity, text.CheckFormTitle, text.InvalidPartner},
			{"preferences saved", func() (*http.Response, string) {
				return postPage(t, e.HTTP.URL+"/digests/manage", url.Values{"token": {tokenOf(t, manage)}, "locale": {locale}, "time_zone": {"Europe/Vilnius"}})
			}, http.StatusOK, text.SavedTitle, text.Saved},
			{"unsubscribe button", func() (*http.Response, string) { return getPage(t, unsubscribe, "en") }, http.StatusOK, text.UnsubscribeTitle, ""},
			{"unsubscribed", func() (*http.Response, string) {
				return postPage(t, e.HTTP.URL+"/digests/unsubscribe", url.Values{"token": {tokenOf(t, unsubscribe)}})
			}, http.StatusOK, text.UnsubscribedTitle, text.Unsubscribed},
			{"subscription gone", func() (*http.Response, string) { return getPage(t, manage+"&lang="+locale, "en") }, http.StatusNotFound, text.SubscriptionGoneTitle, text.SubscriptionGone},
		}
		// The cases run in order: confirming, saving and unsubscribing
		// change the stored subscription that later cases read.
		for _, p := range pages {
			t.Run(locale+"/"+p.name, func(t *testing.T) {
				resp, body := p.request()
				if resp.StatusCode != p.status {
					t.Errorf("status = %d, want %d", resp.StatusCode, p.status)
				}
				assertPage(t, resp, body, locale, p.heading)
				if p.message != "" && !strings.Contains(body, html.EscapeString(p.message)) {
					t.Errorf("page lacks message %q:\n%s", p.message, body)
				}
				if locale == "en" {
					return
				}
				if en := pageTexts["en"]; strings.Contains(body, ">"+html.EscapeString(en.SubscribeTitle)+"<") {
					t.Errorf("page has the English heading:\n%s", body)
				}
				for _, phrase := range englishLeftovers() {
					if strings.Contains(body, phrase) {
						t.Errorf("page contains English %q:\n%s", phrase, body)
					}
				}
			})
		}
	}
}

func TestSignUpFormInPageLanguage(t *testing.T) {
	e := newDigestEnv(t)
	for _, locale := range Locales {
		t.Run(locale, func(t *testing.T) {
			_, body := getPage(t, e.HTTP.URL+"/digests/daily/subscribe?lang="+locale, "")
			for _, keyword := range pageKeywords[locale] {
				if !strings.Contains(body, keyword) {
					t.Errorf("form lacks %q:\n%s", keyword, body)
				}
			}
			if want := `<option value="` + locale + `" lang="` + locale + `" selected>`; !strings.Contains(body, want) {
				t.Errorf("form lacks the page language preselected, %s:\n%s", want, body)
			}
			if n := strings.Count(body, " selected>"); n != 1 {
				t.Errorf("form has %d selected languages, want 1", n)
			}
			if want := `action="/digests/daily/subscribe?lang=` + locale + `"`; !strings.Contains(body, want) {
				t.Errorf("form lacks %s, which keeps the language for the result page", want)
			}
		})
	}
}

func TestPageLanguageSelection(t *testing.T) {
	e := newDigestEnv(t)
	tests := []struct {
		name, query, acceptLanguage, want string
	}{
		{"no preference", "", "", "en"},
		{"Accept-Language", "", "pl-PL,pl;q=0.9,en;q=0.5", "pl"},
		{"Accept-Language weights", "", "en;q=0.3, de;q=0.8", "de"},
		{"regional Accept-Language", "", "fr-CA", "fr"},
		{"unsupported language", "", "ru", "en"},
		{"unsupported then supported", "", "ru, lt;q=0.5", "lt"},
		{"invalid header", "", ";;;q=x", "en"},
		{"query over header", "?lang=de", "pl", "de"},
		{"query with region", "?lang=lt-LT", "", "lt"},
		{"unsupported query", "?lang=ru", "fr", "fr"},
		{"unsupported query and header", "?lang=ru", "ru", "en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := getPage(t, e.HTTP.URL+"/digests"+tt.query, tt.acceptLanguage)
			assertPage(t, resp, body, tt.want, pageTexts[tt.want].IndexTitle)
			if !strings.Contains(resp.Header.Get("Vary"), "Accept-Language") {
				t.Errorf("Vary = %q, want Accept-Language", resp.Header.Get("Vary"))
			}
			if want := "/digests/daily/subscribe?lang=" + tt.want; !strings.Contains(body, want) {
				t.Errorf("index lacks link %s", want)
			}
		})
	}
}

func TestConfirmPageUsesStoredLocale(t *testing.T) {
	e := newDigestEnv(t)
	putSubscriber(t, e, "lina@example.org", "lt", StatusPending)
	link := e.Links.Confirm("daily", "lina@example.org", time.Now())

	// The browser prefers German, but the subscriber chose Lithuanian.
	resp, body := getPage(t, link, "de")
	assertPage(t, resp, body, "lt", "Patvirtinkite prenumeratą")
	if !strings.Contains(body, ">Patvirtinti</button>") {
		t.Errorf("confirm page lacks the Lithuanian button:\n%s", body)
	}

	req, err := http.NewRequest(http.MethodPost, e.HTTP.URL+"/digests/confirm", strings.NewReader(url.Values{"token": {tokenOf(t, link)}}.Encode()))
	if err != nil {
		t.Fatalf("building request: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", "de")
	resp, body = doPage(t, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("confirm status = %d:\n%s", resp.StatusCode, body)
	}
	assertPage(t, resp, body, "lt", "Prenumerata patvirtinta")

	sub, _, err := e.Store.Find(testContext(t), "daily", "lina@example.org")
	if err != nil {
		t.Fatalf("finding subscriber: %v", err)
	}
	if sub.Status != StatusConfirmed || sub.Locale != "lt" {
		t.Errorf("subscriber = %s in %s, want confirmed in lt", sub.Status, sub.Locale)
	}
}

func TestExpiredLinkPageUsesStoredLocale(t *testing.T) {
	e := newDigestEnv(t)
	putSubscriber(t, e, "zofia@example.org", "pl", StatusPending)
	old := e.Links.Confirm("daily", "zofia@example.org", time.Now().Add(-ConfirmTTL-time.Minute))
	resp, body := postPage(t, e.HTTP.URL+"/digests/confirm", url.Values{"token": {tokenOf(t, old)}})
	if resp.StatusCode != http.StatusGone {
		t.Errorf("status = %d, want 410", resp.StatusCode)
	}
	assertPage(t, resp, body, "pl", "Link wygasł")
}

func TestUnsubscribePageUsesStoredLocale(t *testing.T) {
	e := newDigestEnv(t)
	putSubscriber(t, e, "marie@example.org", "fr", StatusConfirmed)
	link := e.Links.Unsubscribe("daily", "marie@example.org", time.Now())
	resp, body := postPage(t, e.HTTP.URL+"/digests/unsubscribe", url.Values{"token": {tokenOf(t, link)}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("unsubscribe status = %d:\n%s", resp.StatusCode, body)
	}
	assertPage(t, resp, body, "fr", "Désabonnement effectué")
	// The subscription is gone now, so a second visit falls back to the
	// request's language.
	resp, body = getPage(t, link, "de")
	assertPage(t, resp, body, "de", pageTexts["de"].UnsubscribeTitle)
}
