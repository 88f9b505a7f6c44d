package main

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// probeTimeout bounds a health probe; container runtimes use a few
// seconds per check.
const probeTimeout = 3 * time.Second

// probe implements `syndic probe URL`: exit 0 when a GET of URL returns a
// 2xx status, and 1 otherwise. Distroless and scratch images have no curl or wget, so
// container health checks call the binary itself.
func (c *cli) probe(ctx context.Context, args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(c.stderr, "syndic probe: use syndic probe URL, such as http://127.0.0.1:8081/readyz")
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, args[0], nil)
	if err != nil {
		return c.fail(fmt.Errorf("probing %s: %w", args[0], err))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return c.fail(fmt.Errorf("probing %s: %w", args[0], err))
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return c.fail(fmt.Errorf("probing %s: status %s", args[0], resp.Status))
	}
	return 0
}
