package statefulset

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/klog/v2"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/expectations"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/lifecycle"
)

// Event reasons (Kubernetes' and OpenKruise's).
const (
	reasonSuccessfulCreate           = "SuccessfulCreate"
	reasonFailedCreate               = "FailedCreate"
	reasonSuccessfulUpdate           = "SuccessfulUpdate"
	reasonFailedUpdate               = "FailedUpdate"
	reasonSuccessfulDelete           = "SuccessfulDelete"
	reasonFailedDelete               = "FailedDelete"
	reasonSuccessfulUpdatePodInPlace = "SuccessfulUpdatePodInPlace"
	reasonFailedUpdatePodInPlace     = "FailedUpdatePodInPlace"
)

// Messages of the FailedCreatePod and FailedUpdatePod conditions (whose
// reason Kubernetes leaves empty) and of in-place update errors.
const (
	messageFailedCreatePodCondition = "StatefulPodControl failed to create Pod error: %s"
	messageFailedUpdatePodCondition = "StatefulPodControl failed to update Pod error: %s"
	messageInPlaceOnlyNotPossible   = "find strategy is InPlaceOnly but Pod %s can not update in-place"
	messageInPlaceNotAllowedInState = "not allowed to in-place update pod %s in state %s"
)

// pass is one reconciliation of a StatefulSet's Pods, on what the caches
// held when the sync began.
//
// It goes as Kubernetes' StatefulSet controller goes, with OpenKruise's
// additions:
//
//  1. Every ordinal in range gets a Pod (with its claims created first). A
//     failed or succeeded Pod is deleted to be re-created. With
//     OrderedReady (monotonic) the pass stops at the first Pod it creates
//     or that is not Running, Ready and available, so Pods come up one at a
//     time in ordinal order; with Parallel it goes on, limited by
//     scaleStrategy.maxUnavailable when set.
//  2. Pods out of range (scaled away, reserved, below ordinals.start) are
//     condemned: their claims are handed over as the retention policy says,
//     then they are deleted, highest ordinal first and, with OrderedReady,
//     one at a time and only while every other Pod is healthy.
//  3. With the RollingUpdate strategy, Pods are moved to the update
//     revision from the highest ordinal down to the partition (or by
//     priority with unorderedUpdate), keeping at most maxUnavailable Pods
//     unavailable, by in-place update when possible and by deletion and
//     re-creation otherwise. OnDelete leaves that to the user.
type pass struct {
	c *Controller
	// set is the StatefulSet; currentSet and updateSet are it with the
	// template of the current and update revisions.
	set, currentSet, updateSet *appsv1beta1.StatefulSet
	current, update            *appsv1.ControllerRevision
	revisions                  []*appsv1.ControllerRevision

	now             time.Time
	minReadySeconds int32
	monotonic       bool

	rng ordinalRange
	// replicas[i] is the Pod with ordinal rng.ordinals[i], nil when missing.
	replicas []*corev1.Pod
	// planned[i] is the revision a missing replicas[i] is to be created at.
	planned []string
	// condemned are the Pods out of range, highest ordinal first.
	condemned []*corev1.Pod

	status  *appsv1beta1.StatefulSetStatus
	requeue time.Duration
	// refreshed names the Pods refreshed (or deleted) in this pass;
	// modified is set when a refresh wrote one, and the update then waits
	// for the next pass.
	refreshed map[string]bool
	modified  bool
	// createErr and updateErr become the FailedCreatePod and
	// FailedUpdatePod conditions.
	createErr, updateErr error
}

func (c *Controller) newPass(set *appsv1beta1.StatefulSet, selector labels.Selector, current, update *appsv1.ControllerRevision,
	collisionCount int32, revisions []*appsv1.ControllerRevision, pods []*corev1.Pod) (*pass, error) {
	currentSet, err := applyRevision(set, current)
	if err != nil {
		return nil, err
	}
	updateSet, err := applyRevision(set, update)
	if err != nil {
		return nil, err
	}
	p := &pass{
		c: c, set: set, currentSet: currentSet, updateSet: updateSet,
		current: current, update: update, revisions: revisions,
		now:             c.clock.Now(),
		minReadySeconds: minReadySecondsOf(set),
		monotonic:       set.Spec.PodManagementPolicy != appsv1beta1.ParallelPodManagement,
		rng:             newOrdinalRange(set),
		refreshed:       map[string]bool{},
		status: &appsv1beta1.StatefulSetStatus{
			ObservedGeneration: set.Generation,
			CurrentRevision:    current.Name,
			UpdateRevision:     update.Name,
			CollisionCount:     &collisionCount,
			LabelSelector:      selector.String(),
			Conditions:         append([]appsv1beta1.StatefulSetCondition(nil), set.Status.Conditions...),
		},
	}
	p.replicas = make([]*corev1.Pod, len(p.rng.ordinals))
	for _, pod := range pods {
		ordinal := ordinalOf(pod)
		if i := p.rng.index(ordinal); i >= 0 {
			p.replicas[i] = pod
		} else if ordinal >= 0 {
			p.condemned = append(p.condemned, pod)
		}
	}
	sort.SliceStable(p.condemned, func(i, j int) bool { return ordinalOf(p.condemned[i]) > ordinalOf(p.condemned[j]) })
	p.planRevisions()
	return p, nil
}

// planRevisions decides, lowest ordinal first, the revision of each
// missing Pod: the current revision for a Pod the partition keeps back,
// the update revision otherwise (and always with OnDelete).
func (p *pass) planRevisions() {
	p.planned = make([]string, len(p.replicas))
	set := p.currentSet
	ru := set.Spec.UpdateStrategy.RollingUpdate
	partition := 0
	if ru != nil && ru.Partition != nil {
		partition = int(*ru.Partition)
	}
	for i, pod := range p.replicas {
		if pod != nil {
			continue
		}
		current := false
		switch {
		case set.Spec.UpdateStrategy.Type == appsv1beta1.OnDeleteStatefulSetStrategyType:
		case ru == nil:
			current = p.rng.ordinals[i] < p.rng.start+int(set.Status.CurrentReplicas)
		case ru.UnorderedUpdate == nil:
			// The partition keeps the first partition Pods back.
			current = i+1 <= partition
		default:
			// The partition keeps partition Pods back, whichever they are.
			notUpdated := 0
			for j, other := range p.replicas {
				switch {
				case j == i:
				case other != nil && !isPodUpdated(other, p.update.Name):
					notUpdated++
				case other == nil && p.planned[j] != "" && p.planned[j] != p.update.Name:
					notUpdated++
				}
			}
			current = notUpdated < partition
		}
		if current {
			p.planned[i] = p.current.Name
		} else {
			p.planned[i] = p.update.Name
		}
	}
}

// run reconciles the Pods and leaves the status to write in p.status.
func (p *pass) run(ctx context.Context) error {
	p.countStatus()
	if p.set.DeletionTimestamp != nil {
		// Nothing but the status while the StatefulSet is being deleted.
		return nil
	}
	err := p.reconcile(ctx)
	p.setFailureCondition(appsv1beta1.FailedCreatePod, messageFailedCreatePodCondition, p.createErr)
	p.setFailureCondition(appsv1beta1.FailedUpdatePod, messageFailedUpdatePodCondition, p.updateErr)
	p.completeRollingUpdate()
	return err
}

func (p *pass) reconcile(ctx context.Context) error {
	logger := klog.FromContext(ctx)
	scaleMaxUnavailable, err := p.scaleMaxUnavailable()
	if err != nil {
		return err
	}

	// 1. The Pods in range.
	for i := range p.replicas {
		exit, stop, err := p.processReplica(ctx, i, scaleMaxUnavailable)
		if err != nil {
			return err
		}
		if exit && p.monotonic {
			return nil
		}
		if stop {
			break
		}
	}

	// 2. The condemned Pods: hand their claims over first.
	for _, pod := range p.condemned {
		if err := p.c.updateClaimOwners(ctx, p.set, pod, false); err != nil {
			return err
		}
	}
	first := p.firstUnhealthy()
	if first != nil {
		logger.V(4).Info("StatefulSet has unhealthy Pods", "statefulSet", klog.KObj(p.set), "pod", klog.KObj(first))
	}
	for _, pod := range p.condemned {
		exit, err := p.processCondemned(ctx, pod, first)
		if err != nil {
			return err
		}
		if exit && p.monotonic {
			return nil
		}
	}

	// 3. The rolling update, once every Pod's bookkeeping is up to date.
	for _, pod := range podsOf(p.replicas, p.condemned) {
		if err := p.refresh(ctx, pod); err != nil {
			return err
		}
	}
	if p.set.Spec.UpdateStrategy.Type == appsv1beta1.OnDeleteStatefulSetStrategyType {
		return nil
	}
	if err := p.rollingUpdate(ctx); err != nil {
		p.updateErr = err
		return err
	}
	return nil
}

// processReplica brings the Pod of replicas[i] into being and in line. exit
// stops a monotonic pass; stop ends the loop over the replicas (the scale
// maxUnavailable is used up) and goes on to the condemned Pods and the
// update.
func (p *pass) processReplica(ctx context.Context, i int, scaleMaxUnavailable *int) (exit, stop bool, err error) {
	logger := klog.FromContext(ctx)
	pod := p.replicas[i]
	if pod == nil {
		ordinal := p.rng.ordinals[i]
		stale, err := p.c.claimsStale(p.set, ordinal)
		if err != nil {
			return true, false, err
		}
		if stale {
			// The claims still belong to the Pod scaled away: wait for the
			// garbage collector to delete them (their deletion requeues).
			logger.V(4).Info("StatefulSet is waiting for a stale claim to be deleted", "statefulSet", klog.KObj(p.set),
				"pod", podName(p.set, ordinal))
			return true, false, nil
		}
		if err := p.createPod(ctx, i); err != nil {
			p.createErr = err
			return true, false, err
		}
		if p.monotonic {
			return true, false, nil
		}
		if decrement(scaleMaxUnavailable) {
			logger.V(4).Info("StatefulSet pod is Creating, and break pods scale", "statefulSet", klog.KObj(p.set),
				"pod", podName(p.set, ordinal))
			return false, true, nil
		}
		return false, false, nil
	}

	if isFailed(pod) || isSucceeded(pod) {
		// Deleted, to be re-created on a later pass, whatever its exit.
		if decrement(scaleMaxUnavailable) {
			return false, true, nil
		}
		if !isTerminating(pod) {
			if _, _, err := p.deletePod(ctx, pod); err != nil {
				return true, false, err
			}
		}
		return true, false, nil
	}

	if isPending(pod) {
		// The Pod may wait for a claim someone deleted.
		if err := p.c.createClaims(ctx, p.set, pod); err != nil {
			return true, false, err
		}
		if err := p.c.updateClaimOwners(ctx, p.set, pod, true); err != nil {
			return true, false, err
		}
	}

	if isTerminating(pod) {
		if p.monotonic {
			logger.V(4).Info("StatefulSet is waiting for Pod to Terminate", "statefulSet", klog.KObj(p.set), "pod", klog.KObj(pod))
			return true, false, nil
		}
		if decrement(scaleMaxUnavailable) {
			return false, true, nil
		}
		return false, false, nil
	}

	if err := p.refresh(ctx, pod); err != nil {
		return true, false, err
	}

	if p.monotonic || scaleMaxUnavailable != nil {
		available, wait := p.available(pod)
		if !available && p.monotonic {
			p.after(wait)
			logger.V(4).Info("StatefulSet is waiting for Pod to be Running, Ready and Available", "statefulSet", klog.KObj(p.set),
				"pod", klog.KObj(pod), "minReadySeconds", p.minReadySeconds)
			return true, false, nil
		}
		if !available && decrement(scaleMaxUnavailable) {
			p.after(wait)
			return false, true, nil
		}
	}

	// The invariants: identity, storage, claim ownership.
	if !identityMatches(p.set, pod) {
		if err := p.updateIdentity(ctx, pod); err != nil {
			p.updateErr = err
			return true, false, err
		}
	}
	if !storageMatches(p.set, pod) {
		// A Pod's volumes cannot change: create the claims a new
		// volumeClaimTemplate asks for; the Pod mounts them once re-created.
		if err := p.c.createClaims(ctx, p.set, pod); err != nil {
			p.updateErr = err
			return true, false, err
		}
	}
	if err := p.c.updateClaimOwners(ctx, p.set, pod, true); err != nil {
		p.updateErr = err
		return true, false, err
	}
	return false, false, nil
}

// processCondemned deletes a Pod out of range; exit stops a monotonic pass.
func (p *pass) processCondemned(ctx context.Context, pod, firstUnhealthy *corev1.Pod) (bool, error) {
	logger := klog.FromContext(ctx)
	if isTerminating(pod) {
		if p.monotonic {
			logger.V(4).Info("StatefulSet is waiting for Pod to Terminate prior to scale down",
				"statefulSet", klog.KObj(p.set), "pod", klog.KObj(pod))
			return true, nil
		}
		return false, nil
	}
	if p.monotonic && pod != firstUnhealthy {
		if !isRunningAndReady(pod) {
			logger.V(4).Info("StatefulSet is waiting for Pod to be Running and Ready prior to scale down",
				"statefulSet", klog.KObj(p.set), "pod", klog.KObj(firstUnhealthy))
			return true, nil
		}
		if available, wait := p.available(pod); !available {
			p.after(wait)
			logger.V(4).Info("StatefulSet is waiting for Pod to be Available prior to scale down",
				"statefulSet", klog.KObj(p.set), "pod", klog.KObj(firstUnhealthy))
			return true, nil
		}
	}
	logger.V(2).Info("Pod of StatefulSet is terminating for scale down", "statefulSet", klog.KObj(p.set), "pod", klog.KObj(pod))
	modified, _, err := p.deletePod(ctx, pod)
	if err != nil {
		return true, err
	}
	return p.monotonic && modified, nil
}

// firstUnhealthy returns the unhealthy Pod with the lowest ordinal, or nil.
func (p *pass) firstUnhealthy() *corev1.Pod {
	var first *corev1.Pod
	for _, pod := range podsOf(p.replicas, p.condemned) {
		if !isHealthy(pod) && (first == nil || ordinalOf(pod) < ordinalOf(first)) {
			first = pod
		}
	}
	return first
}

// rollingUpdate moves Pods to the update revision.
func (p *pass) rollingUpdate(ctx context.Context) error {
	logger := klog.FromContext(ctx)
	if p.modified {
		// Wait for the refreshed Pods to be in the cache.
		return nil
	}
	ru := p.set.Spec.UpdateStrategy.RollingUpdate
	maxUnavailable := 1
	if ru != nil {
		if ru.Paused {
			return nil
		}
		value := intstr.FromInt32(1)
		if ru.MaxUnavailable != nil {
			value = *ru.MaxUnavailable
		}
		n, err := intstr.GetScaledValueFromIntOrPercent(&value, int(replicasOf(p.set)), false)
		if err != nil {
			return err
		}
		maxUnavailable = max(n, 1)
	}

	// The Pods unavailable now: missing, unhealthy, in the middle of an
	// in-place update, or not yet ready for minReadySeconds.
	unavailable := map[string]bool{}
	for i, pod := range p.replicas {
		switch {
		case pod == nil:
			unavailable[podName(p.set, p.rng.ordinals[i])] = true
		case !isHealthy(pod):
			unavailable[pod.Name] = true
		case p.c.inPlace.completed(pod) != nil:
			unavailable[pod.Name] = true
		default:
			if available, wait := p.available(pod); !available {
				unavailable[pod.Name] = true
				p.after(wait)
			}
		}
	}

	// Pods specified for deletion go first, within maxUnavailable but
	// whatever the partition.
	specified, err := p.deleteSpecified(ctx, maxUnavailable, unavailable)
	if err != nil {
		return err
	}

	targets := p.podsToUpdate()
	logger.V(3).Info("Prepare to update pods indexes for StatefulSet", "statefulSet", klog.KObj(p.set),
		"pods", podNames(pick(p.replicas, targets)), "maxUnavailable", maxUnavailable)
	for _, i := range targets {
		pod := p.replicas[i]
		if pod == nil || podRevision(pod) == p.update.Name {
			continue
		}
		if len(unavailable) >= maxUnavailable && !unavailable[pod.Name] {
			logger.V(4).Info("StatefulSet was waiting for unavailable Pods to update, blocked pod", "statefulSet", klog.KObj(p.set),
				"unavailablePods", len(unavailable), "blockedPod", klog.KObj(pod))
			return nil
		}
		if specified[pod.Name] || isTerminating(pod) {
			continue
		}
		inPlace, err := p.updateInPlace(ctx, pod)
		if err != nil {
			return err
		}
		gone := inPlace
		if !inPlace {
			logger.V(2).Info("StatefulSet terminating Pod for update", "statefulSet", klog.KObj(p.set), "pod", klog.KObj(pod))
			_, deleting, err := p.deletePod(ctx, pod)
			if err != nil {
				return err
			}
			gone = deleting
		}
		unavailable[pod.Name] = true
		if gone && podRevision(pod) == p.current.Name {
			p.status.CurrentReplicas--
		}
	}
	return nil
}

// deleteSpecified deletes the Pods labelled apps.kruise.io/specified-delete,
// highest ordinal first, an available one only while fewer than
// maxUnavailable Pods are unavailable.
func (p *pass) deleteSpecified(ctx context.Context, maxUnavailable int, unavailable map[string]bool) (map[string]bool, error) {
	specified := map[string]bool{}
	for i := len(p.replicas) - 1; i >= 0; i-- {
		pod := p.replicas[i]
		if pod == nil || !isSpecifiedDelete(pod) {
			continue
		}
		if len(unavailable) >= maxUnavailable && !unavailable[pod.Name] {
			continue
		}
		specified[pod.Name] = true
		if isTerminating(pod) {
			continue
		}
		_, deleting, err := p.deletePod(ctx, pod)
		if err != nil {
			return specified, err
		}
		if deleting {
			switch podRevision(pod) {
			case p.current.Name:
				p.status.CurrentReplicas--
			case p.update.Name:
				p.status.UpdatedReplicas--
			}
		}
		unavailable[pod.Name] = true
	}
	return specified, nil
}

// podsToUpdate returns the indexes of the replicas the update may touch, in
// the order to update them: without unorderedUpdate the Pods from the
// highest ordinal down, with it the Pods already updated or on their way
// (they count against the budget) and then the others by priority; in both
// cases no more than replicas-partition of them.
func (p *pass) podsToUpdate() []int {
	ru := p.set.Spec.UpdateStrategy.RollingUpdate
	partition := 0
	if ru != nil && ru.Partition != nil {
		partition = int(*ru.Partition)
	}
	maxUpdate := int(replicasOf(p.set)) - partition
	if maxUpdate <= 0 {
		return nil
	}
	var out []int
	if ru == nil || ru.UnorderedUpdate == nil {
		// The last replicas-partition positions: their ordinals are all at
		// least start+partition, as Kubernetes requires, since reserved
		// ordinals only push ordinals up.
		for i := len(p.replicas) - 1; i >= 0 && len(out) < maxUpdate; i-- {
			out = append(out, i)
		}
		return out
	}
	var waiting []int
	for i := len(p.replicas) - 1; i >= 0; i-- {
		pod := p.replicas[i]
		if pod == nil || isTerminating(pod) || isPodUpdated(pod, p.update.Name) {
			out = append(out, i)
		} else {
			waiting = append(waiting, i)
		}
	}
	sortByPriority(ru.UnorderedUpdate.PriorityStrategy, p.replicas, waiting)
	out = append(out, waiting...)
	if len(out) > maxUpdate {
		out = out[:maxUpdate]
	}
	return out
}

// updateInPlace tries to update the Pod in place, for the InPlace* pod
// update policies; false means it must be re-created. The in-place update
// lifecycle hook is honoured as OpenKruise does: a hooked Pod goes to
// PreparingUpdate and waits there until the hook lets it go.
func (p *pass) updateInPlace(ctx context.Context, pod *corev1.Pod) (bool, error) {
	ru := p.set.Spec.UpdateStrategy.RollingUpdate
	if ru == nil || (ru.PodUpdatePolicy != appsv1beta1.InPlaceIfPossiblePodUpdateStrategyType &&
		ru.PodUpdatePolicy != appsv1beta1.InPlaceOnlyPodUpdateStrategyType) {
		return false, nil
	}
	var old *appsv1.ControllerRevision
	for _, r := range p.revisions {
		if r.Name == podRevision(pod) {
			old = r
			break
		}
	}
	opts := p.inPlaceOptions()
	if p.c.inPlace.canUpdateInPlace(old, p.update, opts) {
		hook := p.inPlaceUpdateHook()
		state := podLifecycleState(pod)
		switch state {
		case "", statePreparingNormal, stateNormal:
			if lifecycle.IsPodHooked(hook, pod) {
				_, written, err := p.c.lifecycle.UpdatePodLifecycle(ctx, pod, statePreparingUpdate, hook.MarkPodNotReady)
				p.expect(written)
				return true, err
			}
		case stateUpdated:
			// Updated in place before, its hook not yet satisfied again:
			// arm the hook again (nothing to do without one).
			_, written, err := p.c.lifecycle.UpdatePodLifecycleWithHandler(ctx, pod, statePreparingUpdate, hook)
			p.expect(written)
			return true, err
		case statePreparingUpdate:
			if lifecycle.IsPodHooked(hook, pod) {
				return true, nil
			}
		case stateUpdating:
		default:
			return true, fmt.Errorf(messageInPlaceNotAllowedInState, pod.Name, state)
		}
		if state != "" {
			opts.Mutations = append(opts.Mutations, lifecycle.SetState(stateUpdating, p.c.clock.Now()))
		}
		res := p.c.inPlace.update(ctx, pod, old, p.update, opts)
		if res.InPlace {
			p.after(res.After)
			p.expect(res.Written)
			if res.Err != nil {
				p.c.recorder.Eventf(p.set, corev1.EventTypeWarning, reasonFailedUpdatePodInPlace,
					"failed to update pod %s in-place(revision %v): %v", pod.Name, p.update.Name, res.Err)
				return true, res.Err
			}
			p.c.recorder.Eventf(p.set, corev1.EventTypeNormal, reasonSuccessfulUpdatePodInPlace,
				"successfully update pod %s in-place(revision %v)", pod.Name, p.update.Name)
			return true, nil
		}
	}
	if ru.PodUpdatePolicy == appsv1beta1.InPlaceOnlyPodUpdateStrategyType {
		return false, fmt.Errorf(messageInPlaceOnlyNotPossible, pod.Name)
	}
	return false, nil
}

func (p *pass) inPlaceOptions() inPlaceOptions {
	var opts inPlaceOptions
	if ru := p.set.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.InPlaceUpdateStrategy != nil {
		opts.GracePeriodSeconds = ru.InPlaceUpdateStrategy.GracePeriodSeconds
	}
	return opts
}

// refresh brings a Pod's bookkeeping up to date, once per pass: in-place
// updates in progress and the InPlaceUpdateReady and KruisePodReady
// conditions, then the lifecycle state (PreparingNormal to Normal once the
// preNormal hook is met; the in-place update states to Updated or Normal
// once the update is done and its hook allows). A lifecycle change makes
// the update wait for the next pass.
func (p *pass) refresh(ctx context.Context, pod *corev1.Pod) error {
	if p.refreshed[pod.Name] {
		return nil
	}
	p.refreshed[pod.Name] = true
	written, after, err := p.c.inPlace.refresh(ctx, pod, p.inPlaceOptions())
	p.after(after)
	if isNotFoundOrGone(err) || apierrors.IsConflict(err) {
		// Gone, or changed since the cache saw it: its next version comes
		// with an event.
		return nil
	}
	if err != nil {
		klog.FromContext(ctx).Error(err, "StatefulSet failed to update pod condition for inplace",
			"statefulSet", klog.KObj(p.set), "pod", klog.KObj(pod))
		return err
	}
	if written != nil {
		// A condition: the pass goes on (later writes of the Pod retry on
		// conflict), the next one waits for the cache.
		p.expect(written)
		pod = written
	}

	// OpenKruise's pod-readiness controller: the KruisePodReady gate needs
	// its condition.
	written, err = p.c.lifecycle.EnsureReadyCondition(ctx, pod)
	if isNotFoundOrGone(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("setting the %s condition of Pod %s: %w", KruisePodReady, pod.Name, err)
	}
	if written != nil {
		// A condition: the pass goes on (later writes of the Pod retry on
		// conflict), the next one waits for the cache.
		p.expect(written)
		pod = written
	}

	lc := p.set.Spec.Lifecycle
	hook := p.inPlaceUpdateHook()
	afterUpdate := stateNormal
	if lc != nil && !lifecycle.IsPodAllHooked(hook, pod) {
		afterUpdate = stateUpdated
	}
	var state lifecycleState
	switch podLifecycleState(pod) {
	case statePreparingNormal:
		if lc == nil || lc.PreNormal == nil || lifecycle.IsPodAllHooked(lc.PreNormal, pod) {
			state = stateNormal
		}
	case statePreparingUpdate:
		// Rolled back while waiting for the hook: nothing to update.
		if podRevision(pod) == p.update.Name {
			state = afterUpdate
		}
	case stateUpdating:
		if p.c.inPlace.completed(pod) == nil {
			state = afterUpdate
		}
	case stateUpdated:
		if hook == nil || lifecycle.IsPodAllHooked(hook, pod) {
			state = stateNormal
		}
	}
	if state == "" {
		return nil
	}
	changed, written, err := p.c.lifecycle.UpdatePodLifecycle(ctx, pod, state, lifecycle.IsMarkPodNotReady(hook))
	p.expect(written)
	if changed || written != nil {
		p.modified = true
	}
	if err != nil && !isNotFoundOrGone(err) {
		return fmt.Errorf("moving Pod %s to lifecycle state %s: %w", pod.Name, state, err)
	}
	return nil
}

func (p *pass) inPlaceUpdateHook() *appsv1beta1.LifecycleHook {
	if p.set.Spec.Lifecycle == nil {
		return nil
	}
	return p.set.Spec.Lifecycle.InPlaceUpdate
}

// expect records a write of a Pod (nil: none).
func (p *pass) expect(written *corev1.Pod) {
	if written != nil {
		p.c.versionExpectations.Expect(written)
	}
}

// createPod creates the claims, then the Pod, of replicas[i].
func (p *pass) createPod(ctx context.Context, i int) error {
	ordinal := p.rng.ordinals[i]
	revisionSet := p.updateSet
	if p.planned[i] == p.current.Name {
		revisionSet = p.currentSet
	}
	pod := newPod(revisionSet, p.planned[i], ordinal, p.now)
	if err := p.c.createClaims(ctx, p.set, pod); err != nil {
		p.c.recordPodEvent("create", p.set, pod, err)
		return err
	}
	key := keyOf(p.set)
	p.c.scaleExpectations.Expect(key, expectations.Create, pod.Name)
	created, err := p.c.kubeClient.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		p.c.scaleExpectations.Observe(key, expectations.Create, pod.Name)
		if !isAlreadyExists(err) {
			p.c.recordPodEvent("create", p.set, pod, err)
		}
		return err
	}
	p.c.recordPodEvent("create", p.set, pod, nil)
	// Claims that were already there (retained) get the owners the
	// retention policy wants.
	return p.c.updateClaimOwners(ctx, p.set, created, true)
}

// deletePod deletes the Pod, or, when the preDelete hook holds it, moves it
// to PreparingDelete. modified reports a write, deleting a deletion.
func (p *pass) deletePod(ctx context.Context, pod *corev1.Pod) (modified, deleting bool, err error) {
	if lc := p.set.Spec.Lifecycle; lc != nil && lifecycle.IsPodHooked(lc.PreDelete, pod) {
		changed, written, err := p.c.lifecycle.UpdatePodLifecycle(ctx, pod, statePreparingDelete, lc.PreDelete.MarkPodNotReady)
		p.expect(written)
		if isNotFoundOrGone(err) {
			return false, false, nil
		}
		if changed {
			klog.FromContext(ctx).V(3).Info("StatefulSet scaling update pod lifecycle to PreparingDelete",
				"statefulSet", klog.KObj(p.set), "pod", klog.KObj(pod))
		}
		return changed, false, err
	}
	key := keyOf(p.set)
	p.c.scaleExpectations.Expect(key, expectations.Delete, pod.Name)
	err = p.c.kubeClient.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: &pod.UID},
	})
	if err != nil {
		p.c.scaleExpectations.Observe(key, expectations.Delete, pod.Name)
		if isNotFoundOrGone(err) {
			p.refreshed[pod.Name] = true
			return true, true, nil
		}
		p.c.recordPodEvent("delete", p.set, pod, err)
		return false, false, err
	}
	p.refreshed[pod.Name] = true
	p.c.recordPodEvent("delete", p.set, pod, nil)
	return true, true, nil
}

// updateIdentity puts the identity labels back on a Pod.
func (p *pass) updateIdentity(ctx context.Context, pod *corev1.Pod) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": map[string]string{
		PodNameLabel:  pod.Name,
		PodIndexLabel: strconv.Itoa(ordinalOf(pod)),
	}}})
	if err != nil {
		return err
	}
	patched, err := p.c.kubeClient.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	if isNotFoundOrGone(err) {
		return nil
	}
	p.c.recordPodEvent("update", p.set, pod, err)
	if err != nil {
		return err
	}
	p.c.versionExpectations.Expect(patched)
	return nil
}

func (p *pass) available(pod *corev1.Pod) (bool, time.Duration) {
	return isRunningAndAvailable(pod, p.minReadySeconds, p.now)
}

// after asks for another pass within d.
func (p *pass) after(d time.Duration) {
	p.requeue = minPositive(p.requeue, d)
}

// scaleMaxUnavailable returns scaleStrategy.maxUnavailable as a number of
// Pods (percentages round down, at least 1), nil when unset.
func (p *pass) scaleMaxUnavailable() (*int, error) {
	ss := p.set.Spec.ScaleStrategy
	if ss == nil || ss.MaxUnavailable == nil {
		return nil, nil
	}
	n, err := intstr.GetScaledValueFromIntOrPercent(ss.MaxUnavailable, int(replicasOf(p.set)), false)
	if err != nil {
		return nil, err
	}
	n = max(n, 1)
	return &n, nil
}

// decrement takes one from the budget and reports whether it is used up.
func decrement(budget *int) bool {
	if budget == nil {
		return false
	}
	*budget--
	return *budget <= 0
}

func pick(pods []*corev1.Pod, indexes []int) []*corev1.Pod {
	out := make([]*corev1.Pod, 0, len(indexes))
	for _, i := range indexes {
		out = append(out, pods[i])
	}
	return out
}

// recordPodEvent records Kubernetes' event for a Pod create, update or
// delete: Successful<Verb> or Failed<Verb>.
func (c *Controller) recordPodEvent(verb string, set *appsv1beta1.StatefulSet, pod *corev1.Pod, err error) {
	if err == nil {
		c.recorder.Eventf(set, corev1.EventTypeNormal, successReason(verb), "%s Pod %s in StatefulSet %s successful",
			verb, pod.Name, set.Name)
		return
	}
	c.recorder.Eventf(set, corev1.EventTypeWarning, failureReason(verb), "%s Pod %s in StatefulSet %s failed error: %s",
		verb, pod.Name, set.Name, err)
}

// recordClaimEvent records Kubernetes' event for a claim created for a Pod.
func (c *Controller) recordClaimEvent(verb string, set *appsv1beta1.StatefulSet, pod *corev1.Pod, claim *corev1.PersistentVolumeClaim, err error) {
	if err == nil {
		c.recorder.Eventf(set, corev1.EventTypeNormal, successReason(verb), "%s Claim %s Pod %s in StatefulSet %s success",
			verb, claim.Name, pod.Name, set.Name)
		return
	}
	c.recorder.Eventf(set, corev1.EventTypeWarning, failureReason(verb), "%s Claim %s for Pod %s in StatefulSet %s failed error: %s",
		verb, claim.Name, pod.Name, set.Name, err)
}

func successReason(verb string) string {
	switch verb {
	case "create":
		return reasonSuccessfulCreate
	case "update":
		return reasonSuccessfulUpdate
	default:
		return reasonSuccessfulDelete
	}
}

func failureReason(verb string) string {
	switch verb {
	case "create":
		return reasonFailedCreate
	case "update":
		return reasonFailedUpdate
	default:
		return reasonFailedDelete
	}
}
