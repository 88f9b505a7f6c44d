package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/syndic-network/syndic/digests"
	"github.com/syndic-network/syndic/internal/broker"
)

// Digest sending defaults. The lease outlasts a send with every retry
// (4 attempts, 5 s to 20 s apart, each bounded by smtp.timeout). The send
// log keeps entries for 60 days, longer than the 35 days a digest reaches
// back, so an old period is never claimed twice.
const (
	digestLease      = 10 * time.Minute
	digestRetries    = 3
	digestBackoff    = 5 * time.Second
	sendLogRetention = 60 * 24 * time.Hour
)

// Digests is the opened digest part of an App: the stores, the mailer and
// the configured digests.
type Digests struct {
	List    []digests.Digest
	Store   *digests.Store
	SendLog *digests.SendLog
	Links   digests.Links
	Mailer  digests.Mailer
	// Confirmations carries the confirmation mails of sign-ups from the
	// feed servers to the digest workers.
	Confirmations *digests.JetStreamConfirmations

	app *App
}

// OpenDigests opens the subscriber and send-log buckets and the SMTP
// mailer. It returns nil and no error when no digest is configured.
func (a *App) OpenDigests(ctx context.Context) (*Digests, error) {
	if len(a.Config.Digests) == 0 {
		return nil, nil
	}
	list, err := digests.FromConfig(a.Config)
	if err != nil {
		return nil, err
	}
	n := a.Config.NATS
	subs, err := broker.EnsureKV(ctx, a.JS, n.KVPrefix+"_SUBSCRIBERS", n.Replicas, 0, true)
	if err != nil {
		return nil, err
	}
	sendLog, err := broker.EnsureKV(ctx, a.JS, n.KVPrefix+"_SENDLOG", n.Replicas, sendLogRetention, false)
	if err != nil {
		return nil, err
	}
	confirmations, err := digests.OpenConfirmations(ctx, a.JS, digests.ConfirmQueueOptions{
		Stream:   n.Stream + "_CONFIRM",
		Subject:  n.SubjectPrefix + "_digests.confirmations",
		Replicas: n.Replicas,
	})
	if err != nil {
		return nil, err
	}
	s := a.Config.SMTP
	mailer, err := digests.NewSMTPMailer(digests.SMTPOptions{
		Host: s.Host, Port: s.Port, Username: s.Username, Password: s.Password, TLS: s.TLS, Timeout: s.Timeout,
	})
	if err != nil {
		return nil, err
	}
	return &Digests{
		List: list, Store: digests.NewStore(subs), SendLog: digests.NewSendLog(sendLog), Mailer: mailer,
		Confirmations: confirmations,
		Links:         digests.Links{BaseURL: a.Config.HTTP.BaseURL, Signer: digests.NewSigner(a.Config.DigestsSecret)},
		app:           a,
	}, nil
}

// Close ends the SMTP session.
func (d *Digests) Close() error { return d.Mailer.Close() }

// Find returns the digest with id, or an error wrapping
// digests.ErrUnknownDigest.
func (d *Digests) Find(id string) (digests.Digest, error) {
	for _, dg := range d.List {
		if dg.ID == id {
			return dg, nil
		}
	}
	return digests.Digest{}, fmt.Errorf("%w: %q", digests.ErrUnknownDigest, id)
}

// partnerNames returns partner display names by id, from the
// configuration in effect.
func (a *App) partnerNames() map[string]string {
	names := map[string]string{}
	for _, p := range a.configInEffect().Partners {
		names[p.ID] = p.Name
	}
	return names
}

// Service returns the sign-up service. It queues confirmation mails on
// d.Confirmations, which RunDigests sends.
func (d *Digests) Service() *digests.Service {
	return digests.NewService(digests.ServiceOptions{
		Digests: d.List, Store: d.Store, Links: d.Links, Mailer: d.Mailer, Cache: d.app.Cache,
		Confirmations: d.Confirmations,
		Partners:      d.app.partnerNames(), BounceToken: d.app.Config.DigestsBounceToken, Logger: d.app.Log,
	})
}

// Runner returns the sender of one digest, with the channel filter and
// the partner names of the configuration in effect, which a reload may
// have changed since the digests were opened.
func (d *Digests) Runner(dg digests.Digest) *digests.Runner {
	host, _ := os.Hostname()
	return digests.NewRunner(digests.RunnerOptions{
		Digest: d.withCurrentFilter(dg), Store: d.Store, SendLog: d.SendLog,
		Collector: &digests.Collector{Stream: d.app.Stream, SubjectPrefix: d.app.Config.NATS.SubjectPrefix},
		Mailer:    d.Mailer, Links: d.Links, Partners: d.app.partnerNames(),
		Owner: host + ":" + strconv.Itoa(os.Getpid()), Lease: digestLease,
		RatePerMinute: d.app.Config.SMTP.RatePerMinute, Retries: digestRetries, Backoff: digestBackoff,
		Logger: d.app.Log,
	})
}

// withCurrentFilter returns dg with the filter of its channel in the
// configuration in effect. A reload cannot remove a channel that a digest
// names, because validation rejects such a file, so dg keeps its filter
// only when that check was bypassed.
func (d *Digests) withCurrentFilter(dg digests.Digest) digests.Digest {
	for _, ch := range d.app.configInEffect().Channels {
		if ch.ID == dg.Channel {
			dg.Filter = digests.ChannelFilter(ch)
		}
	}
	return dg
}

// mountDigests adds the sign-up routes to mux when digests are
// configured.
func (a *App) mountDigests(ctx context.Context, mux *http.ServeMux) error {
	d, err := a.OpenDigests(ctx)
	if err != nil || d == nil {
		return err
	}
	d.Service().Register(mux)
	return nil
}

// RunDigests sends every configured digest on its schedule, and the
// confirmation mails that sign-ups queue, until ctx ends. At start it
// sends the latest period that is due, which after downtime is the one
// catch-up digest. It returns nil at once when no digest is configured.
func (a *App) RunDigests(ctx context.Context) error {
	d, err := a.OpenDigests(ctx)
	if err != nil || d == nil {
		return err
	}
	defer d.Close()
	// The SMTP session is shared, and go-mail's client sends one message
	// at a time, so the digests take turns.
	var mu sync.Mutex
	var wg sync.WaitGroup
	// A confirmation consumer that cannot start stops the digests too,
	// so the process exits and its supervisor restarts it.
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := d.Confirmations.Consume(ctx, d.Service()); err != nil {
			stop(err)
		}
	}()
	for _, dg := range d.List {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.schedule(ctx, dg, &mu)
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// digestRetryDelay is the wait before a period is run again after a
// failed run or deferred subscribers (relay down, 4xx after every retry).
const digestRetryDelay = 10 * time.Minute

func (d *Digests) schedule(ctx context.Context, dg digests.Digest, mu *sync.Mutex) {
	log := d.app.Log.With("digest", dg.ID)
	due := dg.Schedule.Due(time.Now())
	for {
		mu.Lock()
		rep, err := d.Runner(dg).Run(ctx, due)
		mu.Unlock()
		if err != nil && !errors.Is(err, context.Canceled) {
			log.Error("digest run failed", "period", dg.Schedule.Period(due), "error", err)
		}
		wake := dg.Schedule.Next(time.Now())
		if err != nil || rep.Deferred > 0 {
			// The same period again, since its send time is still the
			// latest; the send log skips those already sent.
			if retry := time.Now().Add(digestRetryDelay); retry.Before(wake) {
				wake = retry
			}
		}
		due = dg.Schedule.Due(wake)
		t := time.NewTimer(time.Until(wake))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
