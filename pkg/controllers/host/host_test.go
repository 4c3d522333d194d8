package host

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
)

func fastOptions() *Options {
	o := NewOptions()
	o.LeaseDuration, o.RenewDeadline, o.RetryPeriod = 2*time.Second, time.Second, 100*time.Millisecond
	return o
}

func holder(t *testing.T, client kubernetes.Interface) string {
	t.Helper()
	o := NewOptions()
	lease, err := client.CoordinationV1().Leases(o.LeaseNamespace).Get(context.Background(), o.LeaseName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ptr.Deref(lease.Spec.HolderIdentity, "")
}

// The leader gives the Lease up when it stops (ReleaseOnCancel), but only
// once its controllers have returned: until then another replica must not
// be able to take it and start its own.
func TestLeaseReleasedAfterControllersStop(t *testing.T) {
	client := fake.NewSimpleClientset()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	leading := make(chan struct{})
	var heldWhileStopping atomic.Value
	done := make(chan error, 1)
	go func() {
		done <- elect(ctx, fastOptions(), client, "replica-a", func(ctx context.Context) error {
			close(leading)
			<-ctx.Done()
			// A reconcile still in flight.
			time.Sleep(300 * time.Millisecond)
			heldWhileStopping.Store(holder(t, client))
			return nil
		})
	}()
	select {
	case <-leading:
	case <-time.After(10 * time.Second):
		t.Fatal("never led")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("elect did not return after its context ended")
	}
	if got := heldWhileStopping.Load(); got != "replica-a" {
		t.Errorf("while the controllers were still stopping the Lease was held by %q, want replica-a (not yet released)", got)
	}
	if got := holder(t, client); got != "" {
		t.Errorf("after stopping the Lease is held by %q, want released", got)
	}
}

// A replica does not lead while another holds an unexpired Lease, and
// takes over once it has expired.
func TestFollowerWaitsForExpiry(t *testing.T) {
	o := fastOptions()
	now := metav1.NewMicroTime(time.Now())
	client := fake.NewSimpleClientset(&coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Namespace: o.LeaseNamespace, Name: o.LeaseName},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity: ptr.To("replica-a"), LeaseDurationSeconds: ptr.To[int32](2),
			AcquireTime: &now, RenewTime: &now,
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	var ledAfter atomic.Int64
	leading := make(chan struct{})
	go func() {
		_ = elect(ctx, o, client, "replica-b", func(ctx context.Context) error {
			ledAfter.Store(int64(time.Since(start)))
			close(leading)
			<-ctx.Done()
			return nil
		})
	}()
	select {
	case <-leading:
	case <-time.After(10 * time.Second):
		t.Fatal("never took over the expired Lease")
	}
	if led := time.Duration(ledAfter.Load()); led < o.LeaseDuration {
		t.Errorf("led %s after start, before the other replica's Lease (%s) expired", led, o.LeaseDuration)
	}
	if got := holder(t, client); got != "replica-b" {
		t.Errorf("Lease held by %q, want replica-b", got)
	}
}
