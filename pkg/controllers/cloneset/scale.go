package cloneset

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/klog/v2"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/expectations"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/lifecycle"
)

// Event reasons (OpenKruise's).
const (
	reasonSuccessfulCreate            = "SuccessfulCreate"
	reasonFailedCreate                = "FailedCreate"
	reasonSuccessfulDelete            = "SuccessfulDelete"
	reasonFailedDelete                = "FailedDelete"
	reasonFailedUpdate                = "FailedUpdate"
	reasonScaleUpLimited              = "ScaleUpLimited"
	reasonSuccessfulUpdatePodReCreate = "SuccessfulUpdatePodReCreate"
	reasonFailedUpdatePodReCreate     = "FailedUpdatePodReCreate"
	reasonSuccessfulUpdatePodInPlace  = "SuccessfulUpdatePodInPlace"
	reasonFailedUpdatePodInPlace      = "FailedUpdatePodInPlace"
)

// scale creates the missing Pods or deletes the extra ones (and those
// specified for deletion); with a preDelete hook, a Pod to delete that the
// hook holds moves to PreparingDelete instead and is deleted once the hook
// lets it go. Before that, when Pods are missing, Pods in PreparingDelete
// go back to PreparingNormal. It reports whether it created, deleted or
// moved any: then the update step waits for the next sync.
// inactive are the CloneSet's Pods that are finished or being deleted.
func (c *Controller) scale(ctx context.Context, currentCS, updateCS *appsv1beta1.CloneSet,
	currentRevision, updateRevision string, pods, inactive []*corev1.Pod, pvcs []*corev1.PersistentVolumeClaim) (bool, error) {
	if updateCS.Spec.Replicas == nil {
		return false, fmt.Errorf("spec.replicas is unset")
	}
	logger := klog.FromContext(ctx)
	now := c.clock.Now()

	// Pods to delete first: those specified, and those already in
	// PreparingDelete (a preDelete hook holds them).
	specified, preDeleting, numToDelete := plannedDeletions(updateCS, pods)
	if restored, err := c.restorePreparingDelete(ctx, updateCS, pods, preDeleting, numToDelete); err != nil || restored {
		return restored, err
	}

	d := calculateDiffs(updateCS, pods, func(p *corev1.Pod) bool { return isPodUpdated(p, updateRevision) }, now)
	updated, notUpdated := splitByRevision(pods, updateRevision)
	if d.scaleUpNum > d.scaleUpLimit {
		c.recorder.Eventf(updateCS, corev1.EventTypeWarning, reasonScaleUpLimited,
			"Scale-out is limited to %d Pod(s) by scaleStrategy.maxUnavailable", d.scaleUpLimit)
	}

	// Scale out.
	if d.scaleUpNum > 0 {
		logger.V(3).Info("Scaling out", "cloneSet", klog.KObj(updateCS), "diffs", d.String())
		ids := availableIDs(d.scaleUpLimit, pods, inactive, pvcs, c.randomID)
		existingPVCs := sets.New[string]()
		for _, pvc := range pvcs {
			existingPVCs.Insert(pvc.Name)
		}
		return c.createPods(ctx, d.scaleUpLimit, d.scaleUpNumOldRevision, currentCS, updateCS,
			currentRevision, updateRevision, ids, existingPVCs)
	}

	// Pods in PreparingDelete: delete those their hook has let go.
	if len(preDeleting) > 0 {
		logger.V(3).Info("Deleting Pods in PreparingDelete", "cloneSet", klog.KObj(updateCS), "pods", podNames(preDeleting))
		if deleted, err := c.deletePods(ctx, updateCS, preDeleting, pvcs); err != nil || deleted {
			return deleted, err
		}
	}

	// Pods specified for deletion, ready ones within maxUnavailable.
	if toDelete := withoutPods(specified, preDeleting); len(toDelete) > 0 {
		logger.V(3).Info("Deleting specified Pods", "cloneSet", klog.KObj(updateCS), "pods", podNames(toDelete),
			"deleteReadyLimit", d.deleteReadyLimit)
		canDelete := limitReadyDeletions(toDelete, &d.deleteReadyLimit, now)
		if deleted, err := c.deletePods(ctx, updateCS, canDelete, pvcs); err != nil || deleted {
			return deleted, err
		}
	}

	// Scale in.
	if d.scaleDownNum > 0 {
		if numToDelete > 0 {
			// Wait for the specified deletions before choosing more.
			logger.V(3).Info("Scale-in waits for specified deletions", "cloneSet", klog.KObj(updateCS),
				"scaleDownNum", d.scaleDownNum, "pending", numToDelete)
			return false, nil
		}
		logger.V(3).Info("Scaling in", "cloneSet", klog.KObj(updateCS), "diffs", d.String())
		chosen := choosePodsToDelete(updateCS, d.scaleDownNum, d.scaleDownNumOldRevision, notUpdated, updated, now)
		return c.deletePods(ctx, updateCS, limitReadyDeletions(chosen, &d.deleteReadyLimit, now), pvcs)
	}
	return false, nil
}

// restorePreparingDelete takes back Pods in PreparingDelete (to
// PreparingNormal) while the CloneSet has fewer Pods than replicas once
// those to delete are gone: scaling out again un-deletes them rather than
// creating new ones. Pods specified for deletion stay, and nothing goes back
// when a hook marks Pods not ready (no regret then, as in OpenKruise: the
// inPlaceUpdate hook's Updated state could be lost). It reports whether it
// moved any.
func (c *Controller) restorePreparingDelete(ctx context.Context, cs *appsv1beta1.CloneSet, pods, preDeleting []*corev1.Pod, numToDelete int) (bool, error) {
	if lifecycle.IsLifecycleMarkPodNotReady(cs.Spec.Lifecycle) {
		return false, nil
	}
	missing := replicasOf(cs) - len(pods) + numToDelete
	var restored bool
	for _, pod := range preDeleting {
		if missing <= 0 {
			break
		}
		if isSpecifiedDelete(cs, pod) {
			continue
		}
		updated, written, err := c.lifecycle.UpdatePodLifecycle(ctx, pod, statePreparingNormal, false)
		c.expectPod(written)
		if err != nil {
			if isNotFoundOrGone(err) {
				continue
			}
			return restored, fmt.Errorf("moving Pod %s back from %s: %w", pod.Name, statePreparingDelete, err)
		}
		if updated {
			klog.FromContext(ctx).V(3).Info("Took back a Pod in PreparingDelete", "cloneSet", klog.KObj(cs), "pod", klog.KObj(pod))
			restored = true
		}
		missing--
	}
	return restored, nil
}

// plannedDeletions returns the Pods specified for deletion, those in
// PreparingDelete, and how many Pods are in either.
func plannedDeletions(cs *appsv1beta1.CloneSet, pods []*corev1.Pod) (specified, preDeleting []*corev1.Pod, n int) {
	names := sets.New[string]()
	for _, pod := range pods {
		if isSpecifiedDelete(cs, pod) {
			names.Insert(pod.Name)
			specified = append(specified, pod)
		}
		if podLifecycleState(pod) == statePreparingDelete {
			names.Insert(pod.Name)
			preDeleting = append(preDeleting, pod)
		}
	}
	return specified, preDeleting, names.Len()
}

func withoutPods(pods, remove []*corev1.Pod) []*corev1.Pod {
	skip := sets.New[string]()
	for _, p := range remove {
		skip.Insert(p.Name)
	}
	var out []*corev1.Pod
	for _, p := range pods {
		if !skip.Has(p.Name) {
			out = append(out, p)
		}
	}
	return out
}

// limitReadyDeletions keeps the Pods that are not ready and as many ready
// ones as *limit allows, lowering *limit.
func limitReadyDeletions(pods []*corev1.Pod, limit *int, now time.Time) []*corev1.Pod {
	out := make([]*corev1.Pod, 0, len(pods))
	for _, pod := range pods {
		if !isPodAvailable(pod, 0, now) {
			out = append(out, pod)
		} else if *limit > 0 {
			out = append(out, pod)
			*limit--
		}
	}
	return out
}

// availableIDs returns n instance ids for new Pods: first those of PVCs no
// Pod uses (to reuse the claims), then new random ones unused by any Pod or
// PVC. The id of a Pod being deleted is reused (its replacement is created
// once the name is free, as OpenKruise does); that of a finished Pod still
// there is not, since its name stays taken.
func availableIDs(n int, pods, inactive []*corev1.Pod, pvcs []*corev1.PersistentVolumeClaim, random func() string) []string {
	used := sets.New[string]()
	free := sets.New[string]()
	for _, pvc := range pvcs {
		if id := instanceID(pvc); id != "" {
			used.Insert(id)
			free.Insert(id)
		}
	}
	for _, pod := range pods {
		if id := instanceID(pod); id != "" {
			used.Insert(id)
			free.Delete(id)
		}
	}
	for _, pod := range inactive {
		if id := instanceID(pod); id != "" {
			used.Insert(id)
			if pod.DeletionTimestamp == nil {
				free.Delete(id)
			}
		}
	}
	reuse := sets.List(free)
	out := make([]string, 0, n)
	for len(out) < n {
		if len(reuse) > 0 {
			out = append(out, reuse[0])
			reuse = reuse[1:]
			continue
		}
		id := random()
		if used.Has(id) {
			continue
		}
		used.Insert(id)
		out = append(out, id)
	}
	return out
}

// createPods creates n Pods, the first min(n, nOld) at the current revision
// and the others at the update revision, with their PVCs, in batches that
// grow while they succeed (kube-controller-manager's slow start).
func (c *Controller) createPods(ctx context.Context, n, nOld int, currentCS, updateCS *appsv1beta1.CloneSet,
	currentRevision, updateRevision string, ids []string, existingPVCs sets.Set[string]) (bool, error) {
	if n <= 0 {
		return false, nil
	}
	now := c.clock.Now()
	type creation struct {
		cs  *appsv1beta1.CloneSet
		pod *corev1.Pod
	}
	creations := make([]creation, 0, n)
	for i, id := range ids[:n] {
		cs, rev := updateCS, updateRevision
		if i < nOld {
			cs, rev = currentCS, currentRevision
		}
		creations = append(creations, creation{cs: cs, pod: newPod(cs, rev, id, now)})
	}

	key := keyOf(updateCS)
	names := make([]string, 0, n)
	for _, cr := range creations {
		names = append(names, cr.pod.Name)
	}
	c.scaleExpectations.Expect(key, expectations.Create, names...)

	var mu sync.Mutex
	created := sets.New[string]()
	next := 0
	err := slowStartBatch(n, func() error {
		mu.Lock()
		cr := creations[next]
		next++
		mu.Unlock()
		if err := c.createPod(ctx, cr.cs, cr.pod, existingPVCs); err != nil {
			return err
		}
		mu.Lock()
		created.Insert(cr.pod.Name)
		mu.Unlock()
		return nil
	})
	// The informer will never see the Pods not created.
	for _, name := range names {
		if !created.Has(name) {
			c.scaleExpectations.Observe(key, expectations.Create, name)
		}
	}
	return created.Len() > 0, err
}

// createPod creates the Pod's missing PVCs, then the Pod.
func (c *Controller) createPod(ctx context.Context, cs *appsv1beta1.CloneSet, pod *corev1.Pod, existingPVCs sets.Set[string]) error {
	key := keyOf(cs)
	for _, claim := range newPVCs(cs, instanceID(pod)) {
		if existingPVCs.Has(claim.Name) {
			continue
		}
		c.scaleExpectations.Expect(key, expectations.Create, claim.Name)
		if _, err := c.kubeClient.CoreV1().PersistentVolumeClaims(cs.Namespace).Create(ctx, claim, metav1.CreateOptions{}); err != nil {
			c.scaleExpectations.Observe(key, expectations.Create, claim.Name)
			c.recorder.Eventf(cs, corev1.EventTypeWarning, reasonFailedCreate, "Failed to create PVC %s: %v", claim.Name, err)
			return fmt.Errorf("creating PVC %s: %w", claim.Name, err)
		}
	}
	if _, err := c.kubeClient.CoreV1().Pods(cs.Namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		c.recorder.Eventf(cs, corev1.EventTypeWarning, reasonFailedCreate, "Failed to create Pod %s: %v", pod.Name, err)
		return fmt.Errorf("creating Pod %s: %w", pod.Name, err)
	}
	c.recorder.Eventf(cs, corev1.EventTypeNormal, reasonSuccessfulCreate, "Created Pod %s", pod.Name)
	return nil
}

// slowStartBatch calls fn count times, in batches of 1, 2, 4, ... calls run
// in parallel; it stops after the first batch with a failure and returns
// that failure.
func slowStartBatch(count int, fn func() error) error {
	remaining := count
	for batch := min(remaining, 1); batch > 0; batch = min(2*batch, remaining) {
		errs := make(chan error, batch)
		var wg sync.WaitGroup
		for range batch {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := fn(); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		if err, ok := <-errs; ok {
			return err
		}
		remaining -= batch
	}
	return nil
}

// deletePods deletes the Pods and the PVCs of their instance ids. A Pod the
// preDelete hook holds (it has any of the hook's labels or finalizers) is
// moved to PreparingDelete instead (held not ready with markPodNotReady),
// and deleted by a later call once the hook lets it go. It reports whether
// it deleted or moved any.
func (c *Controller) deletePods(ctx context.Context, cs *appsv1beta1.CloneSet, pods []*corev1.Pod, pvcs []*corev1.PersistentVolumeClaim) (bool, error) {
	key := keyOf(cs)
	var deleted bool
	for _, pod := range pods {
		if l := cs.Spec.Lifecycle; l != nil && lifecycle.IsPodHooked(l.PreDelete, pod) {
			updated, written, err := c.lifecycle.UpdatePodLifecycle(ctx, pod, statePreparingDelete, l.PreDelete.MarkPodNotReady)
			c.expectPod(written)
			if err != nil {
				if isNotFoundOrGone(err) {
					continue
				}
				return deleted, fmt.Errorf("moving Pod %s to %s: %w", pod.Name, statePreparingDelete, err)
			}
			if updated {
				klog.FromContext(ctx).V(3).Info("Pod held by the preDelete hook", "cloneSet", klog.KObj(cs), "pod", klog.KObj(pod))
				deleted = true
			}
			continue
		}
		c.scaleExpectations.Expect(key, expectations.Delete, pod.Name)
		err := c.kubeClient.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
			Preconditions: &metav1.Preconditions{UID: &pod.UID},
		})
		if err != nil {
			c.scaleExpectations.Observe(key, expectations.Delete, pod.Name)
			if isNotFoundOrGone(err) {
				continue
			}
			c.recorder.Eventf(cs, corev1.EventTypeWarning, reasonFailedDelete, "Failed to delete Pod %s: %v", pod.Name, err)
			return deleted, fmt.Errorf("deleting Pod %s: %w", pod.Name, err)
		}
		deleted = true
		c.recorder.Eventf(cs, corev1.EventTypeNormal, reasonSuccessfulDelete, "Deleted Pod %s", pod.Name)

		id := instanceID(pod)
		if id == "" {
			continue
		}
		for _, pvc := range pvcs {
			if instanceID(pvc) != id {
				continue
			}
			if err := c.deletePVC(ctx, cs, pvc); err != nil {
				return deleted, err
			}
		}
	}
	return deleted, nil
}

// deletePVC deletes one of the CloneSet's PVCs.
func (c *Controller) deletePVC(ctx context.Context, cs *appsv1beta1.CloneSet, pvc *corev1.PersistentVolumeClaim) error {
	key := keyOf(cs)
	c.scaleExpectations.Expect(key, expectations.Delete, pvc.Name)
	err := c.kubeClient.CoreV1().PersistentVolumeClaims(pvc.Namespace).Delete(ctx, pvc.Name, metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: &pvc.UID},
	})
	if err != nil {
		c.scaleExpectations.Observe(key, expectations.Delete, pvc.Name)
		if isNotFoundOrGone(err) {
			return nil
		}
		c.recorder.Eventf(cs, corev1.EventTypeWarning, reasonFailedDelete, "Failed to delete PVC %s: %v", pvc.Name, err)
		return fmt.Errorf("deleting PVC %s: %w", pvc.Name, err)
	}
	return nil
}

// choosePodsToDelete picks total Pods for scale-in: oldDiff of them from the
// Pods not updated, the rest from the updated ones, each side in
// deletion order (deletionOrder).
func choosePodsToDelete(cs *appsv1beta1.CloneSet, total, oldDiff int, notUpdated, updated []*corev1.Pod, now time.Time) []*corev1.Pod {
	choose := func(pods []*corev1.Pod, n int) []*corev1.Pod {
		if n >= len(pods) {
			return pods
		}
		sorted := append([]*corev1.Pod(nil), pods...)
		sort.SliceStable(sorted, deletionOrder(sorted, cs.Spec.MinReadySeconds, now))
		return sorted[:n]
	}
	switch {
	case oldDiff >= total:
		return choose(notUpdated, total)
	case oldDiff > 0:
		return append(choose(notUpdated, oldDiff), choose(updated, total-oldDiff)...)
	default:
		return choose(updated, total)
	}
}
