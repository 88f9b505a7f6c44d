package workers

import (
	"context"
	"time"
)

// ClaimFunc reports whether this process may poll f now. Several ingest
// processes share one feed list, and the claim (a lease in NATS KV) keeps
// all but one of them from polling a feed. After a true result Run calls
// done when the poll ends. A false result means another process owns the
// feed, the claim store is unreachable or the process is shutting down.
// It must be safe for concurrent use.
type ClaimFunc func(ctx context.Context, f Feed) (done func(), ok bool)

// claimRetry is the wait before Run tries again to claim a feed whose
// stored next poll has passed. The owner is then polling
// it or has died, and two seconds keeps the claim requests of many feeds
// cheap while a dead owner's feeds move within the lease TTL plus this.
const claimRetry = 2 * time.Second

// unclaimedNext returns when Run tries a feed again that another process
// owns: at the next poll the owner stored in the shared fetch state, so a
// process that takes a feed over polls it when the old owner would have,
// and never sooner than claimRetry.
func (p *Poller) unclaimedNext(ctx context.Context, f Feed) time.Time {
	next := p.o.Now().Add(claimRetry)
	if st := p.loadState(ctx, f); st.NextPoll.After(next) {
		return st.NextPoll
	}
	return next
}
