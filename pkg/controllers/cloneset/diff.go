package cloneset

import (
	"fmt"
	"math"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

// strategy is the CloneSet's update and scale strategy in Pod counts.
type strategy struct {
	replicas int
	// partition is how many Pods stay at old revisions.
	partition int
	// maxSurge is how many Pods may exist above replicas during an update
	// (0 while paused).
	maxSurge int
	// maxUnavailable is how many Pods may be unavailable during an update.
	maxUnavailable int
	// scaleMaxUnavailable is how many Pods may be unavailable for scale-out
	// to go on (unlimited when unset).
	scaleMaxUnavailable int
}

func replicasOf(cs *appsv1beta1.CloneSet) int {
	if cs.Spec.Replicas == nil {
		return 1
	}
	return int(*cs.Spec.Replicas)
}

// partitionOf returns the partition in Pods: a percentage of replicas
// rounded up, but at least one Pod updated when the percentage is below
// 100% and there is more than one replica; within [0, replicas].
func partitionOf(cs *appsv1beta1.CloneSet) (int, error) {
	replicas := replicasOf(cs)
	ru := cs.Spec.UpdateStrategy.RollingUpdate
	if ru == nil || ru.Partition == nil {
		return 0, nil
	}
	p, err := intstr.GetScaledValueFromIntOrPercent(ru.Partition, replicas, true)
	if err != nil {
		return 0, fmt.Errorf("invalid partition %s: %w", ru.Partition.String(), err)
	}
	if replicas > 1 && p == replicas && ru.Partition.Type == intstr.String && ru.Partition.StrVal != "100%" {
		p = replicas - 1
	}
	return min(max(p, 0), replicas), nil
}

func strategyOf(cs *appsv1beta1.CloneSet) strategy {
	s := strategy{replicas: replicasOf(cs)}
	defaultMaxUnavailable := intstr.FromString(appsv1beta1.DefaultCloneSetMaxUnavailable)
	if ru := cs.Spec.UpdateStrategy.RollingUpdate; ru != nil {
		// An invalid partition (validation prevents it) updates everything.
		s.partition, _ = partitionOf(cs)
		if ru.MaxSurge != nil && !ru.Paused {
			s.maxSurge, _ = intstr.GetScaledValueFromIntOrPercent(ru.MaxSurge, s.replicas, true)
		}
		maxUnavailable := ru.MaxUnavailable
		if maxUnavailable == nil {
			maxUnavailable = &defaultMaxUnavailable
		}
		// Rounded down when surging, up otherwise, so that the two are
		// never both 0 from percentages.
		s.maxUnavailable, _ = intstr.GetScaledValueFromIntOrPercent(maxUnavailable, s.replicas, s.maxSurge == 0)
	} else {
		s.maxUnavailable, _ = intstr.GetScaledValueFromIntOrPercent(&defaultMaxUnavailable, s.replicas, false)
	}
	s.scaleMaxUnavailable = math.MaxInt32
	if cs.Spec.ScaleStrategy.MaxUnavailable != nil {
		s.scaleMaxUnavailable, _ = intstr.GetScaledValueFromIntOrPercent(cs.Spec.ScaleStrategy.MaxUnavailable, s.replicas, true)
	}
	return s
}

// diffs is what a sync has to do, in Pods.
type diffs struct {
	// scaleUpNum Pods are missing; scaleUpNumOldRevision of them (which may
	// be more than scaleUpNum) should be at the current revision.
	scaleUpNum, scaleUpNumOldRevision int
	// scaleDownNum Pods are too many, not counting those already specified
	// for deletion; scaleDownNumOldRevision of them (may be more) are old.
	scaleDownNum, scaleDownNumOldRevision int
	// scaleUpLimit is how many Pods may be created now (scaleStrategy.maxUnavailable).
	scaleUpLimit int
	// deleteReadyLimit is how many ready Pods may be deleted now
	// (updateStrategy maxUnavailable).
	deleteReadyLimit int
	// useSurge Pods above replicas are wanted now, useSurgeOldRevision of
	// them at the current revision.
	useSurge, useSurgeOldRevision int
	// updateNum Pods should move to the update revision (negative: back
	// to the current one, which only partition rollback does).
	updateNum int
	// updateMaxUnavailable is how many Pods may be unavailable while updating.
	updateMaxUnavailable int
}

func (d diffs) String() string {
	return fmt.Sprintf("scaleUp=%d(old %d, limit %d) scaleDown=%d(old %d) deleteReadyLimit=%d surge=%d(old %d) update=%d(maxUnavailable %d)",
		d.scaleUpNum, d.scaleUpNumOldRevision, d.scaleUpLimit, d.scaleDownNum, d.scaleDownNumOldRevision,
		d.deleteReadyLimit, d.useSurge, d.useSurgeOldRevision, d.updateNum, d.updateMaxUnavailable)
}

// podCounts counts the Pods of one side (updated or not) of a CloneSet.
type podCounts struct {
	total       int
	active      int // not PreparingDelete
	preDeleting int // PreparingDelete
	toDelete    int // active and specified for deletion
	unavailable int // active, not specified for deletion, not available
}

// calculateDiffs is OpenKruise's CloneSet arithmetic: from the Pods and the
// strategy, how many Pods to create, delete and update, and within which
// limits. isUpdated says which Pods count as at the update revision.
func calculateDiffs(cs *appsv1beta1.CloneSet, pods []*corev1.Pod, isUpdated func(*corev1.Pod) bool, now time.Time) diffs {
	s := strategyOf(cs)
	var d diffs
	var newCounts, oldCounts podCounts
	for _, pod := range pods {
		counts := &oldCounts
		if isUpdated(pod) {
			counts = &newCounts
		}
		counts.total++
		if podLifecycleState(pod) == statePreparingDelete {
			counts.preDeleting++
			continue
		}
		counts.active++
		switch {
		case isSpecifiedDelete(cs, pod):
			counts.toDelete++
		case !isPodAvailable(pod, cs.Spec.MinReadySeconds, now):
			counts.unavailable++
		}
	}

	// How far each side is from what partition asks: positive updateOldDiff
	// is old Pods to update, negative updateNewDiff is new Pods missing.
	updateOldDiff := oldCounts.active - s.partition
	updateNewDiff := newCounts.active - (s.replicas - s.partition)
	totalUnavailable := newCounts.preDeleting + oldCounts.preDeleting + newCounts.unavailable + oldCounts.unavailable
	// Without partition rollback (OpenKruise's CloneSetPartitionRollback,
	// off by default) Pods only ever move to the update revision.
	updateOldDiff = max(updateOldDiff, 0)
	updateNewDiff = min(updateNewDiff, 0)

	if s.maxSurge > 0 {
		// Surge to make up for Pods specified for deletion beyond what
		// maxUnavailable allows...
		var scaleSurge, scaleOldSurge int
		if toDelete := newCounts.toDelete + oldCounts.toDelete; toDelete > 0 {
			scaleSurge = min(max(totalUnavailable+toDelete-s.maxUnavailable, 0), toDelete)
			if scaleSurge > newCounts.toDelete {
				scaleOldSurge = scaleSurge - newCounts.toDelete
			}
		}
		// ...or to update with Pods of the new revision created first.
		var updateSurge, updateOldSurge int
		if (updateOldDiff > 0 && updateNewDiff < 0) || (updateOldDiff < 0 && updateNewDiff > 0) {
			if abs(updateOldDiff) <= abs(updateNewDiff) {
				updateSurge = abs(updateOldDiff)
				if updateOldDiff < 0 {
					updateOldSurge = updateSurge
				}
			} else {
				updateSurge = abs(updateNewDiff)
				if updateNewDiff > 0 {
					updateOldSurge = updateSurge
				}
			}
		}
		// A sync scales or updates, never both: surge for the larger need.
		if scaleSurge >= updateSurge {
			d.useSurge = min(s.maxSurge, scaleSurge)
			d.useSurgeOldRevision = min(d.useSurge, scaleOldSurge)
		} else {
			d.useSurge = min(s.maxSurge, updateSurge)
			d.useSurgeOldRevision = min(d.useSurge, updateOldSurge)
		}
	}

	currentTotal := len(pods)
	currentOld := oldCounts.total
	if excludesPreparingDelete(cs) {
		currentTotal -= newCounts.preDeleting + oldCounts.preDeleting
		currentOld -= oldCounts.preDeleting
	}
	expectedTotal := s.replicas + d.useSurge
	expectedOld := s.partition + d.useSurgeOldRevision

	if n := expectedTotal - currentTotal; n > 0 {
		d.scaleUpNum = n
		d.scaleUpNumOldRevision = max(expectedOld-currentOld, 0)
		d.scaleUpLimit = min(n, max(s.scaleMaxUnavailable-totalUnavailable, 0))
	}
	if n := currentTotal - oldCounts.toDelete - newCounts.toDelete - expectedTotal; n > 0 {
		d.scaleDownNum = n
		d.scaleDownNumOldRevision = max(currentOld-oldCounts.toDelete-expectedOld, 0)
	}
	if newCounts.toDelete > 0 || oldCounts.toDelete > 0 || d.scaleDownNum > 0 {
		d.deleteReadyLimit = max(s.maxUnavailable+(len(pods)-s.replicas)-totalUnavailable, 0)
	}

	if abs(updateOldDiff) <= abs(updateNewDiff) {
		d.updateNum = updateOldDiff
	} else {
		d.updateNum = -updateNewDiff
	}
	if d.updateNum != 0 {
		d.updateMaxUnavailable = s.maxUnavailable + len(pods) - s.replicas
	}
	return d
}

// isSpecifiedDelete reports whether the Pod is to be deleted: labelled
// apps.kruise.io/specified-delete or named in scaleStrategy.podsToDelete.
func isSpecifiedDelete(cs *appsv1beta1.CloneSet, pod *corev1.Pod) bool {
	if _, ok := pod.Labels[SpecifiedDeleteLabel]; ok {
		return true
	}
	for _, name := range cs.Spec.ScaleStrategy.PodsToDelete {
		if name == pod.Name {
			return true
		}
	}
	return false
}

// excludesPreparingDelete reports whether Pods in PreparingDelete are left
// out of the replica count when scaling.
func excludesPreparingDelete(cs *appsv1beta1.CloneSet) bool {
	return cs.Spec.ScaleStrategy.ExcludePreparingDelete || cs.Labels[ScalingExcludePreparingDeleteLabel] == "true"
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
