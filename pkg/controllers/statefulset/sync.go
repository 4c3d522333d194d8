package statefulset

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

// sync reconciles one StatefulSet. It returns after how long the
// StatefulSet should be synced again even without an event (0: not needed).
func (c *Controller) sync(ctx context.Context, key string) (time.Duration, error) {
	logger := klog.FromContext(ctx)
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return 0, err
	}
	cached, err := c.setLister.StatefulSets(namespace).Get(name)
	if isNotFoundOrGone(err) {
		logger.V(4).Info("StatefulSet has been deleted", "statefulSet", key)
		c.scaleExpectations.Delete(key)
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	set := cached.DeepCopy()

	selector, err := metav1.LabelSelectorAsSelector(set.Spec.Selector)
	if err != nil || selector.Empty() {
		// Validation prevents it; retrying would not help.
		logger.Error(err, "StatefulSet has an invalid or empty selector", "statefulSet", key)
		return 0, nil
	}

	if ok, wait := c.scaleExpectations.Satisfied(key); !ok {
		logger.V(4).Info("Waiting for Pod creations and deletions to be observed",
			"statefulSet", key, "pending", c.scaleExpectations.Pending(key))
		return wait, nil
	}

	all, err := c.podLister.Pods(namespace).List(labels.Everything())
	if err != nil {
		return 0, err
	}
	a := &adopter{c: c, set: set}
	pods, err := c.claimPods(ctx, set, selector, all, a)
	if err != nil {
		return 0, err
	}
	revisions, err := c.listRevisions(ctx, set, selector, a)
	if err != nil {
		return 0, err
	}
	// Do not act on copies older than this controller's own writes.
	for _, r := range revisions {
		if ok, wait := c.versionExpectations.Satisfied(r); !ok {
			logger.V(4).Info("Waiting for a revision update to be observed", "statefulSet", key, "revision", r.Name)
			return wait, nil
		}
	}
	for _, pod := range pods {
		if ok, wait := c.versionExpectations.Satisfied(pod); !ok {
			logger.V(4).Info("Waiting for a Pod update to be observed", "statefulSet", key, "pod", klog.KObj(pod))
			return wait, nil
		}
	}
	current, update, collisionCount, err := c.activeRevisions(ctx, set, revisions)
	if err != nil {
		return 0, err
	}

	p, err := c.newPass(set, selector, current, update, collisionCount, revisions, pods)
	if err != nil {
		return 0, err
	}
	syncErr := p.run(ctx)
	if err := c.updateStatus(ctx, set, p.status); err != nil {
		if syncErr != nil {
			return 0, fmt.Errorf("%w; updating status: %v", syncErr, err)
		}
		return 0, err
	}
	if err := c.truncateHistory(ctx, set, pods, revisions, current, update); err != nil {
		if syncErr == nil {
			return 0, fmt.Errorf("truncating the revision history: %w", err)
		}
		logger.Error(err, "Failed to truncate the revision history", "statefulSet", key)
	}
	return p.requeue, syncErr
}

// minPositive returns the smaller of the positive durations, 0 when neither is.
func minPositive(a, b time.Duration) time.Duration {
	switch {
	case a <= 0:
		return max(b, 0)
	case b <= 0:
		return a
	default:
		return min(a, b)
	}
}

// podsOf returns the non-nil Pods of the lists.
func podsOf(lists ...[]*corev1.Pod) []*corev1.Pod {
	var out []*corev1.Pod
	for _, l := range lists {
		for _, p := range l {
			if p != nil {
				out = append(out, p)
			}
		}
	}
	return out
}

func minReadySecondsOf(set *appsv1beta1.StatefulSet) int32 {
	if ru := set.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.MinReadySeconds != nil {
		return *ru.MinReadySeconds
	}
	return 0
}
