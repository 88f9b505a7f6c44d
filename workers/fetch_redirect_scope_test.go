package workers

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// newServerOn starts a test server on a given loopback address, so a
// test can stand for two different hosts on one machine.
func newServerOn(t *testing.T, ip string, h http.Handler) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Skipf("cannot listen on %s: %v", ip, err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// TestFetchPerFeedAllowStopsElsewhere checks that a feed allowed on a
// private network cannot redirect to another internal host, nor to
// another port of its own host, such as Syndic's admin listener.
func TestFetchPerFeedAllowStopsElsewhere(t *testing.T) {
	for _, c := range []struct{ name, targetAddr string }{
		{"another internal host", "127.0.0.2"},
		{"another port of its host", "127.0.0.1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			target := newServerOn(t, c.targetAddr, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte("<rss/>"))
			}))
			feed := newServerOn(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, target.URL+"/metrics", http.StatusFound)
			}))
			f := NewFetcher(FetcherOptions{Timeout: 5 * time.Second, MaxBody: 1 << 20})

			res := f.Fetch(context.Background(), FetchRequest{URL: feed.URL + "/feed", AllowPrivateNetwork: true})
			if !errors.Is(res.Err, ErrPrivateAddress) {
				t.Errorf("err = %v, want ErrPrivateAddress", res.Err)
			}
			if res.Outcome == OutcomeNewContent {
				t.Error("the redirect delivered content")
			}
		})
	}
}

func TestFetchPerFeedAllowFollowsSameHost(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/new", http.StatusFound)
	})
	mux.HandleFunc("/new", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("<rss/>"))
	})
	feed := newServerOn(t, "127.0.0.1", mux)
	f := NewFetcher(FetcherOptions{Timeout: 5 * time.Second, MaxBody: 1 << 20})

	res := f.Fetch(context.Background(), FetchRequest{URL: feed.URL + "/old", AllowPrivateNetwork: true})
	if res.Outcome != OutcomeNewContent {
		t.Errorf("redirect within the allowed host: outcome %v, err %v; want new content", res.Outcome, res.Err)
	}
}

func TestFetchPerFeedAllowStopsAfterLeavingOrigin(t *testing.T) {
	var feedURL string
	other := newServerOn(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, feedURL+"/back", http.StatusFound)
	}))
	mux := http.NewServeMux()
	mux.HandleFunc("/feed", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/away", http.StatusFound)
	})
	mux.HandleFunc("/back", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("<rss/>"))
	})
	feed := newServerOn(t, "127.0.0.1", mux)
	feedURL = feed.URL
	f := NewFetcher(FetcherOptions{Timeout: 5 * time.Second, MaxBody: 1 << 20})

	res := f.Fetch(context.Background(), FetchRequest{URL: feed.URL + "/feed", AllowPrivateNetwork: true})
	if !errors.Is(res.Err, ErrPrivateAddress) {
		t.Errorf("redirect chain that left the allowed origin: err = %v, want ErrPrivateAddress", res.Err)
	}
}

func TestOrigin(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{"default http port written out", "http://Intranet/feed", "http://intranet:80/other", true},
		{"default https port written out", "https://intranet/feed", "https://INTRANET:443/", true},
		{"other port", "http://127.0.0.1:8080/feed", "http://127.0.0.1:8081/metrics", false},
		{"other scheme on the same host", "http://intranet/feed", "https://intranet/feed", false},
		{"other host", "http://a.internal/feed", "http://b.internal/feed", false},
		{"IPv6 literal", "http://[::1]:8080/a", "http://[::1]:8080/b", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sameOrigin(tt.a, tt.b); got != tt.same {
				t.Errorf("sameOrigin(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.same)
			}
		})
	}
}
