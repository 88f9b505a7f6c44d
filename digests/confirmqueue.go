package digests

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ConfirmationRequest is a confirmation mail that a sign-up asked for. The
// sign-up time signs the link and names the message, so a request sent
// again after a crash carries the same link and Message-ID. The locale and
// the rest come from the pending subscriber record.
type ConfirmationRequest struct {
	Digest      string    `json:"digest"`
	Email       string    `json:"email"`
	RequestedAt time.Time `json:"requested_at"`
}

// id returns the request's JetStream message id.
func (r ConfirmationRequest) id() string {
	return "confirm." + r.Digest + "." + hashEmail(r.Digest, r.Email)[:16] + "." +
		strconv.FormatInt(r.RequestedAt.UnixNano(), 10)
}

// ConfirmationQueue hands confirmation requests from the process that
// takes sign-ups to the process that sends mail. Enqueue returns nil only
// once the request is stored durably. An error means it was not stored,
// and the sign-up fails without retrying. Implementations must be safe for
// concurrent use.
type ConfirmationQueue interface {
	Enqueue(ctx context.Context, req ConfirmationRequest) error
}

// confirmConsumer is the durable consumer that every digest worker shares,
// so each request is taken by one worker at a time.
const confirmConsumer = "digests-confirm"

// ConfirmBackoff is the wait before each retry of a confirmation mail that
// the relay did not accept. Five attempts over about forty minutes ride out
// a relay restart, and the last one ends long before the link's 72 hours.
var ConfirmBackoff = []time.Duration{
	30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute,
}

// JetStreamConfirmations is a ConfirmationQueue on a JetStream work-queue
// stream. Consume sends the requests through a durable consumer.
type JetStreamConfirmations struct {
	js      jetstream.JetStream
	stream  jetstream.Stream
	subject string
	backoff []time.Duration
}

// ConfirmQueueOptions configures OpenConfirmations.
type ConfirmQueueOptions struct {
	// Stream and Subject name the work-queue stream and its only subject.
	Stream   string
	Subject  string
	Replicas int
	// Backoff is the retry schedule; nil means ConfirmBackoff.
	Backoff []time.Duration
}

// OpenConfirmations creates or updates the confirmation stream. Both the
// sign-up side and the sending side call it, in any order.
func OpenConfirmations(ctx context.Context, js jetstream.JetStream, o ConfirmQueueOptions) (*JetStreamConfirmations, error) {
	stream, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:      o.Stream,
		Subjects:  []string{o.Subject},
		Retention: jetstream.WorkQueuePolicy,
		Storage:   jetstream.FileStorage,
		Replicas:  max(o.Replicas, 1),
		// A request older than its link is of no use.
		MaxAge: ConfirmTTL,
	})
	if err != nil {
		return nil, fmt.Errorf("creating stream %s: %w", o.Stream, err)
	}
	q := &JetStreamConfirmations{js: js, stream: stream, subject: o.Subject, backoff: o.Backoff}
	if q.backoff == nil {
		q.backoff = ConfirmBackoff
	}
	return q, nil
}

// Enqueue implements ConfirmationQueue. The message id makes a publish
// that is repeated within the stream's duplicate window store one request.
func (q *JetStreamConfirmations) Enqueue(ctx context.Context, req ConfirmationRequest) error {
	data, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("encoding confirmation request: %w", err)
	}
	if _, err := q.js.Publish(ctx, q.subject, data, jetstream.WithMsgID(req.id())); err != nil {
		return fmt.Errorf("queueing confirmation for digest %s: %w", req.Digest, err)
	}
	return nil
}

// Consume sends queued requests with s until ctx ends, and returns nil
// then, also when ctx ends before consuming starts. A request is
// acknowledged only after the relay accepted the mail, so a worker that
// dies mid-send leaves it to another worker after the ack wait. A temporary
// failure is retried after the next back-off step.
func (q *JetStreamConfirmations) Consume(ctx context.Context, s *Service) error {
	cons, err := q.stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:   confirmConsumer,
		AckPolicy: jetstream.AckExplicitPolicy,
		// One send takes at most sendTimeout, and the relay must not see
		// a second worker's copy while the first is still in DATA.
		AckWait:       4 * sendTimeout,
		MaxDeliver:    len(q.backoff) + 1,
		MaxAckPending: 100,
	})
	if ctx.Err() != nil {
		// Stopped while the consumer was being created: a normal stop.
		return nil
	}
	if err != nil {
		return fmt.Errorf("creating consumer %s: %w", confirmConsumer, err)
	}
	cc, err := cons.Consume(func(msg jetstream.Msg) { q.handle(ctx, s, msg) })
	if err != nil {
		return fmt.Errorf("consuming with %s: %w", confirmConsumer, err)
	}
	<-ctx.Done()
	cc.Stop()
	return nil
}

func (q *JetStreamConfirmations) handle(ctx context.Context, s *Service, msg jetstream.Msg) {
	var req ConfirmationRequest
	if err := json.Unmarshal(msg.Data(), &req); err != nil {
		s.o.Logger.Warn("dropping undecodable confirmation request", "error", err)
		_ = msg.Term()
		return
	}
	attempt := 1
	if md, err := msg.Metadata(); err == nil {
		attempt = int(md.NumDelivered)
	}
	log := s.o.Logger.With("digest", req.Digest, "attempt", attempt)
	err := s.SendConfirmation(ctx, req)
	switch {
	case err == nil:
		confirmationsTotal.WithLabelValues("sent").Inc()
		// DoubleAck waits for the server's reply, so a lost ack, after
		// which another worker sends the mail again, is logged.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if aerr := msg.DoubleAck(actx); aerr != nil {
			log.Warn("acknowledging a sent confirmation failed, so it may be sent again", "error", aerr)
		}
	case ctx.Err() != nil:
		// Stopping: hand the request to another worker at once.
		_ = msg.Nak()
	case errors.Is(err, errConfirmationStale):
		confirmationsTotal.WithLabelValues("skipped").Inc()
		log.Debug("skipping confirmation request", "reason", err)
		_ = msg.Term()
	case errors.Is(err, ErrPermanent), attempt > len(q.backoff):
		confirmationsTotal.WithLabelValues("failed").Inc()
		log.Error("confirmation mail failed", "error", err)
		_ = msg.Term()
	default:
		confirmationsTotal.WithLabelValues("retried").Inc()
		log.Warn("confirmation mail failed, retrying", "error", err, "retry_after_ms", q.backoff[attempt-1].Milliseconds())
		_ = msg.NakWithDelay(q.backoff[attempt-1])
	}
}

var _ ConfirmationQueue = (*JetStreamConfirmations)(nil)
