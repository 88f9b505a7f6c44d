package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// validConfig returns a Config that passes Validate: the defaults, two
// partners and two channels.
func validConfig() *Config {
	c := Default()
	c.Partners = []Partner{
		{
			ID: "wipk", Name: "Izba", Language: "pl", Timezone: "Europe/Warsaw",
			Feeds: []PartnerFeed{{ID: "news", URL: "https://wipk.example.org/rss", Interval: 15 * time.Minute}},
		},
		{
			ID: "cci", Name: "CCI", Language: "fr", Timezone: "UTC",
			Feeds: []PartnerFeed{{ID: "feed-1", URL: "https://cci.example.org/rss", Interval: time.Hour}},
		},
	}
	c.Channels = []Channel{
		{ID: "all", Title: "All", MaxItems: 100},
		{ID: "pl", Title: "PL", MaxItems: 50, Filter: ChannelFilter{Partners: []string{"wipk"}, Languages: []string{"pl"}}},
	}
	c.SMTP.Host = "smtp.example.org"
	c.DigestsSecret = strings.Repeat("k", minSecretLen)
	c.Digests = []Digest{{
		ID: "daily", Channel: "all", Schedule: "daily 07:00", Timezone: "Europe/Warsaw",
		MaxItems: 20, From: "News <news@example.org>", GroupBy: "partner",
	}}
	return c
}

func TestValidConfigPasses(t *testing.T) {
	if err := validConfig().Validate(); err != nil {
		t.Fatalf("Validate returned error: %v", err)
	}
}

func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
		// want lists the key, the bad value and the fix, each of which
		// the error must contain.
		want []string
	}{
		{"empty data dir", func(c *Config) { c.DataDir = " " }, []string{"data_dir:", `" "`, "set a directory path"}},
		{"unknown log level", func(c *Config) { c.Log.Level = "trace" }, []string{"log.level:", `"trace"`, "use one of debug, info, warn, error"}},
		{"unknown log format", func(c *Config) { c.Log.Format = "logfmt" }, []string{"log.format:", `"logfmt"`, "use one of text, json"}},
		{"addr without port", func(c *Config) { c.HTTP.Addr = "localhost" }, []string{"http.addr:", `"localhost"`, "use host:port"}},
		{"addr with named port", func(c *Config) { c.HTTP.Addr = "localhost:http" }, []string{"http.addr:", `"localhost:http"`, "use host:port"}},
		{"admin addr port out of range", func(c *Config) { c.HTTP.AdminAddr = ":70000" }, []string{"http.admin_addr:", `":70000"`, "use host:port"}},
		{"relative base url", func(c *Config) { c.HTTP.BaseURL = "/feeds" }, []string{"http.base_url:", `"/feeds"`, "use an absolute http:// or https:// URL"}},
		{"base url with fragment", func(c *Config) { c.HTTP.BaseURL = "https://a.example.org/#x" }, []string{"http.base_url:", "use an absolute"}},
		{"nats url with http scheme", func(c *Config) { c.NATS.URL = "http://n1:4222" }, []string{"nats.url:", `"http://n1:4222"`, "use nats://, tls://, ws:// or wss://"}},
		{"nats url list with bad element", func(c *Config) { c.NATS.URL = "nats://a:4222,b:4222" }, []string{"nats.url:", "use nats://"}},
		{"stream name with dot", func(c *Config) { c.NATS.Stream = "SYNDIC.ITEMS" }, []string{"nats.stream:", `"SYNDIC.ITEMS"`, "use letters, digits"}},
		{"subject prefix with wildcard", func(c *Config) { c.NATS.SubjectPrefix = "syndic.*" }, []string{"nats.subject_prefix:", `"syndic.*"`, "without spaces or wildcards"}},
		{"subject prefix with empty token", func(c *Config) { c.NATS.SubjectPrefix = "syndic..items" }, []string{"nats.subject_prefix:", "dot-separated tokens"}},
		{"even replica count", func(c *Config) { c.NATS.Replicas = 2 }, []string{"nats.replicas:", "invalid value 2", "use one of 1, 3, 5"}},
		{"max age too short", func(c *Config) { c.NATS.MaxAge = time.Second }, []string{"nats.max_age:", "invalid value 1s", "at least 1m"}},
		{"zero duplicate window", func(c *Config) { c.NATS.DuplicateWindow = 0 }, []string{"nats.duplicate_window:", "invalid value 0s", "at least 1s"}},
		{"duplicate window above max age", func(c *Config) { c.NATS.MaxAge = time.Hour; c.NATS.DuplicateWindow = 2 * time.Hour }, []string{"nats.duplicate_window:", "invalid value 2h", "no longer than nats.max_age (1h)"}},
		{"kv prefix with space", func(c *Config) { c.NATS.KVPrefix = "MY KV" }, []string{"nats.kv_prefix:", `"MY KV"`, "use letters, digits"}},
		{"redis url with http scheme", func(c *Config) { c.Redis.URL = "http://cache:6379" }, []string{"redis.url:", `"http://cache:6379"`, "use redis://host:6379/0"}},
		{"redis url with named database", func(c *Config) { c.Redis.URL = "redis://cache:6379/main" }, []string{"redis.url:", "use redis://"}},
		{"redis unix url without path", func(c *Config) { c.Redis.URL = "unix://" }, []string{"redis.url:", "unix:///path/to/redis.sock"}},
		{"memory limit too small", func(c *Config) { c.MemoryLimit = "10MiB" }, []string{"memory_limit:", `"10MiB"`, "use auto, none or a size from 64MiB to 1024GiB"}},
		{"memory limit as a word", func(c *Config) { c.MemoryLimit = "half" }, []string{"memory_limit:", `"half"`, "such as 450MiB"}},
		{"memory limit in megabits", func(c *Config) { c.MemoryLimit = "500Mb" }, []string{"memory_limit:", "use auto, none or a size"}},
		{"zero timeout", func(c *Config) { c.Fetch.Timeout = 0 }, []string{"fetch.timeout:", "invalid value 0s", "from 1s to 10m"}},
		{"tiny max body", func(c *Config) { c.Fetch.MaxBody = 10 }, []string{"fetch.max_body:", "invalid value 10B", "from 1KiB to 1GiB"}},
		{"zero concurrency", func(c *Config) { c.Fetch.Concurrency = 0 }, []string{"fetch.concurrency:", "invalid value 0", "from 1 to 256"}},
		{"min interval above max", func(c *Config) { c.Fetch.MinInterval = 2 * time.Hour; c.Fetch.MaxInterval = time.Hour }, []string{"fetch.max_interval:", "invalid value 1h", "at least fetch.min_interval (2h)"}},
		{"negative redirects", func(c *Config) { c.Fetch.MaxRedirects = -1 }, []string{"fetch.max_redirects:", "invalid value -1", "from 0 to 20"}},
		{"contact url without scheme", func(c *Config) { c.Fetch.ContactURL = "ops@example.org" }, []string{"fetch.contact_url:", `"ops@example.org"`, "mailto: address"}},
		{"zero window", func(c *Config) { c.Feeds.Window = 0 }, []string{"feeds.window:", "invalid value 0", "from 1 to 1000000"}},
		{"tiny query cache", func(c *Config) { c.Feeds.QueryCacheBytes = KiB }, []string{"feeds.query_cache_bytes:", "invalid value 1KiB", "from 1MiB to 4GiB"}},
		{"partner id with capitals", func(c *Config) { c.Partners[0].ID = "WIPK" }, []string{"partners[WIPK].id:", `"WIPK"`, "use 1 to 32 characters from a-z, 0-9 and '-'"}},
		{"partner id too long", func(c *Config) { c.Partners[0].ID = strings.Repeat("a", 33) }, []string{".id:", "use 1 to 32 characters"}},
		{"empty partner id", func(c *Config) { c.Partners[0].ID = "" }, []string{"partners[0].id:", `""`, "use 1 to 32 characters"}},
		{"duplicate partner id", func(c *Config) { c.Partners[1].ID = "wipk" }, []string{"partners[1].id:", `duplicate id "wipk"`, "give each partner a unique id"}},
		{"empty partner name", func(c *Config) { c.Partners[0].Name = "" }, []string{"partners[wipk].name:", "set the partner's display name"}},
		{"partner url without scheme", func(c *Config) { c.Partners[0].URL = "wipk.example.org" }, []string{"partners[wipk].url:", `"wipk.example.org"`, "use an absolute"}},
		{"three-letter language", func(c *Config) { c.Partners[0].Language = "pol" }, []string{"partners[wipk].language:", `"pol"`, "two-letter ISO 639-1 code"}},
		{"missing language", func(c *Config) { c.Partners[0].Language = "" }, []string{"partners[wipk].language:", "two-letter"}},
		{"unknown time zone", func(c *Config) { c.Partners[0].Timezone = "Europe/Atlantis" }, []string{"partners[wipk].timezone:", `"Europe/Atlantis"`, "IANA time zone name"}},
		{"unknown charset", func(c *Config) { c.Partners[0].Charset = "latin-9000" }, []string{"partners[wipk].charset:", `"latin-9000"`, "windows-1250"}},
		{"partner without feeds", func(c *Config) { c.Partners[0].Feeds = nil }, []string{"partners[wipk].feeds:", "add at least one feed"}},
		{"feed id with underscore", func(c *Config) { c.Partners[0].Feeds[0].ID = "my_feed" }, []string{"partners[wipk].feeds[0].id:", `"my_feed"`, "use 1 to 32 characters"}},
		{"duplicate feed id", func(c *Config) {
			c.Partners[0].Feeds = append(c.Partners[0].Feeds, c.Partners[0].Feeds[0])
		}, []string{"partners[wipk].feeds[1].id:", `duplicate id "news"`, "give each feed of the partner a unique id"}},
		{"feed url with ftp scheme", func(c *Config) { c.Partners[0].Feeds[0].URL = "ftp://a.example.org/rss" }, []string{"partners[wipk].feeds[0].url:", `"ftp://a.example.org/rss"`, "use an http://, https:// or file: URL"}},
		{"missing feed url", func(c *Config) { c.Partners[0].Feeds[0].URL = "" }, []string{"partners[wipk].feeds[0].url:", "use an http://"}},
		{"file url while disabled", func(c *Config) { c.Partners[0].Feeds[0].URL = "file:///srv/a.xml" }, []string{"partners[wipk].feeds[0].url:", `"file:///srv/a.xml"`, "set fetch.allow_file_urls to true"}},
		{"interval below min", func(c *Config) { c.Partners[0].Feeds[0].Interval = time.Minute }, []string{"partners[wipk].feeds[0].interval:", "invalid value 1m", "from fetch.min_interval (5m) to fetch.max_interval (24h)"}},
		{"interval above max", func(c *Config) { c.Partners[1].Feeds[0].Interval = 48 * time.Hour }, []string{"partners[cci].feeds[0].interval:", "invalid value 48h"}},
		{"zero interval", func(c *Config) { c.Partners[0].Feeds[0].Interval = 0 }, []string{"partners[wipk].feeds[0].interval:", "invalid value 0s", "at least 1s"}},
		{"channel id with slash", func(c *Config) { c.Channels[0].ID = "a/b" }, []string{"channels[a/b].id:", `"a/b"`, "use 1 to 32 characters"}},
		{"duplicate channel id", func(c *Config) { c.Channels[1].ID = "all" }, []string{"channels[1].id:", `duplicate id "all"`, "give each channel a unique id"}},
		{"empty channel title", func(c *Config) { c.Channels[0].Title = "" }, []string{"channels[all].title:", "set the channel's title"}},
		{"too many items", func(c *Config) { c.Channels[0].MaxItems = 1001 }, []string{"channels[all].max_items:", "invalid value 1001", "from 1 to 1000"}},
		{"per-partner cap above max items", func(c *Config) { c.Channels[0].MaxItemsPerPartner = 101 }, []string{"channels[all].max_items_per_partner:", "invalid value 101", "from 0 to max_items (100)"}},
		{"negative per-partner cap", func(c *Config) { c.Channels[1].MaxItemsPerPartner = -1 }, []string{"channels[pl].max_items_per_partner:", "invalid value -1", "from 0 to 1000"}},
		{"digest per-partner cap above max items", func(c *Config) { c.Digests[0].MaxItemsPerPartner = 21 }, []string{"digests[daily].max_items_per_partner:", "invalid value 21", "from 0 to max_items (20)"}},
		{"filter names unknown partner", func(c *Config) { c.Channels[1].Filter.Partners = []string{"wipk", "ghost"} }, []string{"channels[pl].filter.partners[1]:", `unknown partner "ghost"`, "use the id of a configured partner (cci, wipk)"}},
		{"filter partner malformed", func(c *Config) { c.Channels[1].Filter.Partners = []string{"Ghost"} }, []string{"channels[pl].filter.partners[0]:", `invalid value "Ghost"`, "use 1 to 32 characters"}},
		{"filter language malformed", func(c *Config) { c.Channels[1].Filter.Languages = []string{"pl", "english"} }, []string{"channels[pl].filter.languages[1]:", `invalid value "english"`, "such as pl or en-GB"}},
		{"filter category empty", func(c *Config) { c.Channels[1].Filter.Categories = []string{""} }, []string{"channels[pl].filter.categories[0]:", `invalid value ""`, "remove the empty category"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.change(c)
			err := c.Validate()
			if err == nil {
				t.Fatal("Validate returned no error")
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("error does not wrap ErrInvalidConfig: %v", err)
			}
			for _, want := range tt.want {
				assertContains(t, err.Error(), want)
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
	}{
		{"nats cluster list", func(c *Config) { c.NATS.URL = "nats://a:4222, tls://b:4222,ws://c:80,wss://d:443" }},
		{"nats url with credentials", func(c *Config) { c.NATS.URL = "nats://user:pass@a:4222" }},
		{"rediss url without database", func(c *Config) { c.Redis.URL = "rediss://:pw@cache.example.org:6380" }},
		{"redis unix socket", func(c *Config) { c.Redis.URL = "unix:///run/redis.sock" }},
		{"five replicas", func(c *Config) { c.NATS.Replicas = 5 }},
		{"listen on every interface", func(c *Config) { c.HTTP.Addr = ":8080" }},
		{"ipv6 listen address", func(c *Config) { c.HTTP.AdminAddr = "[::1]:8081" }},
		{"mailto contact", func(c *Config) { c.Fetch.ContactURL = "mailto:ops@example.org" }},
		{"https contact", func(c *Config) { c.Fetch.ContactURL = "https://syndic.example.org/about" }},
		{"file url when enabled", func(c *Config) {
			c.Fetch.AllowFileURLs = true
			c.Partners[0].Feeds[0].URL = "file:///srv/feeds/wipk.xml"
		}},
		{"interval at both bounds", func(c *Config) {
			c.Partners[0].Feeds[0].Interval = c.Fetch.MinInterval
			c.Partners[1].Feeds[0].Interval = c.Fetch.MaxInterval
		}},
		{"language with region", func(c *Config) { c.Channels[1].Filter.Languages = []string{"en-GB"} }},
		{"empty partner url", func(c *Config) { c.Partners[0].URL = "" }},
		{"per-partner cap of two", func(c *Config) { c.Channels[0].MaxItemsPerPartner = 2 }},
		{"per-partner cap equal to max items", func(c *Config) {
			c.Channels[0].MaxItemsPerPartner = c.Channels[0].MaxItems
			c.Digests[0].MaxItemsPerPartner = c.Digests[0].MaxItems
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.change(c)
			if err := c.Validate(); err != nil {
				t.Errorf("Validate returned error: %v", err)
			}
		})
	}
}

func TestValidateMasksSecretValues(t *testing.T) {
	c := validConfig()
	c.Redis.URL = "http://admin:hunter2@cache.example.org:6379/?password=hunter3"
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate returned no error")
	}
	text := err.Error()
	for _, secret := range []string{"admin", "hunter2", "hunter3"} {
		if strings.Contains(text, secret) {
			t.Errorf("error shows %q: %s", secret, text)
		}
	}
	assertContains(t, text, `"http://***@cache.example.org:6379/?password=***"`)
}

func TestValidateNamesSourceLine(t *testing.T) {
	path := writeConfig(t, minimalYAML+"    max_items: 5000\n")
	assertContains(t, loadError(t, path), path+":12: channels[all].max_items: invalid value 5000: use a whole number from 1 to 1000")
}

// TestPerPartnerCapOneMessage checks that a cap that fails its own range
// is reported once, not also as above max_items.
func TestPerPartnerCapOneMessage(t *testing.T) {
	c := validConfig()
	c.Channels[0].MaxItemsPerPartner = 5000
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate returned no error")
	}
	text := err.Error()
	if n := strings.Count(text, "max_items_per_partner"); n != 1 {
		t.Errorf("error names max_items_per_partner %d times, want once:\n%s", n, text)
	}
	assertContains(t, text, "channels[all].max_items_per_partner: invalid value 5000: use a whole number from 0 to 1000")
}

func TestRequiredKeysRejectZero(t *testing.T) {
	for _, key := range Keys {
		if !strings.HasPrefix(key.Doc, "Required.") {
			continue
		}
		t.Run(key.Path, func(t *testing.T) {
			c := validConfig()
			cleared := false
			walkValue(reflect.ValueOf(c).Elem(), keyPath{}, func(f fieldRef) {
				if f.path.pattern == key.Path && !cleared {
					f.value.Set(reflect.Zero(f.value.Type()))
					cleared = true
				}
			})
			if !cleared {
				t.Fatalf("validConfig has no value at %s", key.Path)
			}
			err := c.Validate()
			if err == nil {
				t.Fatalf("Validate accepted an empty %s", key.Path)
			}
			assertContains(t, err.Error(), strings.TrimPrefix(key.Path[strings.LastIndex(key.Path, "]")+1:], ".")+":")
		})
	}
}
