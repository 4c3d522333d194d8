package cloneset

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

var everything = labels.Everything()

// sync reconciles one CloneSet. It returns after how long the CloneSet
// should be synced again even without an event (0: not needed).
func (c *Controller) sync(ctx context.Context, key string) (time.Duration, error) {
	logger := klog.FromContext(ctx)
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return 0, err
	}
	cached, err := c.setLister.CloneSets(namespace).Get(name)
	if isNotFoundOrGone(err) {
		logger.V(4).Info("CloneSet has been deleted", "cloneSet", key)
		c.scaleExpectations.Delete(key)
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	cs := cached.DeepCopy()

	selector, err := metav1.LabelSelectorAsSelector(cs.Spec.Selector)
	if err != nil || selector.Empty() {
		// Validation prevents it; retrying would not help.
		logger.Error(err, "CloneSet has an invalid or empty selector", "cloneSet", key)
		return 0, nil
	}

	if ok, wait := c.scaleExpectations.Satisfied(key); !ok {
		logger.V(4).Info("Waiting for Pod and PVC creations and deletions to be observed",
			"cloneSet", key, "pending", c.scaleExpectations.Pending(key))
		return wait, nil
	}

	allPods, err := c.podLister.Pods(namespace).List(everything)
	if err != nil {
		return 0, err
	}
	var activePods, inactivePods []*corev1.Pod
	for _, pod := range allPods {
		if isPodActive(pod) {
			activePods = append(activePods, pod)
		} else if ref := metav1.GetControllerOfNoCopy(pod); ref != nil && ref.UID == cs.UID {
			inactivePods = append(inactivePods, pod)
		}
	}
	claimer := &podClaimer{c: c, cs: cs, selector: selector}
	pods, err := claimer.claim(ctx, activePods)
	if err != nil {
		return 0, err
	}

	pvcs, err := c.ownedPVCs(cs)
	if err != nil {
		return 0, err
	}
	if !cs.Spec.ScaleStrategy.EnablePVCReuse && cs.DeletionTimestamp == nil {
		if pvcs, err = c.cleanupPVCs(ctx, cs, pods, inactivePods, pvcs); err != nil {
			return 0, err
		}
	}

	revisions, err := c.listRevisions(ctx, cs, selector)
	if err != nil {
		return 0, err
	}
	// Do not act on copies older than this controller's own writes.
	for _, r := range revisions {
		if ok, wait := c.versionExpectations.Satisfied(r); !ok {
			logger.V(4).Info("Waiting for a revision update to be observed", "cloneSet", key, "revision", r.Name)
			return wait, nil
		}
	}
	current, update, collisionCount, err := c.activeRevisions(ctx, cs, revisions)
	if err != nil {
		return 0, err
	}
	for _, pod := range pods {
		if ok, wait := c.versionExpectations.Satisfied(pod); !ok {
			logger.V(4).Info("Waiting for a Pod update to be observed", "cloneSet", key, "pod", klog.KObj(pod))
			return wait, nil
		}
	}

	status := appsv1beta1.CloneSetStatus{
		ObservedGeneration: cs.Generation,
		CurrentRevision:    current.Name,
		UpdateRevision:     update.Name,
		CollisionCount:     &collisionCount,
		LabelSelector:      selector.String(),
		Conditions:         append([]appsv1beta1.CloneSetCondition(nil), cs.Status.Conditions...),
	}

	var requeue time.Duration
	var syncErr error
	if cs.DeletionTimestamp == nil {
		requeue, syncErr = c.syncPods(ctx, cs, &status, current, update, revisions, pods, inactivePods, pvcs)
	}
	requeue = minPositive(requeue, c.calculateStatus(cs, &status, pods))
	if err := c.updateStatus(ctx, cs, &status); err != nil {
		if syncErr != nil {
			return 0, fmt.Errorf("%w; updating status: %v", syncErr, err)
		}
		return 0, err
	}
	if err := c.truncatePodsToDelete(ctx, cs, pods); err != nil {
		logger.Error(err, "Failed to drop gone Pods from scaleStrategy.podsToDelete", "cloneSet", key)
	}
	if err := c.truncateHistory(ctx, cs, pods, revisions, current, update); err != nil {
		logger.Error(err, "Failed to truncate the revision history", "cloneSet", key)
	}
	if syncErr == nil && cs.Spec.MinReadySeconds > 0 {
		requeue = minPositive(requeue, c.nextAvailable(pods, cs.Spec.MinReadySeconds))
	}
	return requeue, syncErr
}

// syncPods scales, or, when there is nothing to create or delete, updates
// the Pods; failures are recorded in the FailedScale and FailedUpdate
// conditions, which a later success removes.
func (c *Controller) syncPods(ctx context.Context, cs *appsv1beta1.CloneSet, status *appsv1beta1.CloneSetStatus,
	current, update *appsv1.ControllerRevision, revisions []*appsv1.ControllerRevision,
	pods, inactive []*corev1.Pod, pvcs []*corev1.PersistentVolumeClaim) (time.Duration, error) {
	currentCS, err := applyRevision(cs, current)
	if err != nil {
		return 0, err
	}
	updateCS, err := applyRevision(cs, update)
	if err != nil {
		return 0, err
	}

	scaled, scaleErr := c.scale(ctx, currentCS, updateCS, current.Name, update.Name, pods, inactive, pvcs)
	if scaleErr != nil {
		c.setFailure(status, appsv1beta1.CloneSetConditionFailedScale, scaleErr)
	} else {
		removeCondition(status, appsv1beta1.CloneSetConditionFailedScale)
	}
	if scaled {
		return 0, scaleErr
	}

	requeue, updateErr := c.update(ctx, updateCS, current, update, revisions, pods)
	if updateErr != nil {
		c.setFailure(status, appsv1beta1.CloneSetConditionFailedUpdate, updateErr)
	} else {
		removeCondition(status, appsv1beta1.CloneSetConditionFailedUpdate)
	}
	if scaleErr != nil {
		return requeue, scaleErr
	}
	return requeue, updateErr
}

func (c *Controller) setFailure(status *appsv1beta1.CloneSetStatus, t appsv1beta1.CloneSetConditionType, err error) {
	now := metav1.NewTime(c.clock.Now())
	setCondition(status, appsv1beta1.CloneSetCondition{
		Type:               t,
		Status:             corev1.ConditionTrue,
		LastUpdateTime:     now,
		LastTransitionTime: now,
		Message:            err.Error(),
	})
}

// truncatePodsToDelete drops from scaleStrategy.podsToDelete the names of
// Pods the CloneSet no longer has. The list is compared and replaced in one
// JSON patch, so that a concurrent change is never lost.
func (c *Controller) truncatePodsToDelete(ctx context.Context, cs *appsv1beta1.CloneSet, pods []*corev1.Pod) error {
	if len(cs.Spec.ScaleStrategy.PodsToDelete) == 0 {
		return nil
	}
	existing := sets.New[string]()
	for _, pod := range pods {
		existing.Insert(pod.Name)
	}
	keep := []string{}
	for _, name := range cs.Spec.ScaleStrategy.PodsToDelete {
		if existing.Has(name) {
			keep = append(keep, name)
		}
	}
	if len(keep) == len(cs.Spec.ScaleStrategy.PodsToDelete) {
		return nil
	}
	patch, err := json.Marshal([]map[string]any{
		{"op": "test", "path": "/metadata/uid", "value": cs.UID},
		{"op": "test", "path": "/spec/scaleStrategy/podsToDelete", "value": cs.Spec.ScaleStrategy.PodsToDelete},
		{"op": "replace", "path": "/spec/scaleStrategy/podsToDelete", "value": keep},
	})
	if err != nil {
		return err
	}
	_, err = c.kruiseClient.AppsV1beta1().CloneSets(cs.Namespace).Patch(ctx, cs.Name, types.JSONPatchType, patch, metav1.PatchOptions{})
	return err
}

// nextAvailable returns how long until the first ready Pod that is not yet
// available (minReadySeconds) becomes so, or 0.
func (c *Controller) nextAvailable(pods []*corev1.Pod, minReadySeconds int32) time.Duration {
	now := c.clock.Now()
	var next time.Duration
	for _, pod := range pods {
		if !isPodReady(pod) || isRunningAndAvailable(pod, minReadySeconds, now) {
			continue
		}
		since := readySince(pod)
		if since.IsZero() {
			continue
		}
		after := since.Add(time.Duration(minReadySeconds)*time.Second).Sub(now) + time.Second
		next = minPositive(next, max(after, time.Second))
	}
	return next
}
