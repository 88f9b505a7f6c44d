package digests

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/syndic-network/syndic/internal/apierror"
)

// maxRequestBody bounds sign-up and preference requests. A sign-up with
// every filter at its maximum is about 25 KB: 50 categories of 100
// characters of up to 4 bytes each, plus 50 partner ids and languages.
const maxRequestBody = 64 << 10

var tooLargeMessage = "the body is larger than the limit of " + strconv.Itoa(maxRequestBody) +
	" bytes; send one sign-up with at most 50 values in each filter list"

// Register mounts the routes of the service on mux:
//
//	POST /api/v1/digests/{digest}/subscribers  JSON sign-up
//	POST /api/v1/digests/bounces               bounce and complaint webhook
//	GET /digests                               list of the digests
//	GET, POST /digests/{digest}/subscribe      HTML sign-up form
//	GET, POST /digests/confirm?token=          double opt-in
//	GET, POST /digests/manage?token=           preferences
//	GET, POST /digests/unsubscribe?token=      unsubscribe, RFC 8058 one-click POST
//
// Links in mail lead to a GET page whose button POSTs, because mail
// scanners follow links with GET and must not confirm or unsubscribe.
func (s *Service) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/digests/{digest}/subscribers", s.apiSignUp)
	mux.HandleFunc("POST /api/v1/digests/bounces", s.bounces)
	mux.HandleFunc("GET /digests", s.indexPage)
	mux.HandleFunc("GET /digests/{digest}/subscribe", s.formPage)
	mux.HandleFunc("POST /digests/{digest}/subscribe", s.formSignUp)
	mux.HandleFunc("GET /digests/confirm", s.tokenPage(ActionConfirm))
	mux.HandleFunc("POST /digests/confirm", s.confirm)
	mux.HandleFunc("GET /digests/unsubscribe", s.tokenPage(ActionUnsubscribe))
	mux.HandleFunc("POST /digests/unsubscribe", s.unsubscribe)
	mux.HandleFunc("GET /digests/manage", s.managePage)
	mux.HandleFunc("POST /digests/manage", s.manage)
}

// signUpRequest is the JSON body of the sign-up API.
type signUpRequest struct {
	Email      string   `json:"email"`
	Locale     string   `json:"locale"`
	TimeZone   string   `json:"time_zone"`
	Languages  []string `json:"languages"`
	Partners   []string `json:"partners"`
	Categories []string `json:"categories"`
}

func (req signUpRequest) subscriber(digest string) Subscriber {
	return Subscriber{
		Digest: digest, Email: req.Email, Locale: req.Locale, TimeZone: req.TimeZone,
		Languages: req.Languages, Partners: req.Partners, Categories: req.Categories,
	}
}

func (s *Service) apiSignUp(w http.ResponseWriter, r *http.Request) {
	var req signUpRequest
	body := bufio.NewReader(http.MaxBytesReader(w, r.Body, maxRequestBody))
	// RFC 8259 lets a parser ignore a byte-order mark, which Windows tools
	// write; the intake API drops it too.
	if mark, err := body.Peek(3); err == nil && string(mark) == "\xEF\xBB\xBF" {
		_, _ = body.Discard(3)
	}
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			apierror.Write(w, http.StatusRequestEntityTooLarge, "body_too_large", tooLargeMessage, nil)
			return
		}
		apierror.Write(w, http.StatusBadRequest, "invalid_json", "decoding the request body: "+err.Error(), nil)
		return
	}
	err := s.SignUp(r.Context(), req.subscriber(r.PathValue("digest")), clientID(r))
	if err != nil {
		s.writeAPIError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"pending","message":"a confirmation link was sent to the address unless it is already subscribed"}`+"\n")
}

func (s *Service) writeAPIError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrUnknownDigest):
		apierror.Write(w, http.StatusNotFound, "not_found", err.Error(), nil)
	case errors.Is(err, ErrInvalidSubscriber):
		field, _, _ := strings.Cut(strings.TrimPrefix(err.Error(), ErrInvalidSubscriber.Error()+": "), ":")
		apierror.Write(w, http.StatusUnprocessableEntity, "invalid_subscriber", err.Error(), map[string]string{field: err.Error()})
	case errors.Is(err, ErrRateLimited):
		w.Header().Set("Retry-After", "3600")
		apierror.Write(w, http.StatusTooManyRequests, "rate_limited", err.Error()+": try again later", nil)
	default:
		s.o.Logger.Error("digest sign-up failed", "error", err)
		apierror.Write(w, http.StatusServiceUnavailable, "unavailable", "the sign-up could not be completed: try again later", nil)
	}
}

type pageData struct {
	Text                                  pageText
	Title, Message, Action, Token, Button string
	Links                                 []pageLink
	ShowEmail                             bool
	Form                                  *Subscriber
	Locales                               []localeOption
	Partners                              []partnerChoice
}

// pageSecurityPolicy allows the pages only their inline style attributes
// and forms that post back to the same origin; nothing may frame them.
const pageSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// writePage renders p. Callers take Title and Message from p.Text, so
// that the whole page is in one language.
func (s *Service) writePage(w http.ResponseWriter, status int, p pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", p.Text.Lang)
	w.Header().Add("Vary", "Accept-Language")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Content-Security-Policy", pageSecurityPolicy)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if err := htmlTemplates.ExecuteTemplate(w, "page.html.tmpl", p); err != nil {
		s.o.Logger.Warn("rendering digest page failed", "error", err)
	}
}

// notice returns a page with only a heading and a paragraph.
func notice(t pageText, title, message string) pageData {
	return pageData{Text: t, Title: title, Message: message}
}

type pageLink struct{ URL, Text string }

func (s *Service) indexPage(w http.ResponseWriter, r *http.Request) {
	t := pageLanguage(r, "")
	p := notice(t, t.IndexTitle, t.IndexMessage)
	for _, d := range s.o.Digests {
		p.Links = append(p.Links, pageLink{URL: withLang("/digests/"+d.ID+"/subscribe", t), Text: d.ID + " (" + d.Channel + ")"})
	}
	s.writePage(w, http.StatusOK, p)
}

func (s *Service) formPage(w http.ResponseWriter, r *http.Request) {
	t := pageLanguage(r, "")
	digest := r.PathValue("digest")
	if _, ok := s.digests[digest]; !ok {
		s.writePage(w, http.StatusNotFound, notice(t, t.NotFoundTitle, expand(t.NoDigest, map[string]string{"digest": digest})))
		return
	}
	s.writePage(w, http.StatusOK, pageData{
		Text: t, Title: t.SubscribeTitle, Action: withLang("/digests/"+digest+"/subscribe", t), Button: t.SubscribeButton,
		ShowEmail: true, Form: &Subscriber{Locale: t.Lang, TimeZone: "UTC"}, Locales: localeOptions(),
		Partners: s.partnerChoices(nil),
	})
}

// formSignUp renders its result in the language of the form page, which
// the action URL carries as ?lang, not in the locale chosen for the digest.
func (s *Service) formSignUp(w http.ResponseWriter, r *http.Request) {
	t := pageLanguage(r, "")
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			s.writePage(w, http.StatusRequestEntityTooLarge, notice(t, t.FormTooLargeTitle, t.FormTooLarge))
			return
		}
		s.writePage(w, http.StatusBadRequest, notice(t, t.InvalidRequestTitle, t.Unreadable))
		return
	}
	sub := formSubscriber(r)
	sub.Digest = r.PathValue("digest")
	err := s.SignUp(r.Context(), sub, clientID(r))
	switch {
	case err == nil:
		s.writePage(w, http.StatusOK, notice(t, t.CheckInboxTitle, t.CheckInbox))
	case errors.Is(err, ErrUnknownDigest):
		s.writePage(w, http.StatusNotFound, notice(t, t.NotFoundTitle, expand(t.NoDigest, map[string]string{"digest": sub.Digest})))
	case errors.Is(err, ErrInvalidSubscriber):
		s.writePage(w, http.StatusUnprocessableEntity, notice(t, t.CheckFormTitle, t.invalidMessage(err)))
	case errors.Is(err, ErrRateLimited):
		s.writePage(w, http.StatusTooManyRequests, notice(t, t.TooManyTitle, t.TooMany))
	default:
		s.o.Logger.Error("digest sign-up failed", "error", err)
		s.writePage(w, http.StatusServiceUnavailable, notice(t, t.LaterTitle, t.SignUpFailed))
	}
}

func formSubscriber(r *http.Request) Subscriber {
	return Subscriber{
		Email: r.PostFormValue("email"), Locale: r.PostFormValue("locale"), TimeZone: r.PostFormValue("time_zone"),
		Languages: splitList(r.PostFormValue("languages")), Partners: r.PostForm["partners"],
		Categories: splitList(r.PostFormValue("categories")),
	}
}

func splitList(text string) []string {
	var out []string
	for v := range strings.SplitSeq(text, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// tokenPage shows a button that POSTs the token back, in the locale of
// the subscription that the token names.
func (s *Service) tokenPage(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token := r.URL.Query().Get("token")
		t := pageLanguage(r, s.storedLocale(r.Context(), token, action))
		if token == "" {
			s.writePage(w, http.StatusBadRequest, notice(t, t.InvalidLinkTitle, t.NoToken))
			return
		}
		p := pageData{Text: t, Title: t.ConfirmTitle, Action: r.URL.Path, Token: token, Button: t.ConfirmButton}
		if action == ActionUnsubscribe {
			p.Title, p.Button = t.UnsubscribeTitle, t.UnsubscribeButton
		}
		s.writePage(w, http.StatusOK, p)
	}
}

// requestToken returns the token from the form or, for RFC 8058 one-click
// requests whose body is only "List-Unsubscribe=One-Click", from the URL.
func requestToken(w http.ResponseWriter, r *http.Request) string {
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
	if err := r.ParseForm(); err != nil {
		return ""
	}
	if t := r.PostFormValue("token"); t != "" {
		return t
	}
	return r.URL.Query().Get("token")
}

func (s *Service) confirm(w http.ResponseWriter, r *http.Request) {
	token := requestToken(w, r)
	sub, err := s.Confirm(r.Context(), token)
	if err != nil {
		s.writeTokenError(w, pageLanguage(r, s.storedLocale(r.Context(), token, ActionConfirm)), err)
		return
	}
	t := pageLanguage(r, sub.Locale)
	s.writePage(w, http.StatusOK, notice(t, t.ConfirmedTitle, t.Confirmed))
}

func (s *Service) unsubscribe(w http.ResponseWriter, r *http.Request) {
	token := requestToken(w, r)
	// Read the locale first: unsubscribing deletes the subscription.
	t := pageLanguage(r, s.storedLocale(r.Context(), token, ActionUnsubscribe))
	if err := s.Unsubscribe(r.Context(), token); err != nil {
		s.writeTokenError(w, t, err)
		return
	}
	if r.PostFormValue("List-Unsubscribe") == "One-Click" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "unsubscribed\n")
		return
	}
	s.writePage(w, http.StatusOK, notice(t, t.UnsubscribedTitle, t.Unsubscribed))
}

func (s *Service) managePage(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	sub, err := s.Preferences(r.Context(), token)
	if err != nil {
		s.writeTokenError(w, pageLanguage(r, s.storedLocale(r.Context(), token, ActionManage)), err)
		return
	}
	t := pageLanguage(r, sub.Locale)
	s.writePage(w, http.StatusOK, pageData{
		Text: t, Title: t.PrefsTitle, Action: "/digests/manage", Token: token, Button: t.SaveButton,
		Form: sub, Locales: localeOptions(), Partners: s.partnerChoices(sub.Partners),
	})
}

// manage renders its result in the locale that the subscription has
// after the change.
func (s *Service) manage(w http.ResponseWriter, r *http.Request) {
	token := requestToken(w, r)
	sub, err := s.ChangePreferences(r.Context(), token, formSubscriber(r))
	if err != nil {
		t := pageLanguage(r, s.storedLocale(r.Context(), token, ActionManage))
		if errors.Is(err, ErrInvalidSubscriber) {
			s.writePage(w, http.StatusUnprocessableEntity, notice(t, t.CheckFormTitle, t.invalidMessage(err)))
			return
		}
		s.writeTokenError(w, t, err)
		return
	}
	t := pageLanguage(r, sub.Locale)
	s.writePage(w, http.StatusOK, notice(t, t.SavedTitle, t.Saved))
}

func (s *Service) writeTokenError(w http.ResponseWriter, t pageText, err error) {
	switch {
	case errors.Is(err, ErrInvalidToken):
		s.writePage(w, http.StatusBadRequest, notice(t, t.InvalidLinkTitle, t.DamagedLink))
	case errors.Is(err, ErrExpiredToken):
		s.writePage(w, http.StatusGone, notice(t, t.ExpiredTitle, t.Expired))
	case errors.Is(err, ErrNotFound):
		s.writePage(w, http.StatusNotFound, notice(t, t.SubscriptionGoneTitle, t.SubscriptionGone))
	default:
		s.o.Logger.Error("digest link request failed", "error", err)
		s.writePage(w, http.StatusServiceUnavailable, notice(t, t.LaterTitle, t.RequestFailed))
	}
}
