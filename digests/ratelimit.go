package digests

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

// Sign-up limits. A person signs up once or twice. More requests from one
// client mean a script, and more confirmation mails to one address mean
// someone is flooding that mailbox.
const (
	clientLimit   = 10
	clientWindow  = time.Hour
	addressLimit  = 3
	addressWindow = 24 * time.Hour
)

// limiter counts requests per key in fixed windows with the pipeline's
// cache. The cache has no counter, so each window has limit slots and a
// request takes the first free one with Reserve (SET NX): up to limit
// round trips per request, which stays cheap at these limits.
type limiter struct {
	cache pipeline.Cache
}

// allow reports whether one more request under key fits in the current
// window.
func (l limiter) allow(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (bool, error) {
	slot := now.UnixNano() / int64(window)
	prefix := "digests:rate:" + key + ":" + strconv.FormatInt(slot, 10) + ":"
	for i := range limit {
		won, err := l.cache.Reserve(ctx, prefix+strconv.Itoa(i), "1", window)
		if err != nil {
			return false, fmt.Errorf("checking sign-up rate of %s: %w", key, err)
		}
		if won {
			return true, nil
		}
	}
	return false, nil
}
