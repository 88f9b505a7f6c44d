package app

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/syndic-network/syndic/digests"
	"github.com/syndic-network/syndic/workers"
)

// incidentNotifier mails a partner's contact address once per feed
// incident. The SMTP session is opened on the first incident, so a process
// whose feeds are healthy never connects to the relay.
type incidentNotifier struct {
	app     *App
	once    sync.Once
	mailer  digests.Mailer
	mailErr error
}

// incidentHook returns the poller's incident callback, or nil when no
// incident mail can be sent because fetch.incident_from or smtp.host is
// empty. A reload can add partner contacts, so the callback looks up the
// contact of each incident in the configuration in effect.
func (a *App) incidentHook() workers.IncidentFunc {
	if a.Config.Fetch.IncidentFrom == "" || a.Config.SMTP.Host == "" {
		return nil
	}
	n := &incidentNotifier{app: a}
	return n.notify
}

// incidentContact returns the contact address and the display name of
// partner in the configuration in effect, and false when it has no
// contact.
func (a *App) incidentContact(partner string) (string, string, bool) {
	for _, p := range a.configInEffect().Partners {
		if p.ID == partner && p.Contact != "" {
			return p.Contact, p.Name, true
		}
	}
	return "", "", false
}

func (n *incidentNotifier) notify(ctx context.Context, f workers.Feed, h workers.FeedHealth) {
	to, name, ok := n.app.incidentContact(f.Partner)
	if !ok {
		return
	}
	log := n.app.Log.With("partner", f.Partner, "feed_id", f.Key())
	msg, err := incidentMessage(n.app.Config.Fetch.IncidentFrom, to, name, h)
	if err != nil {
		log.Warn("composing incident mail failed", "error", err)
		return
	}
	n.once.Do(func() {
		s := n.app.Config.SMTP
		n.mailer, n.mailErr = digests.NewSMTPMailer(digests.SMTPOptions{
			Host: s.Host, Port: s.Port, Username: s.Username, Password: s.Password, TLS: s.TLS, Timeout: s.Timeout,
		})
	})
	if n.mailErr != nil {
		log.Error("incident mail not sent: SMTP relay unusable", "error", n.mailErr)
		return
	}
	sctx, cancel := context.WithTimeout(ctx, n.app.Config.SMTP.Timeout+5*time.Second)
	defer cancel()
	if err := n.mailer.Send(sctx, msg); err != nil {
		log.Error("sending incident mail failed", "error", err, "hint", "check the smtp section")
		return
	}
	log.Info("incident mail sent", "status", h.Status)
}

// incidentMessage composes the mail about a failing feed for partner
// contact to.
func incidentMessage(from, to, partnerName string, h workers.FeedHealth) (*gomail.Msg, error) {
	m := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithNoDefaultUserAgent())
	if err := m.From(from); err != nil {
		return nil, fmt.Errorf("setting incident mail sender %q: %w", from, err)
	}
	if err := m.To(to); err != nil {
		return nil, fmt.Errorf("setting incident mail recipient %q: %w", to, err)
	}
	subject, body := incidentText(partnerName, h)
	m.Subject(subject)
	m.SetBodyString(gomail.TypeTextPlain, body)
	return m, nil
}

// incidentText returns the subject and plain-text body of an incident
// mail.
func incidentText(partnerName string, h workers.FeedHealth) (string, string) {
	subject := "Syndic cannot read your feed " + h.URL
	var b strings.Builder
	fmt.Fprintf(&b, "Hello %s,\n\n", partnerName)
	fmt.Fprintf(&b, "Syndic has not been able to read your feed since %s:\n\n  %s\n\n",
		h.Since.UTC().Format("2006-01-02 15:04 MST"), h.URL)
	fmt.Fprintf(&b, "Last attempt: %s\n", h.LastAttempt.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Problem: %s\n", h.LastError)
	fmt.Fprintf(&b, "Failed attempts in a row: %d\n", h.ConsecutiveFailures)
	if h.Status == workers.StatusGone {
		b.WriteString("\nThe server reported the feed as removed, so Syndic stopped polling it. ")
		b.WriteString("Tell us when it is back and we will resume.\n")
	} else {
		b.WriteString("\nSyndic keeps retrying and sends no further mail about this problem. ")
		b.WriteString("New items will appear again as soon as the feed can be read.\n")
	}
	return subject, b.String()
}
