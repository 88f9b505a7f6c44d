package config

import (
	"strings"
	"testing"
)

func TestLoadDigests(t *testing.T) {
	secret := writeSecret(t, strings.Repeat("s", 40))
	password := writeSecret(t, "relay-password")
	cfg := mustLoad(t, writeConfig(t, `
channels: [{id: all, title: All}]
smtp: {host: smtp.example.org, port: 465, username: news, password_file: `+password+`, tls: tls}
digests_secret_file: `+secret+`
digests:
  - id: weekly
    channel: all
    schedule: "weekly mon 07:00"
    timezone: Europe/Warsaw
    subject: {en: "Partner news", pl: "Wiadomości partnerów"}
    from: "Partner News <news@example.org>"
`))
	if got := cfg.SMTP.Password; got != "relay-password" {
		t.Errorf("smtp.password = %q, want the file's contents", got)
	}
	if got := len(cfg.DigestsSecret); got != 40 {
		t.Errorf("digests_secret has %d characters, want 40", got)
	}
	d := cfg.Digests[0]
	if d.MaxItems != 20 {
		t.Errorf("max_items = %d, want the default 20", d.MaxItems)
	}
	if d.GroupBy != "partner" {
		t.Errorf("group_by = %q, want the default partner", d.GroupBy)
	}
	if got := d.Subject.ForLocale("pl"); got != "Wiadomości partnerów" {
		t.Errorf("Polish subject = %q", got)
	}
	if got := d.Subject.ForLocale("lt"); got != "" {
		t.Errorf("Lithuanian subject = %q, want empty for the built-in one", got)
	}
}

func TestMaskedHidesDigestSecrets(t *testing.T) {
	c := validConfig()
	c.SMTP.Password = "relay-password"
	out, err := c.Masked()
	if err != nil {
		t.Fatalf("Masked returned error: %v", err)
	}
	for _, secret := range []string{"relay-password", c.DigestsSecret} {
		if strings.Contains(string(out), secret) {
			t.Errorf("Masked output contains the secret %q", secret)
		}
	}
}

func TestValidateRejectsDigests(t *testing.T) {
	tests := []struct {
		name   string
		modify func(c *Config)
		want   string
	}{
		{"missing relay host", func(c *Config) { c.SMTP.Host = "" }, "smtp.host: missing value"},
		{"missing secret", func(c *Config) { c.DigestsSecret = "" }, "digests_secret: missing value"},
		{"short secret", func(c *Config) { c.DigestsSecret = "short" }, "use at least 32 random characters"},
		{"plain text to public relay", func(c *Config) { c.SMTP.TLS = "none" }, "none is allowed only for a relay"},
		{"plain text to public address", func(c *Config) { c.SMTP.TLS, c.SMTP.Host = "none", "203.0.113.7" }, "smtp.tls"},
		{"unknown tls mode", func(c *Config) { c.SMTP.TLS = "ssl" }, "use one of none, starttls, tls"},
		{"unknown channel", func(c *Config) { c.Digests[0].Channel = "sport" }, `unknown channel "sport"`},
		{"duplicate id", func(c *Config) { c.Digests = append(c.Digests, c.Digests[0]) }, `duplicate id "daily"`},
		{"bad schedule", func(c *Config) { c.Digests[0].Schedule = "daily 7am" }, `use "daily HH:MM"`},
		{"bad weekday", func(c *Config) { c.Digests[0].Schedule = "weekly monday 07:00" }, `use "daily HH:MM"`},
		{"hour out of range", func(c *Config) { c.Digests[0].Schedule = "daily 24:00" }, `use "daily HH:MM"`},
		{"bad from address", func(c *Config) { c.Digests[0].From = "news at example" }, "digests[daily].from"},
		{"unknown group", func(c *Config) { c.Digests[0].GroupBy = "feed" }, "use one of partner, category"},
		{"too many items", func(c *Config) { c.Digests[0].MaxItems = 500 }, "from 1 to 200"},
		{"unknown time zone", func(c *Config) { c.Digests[0].Timezone = "Mars/Olympus" }, "IANA time zone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.modify(c)
			err := c.Validate()
			if err == nil {
				t.Fatal("Validate accepted the config")
			}
			assertContains(t, err.Error(), tt.want)
		})
	}
}

func TestValidateAcceptsPlainTextToTrustedRelay(t *testing.T) {
	for _, host := range []string{"localhost", "127.0.0.1", "::1", "10.0.0.25", "192.168.1.2"} {
		t.Run(host, func(t *testing.T) {
			c := validConfig()
			c.SMTP.TLS, c.SMTP.Host = "none", host
			if err := c.Validate(); err != nil {
				t.Errorf("Validate returned error: %v", err)
			}
		})
	}
}
