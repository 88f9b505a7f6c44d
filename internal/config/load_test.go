package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// minimalYAML is a valid config with one partner and one channel.
const minimalYAML = `
partners:
  - id: wipk
    name: Izba Przemysłowo-Handlowa
    language: pl
    feeds:
      - id: news
        url: https://partner.example.org/rss
channels:
  - id: all
    title: All partner news
`

// writeConfig writes text to a file in a new temporary directory and
// returns its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "syndic.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatalf("writing config: %v", err)
	}
	return path
}

// writeSecret writes a secret file that ends in a newline, as files written
// by editors and echo do, and returns its path.
func writeSecret(t *testing.T, value string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte(value+"\n"), 0o600); err != nil {
		t.Fatalf("writing secret: %v", err)
	}
	return path
}

func mustLoad(t *testing.T, path string, environ ...string) *Config {
	t.Helper()
	cfg, err := Load(path, environ)
	if err != nil {
		t.Fatalf("Load returned error: %v", err)
	}
	return cfg
}

// loadError loads the config and returns the error text, failing the test
// when Load succeeds or returns an error that does not wrap
// ErrInvalidConfig.
func loadError(t *testing.T, path string, environ ...string) string {
	t.Helper()
	_, err := Load(path, environ)
	if err == nil {
		t.Fatal("Load returned no error")
	}
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("error does not wrap ErrInvalidConfig: %v", err)
	}
	return err.Error()
}

func assertContains(t *testing.T, text, want string) {
	t.Helper()
	if !strings.Contains(text, want) {
		t.Errorf("text does not contain %q:\n%s", want, text)
	}
}

func TestLoadDefaults(t *testing.T) {
	cfg := mustLoad(t, "")
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"data_dir", cfg.DataDir, "./data"},
		{"log.level", cfg.Log.Level, "info"},
		{"log.format", cfg.Log.Format, "auto"},
		{"http.addr", cfg.HTTP.Addr, "127.0.0.1:8080"},
		{"http.base_url", cfg.HTTP.BaseURL, "http://127.0.0.1:8080"},
		{"http.admin_addr", cfg.HTTP.AdminAddr, "127.0.0.1:8081"},
		{"nats.url", cfg.NATS.URL, ""},
		{"nats.stream", cfg.NATS.Stream, "SYNDIC_ITEMS"},
		{"memory_limit", cfg.MemoryLimit, "auto"},
		{"nats.subject_prefix", cfg.NATS.SubjectPrefix, "syndic.items"},
		{"nats.replicas", cfg.NATS.Replicas, 1},
		{"nats.max_age", cfg.NATS.MaxAge, 90 * 24 * time.Hour},
		{"nats.duplicate_window", cfg.NATS.DuplicateWindow, 10 * time.Minute},
		{"nats.kv_prefix", cfg.NATS.KVPrefix, "SYNDIC"},
		{"nats.sync_always", cfg.NATS.SyncAlways, true},
		{"redis.url", cfg.Redis.URL, ""},
		{"redis.prefix", cfg.Redis.Prefix, "syndic:"},
		{"fetch.allow_private_networks", cfg.Fetch.AllowPrivateNetworks, false},
		{"fetch.allow_file_urls", cfg.Fetch.AllowFileURLs, false},
		{"fetch.timeout", cfg.Fetch.Timeout, 20 * time.Second},
		{"fetch.max_body", cfg.Fetch.MaxBody, 15 * MiB},
		{"fetch.concurrency", cfg.Fetch.Concurrency, 16},
		{"fetch.min_interval", cfg.Fetch.MinInterval, 5 * time.Minute},
		{"fetch.max_interval", cfg.Fetch.MaxInterval, 24 * time.Hour},
		{"fetch.max_redirects", cfg.Fetch.MaxRedirects, 5},
		{"fetch.contact_url", cfg.Fetch.ContactURL, ""},
		{"feeds.window", cfg.Feeds.Window, 20000},
		{"feeds.query_cache_bytes", cfg.Feeds.QueryCacheBytes, 64 * MiB},
		{"partners", len(cfg.Partners), 0},
		{"channels", len(cfg.Channels), 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestLoadYAMLOverDefaults(t *testing.T) {
	path := writeConfig(t, `
data_dir: /var/lib/syndic
log: {level: debug}
fetch:
  max_body: 2MiB
  timeout: 45s
nats:
  replicas: 3
`+minimalYAML)
	cfg := mustLoad(t, path)
	if cfg.DataDir != "/var/lib/syndic" {
		t.Errorf("data_dir = %q, want /var/lib/syndic", cfg.DataDir)
	}
	if cfg.Log.Level != "debug" {
		t.Errorf("log.level = %q, want debug", cfg.Log.Level)
	}
	if cfg.Log.Format != "auto" {
		t.Errorf("log.format = %q, want the default auto", cfg.Log.Format)
	}
	if cfg.Fetch.MaxBody != 2*MiB {
		t.Errorf("fetch.max_body = %v, want 2MiB", cfg.Fetch.MaxBody)
	}
	if cfg.Fetch.Timeout != 45*time.Second {
		t.Errorf("fetch.timeout = %v, want 45s", cfg.Fetch.Timeout)
	}
	if cfg.Fetch.Concurrency != 16 {
		t.Errorf("fetch.concurrency = %d, want the default 16", cfg.Fetch.Concurrency)
	}
	if cfg.NATS.Replicas != 3 {
		t.Errorf("nats.replicas = %d, want 3", cfg.NATS.Replicas)
	}
}

func TestLoadEnvOverYAML(t *testing.T) {
	path := writeConfig(t, "log: {level: debug}\nfetch: {max_body: 2MiB}\n"+minimalYAML)
	cfg := mustLoad(t, path,
		"SYNDIC_LOG_LEVEL=warn",
		"SYNDIC_FETCH_MAX_BODY=3MiB",
		"SYNDIC_DATA_DIR=/srv/syndic",
		"SYNDIC_NATS_SYNC_ALWAYS=false",
		"SYNDIC_FETCH_CONCURRENCY=16",
		"SYNDIC_NATS_MAX_AGE=720h",
		"SYNDIC_MEMORY_LIMIT=450MiB",
		"HOME=/root",
	)
	if cfg.MemoryLimit != "450MiB" {
		t.Errorf("memory_limit = %q, want 450MiB", cfg.MemoryLimit)
	}
	if cfg.Log.Level != "warn" {
		t.Errorf("log.level = %q, want warn", cfg.Log.Level)
	}
	if cfg.Fetch.MaxBody != 3*MiB {
		t.Errorf("fetch.max_body = %v, want 3MiB", cfg.Fetch.MaxBody)
	}
	if cfg.DataDir != "/srv/syndic" {
		t.Errorf("data_dir = %q, want /srv/syndic", cfg.DataDir)
	}
	if cfg.NATS.SyncAlways {
		t.Error("nats.sync_always = true, want false")
	}
	if cfg.Fetch.Concurrency != 16 {
		t.Errorf("fetch.concurrency = %d, want 16", cfg.Fetch.Concurrency)
	}
	if cfg.NATS.MaxAge != 720*time.Hour {
		t.Errorf("nats.max_age = %v, want 720h", cfg.NATS.MaxAge)
	}
}

func TestLoadEnvLastEntryWins(t *testing.T) {
	cfg := mustLoad(t, "", "SYNDIC_LOG_LEVEL=debug", "SYNDIC_LOG_LEVEL=error")
	if cfg.Log.Level != "error" {
		t.Errorf("log.level = %q, want error", cfg.Log.Level)
	}
}

func TestLoadEnvBadValue(t *testing.T) {
	text := loadError(t, "", "SYNDIC_FETCH_TIMEOUT=soon")
	assertContains(t, text, "env SYNDIC_FETCH_TIMEOUT: fetch.timeout")
	assertContains(t, text, `invalid value "soon"`)
	assertContains(t, text, "use a duration")
}

func TestLoadSecretFiles(t *testing.T) {
	secrets := []struct {
		key   string
		value string
		get   func(*Config) string
	}{
		{"nats.url", "nats://user:pw@nats.example.org:4222", func(c *Config) string { return c.NATS.URL }},
		{"redis.url", "redis://:pw@cache.example.org:6379/0", func(c *Config) string { return c.Redis.URL }},
	}
	for _, s := range secrets {
		key := keyFor(s.key)
		if key == nil || !key.Secret {
			t.Fatalf("%s is not a secret key", s.key)
		}
		section, name, _ := strings.Cut(s.key, ".")
		t.Run(s.key+" from env file", func(t *testing.T) {
			cfg := mustLoad(t, "", key.Env+"_FILE="+writeSecret(t, s.value))
			if got := s.get(cfg); got != s.value {
				t.Errorf("%s = %q, want %q", s.key, got, s.value)
			}
		})
		t.Run(s.key+" from yaml sibling", func(t *testing.T) {
			path := writeConfig(t, section+":\n  "+name+"_file: "+writeSecret(t, s.value)+"\n")
			cfg := mustLoad(t, path)
			if got := s.get(cfg); got != s.value {
				t.Errorf("%s = %q, want %q", s.key, got, s.value)
			}
		})
		t.Run(s.key+" from relative yaml sibling", func(t *testing.T) {
			path := writeConfig(t, section+":\n  "+name+"_file: secrets/value\n")
			dir := filepath.Join(filepath.Dir(path), "secrets")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "value"), []byte(s.value+"\r\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if got := s.get(mustLoad(t, path)); got != s.value {
				t.Errorf("%s = %q, want %q", s.key, got, s.value)
			}
		})
		t.Run(s.key+" env and env file both set", func(t *testing.T) {
			text := loadError(t, "", key.Env+"="+s.value, key.Env+"_FILE="+writeSecret(t, s.value))
			assertContains(t, text, "both "+key.Env+" and "+key.Env+"_FILE are set")
			assertContains(t, text, s.key)
		})
		t.Run(s.key+" yaml and yaml sibling both set", func(t *testing.T) {
			path := writeConfig(t, section+":\n  "+name+": "+s.value+"\n  "+name+"_file: "+writeSecret(t, s.value)+"\n")
			text := loadError(t, path)
			assertContains(t, text, ":3: "+s.key+": both "+name+" and "+name+"_file are set")
		})
		t.Run(s.key+" env file missing", func(t *testing.T) {
			_, err := Load("", []string{key.Env + "_FILE=" + filepath.Join(t.TempDir(), "absent")})
			if !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("error does not wrap fs.ErrNotExist: %v", err)
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("error does not wrap ErrInvalidConfig: %v", err)
			}
		})
	}
}

func TestLoadEnvOverridesYAMLSecretFile(t *testing.T) {
	path := writeConfig(t, "redis:\n  url_file: "+writeSecret(t, "redis://file.example.org:6379/0")+"\n")
	cfg := mustLoad(t, path, "SYNDIC_REDIS_URL=redis://env.example.org:6379/1")
	if cfg.Redis.URL != "redis://env.example.org:6379/1" {
		t.Errorf("redis.url = %q, want the value of SYNDIC_REDIS_URL", cfg.Redis.URL)
	}
}

func TestLoadEmptySecretFileKey(t *testing.T) {
	path := writeConfig(t, "redis:\n  url_file:\n")
	assertContains(t, loadError(t, path), ":2: redis.url_file: missing file path")
}

func TestLoadFileSiblingOfPlainKey(t *testing.T) {
	path := writeConfig(t, "log:\n  level_file: /etc/level\n")
	text := loadError(t, path)
	assertContains(t, text, ":2: log.level_file: unknown key")
}

func TestLoadUnknownKey(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"typo in section", "fetch:\n  max_bdy: 1MiB\n", []string{":2: fetch.max_bdy: unknown key", "did you mean fetch.max_body?"}},
		{"unknown top-level key", "colour: blue\n", []string{":1: colour: unknown key", "valid keys at the top level: data_dir, log"}},
		{"unknown key in list element", minimalYAML + "    colour: blue\n", []string{":12: channels[all].colour: unknown key", "valid keys in channels[all]: id, title"}},
		{"unknown key in feed", "partners:\n  - id: a\n    feeds:\n      - urls: x\n", []string{":4: partners[a].feeds[0].urls: unknown key", "did you mean partners[a].feeds[0].url?"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := loadError(t, writeConfig(t, tt.yaml))
			for _, want := range tt.want {
				assertContains(t, text, want)
			}
		})
	}
}

func TestLoadTypeMismatch(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"duration as number", "fetch: {timeout: 20}\n", `fetch.timeout: invalid value "20": use a duration`},
		{"integer as word", "fetch: {concurrency: many}\n", `fetch.concurrency: invalid value "many": use a whole number`},
		{"boolean as word", "nats: {sync_always: maybe}\n", `nats.sync_always: invalid value "maybe": use true or false`},
		{"size with bad unit", "fetch: {max_body: 15 megs}\n", `fetch.max_body: invalid value "15 megs": use a size`},
		{"section as scalar", "fetch: fast\n", `fetch: expected a mapping of keys, found "fast"`},
		{"list as mapping", "partners: {id: a}\n", "partners: expected a list, found a mapping"},
		{"secret value masked", "redis: {url: [redis://:pw@h]}\n", "redis.url: invalid value (a list)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertContains(t, loadError(t, writeConfig(t, tt.yaml)), tt.want)
		})
	}
}

func TestLoadUnknownVariable(t *testing.T) {
	text := loadError(t, "", "SYNDIC_FETCH_TIMEOTU=5s")
	assertContains(t, text, "env SYNDIC_FETCH_TIMEOTU: unknown variable (did you mean SYNDIC_FETCH_TIMEOUT?)")
}

func TestLoadIgnoresReservedVariables(t *testing.T) {
	mustLoad(t, "", EnvConfig+"=/etc/syndic.yaml", "SYNDIC_TEST_REDIS_URL=redis://127.0.0.1:6379/0")
}

func TestLoadSyntaxError(t *testing.T) {
	text := loadError(t, writeConfig(t, "log: {level: info\n"))
	assertContains(t, text, "parsing ")
}

func TestLoadTabIndentHint(t *testing.T) {
	tests := []struct {
		name, text string
		hint       bool
	}{
		{"tab before a list item", "log: {level: info}\npartners:\n\t- id: x\n", true},
		{"tab inside a mapping", "partners:\n  - id: x\n    name:\tX\n  \tlanguage: en\n", true},
		{"error on a line without tabs", "log: {level: info\n", false},
		// The parser names line 3 here, the line before the tab.
		{"tab after a nested key", "partners:\n  - id: x\n    name: X\n\tlanguage: en\n", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := loadError(t, writeConfig(t, tc.text))
			if got := strings.Contains(text, "YAML does not allow tabs for indentation"); got != tc.hint {
				t.Errorf("tab hint shown = %v, want %v: %s", got, tc.hint, text)
			}
			if tc.name == "tab after a nested key" && !strings.Contains(text, "line 4 contains a tab") {
				t.Errorf("hint does not name line 4, the line of the tab: %s", text)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "absent.yaml"), nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error does not wrap fs.ErrNotExist: %v", err)
	}
}

func TestLoadEmptyFile(t *testing.T) {
	cfg := mustLoad(t, writeConfig(t, "# nothing yet\n"))
	if cfg.Log.Level != "info" {
		t.Errorf("log.level = %q, want the default info", cfg.Log.Level)
	}
}

func TestLoadListElementDefaults(t *testing.T) {
	cfg := mustLoad(t, writeConfig(t, `
partners:
  - id: wipk
    name: Izba
    language: pl
    feeds:
      - url: https://a.example.org/rss
      - url: https://a.example.org/atom
        interval: 1h
channels:
  - id: all
    title: All
`))
	p := cfg.Partners[0]
	if p.Timezone != "UTC" {
		t.Errorf("timezone = %q, want UTC", p.Timezone)
	}
	if p.Feeds[0].ID != "feed-1" {
		t.Errorf("feeds[0].id = %q, want feed-1", p.Feeds[0].ID)
	}
	if p.Feeds[1].ID != "feed-2" {
		t.Errorf("feeds[1].id = %q, want feed-2", p.Feeds[1].ID)
	}
	if p.Feeds[0].Interval != 15*time.Minute {
		t.Errorf("feeds[0].interval = %v, want 15m", p.Feeds[0].Interval)
	}
	if p.Feeds[1].Interval != time.Hour {
		t.Errorf("feeds[1].interval = %v, want 1h", p.Feeds[1].Interval)
	}
	if cfg.Channels[0].MaxItems != 100 {
		t.Errorf("channels[0].max_items = %d, want 100", cfg.Channels[0].MaxItems)
	}
}

func TestLoadPerPartnerCap(t *testing.T) {
	cfg := mustLoad(t, writeConfig(t, minimalYAML+"    max_items: 50\n    max_items_per_partner: 5\n"))
	if got := cfg.Channels[0].MaxItemsPerPartner; got != 5 {
		t.Errorf("channels[0].max_items_per_partner = %d, want 5", got)
	}
	path := writeConfig(t, minimalYAML+"    max_items: 50\n    max_items_per_partner: 60\n")
	assertContains(t, loadError(t, path), path+":13: channels[all].max_items_per_partner: invalid value 60: use a whole number from 0 to max_items (50)")
}

func TestLoadExplicitZeroIsNotDefaulted(t *testing.T) {
	path := writeConfig(t, minimalYAML+"    max_items: 0\n")
	assertContains(t, loadError(t, path), "channels[all].max_items: invalid value 0: use a whole number from 1 to 1000")
}

func TestLoadMergeKeys(t *testing.T) {
	cfg := mustLoad(t, writeConfig(t, `
x-feed: &feed
  interval: 30m
  allow_private_network: true
partners:
  - id: wipk
    name: Izba
    language: pl
    feeds:
      - <<: *feed
        id: news
        url: https://a.example.org/rss
      - interval: 2h
        <<: *feed
        url: https://a.example.org/atom
`))
	feeds := cfg.Partners[0].Feeds
	if feeds[0].Interval != 30*time.Minute {
		t.Errorf("feeds[0].interval = %v, want the merged 30m", feeds[0].Interval)
	}
	if !feeds[0].AllowPrivateNetwork {
		t.Error("feeds[0].allow_private_network = false, want the merged true")
	}
	if feeds[1].Interval != 2*time.Hour {
		t.Errorf("feeds[1].interval = %v, want the explicit 2h", feeds[1].Interval)
	}
}

func TestLoadListFromEnv(t *testing.T) {
	partnersJSON := `[{"id":"cci-lyon","name":"CCI Lyon","language":"fr","timezone":"Europe/Paris",` +
		`"feeds":[{"id":"actualites","url":"https://cci.example.org/rss","interval":"30m"}]}]`
	channelsYAML := "- {id: fr, title: Actualités, filter: {languages: [fr]}}\n- {id: all, title: Tout}"
	path := writeConfig(t, minimalYAML)
	cfg := mustLoad(t, path, "SYNDIC_PARTNERS="+partnersJSON, "SYNDIC_CHANNELS="+channelsYAML)
	if len(cfg.Partners) != 1 {
		t.Fatalf("got %d partners, want the 1 from SYNDIC_PARTNERS", len(cfg.Partners))
	}
	p := cfg.Partners[0]
	if p.ID != "cci-lyon" || p.Language != "fr" || p.Timezone != "Europe/Paris" {
		t.Errorf("partner = %+v, want cci-lyon in fr and Europe/Paris", p)
	}
	if p.Feeds[0].Interval != 30*time.Minute {
		t.Errorf("feed interval = %v, want 30m", p.Feeds[0].Interval)
	}
	if len(cfg.Channels) != 2 {
		t.Fatalf("got %d channels, want the 2 from SYNDIC_CHANNELS", len(cfg.Channels))
	}
	if cfg.Channels[0].Filter.Languages[0] != "fr" {
		t.Errorf("channel fr languages = %v, want [fr]", cfg.Channels[0].Filter.Languages)
	}
	if cfg.Channels[1].MaxItems != 100 {
		t.Errorf("channel all max_items = %d, want the default 100", cfg.Channels[1].MaxItems)
	}
}

func TestLoadListFromEnvErrors(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  string
	}{
		{"unknown key", `[{"id":"a","nam":"A"}]`, "env SYNDIC_PARTNERS:1: partners[a].nam: unknown key"},
		{"not a list", `{"id":"a"}`, "partners: expected a list"},
		{"not YAML", `[{"id": "a"`, "env SYNDIC_PARTNERS: partners: parsing the value as YAML or JSON"},
		{"bad value", `[{"id":"A B","name":"A","language":"en","feeds":[{"url":"https://a.example.org/"}]}]`, `partners[A B].id: invalid value "A B"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertContains(t, loadError(t, "", "SYNDIC_PARTNERS="+tt.value), tt.want)
		})
	}
}

func TestLoadRelativeFileURL(t *testing.T) {
	path := writeConfig(t, `
fetch: {allow_file_urls: true}
partners:
  - id: wipk
    name: Izba
    language: pl
    feeds:
      - {id: relative, url: "file:feeds/wipk.xml"}
      - {id: spaces, url: "file:feeds/my%20feed.xml"}
      - {id: absolute, url: "file:///srv/feeds/a.xml"}
      - {id: single-slash, url: "file:/srv/feeds/b.xml"}
`)
	dir := filepath.ToSlash(filepath.Dir(path))
	cfg := mustLoad(t, path)
	want := []string{
		"file://" + dir + "/feeds/wipk.xml",
		"file://" + dir + "/feeds/my%20feed.xml",
		"file:///srv/feeds/a.xml",
		"file:///srv/feeds/b.xml",
	}
	for i, w := range want {
		if got := cfg.Partners[0].Feeds[i].URL; got != w {
			t.Errorf("feeds[%d].url = %q, want %q", i, got, w)
		}
	}
}

func TestLoadFileURLWithHost(t *testing.T) {
	path := writeConfig(t, `
fetch: {allow_file_urls: true}
partners:
  - id: wipk
    name: Izba
    language: pl
    feeds: [{url: "file://./feeds/wipk.xml"}]
`)
	assertContains(t, loadError(t, path), `partners[wipk].feeds[0].url: invalid value "file://./feeds/wipk.xml": use file:feeds/name.xml`)
}

func TestLoadReportsEveryProblem(t *testing.T) {
	path := writeConfig(t, "log: {level: loud, format: xml}\nhttp: {addr: nowhere}\n")
	_, err := Load(path, []string{"SYNDIC_FEEDS_WINDOW=0"})
	if err == nil {
		t.Fatal("Load returned no error")
	}

	var keys []string
	for _, problem := range fieldErrors(err) {
		keys = append(keys, problem.Key)
	}
	want := []string{"log.level", "log.format", "http.addr", "feeds.window"}
	if strings.Join(keys, " ") != strings.Join(want, " ") {
		t.Errorf("problem keys = %v, want %v in that order", keys, want)
	}

	var first *FieldError
	if !errors.As(err, &first) {
		t.Fatal("errors.As found no *FieldError")
	}
	if first.Source != path+":1" {
		t.Errorf("first problem source = %q, want %q", first.Source, path+":1")
	}
}

// fieldErrors returns every *FieldError in the tree of err, depth first.
func fieldErrors(err error) []*FieldError {
	if problem, ok := err.(*FieldError); ok {
		return []*FieldError{problem}
	}
	var found []*FieldError
	switch e := err.(type) {
	case interface{ Unwrap() []error }:
		for _, inner := range e.Unwrap() {
			found = append(found, fieldErrors(inner)...)
		}
	case interface{ Unwrap() error }:
		found = fieldErrors(e.Unwrap())
	}
	return found
}
