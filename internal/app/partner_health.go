package app

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/syndic-network/syndic/internal/apierror"
	"github.com/syndic-network/syndic/internal/tokens"
	"github.com/syndic-network/syndic/workers"
)

// partnerAuthenticator returns the partner id that a bearer token belongs
// to. tokens.Store implements it; an error wrapping tokens.ErrInvalidToken
// means the token is malformed, unknown or revoked.
type partnerAuthenticator interface {
	Authenticate(ctx context.Context, token string) (string, error)
}

// mountPartnerHealth adds GET /api/v1/partners/me/health to the public
// mux, where a partner reads the health of its own feeds with the same
// token it uses for the intake API.
func (a *App) mountPartnerHealth(ctx context.Context, mux *http.ServeMux) error {
	store, err := a.TokenStore(ctx)
	if err != nil {
		return err
	}
	mux.Handle("GET /api/v1/partners/me/health", a.partnerHealth(store))
	return nil
}

// partnerHealth serves the health rows of the token's partner, in the
// shape of GET /api/v1/feeds on the admin address.
func (a *App) partnerHealth(auth partnerAuthenticator) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		partner, ok := a.authenticatePartner(w, r, auth)
		if !ok {
			return
		}
		var own []workers.Feed
		for _, f := range a.Feeds() {
			if f.Partner == partner {
				own = append(own, f)
			}
		}
		rows, err := a.Poller.Health(r.Context(), own)
		if err != nil {
			a.Log.Warn("reading feed health failed", "partner", partner, "error", err)
			apierror.Write(w, http.StatusServiceUnavailable, "state_unavailable", "feed health is unavailable; retry later", nil)
			return
		}
		writeHealthList(w, a, rows)
	}
}

// authenticatePartner returns the partner of the request's bearer token,
// or writes 401 (503 when the token store failed) and returns false.
func (a *App) authenticatePartner(w http.ResponseWriter, r *http.Request, auth partnerAuthenticator) (string, bool) {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="syndic"`)
		apierror.Write(w, http.StatusUnauthorized, "unauthorized", "send Authorization: Bearer <token>; get a token from the operator", nil)
		return "", false
	}
	partner, err := auth.Authenticate(r.Context(), token)
	switch {
	case errors.Is(err, tokens.ErrInvalidToken):
		w.Header().Set("WWW-Authenticate", `Bearer realm="syndic"`)
		apierror.Write(w, http.StatusUnauthorized, "unauthorized", "the token is invalid or revoked", nil)
		return "", false
	case err != nil:
		a.Log.Error("checking a partner token failed", "error", err)
		apierror.Write(w, http.StatusServiceUnavailable, "token_store_unavailable", "the token store is unavailable; retry later", nil)
		return "", false
	}
	return partner, true
}

// writeHealthList writes rows as the JSON body of the feed health
// endpoints.
func writeHealthList(w http.ResponseWriter, a *App, rows []workers.FeedHealth) {
	body := feedHealthList{Total: len(rows), Feeds: rows}
	for _, row := range rows {
		if row.Failing() {
			body.Failing++
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(body); err != nil {
		a.Log.Debug("writing feed health failed", "error", err)
	}
}
