package digests

import (
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/syndic-network/syndic/pipeline"
)

// messageToSend builds a fresh go-mail message for each attempt, because
// go-mail records delivery state on a sent Msg.
type messageToSend struct {
	env      Envelope
	rendered Rendered
	// items is the number of items given to Render.
	items int
}

func (m *messageToSend) build() (*gomail.Msg, error) { return NewMessage(m.env, m.rendered) }

// showsNoItem reports whether Render left out every item, as too large.
func (m *messageToSend) showsNoItem() bool {
	return m.items > 0 && len(m.rendered.Omitted) == m.items
}

// compose renders the issue of s for the period due at due.
func (r *Runner) compose(s *Subscriber, items []pipeline.Item, due time.Time, messageID string) (*messageToSend, error) {
	d := r.o.Digest
	more := 0
	if len(items) > d.MaxItems {
		more = len(items) - d.MaxItems
		items = items[:d.MaxItems]
	}
	now := r.o.Now()
	rendered, err := Render(Issue{
		Subscriber: s, Subject: d.Subject.ForLocale(s.Locale), GroupBy: d.GroupBy,
		Partners: r.o.Partners, Items: items, More: more, Due: due,
		ChannelURL:     r.o.Links.ChannelFeed(d.Channel),
		ManageURL:      r.o.Links.Manage(d.ID, s.Email, now),
		UnsubscribeURL: r.o.Links.Unsubscribe(d.ID, s.Email, now),
	})
	if err != nil {
		return nil, err
	}
	env := Envelope{
		From: d.From, To: s.Email, MessageID: messageID, Date: now,
		UnsubscribeURL: r.o.Links.Unsubscribe(d.ID, s.Email, now),
	}
	return &messageToSend{env: env, rendered: rendered, items: len(items)}, nil
}
