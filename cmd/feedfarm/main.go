// Command feedfarm serves thousands of synthetic partner feeds on loopback
// addresses (127.1.0.1 upwards), for benchmarks of the Syndic poller. A
// control API on -control lists the feed URLs and slides every feed's
// window; see package feedfarm.
//
//	feedfarm -feeds 2000 -items 50 -hosts 50 -control 127.0.0.1:7070
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/syndic-network/syndic/internal/feedfarm"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "feedfarm:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	var o feedfarm.Options
	fs := flag.NewFlagSet("feedfarm", flag.ContinueOnError)
	fs.IntVar(&o.Feeds, "feeds", 2000, "number of feeds")
	fs.IntVar(&o.Items, "items", 50, "items per feed document")
	fs.IntVar(&o.Hosts, "hosts", 50, "loopback addresses to spread the feeds over")
	fs.BoolVar(&o.Gzip, "gzip", true, "gzip bodies for clients that accept it")
	control := fs.String("control", "127.0.0.1:7070", "address of the control API")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *control)
	if err != nil {
		return fmt.Errorf("listening on control address %s: %w", *control, err)
	}
	farm, err := feedfarm.Start(o)
	if err != nil {
		_ = ln.Close()
		return err
	}
	srv := &http.Server{Handler: feedfarm.ControlHandler(farm), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	fmt.Fprintf(stdout, "feedfarm: %d feeds on %d addresses; control at http://%s\n", len(farm.URLs()), min(o.Hosts, len(farm.URLs())), ln.Addr())
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err = errors.Join(srv.Shutdown(sctx), farm.Close(sctx))
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
