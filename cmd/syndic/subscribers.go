package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/syndic-network/syndic/digests"
)

// subscribers implements `syndic subscribers export|import|delete`.
func (c *cli) subscribers(ctx context.Context, args []string) int {
	if len(args) == 0 {
		return c.fail(errors.New("subscribers: use export, import or delete"))
	}
	switch args[0] {
	case "export":
		return c.subscribersExport(ctx, args[1:])
	case "import":
		return c.subscribersImport(ctx, args[1:])
	case "delete":
		return c.subscribersDelete(ctx, args[1:])
	default:
		return c.fail(fmt.Errorf("subscribers: unknown subcommand %q: use export, import or delete", args[0]))
	}
}

func (c *cli) subscribersExport(ctx context.Context, args []string) int {
	var id string
	a, d, err := c.openDigests(ctx, "export", args, func(fs *flag.FlagSet) {
		fs.StringVar(&id, "digest", "", "digest id (required)")
	})
	if err != nil {
		return c.fail(err)
	}
	defer a.Close(context.WithoutCancel(ctx))
	if _, err := d.Find(id); err != nil {
		return c.fail(err)
	}
	if err := d.Store.Export(ctx, id, c.stdout); err != nil {
		return c.fail(err)
	}
	return 0
}

func (c *cli) subscribersImport(ctx context.Context, args []string) int {
	var id, file string
	a, d, err := c.openDigests(ctx, "import", args, func(fs *flag.FlagSet) {
		fs.StringVar(&id, "digest", "", "digest id (required)")
		fs.StringVar(&file, "file", "", "CSV file in the export format, with confirmed_at set on every row (required)")
	})
	if err != nil {
		return c.fail(err)
	}
	defer a.Close(context.WithoutCancel(ctx))
	if _, err := d.Find(id); err != nil {
		return c.fail(err)
	}
	f, err := os.Open(file)
	if err != nil {
		return c.fail(fmt.Errorf("opening import file: %w", err))
	}
	defer f.Close()
	rep, err := d.Store.Import(ctx, id, f)
	fmt.Fprintf(c.stdout, "%d added, %d updated, %d skipped as unsubscribed or bounced\n", rep.Added, rep.Updated, rep.Suppressed)
	if err != nil {
		return c.fail(err)
	}
	return 0
}

func (c *cli) subscribersDelete(ctx context.Context, args []string) int {
	var id, email string
	a, d, err := c.openDigests(ctx, "delete", args, func(fs *flag.FlagSet) {
		fs.StringVar(&id, "digest", "", "digest id (required)")
		fs.StringVar(&email, "email", "", "address to delete (required)")
	})
	if err != nil {
		return c.fail(err)
	}
	defer a.Close(context.WithoutCancel(ctx))
	if _, err := d.Find(id); err != nil {
		return c.fail(err)
	}
	if err := d.Store.Remove(ctx, id, email, digests.ReasonDeleted, time.Now()); err != nil {
		return c.fail(err)
	}
	fmt.Fprintf(c.stdout, "deleted %s from digest %s; only a suppression hash remains\n", email, id)
	return 0
}
