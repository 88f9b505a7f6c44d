package digests

import (
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
	mux.HandleFunc("GET /digests/confirm", s.tokenPage("Confirm your subscription", "Confirm"))
	mux.HandleFunc("POST /digests/confirm", s.confirm)
	mux.HandleFunc("GET /digests/unsubscribe", s.tokenPage("Unsubscribe", "Unsubscribe"))
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
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBody))
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
	Title, Message, Action, Token, Button string
	Links                                 []pageLink
	ShowEmail                             bool
	Form                                  *Subscriber
	Locales                               []string
	Partners                              []partnerChoice
}

func (s *Service) writePage(w http.ResponseWriter, status int, p pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	if err := htmlTemplates.ExecuteTemplate(w, "page.html.tmpl", p); err != nil {
		s.o.Logger.Warn("rendering digest page failed", "error", err)
	}
}

type pageLink struct{ URL, Text string }

func (s *Service) indexPage(w http.ResponseWriter, _ *http.Request) {
	p := pageData{Title: "Email digests", Message: "Choose a digest to subscribe to."}
	for _, d := range s.o.Digests {
		p.Links = append(p.Links, pageLink{URL: "/digests/" + d.ID + "/subscribe", Text: d.ID + " (" + d.Channel + ")"})
	}
	s.writePage(w, http.StatusOK, p)
}

func (s *Service) formPage(w http.ResponseWriter, r *http.Request) {
	digest := r.PathValue("digest")
	if _, ok := s.digests[digest]; !ok {
		s.writePage(w, http.StatusNotFound, pageData{Title: "Not found", Message: "There is no digest " + digest + "."})
		return
	}
	s.writePage(w, http.StatusOK, pageData{
		Title: "Subscribe to the digest", Action: "/digests/" + digest + "/subscribe", Button: "Subscribe",
		ShowEmail: true, Form: &Subscriber{Locale: "en", TimeZone: "UTC"}, Locales: Locales,
		Partners: s.partnerChoices(nil),
	})
}

func (s *Service) formSignUp(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			s.writePage(w, http.StatusRequestEntityTooLarge, pageData{Title: "Form too large", Message: "The form is larger than a sign-up can be. Enter fewer categories."})
			return
		}
		s.writePage(w, http.StatusBadRequest, pageData{Title: "Invalid request", Message: "The form could not be read."})
		return
	}
	sub := formSubscriber(r)
	sub.Digest = r.PathValue("digest")
	err := s.SignUp(r.Context(), sub, clientID(r))
	switch {
	case err == nil:
		s.writePage(w, http.StatusOK, pageData{Title: "Check your inbox", Message: "Unless the address is already subscribed, it will receive a link to confirm the subscription."})
	case errors.Is(err, ErrUnknownDigest):
		s.writePage(w, http.StatusNotFound, pageData{Title: "Not found", Message: "There is no such digest."})
	case errors.Is(err, ErrInvalidSubscriber):
		s.writePage(w, http.StatusUnprocessableEntity, pageData{Title: "Please check the form", Message: err.Error()})
	case errors.Is(err, ErrRateLimited):
		s.writePage(w, http.StatusTooManyRequests, pageData{Title: "Too many requests", Message: "Please try again later."})
	default:
		s.o.Logger.Error("digest sign-up failed", "error", err)
		s.writePage(w, http.StatusServiceUnavailable, pageData{Title: "Try again later", Message: "The sign-up could not be completed."})
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

// tokenPage shows a button that POSTs the token back.
func (s *Service) tokenPage(title, button string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token := r.URL.Query().Get("token")
		if token == "" {
			s.writePage(w, http.StatusBadRequest, pageData{Title: "Invalid link", Message: "The link has no token. Copy the whole link from the message."})
			return
		}
		s.writePage(w, http.StatusOK, pageData{Title: title, Action: r.URL.Path, Token: token, Button: button})
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
	_, err := s.Confirm(r.Context(), requestToken(w, r))
	if err != nil {
		s.writeTokenError(w, err)
		return
	}
	s.writePage(w, http.StatusOK, pageData{Title: "Subscription confirmed", Message: "The first digest will contain news from now on."})
}

func (s *Service) unsubscribe(w http.ResponseWriter, r *http.Request) {
	if err := s.Unsubscribe(r.Context(), requestToken(w, r)); err != nil {
		s.writeTokenError(w, err)
		return
	}
	if r.PostFormValue("List-Unsubscribe") == "One-Click" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "unsubscribed\n")
		return
	}
	s.writePage(w, http.StatusOK, pageData{Title: "Unsubscribed", Message: "You will receive no more digests. Your address was deleted."})
}

func (s *Service) managePage(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	sub, err := s.Preferences(r.Context(), token)
	if err != nil {
		s.writeTokenError(w, err)
		return
	}
	s.writePage(w, http.StatusOK, pageData{
		Title: "Digest preferences", Action: "/digests/manage", Token: token, Button: "Save",
		Form: sub, Locales: Locales, Partners: s.partnerChoices(sub.Partners),
	})
}

func (s *Service) manage(w http.ResponseWriter, r *http.Request) {
	token := requestToken(w, r)
	_, err := s.ChangePreferences(r.Context(), token, formSubscriber(r))
	switch {
	case errors.Is(err, ErrInvalidSubscriber):
		s.writePage(w, http.StatusUnprocessableEntity, pageData{Title: "Please check the form", Message: err.Error()})
	case err != nil:
		s.writeTokenError(w, err)
	default:
		s.writePage(w, http.StatusOK, pageData{Title: "Preferences saved", Message: "The next digest follows your new preferences."})
	}
}

func (s *Service) writeTokenError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrInvalidToken):
		s.writePage(w, http.StatusBadRequest, pageData{Title: "Invalid link", Message: "The link is damaged. Copy the whole link from the message."})
	case errors.Is(err, ErrExpiredToken):
		s.writePage(w, http.StatusGone, pageData{Title: "Link expired", Message: "The link has expired. Sign up again to get a new one."})
	case errors.Is(err, ErrNotFound):
		s.writePage(w, http.StatusNotFound, pageData{Title: "Subscription not found", Message: "The subscription expired unconfirmed or was removed. Sign up again."})
	default:
		s.o.Logger.Error("digest link request failed", "error", err)
		s.writePage(w, http.StatusServiceUnavailable, pageData{Title: "Try again later", Message: "The request could not be completed."})
	}
}
