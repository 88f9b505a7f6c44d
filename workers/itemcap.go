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
// order, and records a warning when it leaves some out, logged only when
// the feed's previous warnings lacked it. Items with equal dates keep the
// earlier ones of the document.
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
	if !slices.Contains(previous, WarningTooManyItems) {
		log.Warn("feed has more items than fetch.max_items; the oldest are left out",
			"items", len(parsed.Items), "max_items", limit,
			"hint", "raise fetch.max_items if the partner's older items are wanted")
	}
	parsed.Items = items
	rep.Warnings = append(rep.Warnings, WarningTooManyItems)
	warningsTotal.WithLabelValues(WarningTooManyItems).Inc()
}
