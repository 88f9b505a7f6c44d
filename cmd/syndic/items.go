package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/syndic-network/syndic/internal/app"
	"github.com/syndic-network/syndic/pipeline"
)

const itemsUsage = `Usage:
  syndic items retract ID [--partner PARTNER] --config FILE

retract publishes a retracted event that removes the item from the merged
feeds and from digests not yet sent. ID is Syndic's 32-hex item id, as in the item
events and the merged feeds, or with --partner the partner's own id of a
pushed item.
`

// items implements `syndic items retract ID`. It exits 2 on a usage
// error, 1 when the item is unknown or the retraction failed.
func (c *cli) items(ctx context.Context, args []string) int {
	if len(args) < 2 || args[0] != "retract" {
		fmt.Fprint(c.stderr, itemsUsage)
		return 2
	}

	id := args[1]
	var partner string
	cfg, err := c.flags("items retract", args[2:], func(fs *flag.FlagSet) {
		fs.StringVar(&partner, "partner", "", "partner whose own id ID is; empty when ID is Syndic's item id")
	})
	if err != nil {
		c.fail(err)
		return 2
	}
	a, err := app.Open(ctx, cfg, c.logger(cfg), app.OpenOptions{})
	if err != nil {
		return c.fail(err)
	}
	defer a.Close(context.WithoutCancel(ctx))

	if partner != "" {
		id = pipeline.PushedItemID(partner, id)
	}
	state, published, err := a.Retractor().Retract(ctx, partner, id)
	if errors.Is(err, pipeline.ErrItemNotFound) {
		return c.fail(fmt.Errorf("no item %s: check the id in the merged feed or item event: %w", id, err))
	}
	if err != nil {
		return c.fail(err)
	}
	if !published {
		fmt.Fprintf(c.stdout, "item %s was already retracted (revision %d)\n", id, state.Event.Revision)
		return 0
	}
	fmt.Fprintf(c.stdout, "retracted item %s of partner %s (revision %d)\n", id, state.Event.Partner, state.Event.Revision)
	return 0
}
