package cloneset

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/inplaceupdate"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/lifecycle"
)

// podUpdater moves one Pod to a revision.
type podUpdater interface {
	// updatePod starts moving the Pod from oldRevision (nil when unknown) to
	// target; it returns after how long the CloneSet should be looked at
	// again (0: on the next event).
	updatePod(ctx context.Context, cs *appsv1beta1.CloneSet, pod *corev1.Pod,
		oldRevision, target *appsv1.ControllerRevision) (time.Duration, error)
}

// revisionUpdater updates Pods as podUpdatePolicy says: with
// InPlaceIfPossible and InPlaceOnly in place when the two revisions allow
// it, by re-creation otherwise; InPlaceOnly then fails (reported in the
// FailedUpdate condition) and leaves the Pod alone.
type revisionUpdater struct{ c *Controller }

func (u revisionUpdater) updatePod(ctx context.Context, cs *appsv1beta1.CloneSet, pod *corev1.Pod,
	oldRevision, target *appsv1.ControllerRevision) (time.Duration, error) {
	c := u.c
	switch policy := podUpdatePolicy(cs); policy {
	case appsv1beta1.InPlaceIfPossibleCloneSetPodUpdateStrategyType, appsv1beta1.InPlaceOnlyCloneSetPodUpdateStrategyType:
		opts := inPlaceOptions(cs)
		if c.inPlace.CanUpdateInPlace(oldRevision, target, opts) {
			return c.updateInPlace(ctx, cs, pod, oldRevision, target, opts)
		}
		if policy == appsv1beta1.InPlaceOnlyCloneSetPodUpdateStrategyType {
			return 0, fmt.Errorf("pod %s cannot be updated in place to revision %s and podUpdatePolicy is %s", pod.Name, target.Name, policy)
		}
		klog.FromContext(ctx).V(2).Info("Pod cannot be updated in place, re-creating it", "cloneSet", klog.KObj(cs), "pod", klog.KObj(pod), "revision", target.Name)
	}
	return 0, c.markForRecreate(ctx, cs, pod, target)
}

func podUpdatePolicy(cs *appsv1beta1.CloneSet) appsv1beta1.CloneSetPodUpdateStrategyType {
	if ru := cs.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.PodUpdatePolicy != "" {
		return ru.PodUpdatePolicy
	}
	return appsv1beta1.RecreateCloneSetPodUpdateStrategyType
}

// inPlaceOptions are the CloneSet's in-place update options.
func inPlaceOptions(cs *appsv1beta1.CloneSet) *inplaceupdate.Options {
	opts := &inplaceupdate.Options{}
	if ru := cs.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.InPlaceUpdateStrategy != nil {
		opts.GracePeriodSeconds = ru.InPlaceUpdateStrategy.GracePeriodSeconds
	}
	return opts
}

func inPlaceUpdateHook(cs *appsv1beta1.CloneSet) *appsv1beta1.LifecycleHook {
	if cs.Spec.Lifecycle == nil {
		return nil
	}
	return cs.Spec.Lifecycle.InPlaceUpdate
}

// updateInPlace updates the Pod in place, going through the inPlaceUpdate
// hook: a Pod the hook holds moves to PreparingUpdate first and is updated
// once the hook lets it go; an Updated Pod (updated in place, its hook not
// yet satisfied again) that needs another update goes back to
// PreparingUpdate with the hook's labels and finalizers. The update itself
// puts the Pod in Updating.
func (c *Controller) updateInPlace(ctx context.Context, cs *appsv1beta1.CloneSet, pod *corev1.Pod,
	oldRevision, target *appsv1.ControllerRevision, opts *inplaceupdate.Options) (time.Duration, error) {
	logger := klog.FromContext(ctx)
	hook := inPlaceUpdateHook(cs)
	switch state := podLifecycleState(pod); state {
	case "", statePreparingNormal, stateNormal:
		if lifecycle.IsPodHooked(hook, pod) {
			updated, written, err := c.lifecycle.UpdatePodLifecycle(ctx, pod, statePreparingUpdate, hook.MarkPodNotReady)
			c.expectPod(written)
			if err != nil {
				return 0, fmt.Errorf("moving Pod %s to %s: %w", pod.Name, statePreparingUpdate, err)
			}
			if updated {
				logger.V(3).Info("Pod held by the inPlaceUpdate hook", "cloneSet", klog.KObj(cs), "pod", klog.KObj(pod), "state", statePreparingUpdate)
			}
			return 0, nil
		}
	case stateUpdated:
		updated, written, err := c.lifecycle.UpdatePodLifecycleWithHandler(ctx, pod, statePreparingUpdate, hook)
		c.expectPod(written)
		if err != nil {
			return 0, fmt.Errorf("moving Pod %s to %s: %w", pod.Name, statePreparingUpdate, err)
		}
		if updated {
			logger.V(3).Info("Updated Pod held by the inPlaceUpdate hook again", "cloneSet", klog.KObj(cs), "pod", klog.KObj(pod), "state", statePreparingUpdate)
		}
		return 0, nil
	case statePreparingUpdate:
		if lifecycle.IsPodHooked(hook, pod) {
			logger.V(3).Info("Waiting for the inPlaceUpdate hook", "cloneSet", klog.KObj(cs), "pod", klog.KObj(pod))
			return 0, nil
		}
	case stateUpdating:
	default:
		return 0, fmt.Errorf("pod %s cannot be updated in place in lifecycle state %s", pod.Name, state)
	}

	opts.AdditionalFuncs = append(opts.AdditionalFuncs, lifecycle.SetState(stateUpdating, c.clock.Now()))
	res := c.inPlace.Update(ctx, pod, oldRevision, target, opts)
	c.expectPod(res.Pod)
	if res.Err != nil {
		if isNotFoundOrGone(res.Err) {
			return 0, nil
		}
		c.recorder.Eventf(cs, corev1.EventTypeWarning, reasonFailedUpdatePodInPlace,
			"Failed to update Pod %s in place to revision %s: %v", pod.Name, target.Name, res.Err)
		return res.Delay, fmt.Errorf("updating Pod %s in place: %w", pod.Name, res.Err)
	}
	logger.V(2).Info("Updated Pod in place", "cloneSet", klog.KObj(cs), "pod", klog.KObj(pod), "revision", target.Name,
		"gracePeriodSeconds", opts.GracePeriodSeconds)
	c.recorder.Eventf(cs, corev1.EventTypeNormal, reasonSuccessfulUpdatePodInPlace,
		"Updated Pod %s in place to revision %s", pod.Name, target.Name)
	return res.Delay, nil
}

// expectPod records a write of a Pod (nil: none).
func (c *Controller) expectPod(written *corev1.Pod) {
	if written != nil {
		c.versionExpectations.Expect(written)
	}
}

// markForRecreate labels the Pod apps.kruise.io/specified-delete=true: the
// scale step deletes it (within maxUnavailable) and creates its replacement
// at the update revision.
func (c *Controller) markForRecreate(ctx context.Context, cs *appsv1beta1.CloneSet, pod *corev1.Pod, target *appsv1.ControllerRevision) error {
	if _, ok := pod.Labels[SpecifiedDeleteLabel]; ok {
		return nil
	}
	klog.FromContext(ctx).V(2).Info("Marking Pod for re-creation", "cloneSet", klog.KObj(cs), "pod", klog.KObj(pod), "revision", target.Name)
	patch := fmt.Sprintf(`{"metadata":{"labels":{%q:"true"}}}`, SpecifiedDeleteLabel)
	patched, err := c.kubeClient.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{})
	if err != nil {
		c.recorder.Eventf(cs, corev1.EventTypeWarning, reasonFailedUpdatePodReCreate,
			"Failed to mark Pod %s for re-creation at revision %s: %v", pod.Name, target.Name, err)
		return fmt.Errorf("marking Pod %s for re-creation: %w", pod.Name, err)
	}
	c.versionExpectations.Expect(patched)
	c.recorder.Eventf(cs, corev1.EventTypeNormal, reasonSuccessfulUpdatePodReCreate,
		"Marked Pod %s for re-creation at revision %s", pod.Name, target.Name)
	return nil
}

// update brings Pods to the update revision, as many as partition,
// maxUnavailable and maxSurge allow now, in the order of the priority and
// scatter strategies. It first refreshes the Pods' lifecycle state and
// conditions; a sync that changed any waits for the next.
func (c *Controller) update(ctx context.Context, cs *appsv1beta1.CloneSet, current, update *appsv1.ControllerRevision,
	revisions []*appsv1.ControllerRevision, pods []*corev1.Pod) (time.Duration, error) {
	logger := klog.FromContext(ctx)
	now := c.clock.Now()

	refreshed := false
	var requeue time.Duration
	for _, pod := range pods {
		changed, after, err := c.refreshPod(ctx, cs, pod, update.Name)
		requeue = minPositive(requeue, after)
		if err != nil {
			return requeue, err
		}
		refreshed = refreshed || changed
	}
	if refreshed {
		return requeue, nil
	}

	if cs.Spec.UpdateStrategy.Type == appsv1beta1.OnDeleteCloneSetUpdateStrategyType {
		return requeue, nil
	}
	if ru := cs.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Paused {
		return requeue, nil
	}

	d := calculateDiffs(cs, pods, func(p *corev1.Pod) bool { return isAtRevision(p, update.Name) }, now)
	if d.updateNum == 0 {
		return requeue, nil
	}
	target := update
	if d.updateNum < 0 {
		target = current
	}

	var waiting []int
	for i, pod := range pods {
		atUpdate := isAtRevision(pod, update.Name)
		if (d.updateNum > 0) == atUpdate {
			continue
		}
		switch podLifecycleState(pod) {
		case statePreparingDelete:
			logger.V(3).Info("Not updating a Pod in PreparingDelete", "cloneSet", klog.KObj(cs), "pod", klog.KObj(pod))
			continue
		case stateUpdated:
		default:
			if inplaceupdate.InGracePeriod(pod) {
				logger.V(3).Info("Not updating a Pod in its in-place update grace period", "cloneSet", klog.KObj(cs), "pod", klog.KObj(pod))
				continue
			}
		}
		waiting = append(waiting, i)
	}
	waiting = sortForUpdate(cs, pods, waiting)
	waiting = limitUpdates(d, waiting, pods, target.Name, cs.Spec.MinReadySeconds, now)
	logger.V(3).Info("Updating Pods", "cloneSet", klog.KObj(cs), "diffs", d.String(), "pods", len(waiting), "revision", target.Name)

	for _, i := range waiting {
		pod := pods[i]
		var old *appsv1.ControllerRevision
		for _, r := range revisions {
			if isAtRevision(pod, r.Name) {
				old = r
				break
			}
		}
		after, err := c.podUpdater.updatePod(ctx, cs, pod, old, target)
		requeue = minPositive(requeue, after)
		if err != nil {
			return requeue, err
		}
	}
	return requeue, nil
}

// limitUpdates keeps, of the waiting Pods, at most |updateNum|, and no more
// than keep the unavailable Pods within updateMaxUnavailable: updating an
// available Pod makes one more unavailable, and the Pods at the target
// revision that are unavailable count against the limit.
func limitUpdates(d diffs, waiting []int, pods []*corev1.Pod, target string, minReadySeconds int32, now time.Time) []int {
	if n := abs(d.updateNum); n < len(waiting) {
		waiting = waiting[:n]
	}
	var unavailable, targetUnavailable int
	for _, p := range pods {
		if !isPodAvailable(p, minReadySeconds, now) {
			unavailable++
			if isAtRevision(p, target) {
				targetUnavailable++
			}
		}
	}
	allowed := 0
	for _, i := range waiting {
		if targetUnavailable+allowed >= d.updateMaxUnavailable {
			break
		}
		if isPodAvailable(pods[i], minReadySeconds, now) {
			if unavailable >= d.updateMaxUnavailable {
				break
			}
			unavailable++
		}
		allowed++
	}
	return waiting[:allowed]
}

// refreshPod brings a Pod's bookkeeping up to date: its in-place update
// (a grace period that has passed, the InPlaceUpdateReady condition True
// once no update holds it), its KruisePodReady condition (True when
// missing), its lifecycle state, and a pod-template-hash label on Pods made
// without one. It reports whether it wrote the Pod, and when to look at it
// again (the end of a grace period).
func (c *Controller) refreshPod(ctx context.Context, cs *appsv1beta1.CloneSet, pod *corev1.Pod, updateRevision string) (
	changed bool, requeue time.Duration, err error) {
	logger := klog.FromContext(ctx)
	current := pod
	wrote := func(w *corev1.Pod) {
		if w != nil {
			c.expectPod(w)
			current = w
			changed = true
		}
	}
	// failed sorts out a write's error: a Pod gone needs nothing more, a
	// conflict means a newer version is on its way and will be refreshed.
	failed := func(what string, err error) (bool, time.Duration, error) {
		switch {
		case isNotFoundOrGone(err):
			return changed, requeue, nil
		case apierrors.IsConflict(err):
			return true, requeue, nil
		}
		return changed, requeue, fmt.Errorf("%s of Pod %s: %w", what, pod.Name, err)
	}

	res := c.inPlace.Refresh(ctx, current, inPlaceOptions(cs))
	wrote(res.Pod)
	requeue = res.Delay
	if res.Err != nil {
		return failed("refreshing the in-place update", res.Err)
	}
	written, err := c.lifecycle.EnsureReadyCondition(ctx, current)
	if err != nil {
		return failed("setting the "+string(KruisePodReady)+" condition", err)
	}
	wrote(written)

	if state := nextLifecycleState(cs, current, updateRevision); state != "" {
		updated, written, err := c.lifecycle.UpdatePodLifecycle(ctx, current, state, lifecycle.IsMarkPodNotReady(inPlaceUpdateHook(cs)))
		wrote(written)
		if err != nil {
			return failed("updating the lifecycle state", err)
		}
		if updated {
			logger.V(3).Info("Updated Pod lifecycle state", "cloneSet", klog.KObj(cs), "pod", klog.KObj(pod),
				"from", podLifecycleState(pod), "to", state)
		}
	}

	if _, ok := current.Labels[appsv1.DefaultDeploymentUniqueLabelKey]; !ok {
		if hash := current.Labels[appsv1.ControllerRevisionHashLabelKey]; hash != "" {
			patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%q}}}`, appsv1.DefaultDeploymentUniqueLabelKey, shortHash(hash))
			patched, err := c.kubeClient.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{})
			if err != nil {
				return failed("adding pod-template-hash", err)
			}
			wrote(patched)
		}
	}
	return changed, requeue, nil
}

// nextLifecycleState returns the state the Pod moves to, or "":
//   - PreparingNormal becomes Normal once the Pod is scheduled, or, with a
//     preNormal hook, once the Pod has all the hook's labels and finalizers;
//   - PreparingUpdate (the update was rolled back meanwhile: the Pod is at
//     the update revision) and Updating (once the in-place update is done)
//     become Normal, or Updated when the inPlaceUpdate hook is not all
//     there (with a lifecycle);
//   - Updated becomes Normal once the inPlaceUpdate hook is all there (or
//     there is none).
func nextLifecycleState(cs *appsv1beta1.CloneSet, pod *corev1.Pod, updateRevision string) lifecycleState {
	l := cs.Spec.Lifecycle
	afterUpdate := func() lifecycleState {
		if l != nil && !lifecycle.IsPodAllHooked(l.InPlaceUpdate, pod) {
			return stateUpdated
		}
		return stateNormal
	}
	switch podLifecycleState(pod) {
	case statePreparingNormal:
		ready := pod.Spec.NodeName != ""
		if l != nil && l.PreNormal != nil {
			ready = lifecycle.IsPodAllHooked(l.PreNormal, pod)
		}
		if ready {
			return stateNormal
		}
	case statePreparingUpdate:
		if isAtRevision(pod, updateRevision) {
			return afterUpdate()
		}
	case stateUpdating:
		if inplaceupdate.CheckCompleted(pod) == nil {
			return afterUpdate()
		}
	case stateUpdated:
		if l == nil || l.InPlaceUpdate == nil || lifecycle.IsPodAllHooked(l.InPlaceUpdate, pod) {
			return stateNormal
		}
	}
	return ""
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
