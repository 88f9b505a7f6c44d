package app

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/pipeline"
)

// newArchiveStream creates a stream with five item events, one message on
// another subject and one undecodable item message.
func newArchiveStream(t *testing.T) jetstream.Stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	js, err := jetstream.New(testenv.Conn(t, testenv.NATS(t).URL))
	if err != nil {
		t.Fatalf("opening jetstream: %v", err)
	}
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ITEMS", Subjects: []string{"items.>", "other.>"}})
	if err != nil {
		t.Fatalf("creating stream: %v", err)
	}
	publish := func(subject string, data []byte) {
		t.Helper()
		if _, err := js.Publish(ctx, subject, data); err != nil {
			t.Fatalf("publishing to %s: %v", subject, err)
		}
	}
	for i := 1; i <= 5; i++ {
		ev := pipeline.Event{Version: pipeline.EventVersion, Kind: pipeline.KindCreated, Revision: 1,
			Item: pipeline.Item{ID: fmt.Sprintf("p/f/%d", i), Partner: "p", Feed: "f", Title: fmt.Sprintf("Item %d", i)}}
		data, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("encoding event: %v", err)
		}
		publish("items.p", data)
	}
	publish("other.x", []byte(`{}`))
	publish("items.p", []byte(`not json`))
	return stream
}

func TestStreamArchiveReadsRanges(t *testing.T) {
	stream := newArchiveStream(t)
	src := &streamArchive{stream: stream, subjectPrefix: "items.", log: slog.New(slog.DiscardHandler)}
	ctx := context.Background()

	first, last, err := src.Bounds(ctx)
	if err != nil {
		t.Fatalf("reading bounds: %v", err)
	}
	if first != 1 || last != 7 {
		t.Errorf("bounds = %d..%d, want 1..7", first, last)
	}
	if err := stream.DeleteMsg(ctx, 2); err != nil {
		t.Fatalf("deleting message 2: %v", err)
	}
	tests := []struct {
		name      string
		from, to  uint64
		wantTitle []string
	}{
		{"deleted sequence is skipped", 1, 3, []string{"Item 1", "Item 3"}},
		{"other subjects and bad json are skipped", 4, 7, []string{"Item 4", "Item 5"}},
		{"range past the end stops", 5, 20, []string{"Item 5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := src.Events(ctx, tt.from, tt.to)
			if err != nil {
				t.Fatalf("reading events: %v", err)
			}
			var titles []string
			for _, ev := range events {
				titles = append(titles, ev.Title)
			}
			if fmt.Sprint(titles) != fmt.Sprint(tt.wantTitle) {
				t.Errorf("titles = %v, want %v", titles, tt.wantTitle)
			}
		})
	}
}
