package digests

import (
	"github.com/syndic-network/syndic/feeds"
	"github.com/syndic-network/syndic/internal/config"
)

// Digest is one configured digest as the runner and the handlers use it.
type Digest struct {
	ID       string
	Channel  string
	Schedule Schedule
	Subject  config.DigestSubject
	MaxItems int
	// MaxItemsPerPartner caps the items of one partner in a message; 0
	// or less places no cap.
	MaxItemsPerPartner int
	From               string
	GroupBy            string
	// Filter is the channel's filter, applied before each subscriber's.
	Filter feeds.Filter
}

// FromConfig converts the configured digests, with the channel filters of
// cfg. It returns an error for a schedule that does not parse, which Load
// already rejects.
func FromConfig(cfg *config.Config) ([]Digest, error) {
	filters := map[string]feeds.Filter{}
	for _, ch := range cfg.Channels {
		filters[ch.ID] = ChannelFilter(ch)
	}
	out := make([]Digest, 0, len(cfg.Digests))
	for _, d := range cfg.Digests {
		loc, err := loadLocation(d.Timezone)
		if err != nil {
			return nil, err
		}
		sched, err := ParseSchedule(d.Schedule, loc)
		if err != nil {
			return nil, err
		}
		out = append(out, Digest{
			ID: d.ID, Channel: d.Channel, Schedule: sched, Subject: d.Subject,
			MaxItems: d.MaxItems, MaxItemsPerPartner: d.MaxItemsPerPartner,
			From: d.From, GroupBy: d.GroupBy, Filter: filters[d.Channel],
		})
	}
	return out, nil
}

// ChannelFilter returns the filter that a digest of channel ch applies
// before each subscriber's own: the channel's whole filter, keywords
// included, so a digest sends nothing that its channel leaves out.
func ChannelFilter(ch config.Channel) feeds.Filter {
	return feeds.Filter{
		Partners: ch.Filter.Partners, Languages: ch.Filter.Languages, Categories: ch.Filter.Categories,
		Keywords: ch.Filter.Keywords, ExcludeKeywords: ch.Filter.ExcludeKeywords,
	}
}

// subscriberFilter returns the filter of a subscriber's own choices.
func subscriberFilter(s *Subscriber) feeds.Filter {
	return feeds.Filter{Partners: s.Partners, Languages: s.Languages, Categories: s.Categories}
}
