package cloneset

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

// podUpdater moves one Pod to a revision.
type podUpdater interface {
	// updatePod starts moving the Pod from oldRevision (nil when unknown) to
	// target; it returns after how long the CloneSet should be looked at
	// again (0: on the next event).
	updatePod(ctx context.Context, cs *appsv1beta1.CloneSet, pod *corev1.Pod,
		oldRevision, target *appsv1.ControllerRevision) (time.Duration, error)
}

// recreateUpdater updates Pods by re-creation, whatever podUpdatePolicy
// says: in-place update is not implemented yet, so InPlaceIfPossible falls
// back to re-creation (as OpenKruise does when in-place is not possible)
// and InPlaceOnly fails.
type recreateUpdater struct{ c *Controller }

func (u recreateUpdater) updatePod(ctx context.Context, cs *appsv1beta1.CloneSet, pod *corev1.Pod,
	_, target *appsv1.ControllerRevision) (time.Duration, error) {
	if podUpdatePolicy(cs) == appsv1beta1.InPlaceOnlyCloneSetPodUpdateStrategyType {
		// Reported in the FailedUpdate condition, as OpenKruise does when
		// an InPlaceOnly update cannot be done in place.
		return 0, fmt.Errorf("pod %s cannot be updated in place to revision %s: in-place update is not supported yet", pod.Name, target.Name)
	}
	return 0, u.c.markForRecreate(ctx, cs, pod, target)
}

func podUpdatePolicy(cs *appsv1beta1.CloneSet) appsv1beta1.CloneSetPodUpdateStrategyType {
	if ru := cs.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.PodUpdatePolicy != "" {
		return ru.PodUpdatePolicy
	}
	return appsv1beta1.RecreateCloneSetPodUpdateStrategyType
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
	for _, pod := range pods {
		changed, err := c.refreshPod(ctx, cs, pod)
		if err != nil {
			return 0, err
		}
		refreshed = refreshed || changed
	}
	if refreshed {
		return 0, nil
	}

	if cs.Spec.UpdateStrategy.Type == appsv1beta1.OnDeleteCloneSetUpdateStrategyType {
		return 0, nil
	}
	if ru := cs.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Paused {
		return 0, nil
	}

	d := calculateDiffs(cs, pods, func(p *corev1.Pod) bool { return isAtRevision(p, update.Name) }, now)
	if d.updateNum == 0 {
		return 0, nil
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
			if _, ok := pod.Annotations[InPlaceUpdateGraceAnnotation]; ok {
				logger.V(3).Info("Not updating a Pod in its in-place update grace period", "cloneSet", klog.KObj(cs), "pod", klog.KObj(pod))
				continue
			}
		}
		waiting = append(waiting, i)
	}
	waiting = sortForUpdate(cs, pods, waiting)
	waiting = limitUpdates(d, waiting, pods, target.Name, cs.Spec.MinReadySeconds, now)
	logger.V(3).Info("Updating Pods", "cloneSet", klog.KObj(cs), "diffs", d.String(), "pods", len(waiting), "revision", target.Name)

	var requeue time.Duration
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

// refreshPod brings a Pod's bookkeeping up to date: its lifecycle state
// (PreparingNormal becomes Normal once the Pod is scheduled, or once its
// preNormal hook is satisfied), its InPlaceUpdateReady condition (True when
// no in-place update is in progress), and a pod-template-hash label on Pods
// made without one. It reports whether it wrote the Pod.
func (c *Controller) refreshPod(ctx context.Context, cs *appsv1beta1.CloneSet, pod *corev1.Pod) (bool, error) {
	if changed, err := c.refreshInPlaceCondition(ctx, pod); err != nil || changed {
		return changed, err
	}

	labels := map[string]any{}
	annotations := map[string]any{}
	if podLifecycleState(pod) == statePreparingNormal {
		ready := pod.Spec.NodeName != ""
		if cs.Spec.Lifecycle != nil && cs.Spec.Lifecycle.PreNormal != nil {
			ready = isHookSatisfied(cs.Spec.Lifecycle.PreNormal, pod)
		}
		if ready {
			labels[LifecycleStateLabel] = string(stateNormal)
			annotations[LifecycleTimestampAnnotation] = c.clock.Now().UTC().Format(time.RFC3339)
		}
	}
	if _, ok := pod.Labels[appsv1.DefaultDeploymentUniqueLabelKey]; !ok {
		if hash := pod.Labels[appsv1.ControllerRevisionHashLabelKey]; hash != "" {
			labels[appsv1.DefaultDeploymentUniqueLabelKey] = shortHash(hash)
		}
	}
	if len(labels) == 0 && len(annotations) == 0 {
		return false, nil
	}
	meta := map[string]any{"labels": labels}
	if len(annotations) > 0 {
		meta["annotations"] = annotations
	}
	patch, err := json.Marshal(map[string]any{"metadata": meta})
	if err != nil {
		return false, err
	}
	patched, err := c.kubeClient.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		if isNotFoundOrGone(err) {
			return false, nil
		}
		return false, fmt.Errorf("updating Pod %s: %w", pod.Name, err)
	}
	klog.FromContext(ctx).V(3).Info("Refreshed Pod", "cloneSet", klog.KObj(cs), "pod", klog.KObj(pod), "labels", labels)
	c.versionExpectations.Expect(patched)
	return true, nil
}

// refreshInPlaceCondition sets the InPlaceUpdateReady condition of a Pod
// with that readiness gate to True when no in-place update holds it. The
// status is written on this version of the Pod only (no retry on conflict).
func (c *Controller) refreshInPlaceCondition(ctx context.Context, pod *corev1.Pod) (bool, error) {
	hasGate := false
	for _, g := range pod.Spec.ReadinessGates {
		if g.ConditionType == InPlaceUpdateReady {
			hasGate = true
		}
	}
	if !hasGate {
		return false, nil
	}
	if _, ok := pod.Annotations[InPlaceUpdateGraceAnnotation]; ok {
		return false, nil
	}
	if _, ok := pod.Annotations[InPlaceUpdateStateAnnotation]; ok {
		// An in-place update recorded its progress: completing it is the
		// in-place updater's job.
		return false, nil
	}
	if cond := podCondition(pod, InPlaceUpdateReady); cond != nil && cond.Status == corev1.ConditionTrue {
		return false, nil
	}
	clone := pod.DeepCopy()
	now := metav1.NewTime(c.clock.Now())
	if cond := podCondition(clone, InPlaceUpdateReady); cond != nil {
		cond.Status = corev1.ConditionTrue
		cond.LastTransitionTime = now
		cond.Reason, cond.Message = "", ""
	} else {
		clone.Status.Conditions = append(clone.Status.Conditions, corev1.PodCondition{
			Type: InPlaceUpdateReady, Status: corev1.ConditionTrue, LastTransitionTime: now,
		})
	}
	updated, err := c.kubeClient.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, clone, metav1.UpdateOptions{})
	if err != nil {
		if isNotFoundOrGone(err) {
			return false, nil
		}
		return false, fmt.Errorf("updating the %s condition of Pod %s: %w", InPlaceUpdateReady, pod.Name, err)
	}
	c.versionExpectations.Expect(updated)
	return true, nil
}

// isHookSatisfied reports whether the Pod has all the labels and finalizers
// of the hook.
func isHookSatisfied(hook *appsv1beta1.LifecycleHook, pod *corev1.Pod) bool {
	for k, v := range hook.LabelsHandler {
		if pod.Labels[k] != v {
			return false
		}
	}
	for _, f := range hook.FinalizersHandler {
		found := false
		for _, pf := range pod.Finalizers {
			if pf == f {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
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
