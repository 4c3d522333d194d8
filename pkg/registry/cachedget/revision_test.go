package cachedget

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeEtcd answers revision reads when the test says so.
type fakeEtcd struct {
	reads chan *pendingRead
}

type pendingRead struct {
	ctx   context.Context
	reply chan readResult
}

type readResult struct {
	rv  uint64
	err error
}

func newFakeEtcd() *fakeEtcd {
	return &fakeEtcd{reads: make(chan *pendingRead, 100)}
}

func (f *fakeEtcd) read(ctx context.Context) (uint64, error) {
	r := &pendingRead{ctx: ctx, reply: make(chan readResult, 1)}
	f.reads <- r
	select {
	case res := <-r.reply:
		return res.rv, res.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// sent waits for the next read to reach etcd.
func (f *fakeEtcd) sent(t *testing.T) *pendingRead {
	t.Helper()
	select {
	case r := <-f.reads:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no revision read was sent")
		return nil
	}
}

// noneSent checks that no read reaches etcd for a while.
func (f *fakeEtcd) noneSent(t *testing.T) {
	t.Helper()
	select {
	case <-f.reads:
		t.Fatal("an unexpected revision read was sent")
	case <-time.After(100 * time.Millisecond):
	}
}

// caller is one currentRevision call running in its own goroutine.
type caller struct {
	cancel context.CancelFunc
	result chan readResult
}

func call(b *revisionBatcher) *caller {
	ctx, cancel := context.WithCancel(context.Background())
	c := &caller{cancel: cancel, result: make(chan readResult, 1)}
	go func() {
		rv, err := b.currentRevision(ctx)
		c.result <- readResult{rv, err}
	}()
	return c
}

func (c *caller) wait(t *testing.T) readResult {
	t.Helper()
	select {
	case res := <-c.result:
		return res
	case <-time.After(10 * time.Second):
		t.Fatal("currentRevision did not return")
		return readResult{}
	}
}

func (c *caller) waiting(t *testing.T) {
	t.Helper()
	select {
	case res := <-c.result:
		t.Fatalf("currentRevision returned %d, %v before its read was answered", res.rv, res.err)
	default:
	}
}

// joinedNext waits until n callers wait for the batch after the one in flight.
func joinedNext(t *testing.T, b *revisionBatcher, n int) {
	t.Helper()
	eventually(t, func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.next != nil && b.next.waiters == n
	}, "%d callers waiting for the next read", n)
}

func eventually(t *testing.T, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for "+format, args...)
		}
		time.Sleep(time.Millisecond)
	}
}

// checkIdle checks that the batcher has nothing in flight and that its
// goroutines have ended.
func checkIdle(t *testing.T, b *revisionBatcher, goroutines int) {
	t.Helper()
	eventually(t, func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return !b.inFlight && b.next == nil
	}, "the batcher to be idle")
	eventually(t, func() bool { return runtime.NumGoroutine() <= goroutines }, "goroutines to end (%d running, %d before)", runtime.NumGoroutine(), goroutines)
}

func TestRevisionBatcherSequentialCallsReadEach(t *testing.T) {
	var reads atomic.Uint64
	b := newRevisionBatcher(func(context.Context) (uint64, error) { return reads.Add(1), nil })
	for i := uint64(1); i <= 3; i++ {
		rv, err := b.currentRevision(context.Background())
		if err != nil || rv != i {
			t.Fatalf("call %d: %d, %v; want a read of its own, revision %d", i, rv, err, i)
		}
	}
}

func TestRevisionBatcherCallersDuringAReadShareTheNext(t *testing.T) {
	goroutines := runtime.NumGoroutine()
	etcd := newFakeEtcd()
	b := newRevisionBatcher(etcd.read)

	first := call(b)
	read1 := etcd.sent(t)
	var later []*caller
	for i := 0; i < 3; i++ {
		later = append(later, call(b))
	}
	joinedNext(t, b, 3)
	etcd.noneSent(t)

	read1.reply <- readResult{rv: 10}
	if res := first.wait(t); res.rv != 10 || res.err != nil {
		t.Fatalf("first caller: %d, %v; want 10", res.rv, res.err)
	}
	// The read in flight when the others arrived may predate a write they
	// must see: they wait for one sent after it returned.
	read2 := etcd.sent(t)
	for _, c := range later {
		c.waiting(t)
	}
	etcd.noneSent(t)
	read2.reply <- readResult{rv: 11}
	for i, c := range later {
		if res := c.wait(t); res.rv != 11 || res.err != nil {
			t.Errorf("caller %d arriving during the first read: %d, %v; want 11 from the second", i, res.rv, res.err)
		}
	}
	checkIdle(t, b, goroutines)
}

func TestRevisionBatcherCancelledCallerLeavesOthersWaiting(t *testing.T) {
	goroutines := runtime.NumGoroutine()
	etcd := newFakeEtcd()
	b := newRevisionBatcher(etcd.read)

	first := call(b)
	read1 := etcd.sent(t)
	gaveUp, stays := call(b), call(b)
	joinedNext(t, b, 2)
	gaveUp.cancel()
	if res := gaveUp.wait(t); !errors.Is(res.err, context.Canceled) {
		t.Fatalf("cancelled caller: %d, %v; want context.Canceled", res.rv, res.err)
	}
	joinedNext(t, b, 1)

	read1.reply <- readResult{rv: 20}
	first.wait(t)
	read2 := etcd.sent(t)
	if err := read2.ctx.Err(); err != nil {
		t.Fatalf("the read of a batch one caller left: %v", err)
	}
	read2.reply <- readResult{rv: 21}
	if res := stays.wait(t); res.rv != 21 || res.err != nil {
		t.Fatalf("remaining caller: %d, %v; want 21", res.rv, res.err)
	}
	checkIdle(t, b, goroutines)
}

func TestRevisionBatcherReadEndsWhenAllItsCallersGiveUp(t *testing.T) {
	goroutines := runtime.NumGoroutine()
	etcd := newFakeEtcd()
	b := newRevisionBatcher(etcd.read)

	// The only caller of the read in flight gives up: a hung etcd must not
	// hold the read, and the callers queued behind it, any longer.
	first := call(b)
	read1 := etcd.sent(t)
	next := call(b)
	joinedNext(t, b, 1)
	first.cancel()
	if res := first.wait(t); !errors.Is(res.err, context.Canceled) {
		t.Fatalf("cancelled caller: %d, %v; want context.Canceled", res.rv, res.err)
	}
	eventually(t, func() bool { return read1.ctx.Err() != nil }, "the abandoned read to be cancelled")
	read2 := etcd.sent(t)
	read2.reply <- readResult{rv: 30}
	if res := next.wait(t); res.rv != 30 || res.err != nil {
		t.Fatalf("queued caller: %d, %v; want 30", res.rv, res.err)
	}

	// A next batch all of whose callers gave up is never sent.
	first = call(b)
	read3 := etcd.sent(t)
	gaveUp := call(b)
	joinedNext(t, b, 1)
	gaveUp.cancel()
	gaveUp.wait(t)
	read3.reply <- readResult{rv: 31}
	first.wait(t)
	etcd.noneSent(t)
	checkIdle(t, b, goroutines)
}

func TestRevisionBatcherErrorsReachTheirBatchOnly(t *testing.T) {
	goroutines := runtime.NumGoroutine()
	etcd := newFakeEtcd()
	b := newRevisionBatcher(etcd.read)
	unavailable := errors.New("etcd unavailable")

	first := call(b)
	read1 := etcd.sent(t)
	a, c := call(b), call(b)
	joinedNext(t, b, 2)
	read1.reply <- readResult{err: unavailable}
	if res := first.wait(t); !errors.Is(res.err, unavailable) {
		t.Fatalf("caller of the failed read: %d, %v; want its error", res.rv, res.err)
	}
	read2 := etcd.sent(t)
	read2.reply <- readResult{rv: 40}
	for _, w := range []*caller{a, c} {
		if res := w.wait(t); res.rv != 40 || res.err != nil {
			t.Fatalf("caller of the next read: %d, %v; want 40", res.rv, res.err)
		}
	}

	first = call(b)
	read3 := etcd.sent(t)
	a, c = call(b), call(b)
	joinedNext(t, b, 2)
	read3.reply <- readResult{rv: 41}
	first.wait(t)
	read4 := etcd.sent(t)
	read4.reply <- readResult{err: unavailable}
	for _, w := range []*caller{a, c} {
		if res := w.wait(t); !errors.Is(res.err, unavailable) {
			t.Fatalf("caller of a failed shared read: %d, %v; want its error", res.rv, res.err)
		}
	}
	checkIdle(t, b, goroutines)
}

func TestRevisionBatcherCancelledContextSendsNothing(t *testing.T) {
	etcd := newFakeEtcd()
	b := newRevisionBatcher(etcd.read)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.currentRevision(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("currentRevision with a cancelled context: %v", err)
	}
	etcd.noneSent(t)
}

// TestRevisionBatcherNeverServesAnEarlierRead: many callers, each after a
// write; every revision a caller gets must include its write, as a read
// of etcd sent after the write would. Fewer reads than calls shows they
// were shared.
func TestRevisionBatcherNeverServesAnEarlierRead(t *testing.T) {
	goroutines := runtime.NumGoroutine()
	var revision, reads atomic.Uint64
	b := newRevisionBatcher(func(context.Context) (uint64, error) {
		reads.Add(1)
		rv := revision.Load()
		// etcd's answer travels back while writes go on.
		time.Sleep(200 * time.Microsecond)
		return rv, nil
	})
	const callers, calls = 20, 100
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for i := 0; i < callers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < calls; j++ {
				written := revision.Add(1)
				rv, err := b.currentRevision(context.Background())
				if err != nil {
					errs <- err
					return
				}
				if rv < written {
					errs <- errors.New("a caller got a revision older than the write it made before calling")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := reads.Load(); n >= callers*calls {
		t.Errorf("%d reads for %d calls: none shared", n, callers*calls)
	} else {
		t.Logf("%d reads for %d calls", n, callers*calls)
	}
	checkIdle(t, b, goroutines)
}
