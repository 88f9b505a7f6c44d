package workers_test

import (
	"context"
	"slices"
	"testing"

	"golang.org/x/text/encoding/charmap"

	"github.com/syndic-network/syndic/workers"
)

// polishRSS is a feed in Polish whose server labels it UTF-8 while its
// bytes are windows-1250.
const polishRSS = `<?xml version="1.0"?><rss version="2.0"><channel><title>Izba</title><link>https://izba.example/</link>` +
	`<item><title>Zażółć gęślą jaźń</title><link>https://izba.example/n/1</link>` +
	`<pubDate>Tue, 01 Dec 2026 09:00:00 +0000</pubDate></item></channel></rss>`

func TestPollWarnsAboutGuessedCharset(t *testing.T) {
	env := newSchedEnv(t, envOptions{})
	body, err := charmap.Windows1250.NewEncoder().String(polishRSS)
	if err != nil {
		t.Fatalf("encoding fixture as windows-1250: %v", err)
	}
	partner := newPartnerScript(t, "127.0.0.1")
	partner.route("/lie", feedOK(body))
	partner.route("/utf8", feedOK(polishRSS))
	lie := testFeed("lie", partner.url("/lie"))
	configured := testFeed("configured", partner.url("/lie"))
	configured.Charset = "windows-1250"
	honest := testFeed("honest", partner.url("/utf8"))
	ctx := context.Background()

	rep := env.poller.Poll(ctx, lie)
	if rep.New != 1 {
		t.Fatalf("poll: %d new, want 1 (err %v)", rep.New, rep.Err)
	}
	if !slices.Contains(rep.Warnings, workers.WarningCharsetGuessed) {
		t.Errorf("warnings = %v, want %q", rep.Warnings, workers.WarningCharsetGuessed)
	}
	for _, f := range []workers.Feed{configured, honest} {
		if rep := env.poller.Poll(ctx, f); slices.Contains(rep.Warnings, workers.WarningCharsetGuessed) {
			t.Errorf("feed %s warned about its charset: %v", f.ID, rep.Warnings)
		}
	}

	rows, err := env.poller.Health(ctx, []workers.Feed{lie})
	if err != nil {
		t.Fatalf("Health: %v", err)
	}
	if row := healthOf(t, rows, "wipk/lie"); !slices.Contains(row.Warnings, workers.WarningCharsetGuessed) {
		t.Errorf("health warnings = %v, want %q", row.Warnings, workers.WarningCharsetGuessed)
	}
}
