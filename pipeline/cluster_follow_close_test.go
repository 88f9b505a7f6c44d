package pipeline

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// countingFollower counts the readings started on a memFingerprints and
// can hold each start until block is closed.
type countingFollower struct {
	*memFingerprints
	mu      sync.Mutex
	started int
	block   chan struct{}
	entered chan struct{}
}

func (f *countingFollower) FollowRecords(ctx context.Context, apply func(uint64, []byte, time.Time), loaded chan<- struct{}) (<-chan struct{}, time.Duration, error) {
	f.mu.Lock()
	f.started++
	f.mu.Unlock()
	if f.block != nil {
		close(f.entered)
		<-f.block
	}
	return f.memFingerprints.FollowRecords(ctx, apply, loaded)
}

func TestClosedClustererStartsNoReading(t *testing.T) {
	store := &countingFollower{memFingerprints: newMemFingerprints()}
	c := newClusterer(store, nil)
	it := &Item{ID: "a", URL: "https://chamber.example/news/fair"}
	if _, err := c.Assign(context.Background(), it); err != nil {
		t.Fatalf("assigning before Close: %v", err)
	}
	c.Close()
	for !closed(c.follow.done) {
		time.Sleep(time.Millisecond)
	}

	_, err := c.Assign(context.Background(), it)
	if !errors.Is(err, errClustererClosed) {
		t.Errorf("assigning after Close: error %v, want errClustererClosed", err)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	if store.started != 1 {
		t.Errorf("readings started = %d, want 1", store.started)
	}
}

func TestFollowWaiterKeepsDeadline(t *testing.T) {
	store := &countingFollower{memFingerprints: newMemFingerprints(), block: make(chan struct{}), entered: make(chan struct{})}
	c := newClusterer(store, nil)
	defer c.Close()
	first := make(chan error, 1)
	go func() {
		_, err := c.Assign(context.Background(), &Item{ID: "a"})
		first <- err
	}()
	<-store.entered

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	res := make(chan error, 1)
	go func() {
		_, err := c.Assign(ctx, &Item{ID: "b"})
		res <- err
	}()
	select {
	case err := <-res:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("waiting caller: error %v, want its deadline", err)
		}
	case <-time.After(2 * time.Second):
		t.Errorf("Assign with a 50 ms deadline still blocked after 2 s")
	}
	close(store.block)
	if err := <-first; err != nil {
		t.Errorf("starting caller: %v", err)
	}
}
