package digests

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/syndic-network/syndic/internal/apierror"
)

// bounces implements the bounce webhook. It accepts a JSON list of
// {"email", "type"} objects, with type hard, soft or complaint, or one
// whole report message (Content-Type message/rfc822) as a mailbox rule or
// a provider forwards it. Both need the bearer token.
func (s *Service) bounces(w http.ResponseWriter, r *http.Request) {
	if s.o.BounceToken == "" {
		apierror.Write(w, http.StatusNotFound, "not_found", "the bounce webhook is disabled: set digests_bounce_token", nil)
		return
	}
	if !validBearer(r.Header.Get("Authorization"), s.o.BounceToken) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="syndic"`)
		apierror.Write(w, http.StatusUnauthorized, "unauthorized", "missing or invalid bearer token", nil)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxReportBytes))
	if err != nil {
		apierror.Write(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("reading the body: %v: send at most %d bytes", err, maxReportBytes), nil)
		return
	}
	list, err := decodeBounces(r.Header.Get("Content-Type"), body)
	if err != nil {
		apierror.Write(w, http.StatusBadRequest, "invalid_report", err.Error(), nil)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), bounceTime)
	defer cancel()
	n, err := s.ApplyBounces(ctx, list)
	if err != nil {
		s.o.Logger.Error("applying bounces failed", "error", err)
		apierror.Write(w, http.StatusServiceUnavailable, "unavailable", "the bounces could not be stored: send them again later", nil)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]int{"received": len(list), "suppressed": n})
}

func validBearer(header, token string) bool {
	got, ok := strings.CutPrefix(header, "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}

func decodeBounces(contentType string, body []byte) ([]Bounce, error) {
	mediaType, _, _ := mime.ParseMediaType(contentType)
	switch mediaType {
	case "message/rfc822":
		list, err := ParseReport(body)
		if errors.Is(err, ErrNotReport) {
			return nil, fmt.Errorf("%w: send a DSN (RFC 3464) or an abuse report (RFC 5965)", err)
		}
		return list, err
	case "application/json":
		var list []Bounce
		if err := json.Unmarshal(body, &list); err != nil {
			return nil, fmt.Errorf("decoding JSON: %w: send a list such as [{\"email\": \"a@example.org\", \"type\": \"hard\"}]", err)
		}
		for i, b := range list {
			if b.Email == "" || (b.Type != BounceHard && b.Type != BounceSoft && b.Type != BounceComplaint) {
				return nil, fmt.Errorf("entry %d: set email and a type of hard, soft or complaint", i)
			}
		}
		return list, nil
	default:
		return nil, fmt.Errorf("unsupported Content-Type %q: use application/json or message/rfc822", contentType)
	}
}
