package pipeline

import "testing"

func TestPublicFeedURL(t *testing.T) {
	cases := []struct{ raw, want string }{
		{"https://wipk.example.org/rss", "https://wipk.example.org/rss"},
		{"push", "push"},
		{"http://feeduser:feedpassw0rd@127.0.0.1:19010/gamma.xml?apikey=TOPSECRET123", "http://127.0.0.1:19010/gamma.xml"},
		{"https://user@cms.example.org/feed?lang=pl&api_key=s3&format=rss", "https://cms.example.org/feed?lang=pl&format=rss"},
		{"https://cms.example.org/index.php?type=rss&Access_Token=x", "https://cms.example.org/index.php?type=rss"},
		{"https://cms.example.org/feed?X-Amz-Signature=ab&X-Amz-Credential=cd&p=1", "https://cms.example.org/feed?p=1"},
		{"https://cms.example.org/feed?%61pikey=x&q=%C5%82%C3%B3d%C5%BA", "https://cms.example.org/feed?q=%C5%82%C3%B3d%C5%BA"},
		{"https://cms.example.org/feed?password", "https://cms.example.org/feed"},
		{"https://cms.example.org/feed?", "https://cms.example.org/feed?"},
		{"https://cms.example.org/a@b/feed", "https://cms.example.org/a@b/feed"},
		{"http://us er:pw@host%zz/feed", ""},
	}
	for _, c := range cases {
		if got := PublicFeedURL(c.raw); got != c.want {
			t.Errorf("PublicFeedURL(%q) = %q, want %q", c.raw, got, c.want)
		}
	}
}

func TestNormaliseItemHidesFeedCredentials(t *testing.T) {
	body := []byte(`<rss version="2.0"><channel><title>T</title><item><title>A</title><link>/news/1</link><guid>g-1</guid></item></channel></rss>`)
	src := Source{Partner: "wipk", Feed: "news", FeedURL: "https://reader:pw@cms.example.org/rss?token=abc&lang=pl"}
	res, err := ParseFeed(body, "application/rss+xml", src, limitsNow)
	if err != nil {
		t.Fatalf("parsing: %v", err)
	}
	if len(res.Items) != 1 {
		t.Fatalf("got %d items, want 1", len(res.Items))
	}
	it := res.Items[0]
	if it.FeedURL != "https://cms.example.org/rss?lang=pl" {
		t.Errorf("item feed_url = %q, want it without the user info and the token", it.FeedURL)
	}
	if it.URL != "https://cms.example.org/news/1" {
		t.Errorf("item url = %q, want the relative link resolved without the user info", it.URL)
	}
}
