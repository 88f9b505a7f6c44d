package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/syndic-network/syndic/internal/app"
)

// splitDir takes the one argument that is neither a flag nor the value of
// --config out of args, so DIR may come before or after the flags.
func splitDir(args []string) (rest []string, dir string, ok bool) {
	flags, dirs := splitPositional(args, "config")
	if len(dirs) != 1 {
		return args, "", false
	}
	return flags, dirs[0], true
}

// backup implements `syndic backup DIR`: it writes the item stream and the
// KV buckets into a new directory.
func (c *cli) backup(ctx context.Context, args []string) int {
	return c.withDir(ctx, "backup", args, func(a *app.App, dir string) error {
		m, err := a.Backup(ctx, dir)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "backed up %d stream messages (sequences %d to %d) and %d buckets to %s\n",
			m.Stream.Msgs, m.Stream.FirstSeq, m.Stream.LastSeq, len(m.Buckets), dir)
		return nil
	})
}

// restore implements `syndic restore DIR`: it loads a backup into a
// deployment whose stream is empty.
func (c *cli) restore(ctx context.Context, args []string) int {
	return c.withDir(ctx, "restore", args, func(a *app.App, dir string) error {
		m, err := a.Restore(ctx, dir)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "restored %d stream messages and %d buckets from %s (written %s by syndic %s)\n",
			m.Stream.Msgs, len(m.Buckets), dir, m.Created.Format("2006-01-02 15:04 MST"), m.Version)
		return nil
	})
}

// dirUsage describes the commands that take a directory.
var dirUsage = map[string]string{
	"backup": "backup writes the item stream and the key-value buckets, except the\n" +
		"cache and the leases, into DIR, which must be missing or empty.\n",
	"restore": "restore loads a backup from DIR into a deployment whose item stream is\n" +
		"empty. With the embedded server, stop syndic run first.\n",
}

// withDir parses `COMMAND [--config FILE] DIR`, opens the deployment and
// runs fn on it.
func (c *cli) withDir(ctx context.Context, name string, args []string, fn func(*app.App, string) error) int {
	if slices.ContainsFunc(args, isHelpFlag) {
		fmt.Fprintf(c.stdout, "Usage:\n  syndic %s [--config FILE] DIR\n\n%s", name, dirUsage[name])
		return 0
	}
	rest, dir, ok := splitDir(args)
	if !ok {
		fmt.Fprintf(c.stderr, "syndic %s: name one directory: syndic %s [--config FILE] DIR\n", name, name)
		return 2
	}
	cfg, err := c.flags(name, rest, nil)
	if err != nil {
		return c.fail(err)
	}
	log := c.logger(cfg)
	c.setMemoryLimit(cfg, log)
	a, err := app.Open(ctx, cfg, log, app.OpenOptions{})
	if err != nil {
		return c.fail(err)
	}
	defer a.Close(context.WithoutCancel(ctx))
	if err := fn(a, dir); err != nil {
		return c.fail(err)
	}
	return 0
}
