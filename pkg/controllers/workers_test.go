package controllers

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// TestRunWorkers: a failing key is retried until it succeeds, a key that
// asks for it is synced again later, and Run returns once ctx ends.
func TestRunWorkers(t *testing.T) {
	queue := workqueue.NewTypedRateLimitingQueue(workqueue.NewTypedItemExponentialFailureRateLimiter[string](time.Millisecond, 10*time.Millisecond))
	var mu sync.Mutex
	calls := map[string]int{}
	done := make(chan struct{})
	sync := func(_ context.Context, key string) (time.Duration, error) {
		mu.Lock()
		defer mu.Unlock()
		calls[key]++
		switch {
		case key == "flaky" && calls[key] < 3:
			return 0, errors.New("not yet")
		case key == "again" && calls[key] < 2:
			return 5 * time.Millisecond, nil
		}
		if calls["flaky"] >= 3 && calls["again"] >= 2 && calls["once"] >= 1 {
			select {
			case <-done:
			default:
				close(done)
			}
		}
		return 0, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	returned := make(chan struct{})
	go func() {
		RunWorkers(ctx, "Test", queue, []cache.InformerSynced{func() bool { return true }}, 2, sync)
		close(returned)
	}()
	for _, key := range []string{"flaky", "again", "once"} {
		queue.Add(key)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("keys not synced as expected: %v", calls)
	}
	cancel()
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("RunWorkers did not return after ctx ended")
	}
	mu.Lock()
	defer mu.Unlock()
	if calls["once"] != 1 {
		t.Errorf("a key that succeeded was synced %d times", calls["once"])
	}
}

func TestTTLAfterFinished(t *testing.T) {
	finished := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ttl := int32(60)
	cases := []struct {
		name     string
		ttl      *int32
		now      time.Time
		wantLeft time.Duration
		wantDue  bool
	}{
		{"no ttl", nil, finished.Add(time.Hour), 0, false},
		{"before", &ttl, finished.Add(20 * time.Second), 40 * time.Second, false},
		{"at", &ttl, finished.Add(time.Minute), 0, true},
		{"after", &ttl, finished.Add(time.Hour), 0, true},
	}
	for _, tc := range cases {
		left, due := TTLAfterFinished(finished, tc.ttl, tc.now)
		if left != tc.wantLeft || due != tc.wantDue {
			t.Errorf("%s: got %v, %v; want %v, %v", tc.name, left, due, tc.wantLeft, tc.wantDue)
		}
	}
}
