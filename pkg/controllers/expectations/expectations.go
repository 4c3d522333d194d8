// Package expectations remembers what a controller has asked the API server
// to do but has not yet seen in its informers' caches, so that a reconcile
// running on a stale cache does not create or delete the same objects twice.
//
// Two kinds are kept:
//
//   - Scale expectations name the objects a controller has created or
//     deleted, per controller key (namespace/name of the owner). The event
//     handlers of the owned objects observe them; the owner is not
//     reconciled until every name has been observed, or until the
//     expectations expire.
//   - Resource-version expectations hold, per object UID, the resourceVersion
//     a controller's own write returned; a cached copy older than that is
//     stale and must not be acted on.
//
// Both expire after a timeout (DefaultTimeout), in case an event is lost:
// a controller then acts on its cache as it is, like kube-controller-manager's
// ReplicaSet controller does.
package expectations

import (
	"sort"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/resourceversion"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

// DefaultTimeout is how long expectations are waited for before they are
// dropped (OpenKruise's and kube-controller-manager's five minutes).
const DefaultTimeout = 5 * time.Minute

// Action is what was asked of the API server.
type Action string

const (
	// Create is the creation of a named object.
	Create Action = "create"
	// Delete is the deletion of a named object.
	Delete Action = "delete"
)

// Scale tracks, per controller key, the names of the objects the controller
// has created or deleted and not yet observed. It is safe for concurrent use.
type Scale struct {
	mu      sync.Mutex
	clock   clock.PassiveClock
	timeout time.Duration
	byKey   map[string]*pending
}

type pending struct {
	names map[Action]sets.Set[string]
	// since is when the oldest unobserved expectation was recorded.
	since time.Time
}

func (p *pending) empty() bool {
	for _, s := range p.names {
		if s.Len() > 0 {
			return false
		}
	}
	return true
}

// NewScale returns empty scale expectations that expire after DefaultTimeout.
func NewScale() *Scale {
	return NewScaleWithClock(clock.RealClock{}, DefaultTimeout)
}

// NewScaleWithClock returns empty scale expectations with the given clock
// and timeout (for tests).
func NewScaleWithClock(c clock.PassiveClock, timeout time.Duration) *Scale {
	return &Scale{clock: c, timeout: timeout, byKey: map[string]*pending{}}
}

// Expect records that the controller key is about to ask for action on the
// named objects. Call it before the request, and Observe the name again if
// the request fails (the informer will never see it).
func (e *Scale) Expect(key string, action Action, names ...string) {
	if len(names) == 0 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.byKey[key]
	if p == nil {
		p = &pending{names: map[Action]sets.Set[string]{}}
		e.byKey[key] = p
	}
	if p.empty() {
		p.since = e.clock.Now()
	}
	if p.names[action] == nil {
		p.names[action] = sets.New[string]()
	}
	p.names[action].Insert(names...)
}

// Observe records that action on the named object has been seen (or will
// never be). Unknown names are ignored.
func (e *Scale) Observe(key string, action Action, name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.byKey[key]
	if p == nil {
		return
	}
	p.names[action].Delete(name)
	if p.empty() {
		delete(e.byKey, key)
	}
}

// Satisfied reports whether the controller key may act on its cache: true
// when nothing is pending, or when what is pending has waited longer than the
// timeout (those expectations are then dropped, and logged). When false, wait
// is how much longer the expectations may take before they expire.
func (e *Scale) Satisfied(key string) (ok bool, wait time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.byKey[key]
	if p == nil || p.empty() {
		delete(e.byKey, key)
		return true, 0
	}
	waited := e.clock.Since(p.since)
	if waited >= e.timeout {
		klog.InfoS("Expectations expired, acting on the cache as it is", "controller", key,
			"waited", waited, "pending", pendingNames(p))
		delete(e.byKey, key)
		return true, 0
	}
	return false, e.timeout - waited
}

// Pending returns the names still expected for the controller key, sorted,
// by action (for logs and tests).
func (e *Scale) Pending(key string) map[Action][]string {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.byKey[key]
	if p == nil {
		return nil
	}
	return pendingNames(p)
}

func pendingNames(p *pending) map[Action][]string {
	out := map[Action][]string{}
	for action, names := range p.names {
		if names.Len() > 0 {
			list := names.UnsortedList()
			sort.Strings(list)
			out[action] = list
		}
	}
	return out
}

// Delete forgets everything expected for the controller key (when the owner
// itself is deleted).
func (e *Scale) Delete(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.byKey, key)
}

// ResourceVersions tracks, per object UID, the resourceVersion of the
// controller's last write of that object. It is safe for concurrent use.
type ResourceVersions struct {
	mu      sync.Mutex
	clock   clock.PassiveClock
	timeout time.Duration
	byUID   map[types.UID]*expectedVersion
}

type expectedVersion struct {
	resourceVersion string
	since           time.Time
}

// NewResourceVersions returns empty resource-version expectations that expire
// after DefaultTimeout.
func NewResourceVersions() *ResourceVersions {
	return NewResourceVersionsWithClock(clock.RealClock{}, DefaultTimeout)
}

// NewResourceVersionsWithClock returns empty resource-version expectations
// with the given clock and timeout (for tests).
func NewResourceVersionsWithClock(c clock.PassiveClock, timeout time.Duration) *ResourceVersions {
	return &ResourceVersions{clock: c, timeout: timeout, byUID: map[types.UID]*expectedVersion{}}
}

// Expect records the object as returned by a write: until a cached copy at
// least that new is observed, the cache is stale for it. Objects without a
// UID or resourceVersion are ignored.
func (r *ResourceVersions) Expect(written metav1.Object) {
	if written == nil || written.GetUID() == "" || written.GetResourceVersion() == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if old := r.byUID[written.GetUID()]; old != nil && newer(old.resourceVersion, written.GetResourceVersion()) {
		return
	}
	r.byUID[written.GetUID()] = &expectedVersion{resourceVersion: written.GetResourceVersion(), since: r.clock.Now()}
}

// Observe records a cached copy of the object; the expectation is fulfilled
// once the copy is at least as new as the write.
func (r *ResourceVersions) Observe(cached metav1.Object) {
	if cached == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.observeLocked(cached)
}

func (r *ResourceVersions) observeLocked(cached metav1.Object) {
	want := r.byUID[cached.GetUID()]
	if want == nil {
		return
	}
	if !newer(want.resourceVersion, cached.GetResourceVersion()) {
		delete(r.byUID, cached.GetUID())
	}
}

// Satisfied observes the cached copy and reports whether it is current
// enough to act on: true when no write is pending for it or the pending one
// has waited longer than the timeout (it is then dropped). When false, wait
// is how much longer the expectation may take before it expires.
func (r *ResourceVersions) Satisfied(cached metav1.Object) (ok bool, wait time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.observeLocked(cached)
	want := r.byUID[cached.GetUID()]
	if want == nil {
		return true, 0
	}
	waited := r.clock.Since(want.since)
	if waited >= r.timeout {
		klog.InfoS("Resource version expectation expired", "uid", cached.GetUID(),
			"expected", want.resourceVersion, "cached", cached.GetResourceVersion())
		delete(r.byUID, cached.GetUID())
		return true, 0
	}
	return false, r.timeout - waited
}

// Forget drops what is expected of the object (when it is deleted).
func (r *ResourceVersions) Forget(obj metav1.Object) {
	if obj == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.byUID, obj.GetUID())
}

// newer reports whether resource version a is newer than b. Versions that
// cannot be compared (not produced by etcd) count as equal when identical
// and as not newer otherwise, so that a malformed version never blocks a
// controller.
func newer(a, b string) bool {
	c, err := resourceversion.CompareResourceVersion(a, b)
	if err != nil {
		return false
	}
	return c > 0
}
