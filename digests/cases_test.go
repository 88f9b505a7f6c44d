package digests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/syndic-network/syndic/pipeline"
)

// caseItems parses a feed of the shared bug-report cases with the real
// pipeline. The cases sit beside the checkout, so the test skips when
// they are absent.
func caseItems(t *testing.T, name, feedURL, partner string) []pipeline.Item {
	t.Helper()
	path := filepath.Join("..", "..", "shared", "cases", name, "feed.xml")
	body, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		t.Skipf("%s is absent: the shared cases are not beside the checkout", path)
	}
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	res, err := pipeline.ParseFeed(body, "application/rss+xml", pipeline.Source{Partner: partner, Feed: "news", FeedURL: feedURL, Language: "en"}, time.Now())
	if err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	return res.Items
}

// sendCase publishes items, runs one digest for a subscriber and returns
// the parsed message.
func sendCase(t *testing.T, e *digestEnv, items []pipeline.Item, links Links) parsedMessage {
	t.Helper()
	e.addConfirmed(t, "reader@example.net", time.Now().Add(-time.Hour))
	for _, it := range items {
		e.publish(t, event(pipeline.KindCreated, 1, it))
	}
	r := e.runner(t, "worker-1")
	r.o.Links = links
	rep, err := r.Run(testContext(t), time.Now())
	if err != nil || rep.Sent != 1 {
		t.Fatalf("Run = %+v, %v, want one sent", rep, err)
	}
	return parseMessage(t, e.Sink.waitFor(t, 1)[0].Data)
}

// TestLongHTMLLineIsEncoded pins a mailer that put a 1,365-character HTML
// line into a message unencoded, which relays reject with "500 Line too
// long" (RFC 5321 section 4.5.3.1.6).
func TestLongHTMLLineIsEncoded(t *testing.T) {
	items := caseItems(t, "b29", "https://rumours.example.com/feed", "wipk")
	if len(items) != 1 {
		t.Fatalf("feed has %d items, want 1", len(items))
	}
	if len(items[0].Content) < 1000 {
		t.Fatalf("item content has %d characters, want the long single line", len(items[0].Content))
	}
	e := newDigestEnv(t)
	msg := sendCase(t, e, items, e.Links)
	assertLineLengths(t, msg.Raw)
	html := msg.Parts["text/html"]
	if !strings.EqualFold(html.Encoding, "quoted-printable") || !strings.EqualFold(html.Charset, "utf-8") {
		t.Errorf("HTML part encoding, charset = %q, %q", html.Encoding, html.Charset)
	}
	if !strings.Contains(html.Body, items[0].Content) {
		t.Errorf("decoded HTML part does not contain the item HTML unchanged:\n%s", items[0].Content)
	}
	for _, line := range strings.Split(string(html.Encoded), "\n") {
		if len(strings.TrimSuffix(line, "\r")) > 76 {
			t.Errorf("encoded HTML line has %d octets, over the 76 of quoted-printable", len(line))
		}
	}
}

func TestLongLineRejectionDoesNotStopRun(t *testing.T) {
	items := caseItems(t, "b29", "https://rumours.example.com/feed", "wipk")
	e := newDigestEnv(t)
	since := time.Now().Add(-time.Hour)
	e.addConfirmed(t, "a-rejected@example.net", since)
	e.addConfirmed(t, "b-accepted@example.net", since)
	e.Sink.setReject(func(rcpt string) error {
		if rcpt == "a-rejected@example.net" {
			return &smtp.SMTPError{Code: 500, Message: "Line too long"}
		}
		return nil
	})
	for _, it := range items {
		e.publish(t, event(pipeline.KindCreated, 1, it))
	}
	rep, err := e.runner(t, "worker-1").Run(testContext(t), time.Now())
	if err != nil {
		t.Fatalf("Run returned error: %v", err)
	}
	if rep.Failed != 1 || rep.Sent != 1 {
		t.Errorf("report = %+v, want one failed and one sent", rep)
	}
	if got := e.Sink.all(); len(got) != 1 || got[0].To[0] != "b-accepted@example.net" {
		t.Errorf("received %d messages, want one to b-accepted@example.net", len(got))
	}
}

// TestDigestIsAlternativeNotDigestMIME pins a mailer that wrapped each item
// as message/rfc822 inside multipart/digest, which webmail showed as an
// empty body with attachments.
func TestDigestIsAlternativeNotDigestMIME(t *testing.T) {
	items := caseItems(t, "b31", "https://brief.example.org/feed", "wipk")
	if len(items) != 2 {
		t.Fatalf("feed has %d items, want 2", len(items))
	}
	e := newDigestEnv(t)
	links := Links{BaseURL: "https://news.example.org", Signer: e.Links.Signer}
	msg := sendCase(t, e, items, links)

	if len(msg.Parts) != 2 {
		t.Errorf("message has %d parts, want text/plain and text/html only", len(msg.Parts))
	}
	raw := strings.ToLower(string(msg.Raw))
	for _, banned := range []string{"multipart/digest", "message/rfc822", "content-disposition: attachment"} {
		if strings.Contains(raw, banned) {
			t.Errorf("message contains %s", banned)
		}
	}
	html, text := msg.Parts["text/html"].Body, msg.Parts["text/plain"].Body
	for _, want := range []string{"https://brief.example.org/a", "https://brief.example.org/b", "<p>Stocks <b>up</b>.</p>", "Markets open higher", "Rain expected"} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML part lacks %q", want)
		}
	}
	for _, want := range []string{"https://brief.example.org/a", "https://brief.example.org/b", "Stocks up.", "Bring an umbrella.", "Markets open higher", "Rain expected"} {
		if !strings.Contains(text, want) {
			t.Errorf("text part lacks %q", want)
		}
	}
	// Digests list items newest first, in the same order in both parts.
	for name, body := range map[string]string{"HTML": html, "text": text} {
		if strings.Index(body, "Rain expected") > strings.Index(body, "Markets open higher") {
			t.Errorf("%s part does not list the 07:30 item before the 07:00 item", name)
		}
	}
	for _, banned := range []string{"<style", "<link", "<script"} {
		if strings.Contains(strings.ToLower(html), banned) {
			t.Errorf("HTML part contains %s; mail clients need inline styles", banned)
		}
	}
	for _, img := range imageTags(html) {
		if !strings.Contains(img, `src="https://`) {
			t.Errorf("image without an absolute https URL: %s", img)
		}
	}
	unsubscribe := strings.Trim(msg.Header.Get("List-Unsubscribe"), "<>")
	if !strings.HasPrefix(unsubscribe, "https://news.example.org/digests/unsubscribe?token=") {
		t.Errorf("List-Unsubscribe = %q, want an https URL", unsubscribe)
	}
	if msg.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Error("List-Unsubscribe-Post is missing")
	}
	if !strings.Contains(text, "https://news.example.org/digests/unsubscribe?token=") {
		t.Error("text part has no visible unsubscribe link")
	}
	if !strings.Contains(html, `href="https://news.example.org/digests/unsubscribe?token=`) {
		t.Error("HTML part has no visible unsubscribe link")
	}
}
