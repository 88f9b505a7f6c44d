package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/feeds"
	"github.com/syndic-network/syndic/internal/app"
	"github.com/syndic-network/syndic/pipeline"
)

// replayBatch and replayWait bound one read of the stream during replay.
const (
	replayBatch = 500
	replayWait  = 2 * time.Second
)

type replayFlags struct {
	since    time.Duration
	channel  string
	consumer string
	format   string
}

// replay implements `syndic replay --since 24h --channel ID` and
// `syndic replay --since 24h --consumer NAME`. With --channel it rebuilds
// the channel from the events of the period and writes the document to
// stdout. With --consumer it moves a durable consumer back, so digests or
// hub deliveries process the period again.
func (c *cli) replay(ctx context.Context, args []string) int {
	var rf replayFlags
	cfg, err := c.flags("replay", args, func(fs *flag.FlagSet) {
		fs.DurationVar(&rf.since, "since", 24*time.Hour, "replay the events of this period before now")
		fs.StringVar(&rf.channel, "channel", "", "rebuild this channel and print it")
		fs.StringVar(&rf.consumer, "consumer", "", "move this durable consumer of the item stream back")
		fs.StringVar(&rf.format, "format", "json", "document format for --channel: rss, atom or json")
	})
	if err != nil {
		return c.fail(err)
	}
	if (rf.channel == "") == (rf.consumer == "") || rf.since <= 0 {
		fmt.Fprintln(c.stderr, "syndic replay: use --since DURATION with exactly one of --channel ID or --consumer NAME")
		return 2
	}
	a, err := app.Open(ctx, cfg, c.logger(cfg), app.OpenOptions{})
	if err != nil {
		return c.fail(err)
	}
	defer a.Close(context.WithoutCancel(ctx))
	start := time.Now().Add(-rf.since)
	if rf.consumer != "" {
		err = redriveConsumer(ctx, a, rf.consumer, start)
		if err == nil {
			fmt.Fprintf(c.stdout, "consumer %s now delivers from %s\n", rf.consumer, start.UTC().Format(time.RFC3339))
		}
	} else {
		err = c.replayChannel(ctx, a, rf, start)
	}
	if err != nil {
		return c.fail(err)
	}
	return 0
}

// redriveConsumer recreates the durable consumer name with the same
// configuration, delivering from start. JetStream cannot move a durable
// consumer's position, so it is deleted and created again; its
// subscribers pick it up on their next pull.
func redriveConsumer(ctx context.Context, a *app.App, name string, start time.Time) error {
	cons, err := a.Stream.Consumer(ctx, name)
	if err != nil {
		return fmt.Errorf("looking up consumer %s: %w", name, err)
	}
	cfg := cons.CachedInfo().Config
	if cfg.Durable == "" {
		return fmt.Errorf("consumer %s is not durable, so there is nothing to re-drive", name)
	}
	cfg.DeliverPolicy = jetstream.DeliverByStartTimePolicy
	cfg.OptStartTime = &start
	cfg.OptStartSeq = 0
	if err := a.Stream.DeleteConsumer(ctx, name); err != nil {
		return fmt.Errorf("deleting consumer %s: %w", name, err)
	}
	if _, err := a.Stream.CreateConsumer(ctx, cfg); err != nil {
		return fmt.Errorf("recreating consumer %s from %s: %w", name, start.Format(time.RFC3339), err)
	}
	return nil
}

// replayChannel applies the events since start to a new view and writes
// the channel's document as the feed server would render it.
func (c *cli) replayChannel(ctx context.Context, a *app.App, rf replayFlags, start time.Time) error {
	view := feeds.NewView(a.Config.Feeds.Window)
	n, err := readSince(ctx, a, start, view)
	if err != nil {
		return err
	}
	h, err := a.FeedHandler(ctx, app.CompleteViews(view))
	if err != nil {
		return err
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, "/feeds/"+rf.channel+"."+rf.format, nil))
	if rec.Code != http.StatusOK {
		return fmt.Errorf("rendering channel %s as %s: status %d: %s", rf.channel, rf.format, rec.Code, rec.Body.String())
	}
	_, err = rec.Body.WriteTo(c.stdout)
	fmt.Fprintf(c.stderr, "replayed %d events since %s into channel %s\n", n, start.UTC().Format(time.RFC3339), rf.channel)
	return err
}

// readSince applies every item event stored since start to view and
// returns how many it read.
func readSince(ctx context.Context, a *app.App, start time.Time, view *feeds.View) (int, error) {
	info, err := a.Stream.Info(ctx)
	if err != nil || info.State.Msgs == 0 {
		return 0, err
	}
	cons, err := a.Stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{a.Config.NATS.SubjectPrefix + ".>"},
		DeliverPolicy:  jetstream.DeliverByStartTimePolicy,
		OptStartTime:   &start,
	})
	if err != nil {
		return 0, fmt.Errorf("creating replay consumer: %w", err)
	}
	n := 0
	for {
		batch, err := cons.Fetch(replayBatch, jetstream.FetchMaxWait(replayWait))
		if err != nil {
			return n, fmt.Errorf("reading stream for replay: %w", err)
		}
		got, last := 0, uint64(0)
		for msg := range batch.Messages() {
			got++
			var ev pipeline.Event
			if json.Unmarshal(msg.Data(), &ev) == nil {
				view.Apply(ev)
				n++
			}
			if md, err := msg.Metadata(); err == nil {
				last = md.Sequence.Stream
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return n, fmt.Errorf("reading stream for replay: %w", err)
		}
		if got == 0 || last >= info.State.LastSeq {
			return n, nil
		}
	}
}
