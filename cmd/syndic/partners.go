package main

import (
	"context"
	"flag"
	"fmt"
	"slices"

	"github.com/syndic-network/syndic/internal/app"
	"github.com/syndic-network/syndic/internal/config"
	"github.com/syndic-network/syndic/internal/tokens"
)

const partnersUsage = `Usage:
  syndic partners import-opml FILE [--partner ID] --config FILE
  syndic partners token issue PARTNER --config FILE
  syndic partners token revoke PARTNER [--id TOKEN_ID] --config FILE
  syndic partners token list PARTNER --config FILE

issue prints a new intake API token on its last line. Syndic stores only its
hash, so the token cannot be shown again. A partner may hold two tokens, so
that it can switch to a new one before the old one is revoked. revoke without
--id revokes every token of the partner.
`

// partners implements `syndic partners token issue|revoke|list PARTNER`.
// It exits 2 on a usage error and 1 when the operation failed.
func (c *cli) partners(ctx context.Context, args []string) int {
	if len(args) > 0 && args[0] == "import-opml" {
		return c.importOPML(ctx, args[1:])
	}
	if slices.ContainsFunc(args, isHelpFlag) {
		fmt.Fprint(c.stdout, partnersUsage)
		return 0
	}
	if len(args) < 3 || args[0] != "token" {
		fmt.Fprint(c.stderr, partnersUsage)
		return 2
	}

	action, partner := args[1], args[2]
	var id string
	cfg, err := c.flags("partners token "+action, args[3:], func(fs *flag.FlagSet) {
		if action == "revoke" {
			fs.StringVar(&id, "id", "", "id of the token to revoke, as issue and list print it; empty revokes every token")
		}
	})
	if err != nil {
		c.fail(err)
		return 2
	}
	if !slices.ContainsFunc(cfg.Partners, func(p config.Partner) bool { return p.ID == partner }) {
		fmt.Fprintf(c.stderr, "syndic: partner %q is not in the configuration; add it under partners first\n", partner)
		return 2
	}
	a, err := app.Open(ctx, cfg, c.logger(cfg), app.OpenOptions{})
	if err != nil {
		return c.fail(err)
	}
	defer a.Close(context.WithoutCancel(ctx))

	store, err := a.TokenStore(ctx)
	if err != nil {
		return c.fail(err)
	}
	switch action {
	case "issue":
		return c.issueToken(ctx, store, partner)
	case "revoke":
		return c.revokeToken(ctx, store, partner, id)
	case "list":
		return c.listTokens(ctx, store, partner)
	default:
		fmt.Fprintf(c.stderr, "syndic partners token: unknown action %q\n\n%s", action, partnersUsage)
		return 2
	}
}

func (c *cli) issueToken(ctx context.Context, store *tokens.Store, partner string) int {
	token, info, err := store.Issue(ctx, partner)
	if err != nil {
		return c.fail(err)
	}
	fmt.Fprintf(c.stdout, "partner: %s\ntoken id: %s\n", partner, info.ID)
	fmt.Fprintln(c.stdout, "Store the token now: Syndic keeps only its hash and cannot show it again.")
	fmt.Fprintln(c.stdout, token)
	return 0
}

func (c *cli) revokeToken(ctx context.Context, store *tokens.Store, partner, id string) int {
	n, err := store.Revoke(ctx, partner, id)
	if err != nil {
		return c.fail(err)
	}
	fmt.Fprintf(c.stdout, "revoked %d token(s) of partner %s\n", n, partner)
	return 0
}

func (c *cli) listTokens(ctx context.Context, store *tokens.Store, partner string) int {
	live, err := store.List(ctx, partner)
	if err != nil {
		return c.fail(err)
	}
	for _, t := range live {
		fmt.Fprintf(c.stdout, "%s issued %s\n", t.ID, t.Issued.Format("2006-01-02T15:04:05Z"))
	}
	fmt.Fprintf(c.stdout, "%d live token(s) of partner %s\n", len(live), partner)
	return 0
}
