package config

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestMaskedHidesSecrets(t *testing.T) {
	c := validConfig()
	c.Redis.URL = "redis://default:redis-pass@cache.example.org:6379/0"
	c.NATS.URL = "nats://syndic:nats-pass@n1.example.org:4222,nats://token-abc@n2.example.org:4222"
	c.Partners[0].URL = "https://reader:feed-pass@wipk.example.org/"
	c.Partners[0].Feeds[0].URL = "https://reader:feed-pass2@wipk.example.org/rss?lang=pl"

	out, err := c.Masked()
	if err != nil {
		t.Fatalf("Masked returned error: %v", err)
	}
	text := string(out)
	for _, secret := range []string{"redis-pass", "nats-pass", "token-abc", "feed-pass", "feed-pass2", "default:", "syndic:nats"} {
		if strings.Contains(text, secret) {
			t.Errorf("Masked output contains %q:\n%s", secret, text)
		}
	}

	var back Config
	if err := yaml.Unmarshal(out, &back); err != nil {
		t.Fatalf("parsing Masked output: %v", err)
	}
	if back.Redis.URL != "***" {
		t.Errorf("redis.url = %q, want ***", back.Redis.URL)
	}
	if back.NATS.URL != "***" {
		t.Errorf("nats.url = %q, want ***", back.NATS.URL)
	}
	if back.Partners[0].URL != "https://***@wipk.example.org/" {
		t.Errorf("partners[0].url = %q, want the user information masked", back.Partners[0].URL)
	}
	if back.Partners[0].Feeds[0].URL != "https://***@wipk.example.org/rss?lang=pl" {
		t.Errorf("feed url = %q, want the user information masked", back.Partners[0].Feeds[0].URL)
	}
}

func TestMaskedKeepsOtherValues(t *testing.T) {
	c := validConfig()
	out, err := c.Masked()
	if err != nil {
		t.Fatalf("Masked returned error: %v", err)
	}
	text := string(out)
	for _, want := range []string{
		"max_age: 2160h\n",
		"duplicate_window: 10m\n",
		"max_body: 15MiB\n",
		"timeout: 20s\n",
		"url: \"\"\n",
		"prefix: 'syndic:'\n",
		"interval: 15m\n",
		"- id: wipk\n",
		"url: https://wipk.example.org/rss\n",
	} {
		assertContains(t, text, want)
	}
}

func TestMaskedRoundTrips(t *testing.T) {
	c := validConfig()
	// Masked replaces set secrets with "***", so only a config without
	// secrets reloads to the same output.
	c.DigestsSecret, c.Digests = "", nil
	out, err := c.Masked()
	if err != nil {
		t.Fatalf("Masked returned error: %v", err)
	}
	path := writeConfig(t, string(out))
	loaded := mustLoad(t, path)
	again, err := loaded.Masked()
	if err != nil {
		t.Fatalf("Masked of the reloaded config returned error: %v", err)
	}
	if string(again) != string(out) {
		t.Errorf("reloading the Masked output changed it:\n--- first\n%s\n--- second\n%s", out, again)
	}
}
