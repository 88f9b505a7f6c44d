// Command syndic runs the Syndic content syndication pipeline: it polls
// partner feeds, deduplicates and publishes their items on NATS JetStream,
// and serves merged RSS, Atom and JSON feeds. `syndic run` does all of it in
// one process with an embedded NATS server; `syndic ingest`, `syndic serve`
// and `syndic digest` split the work across processes sharing a NATS
// cluster and Redis.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `Usage: syndic COMMAND [--config FILE] [flags]

Commands:
  run            run everything in one process (embedded NATS unless nats.url is set)
  ingest         poll partner feeds and publish their items; serve the intake API
                 and WebSub callbacks on http.addr
  serve          serve merged feeds, web pages, WebSub hub subscriptions and digest sign-up
  poll --once    poll every feed once, print a summary and exit
  feeds status|reset PARTNER/FEED
                 show feed health, failing feeds first, or resume a gone or flagged feed
  digest         send the email digests on their schedule, sign-up confirmation mails
                 and WebSub hub deliveries
  digest preview --digest ID --subscriber EMAIL [--out PATH]
                 write one subscriber's next digest to PATH.eml and PATH.html
  digest send --digest ID --now
                 send the next period now; a second run in that period sends nothing
  subscribers export|import|delete --digest ID
                 export as CSV, import CSV (--file), or delete one address (--email)
  check-config [FILE]
                 validate the configuration and print it with secrets masked
  backup DIR     write the item stream and the KV buckets to a new directory
  restore DIR    load a backup into a deployment whose stream is empty
  replay --since 24h --channel ID | --consumer NAME
                 print a channel rebuilt from the period, or move a durable consumer back to its start
  probe URL      exit 0 when a GET of URL returns 2xx, for container health checks
  partners token issue|revoke|list PARTNER
                 manage a partner's intake API tokens
  partners import-opml FILE [--partner ID]
                 print a partners: block for the feeds of an OPML subscription list
  items retract ID [--partner PARTNER]
                 remove an item from the merged feeds and unsent digests
  version        print the version

Every command reads --config FILE (default $SYNDIC_CONFIG) and SYNDIC_* variables.
COMMAND --help prints the command's own usage.
`

// run dispatches to a command and returns the process exit code.
func run(ctx context.Context, args, env []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	c := &cli{env: env, stdout: stdout, stderr: stderr}
	switch cmd {
	case "run":
		return c.runAll(ctx, rest)
	case "ingest":
		return c.ingest(ctx, rest)
	case "serve":
		return c.serve(ctx, rest)
	case "poll":
		return c.poll(ctx, rest)
	case "feeds":
		return c.feeds(ctx, rest)
	case "partners":
		return c.partners(ctx, rest)
	case "items":
		return c.items(ctx, rest)
	case "digest":
		return c.digest(ctx, rest)
	case "subscribers":
		return c.subscribers(ctx, rest)
	case "check-config":
		return c.checkConfig(rest)
	case "backup":
		return c.backup(ctx, rest)
	case "restore":
		return c.restore(ctx, rest)
	case "replay":
		return c.replay(ctx, rest)
	case "probe":
		return c.probe(ctx, rest)
	case "version", "--version":
		fmt.Fprintln(stdout, "syndic", versionString())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "syndic: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
}
