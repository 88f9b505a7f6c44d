package config

import "time"

// Key is one row of the configuration reference: a key of the YAML file,
// its environment variable, its default and its validator. Load, Masked and
// Markdown all read the Keys table, so a key documented there behaves as
// documented.
type Key struct {
	// Path is the YAML key path. List elements are written "[]", as in
	// "partners[].feeds[].url".
	Path string
	// Default is the default value in the syntax of the YAML file. Inside
	// list elements, "<n>" stands for the 1-based position of the element.
	Default string
	// Doc describes the key in Markdown for the reference documentation.
	Doc string
	// Secret marks keys that may contain credentials. Their values are
	// masked in errors and in Masked, and they can be read from a file
	// named by <Env>_FILE or by a sibling YAML key with the suffix _file.
	Secret bool
	// Env is the environment variable that overrides the key, or "" for
	// keys inside list elements.
	Env string
	// Validate checks the Go value of the field, such as a string or a
	// time.Duration, and returns nil or an error whose text is the fix,
	// such as "use one of text, json". A nil Validate accepts every value.
	Validate func(value any) error
}

// Keys is the configuration reference, in the order of the documentation.
var Keys = []Key{
	{
		Path: "data_dir", Default: "./data", Env: "SYNDIC_DATA_DIR",
		Doc:      "Directory of the embedded NATS server's storage and other local state. A relative path is relative to the working directory of the process, not to the config file.",
		Validate: required("set a directory path, such as ./data"),
	},
	{
		Path: "log.level", Default: "info", Env: "SYNDIC_LOG_LEVEL",
		Doc:      "Minimum level of log records: `debug`, `info`, `warn` or `error`.",
		Validate: oneOf("debug", "info", "warn", "error"),
	},
	{
		Path: "log.format", Default: "auto", Env: "SYNDIC_LOG_FORMAT",
		Doc:      "Log record format: `text` (key=value pairs), `json` (one object per line), or `auto`: `json` when standard error is not a terminal, as under systemd, Docker or Kubernetes, and `text` otherwise.",
		Validate: oneOf("text", "json", "auto"),
	},
	{
		Path: "shutdown_grace", Default: "10s", Env: "SYNDIC_SHUTDOWN_GRACE",
		Doc:      "After SIGTERM or SIGINT, how long a process finishes the HTTP requests and feed polls in flight before it exits anyway, from `1s` to `10m`. Keep it below the orchestrator's kill timeout (30 s in Kubernetes by default).",
		Validate: durationRange(time.Second, 10*time.Minute),
	},
	{
		Path: "memory_limit", Default: "auto", Env: "SYNDIC_MEMORY_LIMIT",
		Doc:      "Soft limit on the memory of the Go runtime in `run`, `ingest`, `serve`, `digest`, `poll --once`, `backup` and `restore` (Go's `GOMEMLIMIT`): near it, the garbage collector runs more often, so the process trades CPU for memory instead of growing. `auto` takes 90% of the container's memory limit (a cgroup limit, as set by Kubernetes, Docker or systemd's `MemoryMax`) and sets none when the process has no such limit. `none` sets no limit. A size, from `64MiB` to `1024GiB`, sets that limit; leave room below the container's hard limit. The limit is soft: a live heap above it still grows, and then the collector is limited to about half of the CPU. A `GOMEMLIMIT` in the environment wins over this key.",
		Validate: memoryLimit,
	},
	{
		Path: "http.addr", Default: "127.0.0.1:8080", Env: "SYNDIC_HTTP_ADDR",
		Doc:      "Listen address (host:port) of the public server: the merged feeds, web pages, WebSub hub and digest sign-up in `serve`, the intake API and WebSub callbacks in `ingest`, all of them in `run`. `digest` opens no public listener.",
		Validate: hostPort,
	},
	{
		Path: "http.base_url", Default: "http://127.0.0.1:8080", Env: "SYNDIC_HTTP_BASE_URL",
		Doc:      "Absolute http(s) URL under which readers reach the public server. Links and ids in the merged feeds are built from it.",
		Validate: httpURL(false),
	},
	{
		Path: "http.admin_addr", Default: "127.0.0.1:8081", Env: "SYNDIC_HTTP_ADMIN_ADDR",
		Doc:      "Listen address (host:port) of the admin server: `/metrics` and the operator API. Keep it off public interfaces.",
		Validate: hostPort,
	},
	{
		Path: "http.admin_pprof", Default: "false", Env: "SYNDIC_HTTP_ADMIN_PPROF",
		Doc: "Serve Go's profiles under `/debug/pprof/` on the admin server, for `go tool pprof` (such as `/debug/pprof/heap` for memory). A CPU or trace profile slows the process while it runs, so turn it on only where the admin server is private.",
	},
	{
		Path: "nats.url", Default: "", Env: "SYNDIC_NATS_URL", Secret: true,
		Doc:      "NATS servers as comma-separated `nats://`, `tls://`, `ws://` or `wss://` URLs, such as `nats://a:4222,nats://b:4222`. Empty runs an embedded server that stores its data under `data_dir`. It listens on a free loopback port chosen at each start and writes its URL, with credentials, to `data_dir/nats.url` (mode 0600), where the other `syndic` commands find it. The URLs may contain credentials.",
		Validate: natsURLs,
	},
	{
		Path: "nats.stream", Default: "SYNDIC_ITEMS", Env: "SYNDIC_NATS_STREAM",
		Doc:      "JetStream stream that stores item events.",
		Validate: natsName,
	},
	{
		Path: "nats.subject_prefix", Default: "syndic.items", Env: "SYNDIC_NATS_SUBJECT_PREFIX",
		Doc:      "Subject prefix of item events. The stream captures `<prefix>.>`.",
		Validate: natsSubject,
	},
	{
		Path: "nats.replicas", Default: "1", Env: "SYNDIC_NATS_REPLICAS",
		Doc:      "Replicas of the stream and the key-value buckets: `1`, or `3` or `5` on a cluster of at least that many servers.",
		Validate: intOneOf(1, 3, 5),
	},
	{
		Path: "nats.max_age", Default: "2160h", Env: "SYNDIC_NATS_MAX_AGE",
		Doc:      "How long item events stay in the stream (`2160h` is 90 days), at least `1m`. Must not be shorter than `nats.duplicate_window`. Give every process on one NATS server the same value: each process sets its own on the stream, the item index and the member log when it starts, and warns when it finds another.",
		Validate: durationRange(time.Minute, 0),
	},
	{
		Path: "nats.duplicate_window", Default: "10m", Env: "SYNDIC_NATS_DUPLICATE_WINDOW",
		Doc:      "Window in which JetStream drops a second publish with the same `Nats-Msg-Id`. nats-server keeps the id of every event published within the window in memory, and reads them back when it starts: about 73 MB for the roughly 800,000 events of the last 10 minutes of a bulk import of 1,000,000 items, in a heap profile after a restart (docs/benchmarks.md, \"On an Intel Xeon machine\").",
		Validate: durationRange(time.Second, 0),
	},
	{
		Path: "nats.kv_prefix", Default: "SYNDIC", Env: "SYNDIC_NATS_KV_PREFIX",
		Doc:      "Prefix of the key-value bucket names: `<prefix>_INDEX`, `<prefix>_META`, `<prefix>_LEASES`, `<prefix>_TOKENS`, `<prefix>_WEBSUB`, `<prefix>_CACHE` when `redis.url` is empty, and for digests `<prefix>_SUBSCRIBERS` and `<prefix>_SENDLOG`. Also names the stream `<prefix>_MEMBERS`, subject `$SYNDIC.MEMBERS.<prefix>`, which holds the grouping records.",
		Validate: natsName,
	},
	{
		Path: "nats.sync_always", Default: "true", Env: "SYNDIC_NATS_SYNC_ALWAYS",
		Doc: "Embedded server only: flush every write to disk before acknowledging it. Writes to the `<prefix>_CACHE` and `<prefix>_INDEX` buckets and the `<prefix>_MEMBERS` stream are flushed in the background instead when they have one replica and were created in async persist mode, as Syndic creates new ones. Losing the last writes of the cache or the grouping records costs refetches and missed groupings, never an item. Index entries lost in an unclean stop are restored from the stream at the next start. Turning it off is faster but can lose the last writes on power loss.",
	},
	{
		Path: "redis.url", Default: "", Env: "SYNDIC_REDIS_URL", Secret: true,
		Doc:      "Redis cache as `redis://host:6379/0`, `rediss://host:6380/0` or `unix:///path/to/redis.sock`. Empty keeps the cache in a JetStream key-value bucket. The URL may contain a password.",
		Validate: redisURL,
	},
	{
		Path: "redis.prefix", Default: "syndic:", Env: "SYNDIC_REDIS_PREFIX",
		Doc: "Prefix of every Redis key, so that several deployments can share one database.",
	},
	{
		Path: "redis.reserve_ttl", Default: "30s", Env: "SYNDIC_REDIS_RESERVE_TTL",
		Doc:      "How long a writer holds an item between the dedup check and the index write, in Redis or, with the embedded cache, in the memory of the process that started the embedded server. A writer that crashes blocks the item for this long (with the embedded cache, only a command such as poll --once that crashed next to a running syndic run); the default covers a publish acknowledgement and an index write with retries.",
		Validate: durationRange(time.Second, 10*time.Minute),
	},
	{
		Path: "fetch.allow_private_networks", Default: "false", Env: "SYNDIC_FETCH_ALLOW_PRIVATE_NETWORKS",
		Doc: "Allow every feed to connect to loopback, private and link-local addresses. The WebSub hub's verification requests and deliveries follow it too, so with it on, anyone who subscribes can make Syndic post to those addresses. With it off, the hub answers 400 at once to a callback whose host is such an address written as an IP. Leave it off unless every feed URL and subscriber is trusted, and prefer `partners[].feeds[].allow_private_network` for single feeds.",
	},
	{
		Path: "fetch.allow_file_urls", Default: "false", Env: "SYNDIC_FETCH_ALLOW_FILE_URLS",
		Doc: "Allow `file:` feed URLs, which read local files. No other setting or API can enable them.",
	},
	{
		Path: "fetch.timeout", Default: "20s", Env: "SYNDIC_FETCH_TIMEOUT",
		Doc:      "Maximum time of one fetch request, including reading the body, from `1s` to `10m`.",
		Validate: durationRange(time.Second, 10*time.Minute),
	},
	{
		Path: "fetch.max_body", Default: "15MiB", Env: "SYNDIC_FETCH_MAX_BODY",
		Doc: "Maximum size of a feed body, from `1KiB` to `1GiB`. A larger feed fails the fetch instead of being truncated.",
		// Each fetch may hold a whole body in memory, so at the default
		// concurrency of 16 a 1 GiB limit already allows 16 GiB.
		Validate: sizeRange(KiB, GiB),
	},
	{
		Path: "fetch.concurrency", Default: "16", Env: "SYNDIC_FETCH_CONCURRENCY",
		Doc: "Maximum number of feeds fetched and ingested at once, from 1 to 256. Each can hold a body of up to `fetch.max_body` in memory.",
		// With 16 instead of 8, the changed round of docs/benchmarks.md
		// took 15% less CPU and ended 17% sooner.
		Validate: intRange(1, 256),
	},
	{
		Path: "fetch.min_interval", Default: "5m", Env: "SYNDIC_FETCH_MIN_INTERVAL",
		Doc: "Shortest time the scheduler waits between two fetches of one feed. Values under `5m` suit only local test feeds.",
		// Seconds are allowed for tests against local servers and files.
		Validate: durationRange(time.Second, 0),
	},
	{
		Path: "fetch.max_interval", Default: "24h", Env: "SYNDIC_FETCH_MAX_INTERVAL",
		Doc:      "Longest time the scheduler waits between two fetches of one feed. Must not be shorter than `fetch.min_interval`.",
		Validate: durationRange(time.Second, 0),
	},
	{
		Path: "fetch.max_redirects", Default: "5", Env: "SYNDIC_FETCH_MAX_REDIRECTS",
		Doc: "Maximum HTTP redirects followed by one fetch, from 0 to 20.",
		// Go's http.Client stops after 10 redirects by default. Chains
		// longer than 20 are loops or misconfigured sites.
		Validate: intRange(0, 20),
	},
	{
		Path: "fetch.contact_url", Default: "", Env: "SYNDIC_FETCH_CONTACT_URL",
		Doc:      "Page or `mailto:` address put in the `User-Agent` header, so that feed owners can reach the operator.",
		Validate: contactURL,
	},
	{
		Path: "fetch.adopt_redirect_after", Default: "2", Env: "SYNDIC_FETCH_ADOPT_REDIRECT_AFTER",
		Doc: "Number of consecutive polls that must see the same 301 or 308 redirect before the scheduler polls its target instead of the configured URL, from 1 to 100. Item ids do not depend on the URL.",
		// One poll could be a misconfigured deploy that is rolled back; two
		// in a row are a deliberate move.
		Validate: intRange(1, 100),
	},
	{
		Path: "fetch.per_host", Default: "2", Env: "SYNDIC_FETCH_PER_HOST",
		Doc: "Maximum fetches in flight to one host name, from 1 to 64, counted across every ingest process that shares Redis. `syndic run` with the embedded cache counts them in its own memory, so a `syndic poll --once` beside it adds its own per_host.",
		// Two parallel requests is the politeness limit most crawlers use
		// for a host they do not operate.
		Validate: intRange(1, 64),
	},
	{
		Path: "fetch.backfill_max_age", Default: "168h", Env: "SYNDIC_FETCH_BACKFILL_MAX_AGE",
		Doc:      "On the first poll of a feed, items published longer ago than this are marked `backfill`, so digests and push notifications skip them. `0s` marks none.",
		Validate: durationRange(0, 0),
	},
	{
		Path: "fetch.max_items", Default: "1000", Env: "SYNDIC_FETCH_MAX_ITEMS",
		Doc: "Most items taken from one feed document per poll, the newest by date, from 1 to 100000. The rest are left out, and the feed health shows a warning.",
		// News feeds carry 10 to 100 items and archive feeds a few hundred,
		// so 1,000 keeps every real feed whole, while a document of 50,000
		// items can neither stall a poll for minutes nor fill the views.
		Validate: intRange(1, 100_000),
	},
	{
		Path: "fetch.parse_memo_bytes", Default: "64MiB", Env: "SYNDIC_FETCH_PARSE_MEMO_BYTES",
		Doc:      "Memory for what cleaning made of each item of every feed's last document, so the known items of a changed document are not cleaned again, from `0` (keep none) to `16GiB`. An item takes about 250 bytes. Once the limit is reached, feeds without a memo get none and their documents are cleaned in full, which costs CPU but changes no result.",
		Validate: sizeRange(0, 16*GiB),
	},
	{
		Path: "fetch.incident_after", Default: "6h", Env: "SYNDIC_FETCH_INCIDENT_AFTER",
		Doc: "How long a feed must keep failing before its partner's `contact` gets one mail about it, at least `1m`. A feed that recovers and fails again starts a new incident.",
		// Six hours lets a host's maintenance window or a short outage pass
		// without a mail.
		Validate: durationRange(time.Minute, 0),
	},
	{
		Path: "fetch.incident_from", Default: "", Env: "SYNDIC_FETCH_INCIDENT_FROM",
		Doc:      "`From` address of feed incident mails, sent through the `smtp` relay. Empty sends no incident mail.",
		Validate: optionalEmailAddress,
	},
	{
		Path: "fetch.lease_ttl", Default: "15s", Env: "SYNDIC_FETCH_LEASE_TTL",
		Doc: "Lifetime of a feed lease in the `<nats.kv_prefix>_LEASES` bucket, from `3s` to `10m`. Only the ingest process holding a feed's lease polls it, and renews the lease every third of this. When that process dies, its feeds move to another one after at most this long. Every process sharing the bucket must use the same value.",
		// Below three seconds a renewal every third of the TTL competes
		// with NATS failover times; above ten minutes a crash stops a
		// feed's polls for longer than most feed intervals.
		Validate: durationRange(3*time.Second, 10*time.Minute),
	},
	{
		Path: "feeds.window", Default: "20000", Env: "SYNDIC_FEEDS_WINDOW",
		Doc: "Number of items the merged feed views keep, and of the latest item events read from the stream at start-up to rebuild them, from 1 to 1000000. When the views are full, the partner with the most items loses its oldest item first.",
		// The views hold every event read in memory.
		Validate: intRange(1, 1_000_000),
	},
	{
		Path: "feeds.query_cache_size", Default: "256", Env: "SYNDIC_FEEDS_QUERY_CACHE_SIZE",
		Doc:      "Number of rendered documents for ad-hoc feed queries (`?lang=`, `?q=` and the like) kept in memory, least recently used dropped first, from 1 to 100000. The channels' own documents are kept apart and always cached.",
		Validate: intRange(1, 100_000),
	},
	{
		Path: "feeds.query_cache_bytes", Default: "64MiB", Env: "SYNDIC_FEEDS_QUERY_CACHE_BYTES",
		Doc: "Total size of the rendered documents for ad-hoc feed queries kept in memory, gzip copies included, from `1MiB` to `4GiB`. Least recently used documents are dropped first once it is reached. A document larger than an eighth of it is served but not kept, so a channel with very large items cannot make each distinct query string hold a copy of it.",
		// 64 MiB holds the default 256 documents at about 250 KB each, a
		// typical 100-item channel, so the entry count binds first for
		// ordinary channels and this bound only for channels with large
		// items.
		Validate: sizeRange(MiB, 4*GiB),
	},
	{
		Path: "push.enabled", Default: "true", Env: "SYNDIC_PUSH_ENABLED",
		Doc: "Serve the partner intake API under `/api/v1/items` on the public server. Partners still need a token from `syndic partners token issue`.",
	},
	{
		Path: "push.max_body", Default: "1MiB", Env: "SYNDIC_PUSH_MAX_BODY",
		Doc: "Maximum size of one intake request body, from `1KiB` to `64MiB`. A larger body is rejected with 413, never truncated.",
		// The handler holds the whole body and its decoded items in
		// memory while it publishes them.
		Validate: sizeRange(KiB, 64*MiB),
	},
	{
		Path: "push.max_items", Default: "100", Env: "SYNDIC_PUSH_MAX_ITEMS",
		Doc: "Maximum number of items in one intake request, from 1 to 1000. A larger batch is rejected with 413.",
		// Each item is published and acknowledged before the response,
		// so the batch size bounds how long a request runs.
		Validate: intRange(1, 1000),
	},
	{
		Path: "push.rate", Default: "600", Env: "SYNDIC_PUSH_RATE",
		Doc:      "Items one partner may push per minute, counted in fixed one-minute windows, from 1 to 1000000. Over it the API answers 429 with `Retry-After`.",
		Validate: intRange(1, 1_000_000),
	},
	{
		Path: "partners", Env: "SYNDIC_PARTNERS",
		Doc: "Organisations whose feeds Syndic polls. `SYNDIC_PARTNERS` replaces the whole list with a YAML or JSON list.",
	},
	{
		Path:     "partners[].id",
		Doc:      "Required. Partner id: 1 to 32 characters from `a-z`, `0-9` and `-`, unique. It appears in NATS subjects and item ids, so changing it makes every item of the partner new.",
		Validate: identifier,
	},
	{
		Path:     "partners[].name",
		Doc:      "Required. Display name of the partner in the merged feeds.",
		Validate: required("set the partner's display name"),
	},
	{
		Path:     "partners[].url",
		Doc:      "Optional homepage of the partner, an absolute http(s) URL.",
		Validate: httpURL(true),
	},
	{
		Path:     "partners[].language",
		Doc:      "Required. Language of the partner's items as a lowercase two-letter ISO 639-1 code (`en`, `pl`, `fr`, `lt`, `de`).",
		Validate: languageCode,
	},
	{
		Path: "partners[].timezone", Default: "UTC",
		Doc:      "IANA time zone of dates that the partner's feeds write without a zone.",
		Validate: timezone,
	},
	{
		Path:     "partners[].charset",
		Doc:      "Character set of the partner's feeds when a body declares none and is not valid UTF-8, or claims UTF-8 without being it, such as `windows-1250` or `iso-8859-2`. Empty means `windows-1252`. A byte-order mark, the HTTP charset and the XML declaration still win.",
		Validate: optionalCharset,
	},
	{
		Path:     "partners[].feeds",
		Doc:      "Required. Feeds of the partner, at least one.",
		Validate: nonEmptyFeeds,
	},
	{
		Path: "partners[].feeds[].id", Default: "feed-<n>",
		Doc:      "Feed id, unique within the partner, with the characters of a partner id. It is part of every item id, so set it explicitly: the default depends on the feed's position, and reordering the list would then change the ids.",
		Validate: identifier,
	},
	{
		Path:     "partners[].feeds[].url",
		Doc:      "Required. Feed URL: `http://`, `https://`, or `file:` when `fetch.allow_file_urls` is true. A relative `file:` URL such as `file:feeds/news.xml` is resolved against the directory of the config file.",
		Validate: feedURL,
	},
	{
		Path: "partners[].feeds[].interval", Default: "15m",
		Doc:      "First polling interval. The scheduler then adapts it to how often the feed changes. It must lie between `fetch.min_interval` and `fetch.max_interval`.",
		Validate: durationRange(time.Second, 0),
	},
	{
		Path: "partners[].feeds[].allow_private_network", Default: "false",
		Doc: "Allow this feed to connect to loopback, private and link-local addresses. When a reload (SIGHUP) changes it, or the feed's `url`, the feed is polled at once and its failures, flag or 410 Gone are dropped.",
	},
	{
		Path:     "partners[].contact",
		Doc:      "Optional e-mail address that gets one mail when a feed of the partner has failed for `fetch.incident_after`. Needs `fetch.incident_from` and `smtp.host`.",
		Validate: optionalEmailAddress,
	},
	{
		Path: "channels", Env: "SYNDIC_CHANNELS",
		Doc: "Merged feeds served under `/feeds/<id>`. `SYNDIC_CHANNELS` replaces the whole list with a YAML or JSON list.",
	},
	{
		Path:     "channels[].id",
		Doc:      "Required. Channel id, with the characters of a partner id, unique. It is the path segment of the channel's URLs.",
		Validate: identifier,
	},
	{
		Path:     "channels[].title",
		Doc:      "Required. Title of the merged feed.",
		Validate: required("set the channel's title"),
	},
	{
		Path: "channels[].description",
		Doc:  "Description of the merged feed.",
	},
	{
		Path: "channels[].max_items", Default: "100",
		Doc:      "Maximum number of items in the merged feed, newest first, from 1 to 1000.",
		Validate: intRange(1, 1000),
	},
	{
		Path: "channels[].max_items_per_partner", Default: "0",
		Doc:      "Maximum number of entries of one partner in the merged feed, from 0 to `max_items`. 0 places no limit. Entries are taken newest first, and an entry is skipped once its partner has this many, until the feed has `max_items`. So a partner that publishes many items at once cannot push the other partners' items out of the feed. When few partners have items, the feed contains fewer than `max_items` entries. An entry that stands for copies of a story from several partners counts for the partner whose item it shows. When that partner is at the limit, the entry shows the first ingested copy of a partner under the limit instead, so it is skipped only when every copy's partner is at the limit. It does not apply to archive pages or WebSub deliveries, so those still carry the entries it skips.",
		Validate: intRange(0, 1000),
	},
	{
		Path:     "channels[].filter.partners",
		Doc:      "Partner ids whose items the channel keeps. Each must be a configured partner. Empty keeps every partner.",
		Validate: eachString(identifier),
	},
	{
		Path:     "channels[].filter.languages",
		Doc:      "Languages the channel keeps, such as `pl` or `en-GB`. A code also keeps its subtags, so `en` keeps `en-GB`. Empty keeps every language.",
		Validate: eachString(languageTag),
	},
	{
		Path:     "channels[].filter.categories",
		Doc:      "Categories the channel keeps, compared without regard to case. Empty keeps every category.",
		Validate: eachString(required("remove the empty category")),
	},
	{
		Path:     "channels[].filter.keywords",
		Doc:      "Words or phrases, one of which an item's title, summary, categories or content text must contain as whole words, compared without regard to case. Empty keeps every item.",
		Validate: eachString(keyword),
	},
	{
		Path:     "channels[].filter.exclude_keywords",
		Doc:      "Words or phrases that drop an item containing any of them, matched like `keywords`. Exclusion wins over every other filter.",
		Validate: eachString(keyword),
	},
	{
		Path: "smtp.host", Default: "", Env: "SYNDIC_SMTP_HOST",
		Doc: "Host name or IP address of the SMTP relay that sends digests. Required when `digests` is not empty.",
	},
	{
		Path: "smtp.port", Default: "587", Env: "SYNDIC_SMTP_PORT",
		Doc:      "TCP port of the SMTP relay: usually 587 with `starttls`, 465 with `tls` and 25 with `none`.",
		Validate: intRange(1, 65535),
	},
	{
		Path: "smtp.username", Default: "", Env: "SYNDIC_SMTP_USERNAME",
		Doc: "User name for SMTP authentication (PLAIN, or CRAM-MD5 when the relay offers only that). Empty sends without authentication.",
	},
	{
		Path: "smtp.password", Default: "", Env: "SYNDIC_SMTP_PASSWORD", Secret: true,
		Doc: "Password for SMTP authentication.",
	},
	{
		Path: "smtp.tls", Default: "starttls", Env: "SYNDIC_SMTP_TLS",
		Doc:      "Transport security: `starttls` (upgrade a plain connection and fail when the relay does not offer it), `tls` (TLS from the first byte) or `none`. `none` is allowed only when `smtp.host` is `localhost` or a loopback or private IP address.",
		Validate: oneOf("none", "starttls", "tls"),
	},
	{
		Path: "smtp.timeout", Default: "30s", Env: "SYNDIC_SMTP_TIMEOUT",
		Doc:      "Maximum time of one SMTP connection attempt and of each command, from `1s` to `5m`.",
		Validate: durationRange(time.Second, 5*time.Minute),
	},
	{
		Path: "smtp.rate_per_minute", Default: "60", Env: "SYNDIC_SMTP_RATE_PER_MINUTE",
		Doc:      "Maximum number of digest messages sent per minute by one digest worker, from 1 to 100000. Relays and receiving providers throttle or block senders that burst.",
		Validate: intRange(1, 100_000),
	},
	{
		Path: "digests_secret", Default: "", Env: "SYNDIC_DIGESTS_SECRET", Secret: true,
		Doc:      "Key that signs the confirmation, change and unsubscribe links of digests (HMAC-SHA256), at least 32 characters. Required when `digests` is not empty. Changing it invalidates every link already sent.",
		Validate: digestsSecret,
	},
	{
		Path: "digests_bounce_token", Default: "", Env: "SYNDIC_DIGESTS_BOUNCE_TOKEN", Secret: true,
		Doc:      "Bearer token of the bounce webhook `POST /api/v1/digests/bounces`, at least 32 characters. Empty disables the webhook. Hard bounces and complaints posted there suppress the address in every digest.",
		Validate: digestsSecret,
	},
	{
		Path: "digests", Env: "SYNDIC_DIGESTS",
		Doc: "Email digests of channels. `SYNDIC_DIGESTS` replaces the whole list with a YAML or JSON list. `docs/digests.md` describes sign-up, sending and the delivery guarantee.",
	},
	{
		Path:     "digests[].id",
		Doc:      "Required. Digest id, with the characters of a partner id, unique. It is part of the sign-up URL and of every send-log key, so changing it starts the digest anew. A digest has one schedule: a daily and a weekly edition are two digests.",
		Validate: identifier,
	},
	{
		Path:     "digests[].channel",
		Doc:      "Required. Id of the channel whose items the digest contains, after each subscriber's own filters.",
		Validate: identifier,
	},
	{
		Path: "digests[].schedule", Default: "daily 07:00",
		Doc:      "When the digest is sent: `daily HH:MM` or `weekly DAY HH:MM` (DAY is `mon` to `sun`), in `digests[].timezone`.",
		Validate: digestSchedule,
	},
	{
		Path: "digests[].timezone", Default: "UTC",
		Doc:      "IANA time zone of the schedule. Each subscriber sees dates in their own time zone.",
		Validate: timezone,
	},
	{
		Path: "digests[].subject.en",
		Doc:  "English subject line. `{date}` is replaced with the date of the issue. Empty uses the built-in subject.",
	},
	{
		Path: "digests[].subject.pl",
		Doc:  "Polish subject line, as `digests[].subject.en`.",
	},
	{
		Path: "digests[].subject.fr",
		Doc:  "French subject line, as `digests[].subject.en`.",
	},
	{
		Path: "digests[].subject.lt",
		Doc:  "Lithuanian subject line, as `digests[].subject.en`.",
	},
	{
		Path: "digests[].subject.de",
		Doc:  "German subject line, as `digests[].subject.en`.",
	},
	{
		Path: "digests[].max_items", Default: "20",
		Doc: "Maximum number of items in one message, newest first, from 1 to 200.",
		// 200 short entries stay well under the 100 KB at which Gmail clips
		// a message.
		Validate: intRange(1, 200),
	},
	{
		Path: "digests[].max_items_per_partner", Default: "0",
		Doc:      "Maximum number of items of one partner in one message, from 0 to `max_items`. 0 places no limit. Items are taken newest first, and an item is skipped once its partner has this many. Skipped items count among the items that the message says are left out.",
		Validate: intRange(0, 200),
	},
	{
		Path:     "digests[].from",
		Doc:      "Required. `From` address of the digest, such as `Partner News <news@example.org>`. The relay must accept it as a sender.",
		Validate: emailAddress,
	},
	{
		Path: "digests[].group_by", Default: "partner",
		Doc:      "How items are grouped in the message: `partner` or `category` (the first category of each item).",
		Validate: oneOf("partner", "category"),
	},
}
