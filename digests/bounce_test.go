package digests

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

const testBounceToken = "bounce-token-0123456789abcdef0123"

func dsn(action, status, recipient string) string {
	return "From: MAILER-DAEMON@relay.example.org\r\n" +
		"To: news@example.org\r\n" +
		"Subject: Delivery Status Notification\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain\r\n\r\nThe message could not be delivered.\r\n" +
		"--b1\r\nContent-Type: message/delivery-status\r\n\r\n" +
		"Reporting-MTA: dns; relay.example.org\r\n\r\n" +
		"Final-Recipient: rfc822; " + recipient + "\r\n" +
		"Action: " + action + "\r\n" +
		"Status: " + status + "\r\n\r\n" +
		"--b1\r\nContent-Type: text/rfc822-headers\r\n\r\nTo: " + recipient + "\r\n\r\n" +
		"--b1--\r\n"
}

func complaint(recipient string) string {
	return "From: abuse@provider.example\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=feedback-report; boundary=\"b2\"\r\n\r\n" +
		"--b2\r\nContent-Type: text/plain\r\n\r\nA recipient marked the message as spam.\r\n" +
		"--b2\r\nContent-Type: message/feedback-report\r\n\r\n" +
		"Feedback-Type: abuse\r\nUser-Agent: test/1.0\r\nVersion: 1\r\n" +
		"Original-Rcpt-To: <" + recipient + ">\r\n\r\n" +
		"--b2--\r\n"
}

func TestParseReport(t *testing.T) {
	tests := []struct {
		name, raw string
		want      Bounce
	}{
		{"hard bounce", dsn("failed", "5.1.1", "gone@example.net"), Bounce{Email: "gone@example.net", Type: BounceHard}},
		{"soft bounce", dsn("delayed", "4.2.2", "full@example.net"), Bounce{Email: "full@example.net", Type: BounceSoft}},
		{"complaint", complaint("angry@example.net"), Bounce{Email: "angry@example.net", Type: BounceComplaint}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseReport([]byte(tt.raw))
			if err != nil {
				t.Fatalf("ParseReport returned error: %v", err)
			}
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("ParseReport = %+v, want [%+v]", got, tt.want)
			}
		})
	}
}

func TestParseReportRejectsOtherMail(t *testing.T) {
	raw := "From: a@example.org\r\nContent-Type: text/plain\r\n\r\nHello\r\n"
	if _, err := ParseReport([]byte(raw)); !errors.Is(err, ErrNotReport) {
		t.Errorf("ParseReport error = %v, want ErrNotReport", err)
	}
}

func postBounce(t *testing.T, e *digestEnv, contentType, token, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.HTTP.URL+"/api/v1/digests/bounces", strings.NewReader(body))
	if err != nil {
		t.Fatalf("building request: %v", err)
	}
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST bounces: %v", err)
	}
	_ = resp.Body.Close()
	return resp
}

func TestBounceWebhook(t *testing.T) {
	e := newDigestEnv(t)
	e.Service.o.BounceToken = testBounceToken
	ctx := testContext(t)
	for _, addr := range []string{"gone@example.net", "full@example.net", "angry@example.net", "fine@example.net"} {
		e.addConfirmed(t, addr, time.Now())
	}
	if resp := postBounce(t, e, "message/rfc822", "", dsn("failed", "5.1.1", "gone@example.net")); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status without token = %d, want 401", resp.StatusCode)
	}
	if resp := postBounce(t, e, "message/rfc822", "wrong", dsn("failed", "5.1.1", "gone@example.net")); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status with a wrong token = %d, want 401", resp.StatusCode)
	}
	for _, body := range []string{dsn("failed", "5.1.1", "gone@example.net"), dsn("delayed", "4.2.2", "full@example.net"), complaint("angry@example.net")} {
		if resp := postBounce(t, e, "message/rfc822", testBounceToken, body); resp.StatusCode != http.StatusOK {
			t.Fatalf("report status = %d, want 200", resp.StatusCode)
		}
	}
	if resp := postBounce(t, e, "application/json", testBounceToken, `[{"email": "fine@example.net", "type": "soft"}]`); resp.StatusCode != http.StatusOK {
		t.Errorf("JSON status = %d, want 200", resp.StatusCode)
	}
	if resp := postBounce(t, e, "application/json", testBounceToken, `[{"email": "fine@example.net", "type": "bad"}]`); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("JSON with an unknown type status = %d, want 400", resp.StatusCode)
	}
	tests := []struct {
		email      string
		suppressed bool
	}{
		{"gone@example.net", true},
		{"angry@example.net", true},
		{"full@example.net", false},
		{"fine@example.net", false},
	}
	for _, tt := range tests {
		_, _, err := e.Store.Find(ctx, "daily", tt.email)
		if tt.suppressed && !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: Find error = %v, want the record purged", tt.email, err)
		}
		if !tt.suppressed && err != nil {
			t.Errorf("%s: Find error = %v, want the subscriber kept", tt.email, err)
		}
		got, err := e.Store.Suppressed(ctx, "weekly", tt.email)
		if err != nil {
			t.Fatalf("Suppressed returned error: %v", err)
		}
		if got != tt.suppressed {
			t.Errorf("%s: suppressed in another digest = %v, want %v", tt.email, got, tt.suppressed)
		}
	}
}

func TestBounceWebhookDisabledWithoutToken(t *testing.T) {
	e := newDigestEnv(t)
	if resp := postBounce(t, e, "application/json", "anything", `[]`); resp.StatusCode != http.StatusNotFound {
		t.Errorf("status = %d, want 404 while no token is configured", resp.StatusCode)
	}
}
