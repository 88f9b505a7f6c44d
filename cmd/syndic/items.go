package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/syndic-network/syndic/internal/app"
	"github.com/syndic-network/syndic/pipeline"
)

const itemsUsage = `Usage:
  syndic items retract ID [--partner PARTNER] --config FILE

retract publishes a retracted event that removes the item from the merged
feeds and from digests not yet sent. ID is Syndic's 32-hex item id, as in the item
events, or an entry id copied from a merged feed (tag:...:ITEMID), or with
--partner the partner's own id of a pushed item. Flags may come before or
after ID.
`

// items implements `syndic items retract ID`. It exits 2 on a usage
// error, 1 when the item is unknown or the retraction failed.
func (c *cli) items(ctx context.Context, args []string) int {
	if len(args) > 0 && slices.ContainsFunc(args, isHelpFlag) {
		fmt.Fprint(c.stdout, itemsUsage)
		return 0
	}
	if len(args) < 2 || args[0] != "retract" {
		fmt.Fprint(c.stderr, itemsUsage)
		return 2
	}
	flagArgs, ids := splitPositional(args[1:], "config", "partner")
	if len(ids) != 1 {
		fmt.Fprint(c.stderr, itemsUsage)
		return 2
	}
	id := ids[0]
	var partner string
	cfg, err := c.flags("items retract", flagArgs, func(fs *flag.FlagSet) {
		fs.StringVar(&partner, "partner", "", "partner whose own id ID is; empty when ID is Syndic's item id")
	})
	if err != nil {
		c.fail(err)
		return 2
	}
	if partner != "" {
		id = pipeline.PushedItemID(partner, id)
	} else {
		// A partner's own id may itself be a tag URI, so only Syndic's
		// ids are taken out of entry ids.
		id = itemIDOf(id)
		if !pipeline.IsItemID(id) {
			fmt.Fprintf(c.stderr, "syndic items retract: invalid item id %q: use the entry id of a merged feed "+
				"(tag:...: and 32 hex digits), those 32 hex digits, or the partner's own id with --partner PARTNER\n", ids[0])
			return 2
		}
	}
	log := c.logger(cfg)
	a, err := app.Open(ctx, cfg, log, app.OpenOptions{})
	if err != nil {
		return c.fail(err)
	}
	defer a.Close(context.WithoutCancel(ctx))

	state, published, err := a.Retractor().Retract(ctx, partner, id)
	if errors.Is(err, pipeline.ErrItemNotFound) {
		return c.fail(itemNotFound(partner, ids[0], id))
	}
	if err != nil {
		return c.fail(err)
	}
	if !published {
		fmt.Fprintf(c.stdout, "item %s was already retracted (revision %d)\n", id, state.Event.Revision)
		return 0
	}
	log.Info("item retracted", "partner", state.Event.Partner, "item_id", id, "revision", state.Event.Revision)
	fmt.Fprintf(c.stdout, "retracted item %s of partner %s (revision %d)\n", id, state.Event.Partner, state.Event.Revision)
	return 0
}

// itemNotFound returns the error of a retraction whose item is unknown.
// With --partner it names the partner's own id as typed, as the intake API
// does, because the item id derived from it would mean nothing to the
// user. typed is the id argument and id Syndic's item id.
func itemNotFound(partner, typed, id string) error {
	if partner != "" {
		return fmt.Errorf("partner %s has no item %q: check the partner's own id, or retract by the entry id of the merged feed without --partner", partner, typed)
	}
	return fmt.Errorf("item %s not found: check the id in the merged feed or item event", id)
}

// isHelpFlag reports whether arg requests the usage text.
func isHelpFlag(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help"
}

// itemIDOf returns the item id in an entry id copied from a merged feed
// ("tag:AUTHORITY:ITEMID"), and any other id unchanged.
func itemIDOf(id string) string {
	if rest, ok := strings.CutPrefix(id, "tag:"); ok {
		if i := strings.LastIndexByte(rest, ':'); i >= 0 {
			return rest[i+1:]
		}
	}
	return id
}
