package workers

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// hostBusyRetry is the delay before a feed deferred for a busy host is
// tried again. It is short because a fetch slot frees within one fetch.
const hostBusyRetry = 250 * time.Millisecond

// PollAll polls every feed once with bounded concurrency and returns the
// reports in the order of feeds. A feed whose host has no free fetch slot
// goes back to the end of the queue, so a slow host never holds workers
// that feeds of other hosts could use. progress, when not nil, is called
// after each poll, never concurrently.
func (p *Poller) PollAll(ctx context.Context, feeds []Feed, progress func(PollReport)) []PollReport {
	reports := make([]PollReport, len(feeds))
	if len(feeds) == 0 {
		return reports
	}
	// The queue holds every index at most once, so a requeue never blocks.
	queue := make(chan int, len(feeds))
	order := interleaveByHost(feeds)
	for _, i := range order {
		queue <- i
	}
	states := newStateAhead(p, feeds, order)
	var left atomic.Int64
	left.Store(int64(len(feeds)))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range min(p.o.Concurrency, len(feeds)) {
		wg.Go(func() {
			for i := range queue {
				r, ok := p.tryPoll(ctx, feeds[i], states.state(ctx, i))
				if !ok {
					queue <- i
					waitBriefly(ctx, firstSlotWait)
					continue
				}
				reports[i] = r
				if progress != nil {
					mu.Lock()
					progress(r)
					mu.Unlock()
				}
				if left.Add(-1) == 0 {
					close(queue)
				}
			}
		})
	}
	wg.Wait()
	return reports
}

// interleaveByHost returns the indices of feeds ordered round-robin over
// their hosts: the first feed of every host, then the second, and so on.
// Workers taking feeds in this order rarely meet a host whose fetch slots
// are all taken, whereas a list grouped by host would make most of them
// wait on one host at a time.
func interleaveByHost(feeds []Feed) []int {
	var hosts []string
	byHost := map[string][]int{}
	for i, f := range feeds {
		h := hostOf(f.URL)
		if _, seen := byHost[h]; !seen {
			hosts = append(hosts, h)
		}
		byHost[h] = append(byHost[h], i)
	}
	out := make([]int, 0, len(feeds))
	for round := 0; len(out) < len(feeds); round++ {
		for _, h := range hosts {
			if round < len(byHost[h]) {
				out = append(out, byHost[h][round])
			}
		}
	}
	return out
}

// waitBriefly waits for d or until ctx ends.
func waitBriefly(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// pollDone is sent by a poll goroutine of Run when it ends.
type pollDone struct {
	index int
	next  time.Time
}

// runState is the bookkeeping of Run.
type runState struct {
	feeds []Feed
	due   []time.Time
	busy  []bool
	done  chan pollDone
	sem   chan struct{}
	wg    sync.WaitGroup
}

// Run polls each feed when it is due until ctx is cancelled, then waits for
// the polls in flight. A feed's first poll happens at its stored next-poll
// time, or at once when none is stored. A gone feed is checked again every
// MinInterval, so `syndic feeds reset` takes effect without a restart.
func (p *Poller) Run(ctx context.Context, feeds []Feed) {
	p.RunDraining(ctx, ctx, feeds)
}

// RunDraining runs Run with two contexts. Once sched is cancelled no poll
// starts, and RunDraining returns when the polls in flight have ended.
// polls controls those polls. A reload cancels sched alone, so a long
// ingest in flight finishes instead of being cut short.
func (p *Poller) RunDraining(sched, polls context.Context, feeds []Feed) {
	ctx := sched
	rs := &runState{
		feeds: feeds,
		due:   make([]time.Time, len(feeds)),
		busy:  make([]bool, len(feeds)),
		done:  make(chan pollDone, len(feeds)),
		sem:   make(chan struct{}, p.o.Concurrency),
	}
	now := p.o.Now()
	for i, st := range p.loadStates(ctx, feeds) {
		rs.due[i] = st.NextPoll
		if st.Gone {
			rs.due[i] = now.Add(p.o.MinInterval)
		}
	}
	defer rs.wg.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case d := <-rs.done:
			rs.busy[d.index] = false
			rs.due[d.index] = d.next
		case <-timer.C:
		}
		timer.Reset(p.dispatch(polls, rs))
	}
}

// dispatch starts a poll for every due feed that is not in flight while a
// concurrency slot is free, and returns how long until the next feed is
// due.
func (p *Poller) dispatch(ctx context.Context, rs *runState) time.Duration {
	now := p.o.Now()
	wait := p.o.MaxInterval
	for i, f := range rs.feeds {
		if rs.busy[i] {
			continue
		}
		if until := rs.due[i].Sub(now); until > 0 {
			wait = min(wait, until)
			continue
		}
		select {
		case rs.sem <- struct{}{}:
		default:
			// Every slot is busy: look again when one frees.
			return wait
		}
		if !rs.due[i].IsZero() {
			schedulerLag.Observe(now.Sub(rs.due[i]).Seconds())
		}
		rs.busy[i] = true
		rs.wg.Go(func() {
			defer func() { <-rs.sem }()
			rs.done <- pollDone{index: i, next: p.runOne(ctx, f)}
		})
	}
	return wait
}

// runOne polls f for Run and returns when it is due next: soon when its
// host had no free slot, and never before now.
func (p *Poller) runOne(ctx context.Context, f Feed) time.Time {
	if p.o.Claim != nil {
		done, claimed := p.o.Claim(ctx, f)
		if !claimed {
			return p.unclaimedNext(ctx, f)
		}
		defer done()
	}
	r, ok := p.tryPoll(ctx, f, p.loadState(ctx, f))
	now := p.o.Now()
	if !ok {
		return now.Add(hostBusyRetry)
	}
	next := r.NextPoll
	if next.IsZero() {
		next = now.Add(p.o.MinInterval)
	}
	return p.subscribedNext(ctx, f, r, next)
}

// subscribedNext returns the next poll of a feed whose hub pushes its
// items: the later of next and the safety interval. Items this poll found
// new were missed by the hub, which the policy then marks unreliable, so
// the feed goes back to its own schedule from the next round on.
func (p *Poller) subscribedNext(ctx context.Context, f Feed, r PollReport, next time.Time) time.Time {
	if p.o.Subscriptions == nil {
		return next
	}
	safety, subscribed := p.o.Subscriptions.PollInterval(ctx, f.Partner, f.ID)
	if !subscribed {
		return next
	}
	if r.New > 0 {
		if err := p.o.Subscriptions.SafetyPolled(ctx, f.Partner, f.ID, r.New); err != nil {
			p.o.Logger.Warn("recording websub safety poll failed", "feed_id", f.Key(), "error", err)
		}
		return next
	}
	if later := p.o.Now().Add(safety); later.After(next) {
		return later
	}
	return next
}
