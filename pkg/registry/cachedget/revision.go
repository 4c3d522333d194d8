package cachedget

import (
	"context"
	"sync"
)

// revisionBatcher shares etcd current-revision reads among concurrent
// consistent GETs.
//
// A consistent GET must not miss a write acknowledged before it arrived, so
// it may only use a revision read that was sent after it arrived; a read
// already in flight may have been answered by etcd before that write. So at
// most one read is in flight: a caller arriving when none is sends one at
// once, and callers arriving while one is in flight join a single next
// batch, whose read is sent when the one in flight returns. Under load each
// GET waits for at most two reads, and etcd sees one read at a time however
// many GETs there are.
type revisionBatcher struct {
	read func(context.Context) (uint64, error)

	mu sync.Mutex
	// inFlight is true while a read runs.
	inFlight bool
	// next gathers the callers that arrived while a read was in flight.
	next *revisionRead
}

// revisionRead is one read and the callers waiting for it.
type revisionRead struct {
	// done is closed once rv and err are set.
	done chan struct{}
	rv   uint64
	err  error

	// The fields below are guarded by revisionBatcher.mu.

	// waiters counts the callers still waiting for the read.
	waiters int
	// cancel, set when the read is sent, stops it. The read runs on a
	// context of its own, since no single caller may cancel a read the
	// others wait for, and is cancelled once every caller has stopped
	// waiting, so that a hung etcd holds it no longer than its callers.
	cancel context.CancelFunc
}

func newRevisionBatcher(read func(context.Context) (uint64, error)) *revisionBatcher {
	return &revisionBatcher{read: read}
}

// currentRevision returns etcd's revision, read after the call began. It
// returns ctx's error as soon as ctx is done.
func (b *revisionBatcher) currentRevision(ctx context.Context) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	b.mu.Lock()
	var r *revisionRead
	if !b.inFlight {
		b.inFlight = true
		r = &revisionRead{done: make(chan struct{}), waiters: 1}
		readCtx := r.send()
		b.mu.Unlock()
		go b.run(readCtx, r)
	} else {
		if b.next == nil {
			b.next = &revisionRead{done: make(chan struct{})}
		}
		r = b.next
		r.waiters++
		b.mu.Unlock()
	}

	select {
	case <-r.done:
		return r.rv, r.err
	case <-ctx.Done():
		b.mu.Lock()
		r.waiters--
		if r.waiters == 0 && r.cancel != nil {
			r.cancel()
		}
		b.mu.Unlock()
		return 0, ctx.Err()
	}
}

// send gives r the context its read runs on. Call with b.mu held.
func (r *revisionRead) send() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	return ctx
}

// run performs r's read, then the read of each next batch that still has
// callers waiting, and ends when there is none.
func (b *revisionBatcher) run(ctx context.Context, r *revisionRead) {
	for {
		rv, err := b.read(ctx)

		b.mu.Lock()
		r.cancel()
		r.rv, r.err = rv, err
		close(r.done)
		r = b.next
		b.next = nil
		if r == nil || r.waiters == 0 {
			// A batch whose callers all gave up is dropped unsent.
			b.inFlight = false
			b.mu.Unlock()
			return
		}
		ctx = r.send()
		b.mu.Unlock()
	}
}
