package controllers

import (
	"context"
	"time"

	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
)

// SyncFunc reconciles the object of one queue key. A positive duration
// asks for the key to be synced again after it (a deadline, a TTL, a
// record to expire).
type SyncFunc func(ctx context.Context, key string) (time.Duration, error)

// RunWorkers is the loop every embedded controller runs, as
// kube-controller-manager's do: it waits for the informers' caches, then
// runs workers goroutines that take keys from queue and sync them, until
// ctx ends and the queue is shut down. A failed sync is retried at the
// queue's rate limit; a successful one forgets the key's failures. kind
// names the controller's objects in logs ("CloneSet").
func RunWorkers(ctx context.Context, kind string, queue workqueue.TypedRateLimitingInterface[string], synced []cache.InformerSynced, workers int, sync SyncFunc) {
	defer utilruntime.HandleCrash()
	logger := klog.FromContext(ctx).WithValues("controller", kind)
	go func() {
		<-ctx.Done()
		queue.ShutDown()
	}()
	if !cache.WaitForNamedCacheSync(kind, ctx.Done(), synced...) {
		return
	}
	logger.Info("Starting controller", "workers", workers)
	defer logger.Info("Shutting down controller")
	done := make(chan struct{}, workers)
	for range workers {
		go func() {
			wait.UntilWithContext(ctx, func(ctx context.Context) {
				for processNextKey(ctx, kind, queue, sync) {
				}
			}, time.Second)
			done <- struct{}{}
		}()
	}
	for range workers {
		<-done
	}
}

func processNextKey(ctx context.Context, kind string, queue workqueue.TypedRateLimitingInterface[string], sync SyncFunc) bool {
	key, quit := queue.Get()
	if quit {
		return false
	}
	defer queue.Done(key)

	start := time.Now()
	requeueAfter, err := sync(ctx, key)
	if err != nil {
		utilruntime.HandleErrorWithContext(ctx, err, "Error syncing", "kind", kind, "key", key)
		queue.AddRateLimited(key)
		return true
	}
	klog.FromContext(ctx).V(4).Info("Finished syncing", "kind", kind, "key", key, "duration", time.Since(start), "requeueAfter", requeueAfter)
	queue.Forget(key)
	if requeueAfter > 0 {
		queue.AddAfter(key, requeueAfter)
	}
	return true
}

// EventHandler is an informer and what a controller does on its events.
type EventHandler struct {
	Informer cache.SharedIndexInformer
	Handler  cache.ResourceEventHandler
}

// AddEventHandlers registers each handler on its informer and returns,
// for RunWorkers, what tells that each has seen its informer's first list.
func AddEventHandlers(handlers ...EventHandler) ([]cache.InformerSynced, error) {
	synced := make([]cache.InformerSynced, 0, len(handlers))
	for _, h := range handlers {
		reg, err := h.Informer.AddEventHandler(h.Handler)
		if err != nil {
			return nil, err
		}
		synced = append(synced, reg.HasSynced)
	}
	return synced, nil
}

// TTLAfterFinished says whether an object that finished at finished, and is
// to be deleted ttlSeconds after that (nil: never), is due for deletion at
// now, and if not, how long is left (0 when it is never due).
func TTLAfterFinished(finished time.Time, ttlSeconds *int32, now time.Time) (left time.Duration, due bool) {
	if ttlSeconds == nil {
		return 0, false
	}
	left = time.Duration(*ttlSeconds)*time.Second - now.Sub(finished)
	if left > 0 {
		return left, false
	}
	return 0, true
}
