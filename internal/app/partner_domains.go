package app

import "github.com/syndic-network/syndic/feeds"

// partnerDomains returns the site scopes of the partners' home pages and
// feed URLs, so a merged feed shows, within a story, the item of the
// partner whose site the story's link is on.
func (a *App) partnerDomains() feeds.PartnerDomains {
	links := make(map[string][]string, len(a.Config.Partners))
	for _, p := range a.Config.Partners {
		if p.URL != "" {
			links[p.ID] = append(links[p.ID], p.URL)
		}
		for _, f := range p.Feeds {
			links[p.ID] = append(links[p.ID], f.URL)
		}
	}
	return feeds.NewPartnerDomains(links)
}
