package digests

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// Bounce kinds.
const (
	// BounceHard is a permanent delivery failure (DSN status 5.x.x).
	BounceHard = "hard"
	// BounceSoft is a temporary failure (DSN status 4.x.x or action
	// delayed). The relay retries, so it changes nothing here.
	BounceSoft = "soft"
	// BounceComplaint is a spam report from the recipient's provider.
	BounceComplaint = "complaint"
)

// Bounce is one recipient's delivery failure or complaint.
type Bounce struct {
	Email string `json:"email"`
	Type  string `json:"type"`
}

// maxReportBytes bounds a DSN or complaint report. Reports quote at most
// the headers or the start of the original message, so 1 MiB is ample.
const maxReportBytes = 1 << 20

// ErrNotReport is returned for a message that is neither a delivery status
// notification (RFC 3464) nor an abuse report (RFC 5965).
var ErrNotReport = errors.New("message is not a delivery status or feedback report")

// ParseReport extracts the bounces of a DSN (multipart/report with
// report-type=delivery-status) or an abuse feedback report (report-type
// =feedback-report) in raw, a whole message. It returns ErrNotReport for
// any other message.
func ParseReport(raw []byte) ([]Bounce, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parsing report message: %w", err)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/report" {
		return nil, ErrNotReport
	}
	reportType := strings.ToLower(params["report-type"])
	if reportType != "delivery-status" && reportType != "feedback-report" {
		return nil, ErrNotReport
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: no machine-readable part", ErrNotReport)
		}
		if err != nil {
			return nil, fmt.Errorf("reading report part: %w", err)
		}
		ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		switch ct {
		case "message/delivery-status", "message/global-delivery-status":
			return parseDeliveryStatus(part)
		case "message/feedback-report":
			return parseFeedbackReport(part)
		}
	}
}

// parseDeliveryStatus reads the per-message fields and then one block of
// fields per recipient (RFC 3464 section 2.1).
func parseDeliveryStatus(r io.Reader) ([]Bounce, error) {
	tp := textproto.NewReader(bufio.NewReader(r))
	if _, err := tp.ReadMIMEHeader(); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading delivery status: %w", err)
	}
	var out []Bounce
	for {
		fields, err := tp.ReadMIMEHeader()
		if len(fields) > 0 {
			if b, ok := recipientBounce(fields); ok {
				out = append(out, b)
			}
		}
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading delivery status: %w", err)
		}
	}
}

func recipientBounce(fields textproto.MIMEHeader) (Bounce, bool) {
	email := addressField(fields.Get("Final-Recipient"))
	if email == "" {
		email = addressField(fields.Get("Original-Recipient"))
	}
	action := strings.ToLower(strings.TrimSpace(fields.Get("Action")))
	status := strings.TrimSpace(fields.Get("Status"))
	switch {
	case email == "":
		return Bounce{}, false
	case action == "failed" || strings.HasPrefix(status, "5."):
		return Bounce{Email: email, Type: BounceHard}, true
	case action == "delayed" || strings.HasPrefix(status, "4."):
		return Bounce{Email: email, Type: BounceSoft}, true
	default:
		return Bounce{}, false // delivered, relayed or expanded
	}
}

// addressField returns the address of a field such as
// "rfc822; ann@example.org".
func addressField(v string) string {
	_, addr, ok := strings.Cut(v, ";")
	if !ok {
		return ""
	}
	return strings.Trim(strings.TrimSpace(addr), "<>")
}

// parseFeedbackReport reads an abuse report (RFC 5965 section 3.5), whose
// Original-Rcpt-To field names the complaining recipient.
func parseFeedbackReport(r io.Reader) ([]Bounce, error) {
	fields, err := textproto.NewReader(bufio.NewReader(r)).ReadMIMEHeader()
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading feedback report: %w", err)
	}
	var out []Bounce
	for _, rcpt := range fields.Values("Original-Rcpt-To") {
		if addr := strings.Trim(strings.TrimSpace(rcpt), "<>"); addr != "" {
			out = append(out, Bounce{Email: addr, Type: BounceComplaint})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: feedback report without Original-Rcpt-To", ErrNotReport)
	}
	return out, nil
}

// ApplyBounces suppresses the addresses of hard bounces and complaints in
// every digest and purges their subscriptions. Soft bounces change
// nothing, because the relay retries them. It returns the number of
// addresses suppressed.
func (s *Service) ApplyBounces(ctx context.Context, bounces []Bounce) (int, error) {
	ids := make([]string, 0, len(s.o.Digests))
	for _, d := range s.o.Digests {
		ids = append(ids, d.ID)
	}
	suppressed := 0
	for _, b := range bounces {
		bouncesTotal.WithLabelValues(b.Type).Inc()
		if b.Type != BounceHard && b.Type != BounceComplaint {
			continue
		}
		reason := ReasonBounced
		if b.Type == BounceComplaint {
			reason = ReasonComplained
		}
		if err := s.o.Store.SuppressEverywhere(ctx, ids, b.Email, reason, s.o.Now()); err != nil {
			return suppressed, err
		}
		suppressed++
	}
	return suppressed, nil
}

// bounceTime is how long ApplyBounces may take for one webhook call.
const bounceTime = 30 * time.Second
