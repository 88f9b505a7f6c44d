package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/feeds"
	"github.com/syndic-network/syndic/pipeline"
)

// streamArchive reads archive pages from the item stream, one message at
// a time by sequence. A page is read once and then cached forever by the
// feeds handler, so the round trip per message (a fraction of a
// millisecond on a local server) is paid once per page.
type streamArchive struct {
	stream jetstream.Stream
	// subjectPrefix selects item events, such as "syndic.items.", because
	// the stream may carry other subjects.
	subjectPrefix string
	log           *slog.Logger
}

// archiveSource returns the stream as a feeds.ArchiveSource.
func (a *App) archiveSource() feeds.ArchiveSource {
	return &streamArchive{stream: a.Stream, subjectPrefix: a.Config.NATS.SubjectPrefix + ".", log: a.Log}
}

// Bounds returns the first and last sequence of the stream from its info.
func (s *streamArchive) Bounds(ctx context.Context) (uint64, uint64, error) {
	info, err := s.stream.Info(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("reading stream info: %w", err)
	}
	if info.State.Msgs == 0 {
		return 0, 0, nil
	}
	return info.State.FirstSeq, info.State.LastSeq, nil
}

// Events reads the messages from from to to and decodes the item events
// among them. Deleted sequences and other subjects are skipped, and so is
// an undecodable message, with a warning, because one bad message must not
// make a page unreadable.
func (s *streamArchive) Events(ctx context.Context, from, to uint64) ([]pipeline.Event, error) {
	var out []pipeline.Event
	for seq := from; seq <= to; seq++ {
		msg, err := s.stream.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading stream message %d: %w", seq, err)
		}
		if !strings.HasPrefix(msg.Subject, s.subjectPrefix) {
			continue
		}
		var ev pipeline.Event
		if err := json.Unmarshal(msg.Data, &ev); err != nil {
			s.log.WarnContext(ctx, "skipping undecodable item event", "subject", msg.Subject, "sequence", seq, "error", err)
			continue
		}
		out = append(out, ev)
	}
	return out, nil
}

var _ feeds.ArchiveSource = (*streamArchive)(nil)
