package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/syndic-network/syndic/internal/app"
	"github.com/syndic-network/syndic/workers"
)

const feedsUsage = `Usage:
  syndic feeds status [--json] --config FILE
  syndic feeds reset PARTNER/FEED --config FILE

status prints the health of every configured feed, failing feeds first, as
a table or as the JSON of GET /api/v1/feeds. reset clears a feed's failure
state: a feed that returned 410 Gone, or that was flagged because a
permanent failure (such as 403 or 404) lasted 3 polls and 6 hours, is
polled again. A running poller polls a gone feed within fetch.min_interval
and a flagged one at its next scheduled poll, up to fetch.max_interval
later. Send SIGHUP to syndic run or syndic ingest to poll it at once.
`

// feeds implements `syndic feeds status|reset`. It exits 2 on a usage
// error and 1 when the operation failed.
func (c *cli) feeds(ctx context.Context, args []string) int {
	if slices.ContainsFunc(args, isHelpFlag) {
		fmt.Fprint(c.stdout, feedsUsage)
		return 0
	}
	if len(args) == 0 {
		fmt.Fprint(c.stderr, feedsUsage)
		return 2
	}
	switch args[0] {
	case "status":
		return c.feedsStatus(ctx, args[1:])
	case "reset":
		if len(args) < 2 || strings.HasPrefix(args[1], "-") {
			fmt.Fprint(c.stderr, feedsUsage)
			return 2
		}
		return c.feedsReset(ctx, args[1], args[2:])
	}
	fmt.Fprintf(c.stderr, "syndic feeds: unknown action %q\n\n%s", args[0], feedsUsage)
	return 2
}

func (c *cli) feedsStatus(ctx context.Context, args []string) int {
	var asJSON bool
	cfg, err := c.flags("feeds status", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON instead of a table")
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
	rows, err := a.Poller.Health(ctx, a.Feeds())
	if err != nil {
		return c.fail(err)
	}
	if asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rows); err != nil {
			return c.fail(err)
		}
		return 0
	}
	writeHealthTable(c.stdout, rows, time.Now())
	writeFullProblems(c.stdout, rows)
	writeResetHints(c.stderr, rows)
	return 0
}

func (c *cli) feedsReset(ctx context.Context, key string, args []string) int {
	cfg, err := c.flags("feeds reset", args, nil)
	if err != nil {
		c.fail(err)
		return 2
	}
	a, err := app.Open(ctx, cfg, c.logger(cfg), app.OpenOptions{})
	if err != nil {
		return c.fail(err)
	}
	defer a.Close(context.WithoutCancel(ctx))
	for _, f := range a.Feeds() {
		if f.Key() == key {
			if err := a.Poller.Reset(ctx, f); err != nil {
				return c.fail(err)
			}
			fmt.Fprintf(c.stdout, "feed %s reset; send SIGHUP to the running syndic to poll it now, or it is polled at its next scheduled time\n", key)
			return 0
		}
	}
	fmt.Fprintf(c.stderr, "syndic: feed %q is not in the configuration; name it as PARTNER/FEED, as `syndic feeds status` prints it\n", key)
	return 2
}

// tableProblemRunes is the longest error or warning the table shows
// whole.
const tableProblemRunes = 80

// writeHealthTable prints health rows as an aligned table. Times are shown
// relative to now, and long errors are cut to keep one line per feed.
func writeHealthTable(w io.Writer, rows []workers.FeedHealth, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tFEED\tOUTCOME\tSINCE\tFAILURES\tLAST SUCCESS\tNEXT\tITEMS\tERROR")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%d\t%s\n",
			r.Status, r.Feed, dash(r.Outcome), ago(r.Since, now), r.ConsecutiveFailures,
			ago(r.LastSuccess, now), until(r.NextAttempt, now), r.ItemsSeen, dash(shorten(problem(r), tableProblemRunes)))
	}
	_ = tw.Flush()
}

// writeFullProblems prints, below the table, each error or warning that
// the table cut, because its end often names the setting to change.
func writeFullProblems(w io.Writer, rows []workers.FeedHealth) {
	first := true
	for _, r := range rows {
		p := problem(r)
		if utf8.RuneCountInString(p) <= tableProblemRunes {
			continue
		}
		if first {
			fmt.Fprintln(w)
			first = false
		}
		fmt.Fprintf(w, "%s: %s\n", r.Feed, p)
	}
}

// writeResetHints prints, for each gone or flagged feed, the command
// that resumes it once its problem is fixed. The table cuts long errors,
// so it cannot carry the hint.
func writeResetHints(w io.Writer, rows []workers.FeedHealth) {
	for _, r := range rows {
		var state string
		switch r.Status {
		case workers.StatusGone:
			state = "is gone (410) and not polled"
		case workers.StatusFlagged:
			state = "is flagged and polled only every fetch.max_interval"
		default:
			continue
		}
		fmt.Fprintf(w, "syndic feeds status: %s %s; once its problem is fixed, run `syndic feeds reset %s` "+
			"and send SIGHUP to the running syndic to poll it at once\n", r.Feed, state, r.Feed)
	}
}

// problem is the latest error of a failing feed, else the warnings of a
// feed. A feed that recovered keeps its last error in the JSON output, but
// the table shows it only while the feed is failing.
func problem(r workers.FeedHealth) string {
	if r.LastError != "" && r.Failing() {
		return r.LastError
	}
	if len(r.Warnings) > 0 {
		return "warning: " + strings.Join(r.Warnings, "; ")
	}
	return ""
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// ago formats t as a duration before now, such as "5m ago".
func ago(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return roughDuration(now.Sub(t)) + " ago"
}

// until formats t as a duration after now, or "due" when it has passed.
func until(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	if !t.After(now) {
		return "due"
	}
	return "in " + roughDuration(t.Sub(now))
}

// roughDuration rounds d to its largest unit: seconds, minutes, hours or
// days.
func roughDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + "d"
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
