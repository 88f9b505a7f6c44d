package digests

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSignerRoundTrip(t *testing.T) {
	s := NewSigner(strings.Repeat("k", 32))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	token := s.Sign(Token{Action: ActionConfirm, Digest: "daily", Email: "a@example.org", Expires: now.Add(time.Hour)})
	got, err := s.Verify(token, ActionConfirm, now)
	if err != nil {
		t.Fatalf("Verify returned error: %v", err)
	}
	if got.Digest != "daily" || got.Email != "a@example.org" {
		t.Errorf("Verify = %+v", got)
	}
}

func TestSignerRejects(t *testing.T) {
	s := NewSigner(strings.Repeat("k", 32))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	valid := s.Sign(Token{Action: ActionConfirm, Digest: "daily", Email: "a@example.org", Expires: now.Add(time.Hour)})
	other := NewSigner(strings.Repeat("x", 32)).Sign(Token{Action: ActionConfirm, Digest: "daily", Email: "a@example.org", Expires: now.Add(time.Hour)})
	payload, sig, _ := strings.Cut(valid, ".")
	tests := []struct {
		name   string
		token  string
		action string
		at     time.Time
		want   error
	}{
		{"other key", other, ActionConfirm, now, ErrInvalidToken},
		{"other action", valid, ActionUnsubscribe, now, ErrInvalidToken},
		{"changed payload", strings.ToUpper(payload[:1]) + payload[1:] + "." + sig, ActionConfirm, now, ErrInvalidToken},
		{"missing signature", payload, ActionConfirm, now, ErrInvalidToken},
		{"empty token", "", ActionConfirm, now, ErrInvalidToken},
		{"past expiry", valid, ActionConfirm, now.Add(2 * time.Hour), ErrExpiredToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Verify(tt.token, tt.action, tt.at); !errors.Is(err, tt.want) {
				t.Errorf("Verify error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestScheduleDue(t *testing.T) {
	warsaw, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		t.Fatalf("loading zone: %v", err)
	}
	tests := []struct {
		name, schedule string
		now, due       time.Time
	}{
		{"daily before send time", "daily 07:00", time.Date(2026, 3, 30, 6, 59, 0, 0, warsaw), time.Date(2026, 3, 29, 7, 0, 0, 0, warsaw)},
		{"daily at send time", "daily 07:00", time.Date(2026, 3, 30, 7, 0, 0, 0, warsaw), time.Date(2026, 3, 30, 7, 0, 0, 0, warsaw)},
		{"daily on spring DST day", "daily 07:00", time.Date(2026, 3, 29, 12, 0, 0, 0, warsaw), time.Date(2026, 3, 29, 5, 0, 0, 0, time.UTC)},
		{"daily on autumn DST day", "daily 07:00", time.Date(2026, 10, 25, 12, 0, 0, 0, warsaw), time.Date(2026, 10, 25, 6, 0, 0, 0, time.UTC)},
		{"send time skipped by DST", "daily 02:30", time.Date(2026, 3, 29, 12, 0, 0, 0, warsaw), time.Date(2026, 3, 29, 3, 30, 0, 0, warsaw)},
		{"weekly later in week", "weekly mon 07:00", time.Date(2026, 12, 4, 12, 0, 0, 0, warsaw), time.Date(2026, 11, 30, 7, 0, 0, 0, warsaw)},
		{"weekly before send time on the day", "weekly fri 13:00", time.Date(2026, 12, 4, 12, 0, 0, 0, warsaw), time.Date(2026, 11, 27, 13, 0, 0, 0, warsaw)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSchedule(tt.schedule, warsaw)
			if err != nil {
				t.Fatalf("ParseSchedule returned error: %v", err)
			}
			if got := s.Due(tt.now); !got.Equal(tt.due) {
				t.Errorf("Due = %s, want %s", got, tt.due)
			}
			if next := s.Next(tt.now); !next.After(tt.now) || !s.Due(next).Equal(next) {
				t.Errorf("Next = %s, not a send time after %s", next, tt.now)
			}
		})
	}
}

func TestScheduleDaysAcrossDST(t *testing.T) {
	warsaw, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		t.Fatalf("loading zone: %v", err)
	}
	s, err := ParseSchedule("daily 07:00", warsaw)
	if err != nil {
		t.Fatalf("ParseSchedule returned error: %v", err)
	}
	at := time.Date(2026, 3, 27, 7, 0, 0, 0, warsaw)
	for range 4 {
		next := s.Next(at)
		if local := next.In(warsaw); local.Hour() != 7 || local.Minute() != 0 {
			t.Errorf("send time %s is not 07:00 in Warsaw", next)
		}
		if s.Period(next) == s.Period(at) {
			t.Errorf("two send times in period %s", s.Period(at))
		}
		at = next
	}
}

func TestParseScheduleRejects(t *testing.T) {
	for _, text := range []string{"", "daily", "daily 7:00am", "weekly 07:00", "weekly funday 07:00", "daily 25:00", "hourly 07:00"} {
		if _, err := ParseSchedule(text, time.UTC); err == nil {
			t.Errorf("ParseSchedule(%q) returned no error", text)
		}
	}
}

func TestMessageIDIsStable(t *testing.T) {
	a := MessageID("daily", "2026-12-07", "Reader@example.net", "News <news@Example.org>")
	if b := MessageID("daily", "2026-12-07", "reader@example.net", "News <news@Example.org>"); a != b {
		t.Errorf("MessageID depends on address case: %s and %s", a, b)
	}
	if !strings.HasSuffix(a, "@example.org") {
		t.Errorf("MessageID %s does not end in the From domain", a)
	}
	for _, other := range []string{
		MessageID("daily", "2026-12-08", "reader@example.net", "news@example.org"),
		MessageID("weekly", "2026-12-07", "reader@example.net", "news@example.org"),
		MessageID("daily", "2026-12-07", "other@example.net", "news@example.org"),
	} {
		if other == a {
			t.Errorf("MessageID %s repeats for another period, digest or subscriber", a)
		}
	}
}

func TestNormalizeSubscriber(t *testing.T) {
	tests := []struct {
		name string
		sub  Subscriber
		want string
	}{
		{"display name", Subscriber{Email: "Ann <ann@example.org>"}, "email"},
		{"two addresses", Subscriber{Email: "a@example.org, b@example.org"}, "email"},
		{"non-ascii address", Subscriber{Email: "ünï@exämple.org"}, "email"},
		{"unknown locale", Subscriber{Email: "a@example.org", Locale: "es"}, "locale"},
		{"unknown zone", Subscriber{Email: "a@example.org", TimeZone: "Mars/Base"}, "time_zone"},
		{"local zone", Subscriber{Email: "a@example.org", TimeZone: "Local"}, "time_zone"},
		{"too many partners", Subscriber{Email: "a@example.org", Partners: make([]string, 51)}, "partners"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.sub.Normalize()
			if !errors.Is(err, ErrInvalidSubscriber) {
				t.Fatalf("Normalize error = %v, want ErrInvalidSubscriber", err)
			}
			if !strings.Contains(err.Error(), tt.want+":") {
				t.Errorf("error %q does not name %s", err, tt.want)
			}
		})
	}
}

func TestNormalizeSubscriberDefaults(t *testing.T) {
	s := Subscriber{Email: " Ann@Example.ORG ", Languages: []string{"pl", " pl ", ""}}
	if err := s.Normalize(); err != nil {
		t.Fatalf("Normalize returned error: %v", err)
	}
	if s.Email != "Ann@example.org" {
		t.Errorf("email = %q, want the domain lower-cased", s.Email)
	}
	if s.Locale != "en" || s.TimeZone != "UTC" {
		t.Errorf("locale, zone = %q, %q, want en, UTC", s.Locale, s.TimeZone)
	}
	if len(s.Languages) != 1 {
		t.Errorf("languages = %q, want one", s.Languages)
	}
}
