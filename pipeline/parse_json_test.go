package pipeline

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

var jsonSource = Source{Partner: "wire", Feed: "news", FeedURL: "https://wire.example.pl/feed.json"}

// jsonFeedDoc returns a JSON Feed 1.1 document with the given top-level
// fields (each `"key":value`, may be empty) and items.
func jsonFeedDoc(top string, items ...string) []byte {
	if top != "" {
		top += ","
	}
	return fmt.Appendf(nil, `{"version":"https://jsonfeed.org/version/1.1",%s"items":[%s]}`, top, strings.Join(items, ","))
}

func jsonItem(id string) string {
	return fmt.Sprintf(`{"id":%q,"url":"https://wire.example.pl/%s","title":"Item %s","content_text":"Text."}`, id, id, id)
}

func itemGUIDs(items []Item) []string {
	var guids []string
	for _, it := range items {
		guids = append(guids, it.GUID)
	}
	return guids
}

func TestParseJSONFeedCoercesNumberID(t *testing.T) {
	res := parseFixture(t, "json-feed-number-id.json", jsonSource, fetchTime)
	if got, want := itemGUIDs(res.Items), []string{"a-1", "a-2", "12345", "a-4", "-7.5e2"}; !slices.Equal(got, want) {
		t.Errorf("items = %q, want %q", got, want)
	}
	if len(res.Rejected) != 1 {
		t.Fatalf("rejected = %v, want one item", res.Rejected)
	}
	rj := res.Rejected[0]
	if rj.Index != 5 {
		t.Errorf("rejected index = %d, want 5", rj.Index)
	}
	if rj.Link != "https://wire.example.pl/obj" {
		t.Errorf("rejected link = %q, want the item's url", rj.Link)
	}
	if !errors.Is(rj, ErrInvalidItem) {
		t.Errorf("rejection %v does not wrap ErrInvalidItem", rj)
	}
	want := `item 5: invalid item: "id" must be a string, got an object`
	if rj.Error() != want {
		t.Errorf("rejection = %q, want %q", rj.Error(), want)
	}
	if res.Title != "Wiadomości" {
		t.Errorf("feed title = %q, want Wiadomości", res.Title)
	}
}

func TestParseJSONFeedBadItemField(t *testing.T) {
	tests := []struct {
		name string
		bad  string
		guid string
		want string
	}{
		{"tags not a list", `{"id":"t","title":"T","tags":"notalist"}`, "t", `"tags" must be an array, got a string`},
		{"tag not a string", `{"id":"t","title":"T","tags":["a",7]}`, "t", `"tags" must be a string, got a number`},
		{"author a string", `{"id":"t","title":"T","author":"Jan"}`, "t", `"author" must be an object, got a string`},
		{"size a fraction", `{"id":"t","title":"T","attachments":[{"url":"https://wire.example.pl/a.mp3","size_in_bytes":1.5}]}`, "t",
			`"attachments.size_in_bytes" must be an integer, got 1.5`},
		{"title a boolean", `{"id":"t","title":true}`, "t", `"title" must be a string, got a boolean`},
		{"id an object", `{"id":{"n":1},"title":"T"}`, "", `"id" must be a string, got an object`},
		{"id an array", `{"id":[1],"title":"T"}`, "", `"id" must be a string, got an array`},
		{"item a number", `5`, "", `item must be an object, got a number`},
		{"item null", `null`, "", `item must be an object, got null`},
		{"author null", `{"id":"t","title":"T","authors":[null]}`, "t", `"authors" must contain objects, got null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := jsonFeedDoc("", jsonItem("a"), tt.bad, jsonItem("b"))
			res, err := ParseFeed(doc, "application/feed+json", jsonSource, fetchTime)
			if err != nil {
				t.Fatalf("parsing feed: %v", err)
			}
			if got, want := itemGUIDs(res.Items), []string{"a", "b"}; !slices.Equal(got, want) {
				t.Errorf("items = %q, want %q", got, want)
			}
			if len(res.Rejected) != 1 {
				t.Fatalf("rejected = %v, want one item", res.Rejected)
			}
			rj := res.Rejected[0]
			if rj.Index != 1 {
				t.Errorf("rejected index = %d, want 1", rj.Index)
			}
			if rj.GUID != tt.guid {
				t.Errorf("rejected guid = %q, want %q", rj.GUID, tt.guid)
			}
			if want := "invalid item: " + tt.want; rj.Err.Error() != want {
				t.Errorf("reason = %q, want %q", rj.Err.Error(), want)
			}
		})
	}
}

func TestParseJSONFeedUnreadableIDNamesIndex(t *testing.T) {
	doc := jsonFeedDoc("", jsonItem("a"), `{"id":{"n":1},"title":"T"}`)
	res, err := ParseFeed(doc, "", jsonSource, fetchTime)
	if err != nil {
		t.Fatalf("parsing feed: %v", err)
	}
	if len(res.Rejected) != 1 {
		t.Fatalf("rejected = %v, want one item", res.Rejected)
	}
	want := `item 1: invalid item: "id" must be a string, got an object`
	if got := res.Rejected[0].Error(); got != want {
		t.Errorf("rejection = %q, want %q", got, want)
	}
}

func TestParseJSONFeedAllItemsBad(t *testing.T) {
	doc := jsonFeedDoc(`"title":"Wire"`, `{"id":true,"title":"A"}`, `{"id":"b","tags":"x"}`)
	res, err := ParseFeed(doc, "", jsonSource, fetchTime)
	if err != nil {
		t.Fatalf("parsing feed: %v, want every item rejected on its own", err)
	}
	if len(res.Items) != 0 {
		t.Errorf("items = %q, want none", itemGUIDs(res.Items))
	}
	if len(res.Rejected) != 2 {
		t.Fatalf("rejected = %v, want two items", res.Rejected)
	}
	for i, rj := range res.Rejected {
		if rj.Index != i {
			t.Errorf("rejected[%d] index = %d, want %d", i, rj.Index, i)
		}
	}
	if res.Title != "Wire" {
		t.Errorf("feed title = %q, want Wire", res.Title)
	}
}

// An RSS document whose items are all rejected parses with no items, and
// a JSON Feed must be treated the same way.
func TestParseAllRejectedLikeRSS(t *testing.T) {
	rss := `<rss version="2.0"><channel><title>Wire</title><item><description></description></item></channel></rss>`
	res, err := ParseFeed([]byte(rss), "", jsonSource, fetchTime)
	if err != nil {
		t.Fatalf("parsing rss: %v", err)
	}
	if len(res.Items) != 0 || len(res.Rejected) != 1 {
		t.Fatalf("rss: %d items, %d rejected, want 0 and 1", len(res.Items), len(res.Rejected))
	}
}

func TestParseJSONFeedTopLevelWrongType(t *testing.T) {
	tests := []struct {
		name     string
		top      string
		title    string
		recovery string
	}{
		{"title a number", `"title":5`, "", `json feed field of the wrong type: "title"`},
		{"author a string", `"title":"Wire","author":"Jan"`, "Wire", `json feed field of the wrong type: "author"`},
		{"language a list", `"title":"Wire","language":["pl"]`, "Wire", `json feed field of the wrong type: "language"`},
		{"key in capitals", `"title":"Wire","EXPIRED":"yes"`, "Wire", `json feed field of the wrong type: "expired"`},
		{"author null", `"title":"Wire","authors":[null]`, "Wire", `json feed field of the wrong type: "authors"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := jsonFeedDoc(tt.top, jsonItem("a"), jsonItem("b"))
			res, err := ParseFeed(doc, "", jsonSource, fetchTime)
			if err != nil {
				t.Fatalf("parsing feed: %v", err)
			}
			if got, want := itemGUIDs(res.Items), []string{"a", "b"}; !slices.Equal(got, want) {
				t.Errorf("items = %q, want %q", got, want)
			}
			if len(res.Rejected) != 0 {
				t.Errorf("rejected = %v, want none", res.Rejected)
			}
			if res.Title != tt.title {
				t.Errorf("feed title = %q, want %q", res.Title, tt.title)
			}
			if !slices.Contains(res.Recoveries, tt.recovery) {
				t.Errorf("recoveries = %q, want %q", res.Recoveries, tt.recovery)
			}
		})
	}
}

func TestParseJSONFeedVersionWrongType(t *testing.T) {
	doc := []byte(`{"version":1.1,"items":[` + jsonItem("a") + `]}`)
	res, err := ParseFeed(doc, "", jsonSource, fetchTime)
	if err != nil {
		t.Fatalf("parsing feed: %v", err)
	}
	if got, want := itemGUIDs(res.Items), []string{"a"}; !slices.Equal(got, want) {
		t.Errorf("items = %q, want %q", got, want)
	}
}

func TestParseJSONFeedDocumentErrors(t *testing.T) {
	tests := []struct {
		name string
		body string
		want error
		text string
	}{
		{"items a string", `{"version":"https://jsonfeed.org/version/1.1","items":"x"}`, ErrUnparseable, `"items" must be an array, got a string`},
		{"items an object", `{"version":"https://jsonfeed.org/version/1.1","items":{"id":"a"}}`, ErrUnparseable, `"items" must be an array, got an object`},
		{"not json", `{"version":"https://jsonfeed.org/version/1.1","items":[}`, ErrUnparseable, "invalid json"},
		{"no items and no version", `{"title":5}`, ErrNotAFeed, "json feed version"},
		{"top level an array", `[{"id":"a"}]`, ErrNotAFeed, "neither xml nor json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFeed([]byte(tt.body), "", jsonSource, fetchTime)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error = %q, want it to contain %q", err, tt.text)
			}
		})
	}
}

// TestParseJSONFeedMemo checks that the memo path gives the same
// rejections as ParseFeed for a document with a bad item.
func TestParseJSONFeedMemo(t *testing.T) {
	doc := jsonFeedDoc("", jsonItem("a"), `{"id":"n","title":"N","tags":"x"}`, `{"id":12345,"title":"M"}`, jsonItem("c"))
	parseWithMemo(t, "json bad item", doc, doc, jsonSource, jsonSource)
}
