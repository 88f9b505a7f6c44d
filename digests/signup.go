package digests

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

// sendTimeout bounds one confirmation mail.
const sendTimeout = 30 * time.Second

// ServiceOptions configures a Service.
type ServiceOptions struct {
	Digests []Digest
	Store   *Store
	Links   Links
	// Mailer sends confirmation messages: inside the sign-up request when
	// Confirmations is nil, and in SendConfirmation.
	Mailer Mailer
	// Confirmations, when set, takes the confirmation requests of
	// sign-ups, and another process sends them with SendConfirmation.
	Confirmations ConfirmationQueue
	// Cache keeps the sign-up rate counters.
	Cache pipeline.Cache
	// Partners maps partner ids to display names, for the form.
	Partners map[string]string
	// BounceToken is the bearer token of the bounce webhook. Empty
	// disables the webhook.
	BounceToken string
	Logger      *slog.Logger
	Now         func() time.Time
}

// Service handles sign-up, confirmation, preference changes and
// unsubscribing. It is safe for concurrent use, but Mailer calls are
// serialised by the mailer.
type Service struct {
	o       ServiceOptions
	digests map[string]Digest
	limits  limiter
}

// NewService returns a service.
func NewService(o ServiceOptions) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{o: o, digests: map[string]Digest{}, limits: limiter{cache: o.Cache}}
	for _, d := range o.Digests {
		s.digests[d.ID] = d
	}
	return s
}

// SignUp records a pending subscription and sends the confirmation link,
// or queues it when ServiceOptions.Confirmations is set. A confirmed subscriber is left unchanged and gets no mail, and the
// caller sees the same result either way, so the API does not reveal who
// subscribed. It returns errors wrapping ErrUnknownDigest,
// ErrInvalidSubscriber or ErrRateLimited, or a store or mail failure.
func (s *Service) SignUp(ctx context.Context, sub Subscriber, client string) error {
	err := s.signUp(ctx, sub, client)
	signUpsTotal.WithLabelValues(signUpResult(err)).Inc()
	return err
}

func (s *Service) signUp(ctx context.Context, sub Subscriber, client string) error {
	d, ok := s.digests[sub.Digest]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownDigest, sub.Digest)
	}
	if err := sub.Normalize(); err != nil {
		return err
	}
	if err := s.checkPartners(sub.Partners); err != nil {
		return err
	}
	now := s.o.Now()
	if err := s.checkRate(ctx, client, sub.Email, now); err != nil {
		return err
	}
	old, rev, err := s.o.Store.Find(ctx, d.ID, sub.Email)
	switch {
	case err == nil && old.Status == StatusConfirmed:
		return nil
	case err != nil && !errors.Is(err, ErrNotFound):
		return err
	}
	sub.Status, sub.CreatedAt, sub.ConfirmedAt = StatusPending, now.UTC(), nil
	if err := s.o.Store.CreatePending(ctx, &sub, rev, ConfirmTTL); err != nil {
		return err
	}
	if s.o.Confirmations != nil {
		return s.o.Confirmations.Enqueue(ctx, ConfirmationRequest{
			Digest: d.ID, Email: sub.Email, RequestedAt: sub.CreatedAt,
		})
	}
	return s.sendConfirmation(ctx, d, &sub, now)
}

// SendConfirmation sends the confirmation mail of a queued request. It
// returns an error wrapping errConfirmationStale, and sends nothing, when
// the request no longer matches a pending sign-up: the digest is gone, the
// address confirmed, the record expired, or a newer sign-up replaced it
// (that sign-up has its own request). Mail failures wrap ErrPermanent for
// a 5xx rejection and are temporary otherwise.
func (s *Service) SendConfirmation(ctx context.Context, req ConfirmationRequest) error {
	d, ok := s.digests[req.Digest]
	if !ok {
		return fmt.Errorf("%w: digest %q is not configured", errConfirmationStale, req.Digest)
	}
	if !s.o.Now().Before(req.RequestedAt.Add(ConfirmTTL)) {
		return fmt.Errorf("%w: the link has expired", errConfirmationStale)
	}
	sub, _, err := s.o.Store.Find(ctx, req.Digest, req.Email)
	switch {
	case errors.Is(err, ErrNotFound):
		return fmt.Errorf("%w: no pending sign-up", errConfirmationStale)
	case err != nil:
		return err
	case sub.Status != StatusPending:
		return fmt.Errorf("%w: already confirmed", errConfirmationStale)
	case !sub.CreatedAt.Equal(req.RequestedAt):
		return fmt.Errorf("%w: replaced by a newer sign-up", errConfirmationStale)
	}
	return s.sendConfirmation(ctx, d, sub, req.RequestedAt)
}

// checkPartners rejects partner ids that are not configured, because such
// a filter would match nothing and the subscriber would get no digest.
func (s *Service) checkPartners(ids []string) error {
	for _, id := range ids {
		if _, ok := s.o.Partners[id]; !ok {
			return fmt.Errorf("%w: partners: unknown partner %q", ErrInvalidSubscriber, id)
		}
	}
	return nil
}

func (s *Service) checkRate(ctx context.Context, client, email string, now time.Time) error {
	ok, err := s.limits.allow(ctx, "client:"+client, clientLimit, clientWindow, now)
	if err != nil || !ok {
		return rateError(err, "client")
	}
	ok, err = s.limits.allow(ctx, "address:"+hashEmail("rate", email), addressLimit, addressWindow, now)
	if err != nil || !ok {
		return rateError(err, "address")
	}
	return nil
}

func rateError(err error, scope string) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("%w from this %s", ErrRateLimited, scope)
}

func (s *Service) sendConfirmation(ctx context.Context, d Digest, sub *Subscriber, now time.Time) error {
	rendered, err := RenderConfirmation(sub.Locale, s.o.Links.Confirm(d.ID, sub.Email, now))
	if err != nil {
		return err
	}
	m, err := NewMessage(Envelope{
		From: d.From, To: sub.Email, Date: now,
		MessageID: "confirm." + d.ID + "." + now.UTC().Format("20060102T150405") + "." + hashEmail(d.ID, sub.Email)[:16] + "@" + domainOf(d.From),
	}, rendered)
	if err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	if err := s.o.Mailer.Send(sctx, m); err != nil {
		return fmt.Errorf("sending confirmation for digest %s: %w", d.ID, err)
	}
	return nil
}

// Confirm marks the subscription named by a confirmation token as
// confirmed, from now on, and lifts a suppression left by an earlier
// unsubscribe. Confirming twice is not an error. It returns
// ErrInvalidToken, ErrExpiredToken or ErrNotFound (the pending record
// expired or was removed).
func (s *Service) Confirm(ctx context.Context, token string) (*Subscriber, error) {
	now := s.o.Now()
	t, err := s.o.Links.Signer.Verify(token, ActionConfirm, now)
	if err != nil {
		return nil, err
	}
	sub, rev, err := s.o.Store.Find(ctx, t.Digest, t.Email)
	if err != nil {
		return nil, err
	}
	if sub.Status == StatusConfirmed {
		return sub, nil
	}
	at := now.UTC()
	sub.Status, sub.ConfirmedAt, sub.CoveredUntil, sub.Undeliverable = StatusConfirmed, &at, at, false
	if _, err := s.o.Store.Put(ctx, sub, rev); err != nil {
		return nil, err
	}
	if err := s.o.Store.Unsuppress(ctx, t.Digest, t.Email); err != nil {
		return nil, err
	}
	return sub, nil
}

// Unsubscribe purges the subscription named by an unsubscribe token and
// keeps a suppression. It accepts expired tokens with a valid signature,
// because an old digest's link must still stop the mail. Unsubscribing
// twice is not an error.
func (s *Service) Unsubscribe(ctx context.Context, token string) error {
	now := s.o.Now()
	t, err := s.o.Links.Signer.Verify(token, ActionUnsubscribe, now)
	if err != nil && !errors.Is(err, ErrExpiredToken) {
		return err
	}
	return s.o.Store.Remove(ctx, t.Digest, t.Email, ReasonUnsubscribed, now)
}

// Preferences returns the subscription named by a manage token.
func (s *Service) Preferences(ctx context.Context, token string) (*Subscriber, error) {
	t, err := s.o.Links.Signer.Verify(token, ActionManage, s.o.Now())
	if err != nil {
		return nil, err
	}
	sub, _, err := s.o.Store.Find(ctx, t.Digest, t.Email)
	return sub, err
}

// ChangePreferences replaces locale, time zone and filters of the
// subscription named by a manage token.
func (s *Service) ChangePreferences(ctx context.Context, token string, prefs Subscriber) (*Subscriber, error) {
	t, err := s.o.Links.Signer.Verify(token, ActionManage, s.o.Now())
	if err != nil {
		return nil, err
	}
	sub, rev, err := s.o.Store.Find(ctx, t.Digest, t.Email)
	if err != nil {
		return nil, err
	}
	prefs.Email = sub.Email
	if err := prefs.Normalize(); err != nil {
		return nil, err
	}
	if err := s.checkPartners(prefs.Partners); err != nil {
		return nil, err
	}
	sub.Locale, sub.TimeZone = prefs.Locale, prefs.TimeZone
	sub.Languages, sub.Partners, sub.Categories = prefs.Languages, prefs.Partners, prefs.Categories
	if _, err := s.o.Store.Put(ctx, sub, rev); err != nil {
		return nil, err
	}
	return sub, nil
}

// clientID returns the address of the client that sent r. Forwarded
// headers are ignored because any client can set them.
//
// NOTE: behind a reverse proxy every request has the proxy's address, so
// the per-client limit then applies to all clients together.
func clientID(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Service) partnerChoices(selected []string) []partnerChoice {
	var out []partnerChoice
	for id, name := range s.o.Partners {
		out = append(out, partnerChoice{ID: id, Name: name, Checked: slices.Contains(selected, id)})
	}
	slices.SortFunc(out, func(a, b partnerChoice) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out
}

type partnerChoice struct {
	ID, Name string
	Checked  bool
}
