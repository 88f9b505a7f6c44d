package workers

import (
	"log/slog"
	"slices"

	"github.com/syndic-network/syndic/pipeline"
)

// WarningTooManyItems is the warning recorded for a feed whose document
// holds more items than Options.MaxItems.
const WarningTooManyItems = "more items than fetch.max_items"

// capItems keeps the newest p.o.MaxItems items of parsed, in document
// order, and records a warning (see warnFeed) when it leaves some out.
// Among items with equal dates, the earlier ones of the document stay.
func (p *Poller) capItems(parsed *pipeline.ParseResult, previous []string, log *slog.Logger, rep *PollReport) {
	limit := p.o.MaxItems
	if limit <= 0 || len(parsed.Items) <= limit {
		return
	}
	order := make([]int, len(parsed.Items))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return parsed.Items[b].Published.Compare(parsed.Items[a].Published)
	})
	keep := order[:limit]
	slices.Sort(keep)
	items := make([]pipeline.Item, 0, limit)
	for _, i := range keep {
		items = append(items, parsed.Items[i])
	}
	warnFeed(rep, previous, log, WarningTooManyItems,
		"the oldest are left out; raise fetch.max_items if the partner's older items are wanted",
		"items", len(parsed.Items), "max_items", limit)
	parsed.Items = items
}
