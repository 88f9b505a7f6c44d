package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// feedWhere polls the merged JSON feed until ok accepts it, for up to ten
// seconds.
func (in *instance) feedWhere(what string, ok func(jsonFeed) bool) jsonFeed {
	in.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + in.addr + "/feeds/all.json")
		if err != nil {
			in.t.Fatalf("fetching merged feed: %v", err)
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			in.t.Fatalf("reading merged feed: %v", err)
		}
		var feed jsonFeed
		if err := json.Unmarshal(body, &feed); err != nil {
			in.t.Fatalf("decoding merged feed: %v", err)
		}
		if ok(feed) {
			return feed
		}
		if time.Now().After(deadline) {
			in.t.Fatalf("merged feed: %s not true after 10s; items %+v", what, feed.Items)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// api sends one intake API request with token and returns the status and
// body.
func (in *instance) api(method, path, token, body string) (int, string) {
	in.t.Helper()
	req, err := http.NewRequest(method, "http://"+in.addr+path, bytes.NewBufferString(body))
	if err != nil {
		in.t.Fatalf("building request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		in.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		in.t.Fatalf("reading response: %v", err)
	}
	return resp.StatusCode, string(data)
}

func TestEndToEndPushAndRetract(t *testing.T) {
	partner := newPartnerFeed(t, "1")
	in := newInstance(t, partner.srv.URL)
	in.pollOnce(0, "items: 1 new")

	code, out := in.command(context.Background(), "partners", "token", "issue", "wipk")
	if code != 0 {
		t.Fatalf("token issue exit code = %d; output:\n%s", code, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	token := lines[len(lines)-1]
	if !strings.HasPrefix(token, "syn_wipk_") {
		t.Fatalf("last line of token issue = %q, want the token", token)
	}

	stop := in.serve()
	defer stop()
	status, body := in.api(http.MethodPost, "/api/v1/items", token,
		`[{"id":"p-1","title":"Pushed one","url":"https://partner.example/p/1"},
		  {"id":"p-2","title":"Pushed two","url":"https://partner.example/p/2"}]`)
	if status != http.StatusOK || strings.Count(body, `"created"`) != 2 {
		t.Fatalf("push = %d %s, want 200 with two created", status, body)
	}
	feed := in.feedWhere("three items", func(f jsonFeed) bool { return len(f.Items) == 3 })
	if !containsTitle(feed, "Pushed one") || !containsTitle(feed, "Pushed two") {
		t.Fatalf("merged feed lacks the pushed items: %+v", feed.Items)
	}

	// The partner retracts one item through the API.
	status, body = in.api(http.MethodDelete, "/api/v1/items/p-1", token, "")
	if status != http.StatusOK || !strings.Contains(body, `"state":"retracted"`) {
		t.Fatalf("DELETE = %d %s, want 200 retracted", status, body)
	}
	in.feedWhere("p-1 gone", func(f jsonFeed) bool { return len(f.Items) == 2 && !containsTitle(f, "Pushed one") })

	// The operator retracts the polled item by its id in the feed while
	// `syndic run` is alive.
	var polledID string
	for _, it := range feed.Items {
		if strings.HasPrefix(it.Title, "Wiadomość") {
			polledID = it.ID
		}
	}
	itemID := polledID[strings.LastIndex(polledID, ":")+1:]
	code, out = in.command(context.Background(), "items", "retract", itemID)
	if code != 0 || !strings.Contains(out, "retracted item") {
		t.Fatalf("items retract %s = %d %q, want 0 and a confirmation", itemID, code, out)
	}
	feed = in.feedWhere("only p-2 left", func(f jsonFeed) bool { return len(f.Items) == 1 })
	if feed.Items[0].Title != "Pushed two" {
		t.Errorf("remaining item = %q, want Pushed two", feed.Items[0].Title)
	}
	// A poll of the unchanged feed keeps the retracted item out.
	partner.set("1")
	in.pollOnce(0, "items: 0 new")
	in.feedWhere("still one item", func(f jsonFeed) bool { return len(f.Items) == 1 })
}
