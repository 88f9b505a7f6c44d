package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/syndic-network/syndic/digests"
	"github.com/syndic-network/syndic/internal/app"
)

// digest implements `syndic digest`. With no subcommand it sends every
// digest on its schedule. `preview` writes one subscriber's message to
// files, and `send --now` sends the next period early.
func (c *cli) digest(ctx context.Context, args []string) int {
	if len(args) > 0 {
		switch args[0] {
		case "preview":
			return c.digestPreview(ctx, args[1:])
		case "send":
			return c.digestSend(ctx, args[1:])
		}
	}
	return c.longRunning(ctx, "digest", args, parts{digest: true})
}

// openDigests opens the app and its digests for a one-shot command.
func (c *cli) openDigests(ctx context.Context, name string, args []string, extra func(*flag.FlagSet)) (*app.App, *app.Digests, error) {
	cfg, err := c.flags("digest "+name, args, extra)
	if err != nil {
		return nil, nil, err
	}
	a, err := app.Open(ctx, cfg, c.logger(cfg), app.OpenOptions{})
	if err != nil {
		return nil, nil, err
	}
	d, err := a.OpenDigests(ctx)
	if err == nil && d == nil {
		err = errors.New("no digests configured: add digests to the configuration")
	}
	if err != nil {
		a.Close(context.WithoutCancel(ctx))
		return nil, nil, err
	}
	return a, d, nil
}

func (c *cli) digestPreview(ctx context.Context, args []string) int {
	var id, email, out string
	a, d, err := c.openDigests(ctx, "preview", args, func(fs *flag.FlagSet) {
		fs.StringVar(&id, "digest", "", "digest id (required)")
		fs.StringVar(&email, "subscriber", "", "subscriber email address (required)")
		fs.StringVar(&out, "out", "digest-preview", "output path without extension: writes OUT.eml and OUT.html")
	})
	if err != nil {
		return c.fail(err)
	}
	defer a.Close(context.WithoutCancel(ctx))
	defer d.Close()
	dg, err := d.Find(id)
	if err != nil {
		return c.fail(err)
	}
	msg, err := d.Runner(dg).Preview(ctx, email, time.Now())
	if err != nil {
		return c.fail(fmt.Errorf("previewing digest %s for %s: %w", id, email, err))
	}
	// Both files carry the subscriber's address and signed manage and
	// unsubscribe links, so only the owner may read them.
	var eml bytes.Buffer
	if _, err := msg.WriteTo(&eml); err != nil {
		return c.fail(fmt.Errorf("writing %s.eml: %w", out, err))
	}
	if err := os.WriteFile(out+".eml", eml.Bytes(), 0o600); err != nil {
		return c.fail(fmt.Errorf("writing %s.eml: %w", out, err))
	}
	for _, part := range msg.GetParts() {
		if part.GetContentType() != "text/html" {
			continue
		}
		html, err := part.GetContent()
		if err != nil {
			return c.fail(fmt.Errorf("reading HTML part: %w", err))
		}
		if err := os.WriteFile(out+".html", html, 0o600); err != nil {
			return c.fail(fmt.Errorf("writing %s.html: %w", out, err))
		}
	}
	fmt.Fprintf(c.stdout, "wrote %s.eml and %s.html\n", out, out)
	return 0
}

func (c *cli) digestSend(ctx context.Context, args []string) int {
	var id string
	var sendNow bool
	a, d, err := c.openDigests(ctx, "send", args, func(fs *flag.FlagSet) {
		fs.StringVar(&id, "digest", "", "digest id (required)")
		fs.BoolVar(&sendNow, "now", false, "send the next period now with the items so far, instead of at its send time (required)")
	})
	if err != nil {
		return c.fail(err)
	}
	defer a.Close(context.WithoutCancel(ctx))
	defer d.Close()
	if !sendNow {
		return c.fail(errors.New("digest send: pass --now; the `syndic digest` process sends on the schedule"))
	}
	dg, err := d.Find(id)
	if err != nil {
		return c.fail(err)
	}
	now := time.Now()
	rep, err := d.Runner(dg).SendNow(ctx, now)
	if err != nil {
		return c.fail(err)
	}
	fmt.Fprintln(c.stdout, sendSummary(id, dg.Schedule.Period(dg.Schedule.Next(now)), rep))
	if rep.Deferred > 0 {
		return 1
	}
	return 0
}

// sendSummary returns the line that `digest send` prints. Unconfirmed
// sign-ups and undeliverable addresses were never due a digest, so they
// are counted apart from those already sent.
func sendSummary(id, period string, rep digests.Report) string {
	return fmt.Sprintf("digest %s, period %s: %d sent, %d empty, %d already sent or claimed, %d rejected, %d deferred; not sent to %d unconfirmed and %d undeliverable addresses",
		id, period, rep.Sent, rep.Empty, rep.Skipped, rep.Failed, rep.Deferred, rep.Unconfirmed, rep.Undeliverable)
}
