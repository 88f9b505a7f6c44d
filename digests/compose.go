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
	selected := selectItems(items, d.MaxItems, d.MaxItemsPerPartner)
	more := len(items) - len(selected)
	items = selected
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

// selectItems returns the first maxItems of items, skipping an item once
// its partner has perPartner items in the result. A perPartner of 0 or
// less places no cap. So a partner that publishes many items between two
// digests cannot fill a message alone.
func selectItems(items []pipeline.Item, maxItems, perPartner int) []pipeline.Item {
	if perPartner <= 0 || perPartner >= maxItems {
		return items[:min(len(items), max(maxItems, 0))]
	}
	countByPartner := make(map[string]int)
	out := make([]pipeline.Item, 0, maxItems)
	for _, it := range items {
		if len(out) == maxItems {
			break
		}
		if countByPartner[it.Partner] >= perPartner {
			continue
		}
		countByPartner[it.Partner]++
		out = append(out, it)
	}
	return out
}
