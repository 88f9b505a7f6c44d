package feeds

import (
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// RateLimit is a token bucket: Burst requests at once, refilled at one
// request per Every.
type RateLimit struct {
	Every time.Duration
	Burst int
}

// DefaultHubLimits are the subscription rate limits when HubOptions leaves
// them zero. A feed reader subscribes once per feed and renews about weekly,
// so ten requests at once and one a minute after that leave room for a
// reader that subscribes to every channel in every format.
var DefaultHubLimits = struct {
	Client       RateLimit
	CallbackHost RateLimit
}{
	Client:       RateLimit{Every: time.Minute, Burst: 10},
	CallbackHost: RateLimit{Every: time.Minute, Burst: 20},
}

func orDefault(l, def RateLimit) RateLimit {
	if l.Every <= 0 || l.Burst <= 0 {
		return def
	}
	return l
}

// maxLimiterKeys bounds the clients and hosts tracked at once. A key that
// falls out of the LRU list starts again with a full bucket, which only
// errs towards allowing requests.
const maxLimiterKeys = 10_000

// keyedLimiter keeps one token bucket per key.
type keyedLimiter struct {
	limit RateLimit
	mu    sync.Mutex
	keys  *lru.Cache[string, *rate.Limiter]
}

func newKeyedLimiter(l RateLimit) *keyedLimiter {
	// lru.New fails only for a size below 1, and maxLimiterKeys is above.
	keys, _ := lru.New[string, *rate.Limiter](maxLimiterKeys)
	return &keyedLimiter{limit: l, keys: keys}
}

// allow takes one token from key's bucket and reports whether there was
// one.
func (k *keyedLimiter) allow(key string) bool {
	k.mu.Lock()
	l, ok := k.keys.Get(key)
	if !ok {
		l = rate.NewLimiter(rate.Every(k.limit.Every), k.limit.Burst)
		k.keys.Add(key, l)
	}
	k.mu.Unlock()
	return l.Allow()
}
