package app

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// markingMsg counts the InProgress marks of a job. Its other methods are
// those of the nil interface, which takeSlot must not call.
type markingMsg struct {
	jetstream.Msg
	marks atomic.Int32
}

func (m *markingMsg) InProgress() error {
	m.marks.Add(1)
	return nil
}

// TestTakeSlotKeepsJobInProgress checks that a job waiting for a worker
// slot is marked in progress while it waits, so that JetStream does not
// send it again after the AckWait.
func TestTakeSlotKeepsJobInProgress(t *testing.T) {
	stopping := make(chan struct{})
	w := &hubWorkers{slots: make(chan struct{}, 1), hosts: newHostQueues(1), ackWait: 300 * time.Millisecond, stopping: stopping}
	w.slots <- struct{}{} // every slot is busy
	msg := &markingMsg{}
	gotSlot := make(chan bool)
	go func() { gotSlot <- w.takeSlot(hubDelivery{msg: msg, host: "a.example"}) }()

	time.Sleep(time.Second)
	if n := msg.marks.Load(); n < 2 {
		t.Errorf("job waiting 1 s with an AckWait of 300 ms was marked %d times, want at least 2", n)
	}
	<-w.slots // a delivery ends
	if !<-gotSlot {
		t.Fatal("takeSlot = false, want the freed slot")
	}
	close(stopping)
}
