package broker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Defaults of StreamOptions.
const (
	// DefaultStream is the name of the item event stream.
	DefaultStream = "SYNDIC_ITEMS"
	// DefaultSubjectPrefix is the subject prefix of item events; the
	// stream captures DefaultSubjectPrefix + ".>".
	DefaultSubjectPrefix = "syndic.items"
)

// StreamOptions configures the item event stream. Zero values take the
// defaults named on each field.
type StreamOptions struct {
	// Stream is the stream name; default DefaultStream.
	Stream string
	// SubjectPrefix is the subject prefix without a trailing dot; default
	// DefaultSubjectPrefix.
	SubjectPrefix string
	// Replicas is the number of copies in a cluster; default 1.
	Replicas int
	// MaxAge is how long events are kept; 0 keeps them forever.
	MaxAge time.Duration
	// DuplicateWindow is how long the server remembers Nats-Msg-Id values
	// to drop repeated publishes; 0 takes the server default of two
	// minutes, or MaxAge when that is shorter.
	DuplicateWindow time.Duration
}

// EnsureStream creates the item stream, or updates it to o when it exists.
// Calling it again with the same options changes nothing. The stream uses
// file storage and rejects per-message TTLs: item events expire only by
// MaxAge. A change the server cannot apply in place, such as a new
// storage type, returns the server's error.
func EnsureStream(ctx context.Context, js jetstream.JetStream, o StreamOptions) (jetstream.Stream, error) {
	cfg, err := streamConfig(o)
	if err != nil {
		return nil, err
	}
	stream, err := js.CreateOrUpdateStream(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("ensuring stream %q: %w", cfg.Name, err)
	}
	return stream, nil
}

func streamConfig(o StreamOptions) (jetstream.StreamConfig, error) {
	name := cmp.Or(o.Stream, DefaultStream)
	prefix := cmp.Or(o.SubjectPrefix, DefaultSubjectPrefix)
	if strings.ContainsAny(prefix, "*> \t") || strings.HasSuffix(prefix, ".") {
		return jetstream.StreamConfig{}, fmt.Errorf("ensuring stream %q: invalid subject prefix %q: "+
			"want dot-separated tokens without wildcards or a trailing dot", name, prefix)
	}
	if o.Replicas < 0 || o.MaxAge < 0 || o.DuplicateWindow < 0 {
		return jetstream.StreamConfig{}, errors.New("ensuring stream: negative replicas, max age or duplicate window")
	}
	return jetstream.StreamConfig{
		Name:        name,
		Subjects:    []string{prefix + ".>"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		Replicas:    max(o.Replicas, 1),
		MaxAge:      o.MaxAge,
		Duplicates:  o.DuplicateWindow,
		AllowMsgTTL: false,
	}, nil
}
