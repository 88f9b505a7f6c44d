package feedfarm

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxSlide bounds one slide, because a window slid by more than its size
// has no known items left.
const maxSlide = 1000

// ControlHandler returns the HTTP API a benchmark drives a farm in another
// process with: GET /urls lists the feed URLs one per line, POST
// /slide?n=5 slides every feed by n items, GET /stats returns Stats as
// JSON.
func ControlHandler(f *Farm) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /urls", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		bw := bufio.NewWriter(w)
		for _, u := range f.URLs() {
			_, _ = bw.WriteString(u + "\n")
		}
		_ = bw.Flush()
	})
	mux.HandleFunc("POST /slide", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil || n < 1 || n > maxSlide {
			http.Error(w, fmt.Sprintf("invalid n %q: use an integer from 1 to %d", r.URL.Query().Get("n"), maxSlide), http.StatusBadRequest)
			return
		}
		f.Slide(n)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(f.Stats())
	})
	return mux
}

// Remote is a farm running in another process, reached through its
// control API.
type Remote struct {
	base   string
	client *http.Client
}

// Dial returns a client for the control API at base, such as
// "http://127.0.0.1:7070".
func Dial(base string) *Remote {
	return &Remote{base: strings.TrimSuffix(base, "/"), client: &http.Client{Timeout: 5 * time.Minute}}
}

// URLs fetches the feed URLs.
func (r *Remote) URLs(ctx context.Context) ([]string, error) {
	body, err := r.do(ctx, http.MethodGet, "/urls")
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(body)), nil
}

// Slide slides every feed of the farm by n items and returns once every
// feed serves its new document.
func (r *Remote) Slide(ctx context.Context, n int) error {
	_, err := r.do(ctx, http.MethodPost, "/slide?n="+strconv.Itoa(n))
	return err
}

// Stats fetches the farm's request counts.
func (r *Remote) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	body, err := r.do(ctx, http.MethodGet, "/stats")
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(body, &s); err != nil {
		return s, fmt.Errorf("decoding farm stats: %w", err)
	}
	return s, nil
}

func (r *Remote) do(ctx context.Context, method, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, nil)
	if err != nil {
		return nil, fmt.Errorf("building farm request %s: %w", path, err)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("calling farm %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading farm response %s: %w", path, err)
	}
	if resp.StatusCode >= 300 {
		return nil, fmt.Errorf("calling farm %s: status %s: %s", path, resp.Status, strings.TrimSpace(string(body)))
	}
	return body, nil
}
