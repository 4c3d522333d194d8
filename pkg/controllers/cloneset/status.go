package cloneset

import (
	"context"
	"fmt"
	"math"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/klog/v2"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

// Reasons of the Progressing condition (OpenKruise's).
const (
	reasonProgressDeadlineExceeded   = "ProgressDeadlineExceeded"
	reasonProgressPaused             = "CloneSetPaused"
	reasonProgressUpdated            = "CloneSetUpdated"
	reasonProgressPartitionAvailable = "ProgressPartitionAvailable"
	reasonProgressAvailable          = "CloneSetAvailable"
)

// calculateStatus counts the Pods into the status, which already holds the
// revisions, observedGeneration, collisionCount, labelSelector and the
// conditions. It returns when the status should be computed again (the
// Progressing deadline), or 0.
func (c *Controller) calculateStatus(cs *appsv1beta1.CloneSet, status *appsv1beta1.CloneSetStatus, pods []*corev1.Pod) time.Duration {
	now := c.clock.Now()
	status.Replicas, status.ReadyReplicas, status.AvailableReplicas = 0, 0, 0
	status.UpdatedReplicas, status.UpdatedReadyReplicas, status.UpdatedAvailableReplicas = 0, 0, 0
	for _, pod := range pods {
		updated := isAtRevision(pod, status.UpdateRevision)
		ready := isPodUpdateReady(pod, 0, now)
		available := isPodAvailable(pod, cs.Spec.MinReadySeconds, now)
		status.Replicas++
		if ready {
			status.ReadyReplicas++
		}
		if available {
			status.AvailableReplicas++
		}
		if updated {
			status.UpdatedReplicas++
			if ready {
				status.UpdatedReadyReplicas++
			}
			if available {
				status.UpdatedAvailableReplicas++
			}
		}
	}
	replicas := int32(replicasOf(cs))
	// All the Pods at the update revision, as many as wanted: it is now the
	// current revision, whether they are ready or not.
	if status.UpdatedReplicas == status.Replicas && status.Replicas == replicas {
		status.CurrentRevision = status.UpdateRevision
	}
	status.ExpectedUpdatedReplicas = replicas
	if ru := cs.Spec.UpdateStrategy.RollingUpdate; ru != nil {
		if partition, err := partitionOf(cs); err == nil {
			status.ExpectedUpdatedReplicas = replicas - int32(partition)
		}
	}
	return c.calculateProgressing(cs, status, now)
}

// calculateProgressing maintains the Progressing condition when
// progressDeadlineSeconds is set (and removes it otherwise).
func (c *Controller) calculateProgressing(cs *appsv1beta1.CloneSet, status *appsv1beta1.CloneSetStatus, now time.Time) time.Duration {
	if cs.Spec.ProgressDeadlineSeconds == nil || *cs.Spec.ProgressDeadlineSeconds == math.MaxInt32 {
		removeCondition(status, appsv1beta1.CloneSetConditionTypeProgressing)
		return 0
	}
	replicas := int32(replicasOf(cs))
	paused := cs.Spec.UpdateStrategy.RollingUpdate != nil && cs.Spec.UpdateStrategy.RollingUpdate.Paused
	deadline := time.Duration(*cs.Spec.ProgressDeadlineSeconds) * time.Second
	set := func(s corev1.ConditionStatus, reason, message string) {
		setCondition(status, appsv1beta1.CloneSetCondition{
			Type: appsv1beta1.CloneSetConditionTypeProgressing, Status: s, Reason: reason, Message: message,
			LastUpdateTime: metav1.NewTime(now), LastTransitionTime: metav1.NewTime(now),
		})
	}
	switch {
	case status.CurrentRevision == status.UpdateRevision && status.Replicas == replicas &&
		status.UpdatedReplicas == replicas && status.UpdatedAvailableReplicas == replicas:
		set(corev1.ConditionTrue, reasonProgressAvailable, "CloneSet is available")
	case paused:
		set(corev1.ConditionTrue, reasonProgressPaused, "CloneSet is paused")
	case status.ExpectedUpdatedReplicas < replicas && status.ExpectedUpdatedReplicas <= status.UpdatedAvailableReplicas:
		set(corev1.ConditionTrue, reasonProgressPartitionAvailable, "CloneSet has been paused due to partition ready")
	default:
		// The deadline runs from when the rollout started (the condition
		// became CloneSetUpdated); once exceeded, it stays so until the
		// CloneSet is available, paused or at its partition.
		cond := getCondition(*status, appsv1beta1.CloneSetConditionTypeProgressing)
		if cond != nil && (cond.Reason == reasonProgressDeadlineExceeded ||
			(cond.Reason == reasonProgressUpdated && cond.LastUpdateTime.Add(deadline).Before(now))) {
			set(corev1.ConditionFalse, reasonProgressDeadlineExceeded,
				fmt.Sprintf("CloneSet revision %s has timed out progressing", status.UpdateRevision))
			return 0
		}
		set(corev1.ConditionTrue, reasonProgressUpdated, "CloneSet is progressing")
		cond = getCondition(*status, appsv1beta1.CloneSetConditionTypeProgressing)
		after := cond.LastUpdateTime.Add(deadline).Sub(now)
		if after < time.Second {
			return max(after, time.Millisecond)
		}
		return after + time.Second
	}
	return 0
}

func getCondition(status appsv1beta1.CloneSetStatus, t appsv1beta1.CloneSetConditionType) *appsv1beta1.CloneSetCondition {
	for i := range status.Conditions {
		if status.Conditions[i].Type == t {
			return &status.Conditions[i]
		}
	}
	return nil
}

// setCondition sets a condition. When one of the type exists with the same
// status and reason it is kept (message and times too, so that an unchanged
// condition does not cause a write), except that the Progressing
// condition's lastUpdateTime moves; with the same status only, its
// lastTransitionTime is kept.
func setCondition(status *appsv1beta1.CloneSetStatus, cond appsv1beta1.CloneSetCondition) {
	for i := range status.Conditions {
		existing := &status.Conditions[i]
		if existing.Type != cond.Type {
			continue
		}
		if existing.Status == cond.Status && existing.Reason == cond.Reason {
			return
		}
		if existing.Status == cond.Status {
			cond.LastTransitionTime = existing.LastTransitionTime
		}
		*existing = cond
		return
	}
	status.Conditions = append(status.Conditions, cond)
}

func removeCondition(status *appsv1beta1.CloneSetStatus, t appsv1beta1.CloneSetConditionType) {
	out := status.Conditions[:0:0]
	for _, c := range status.Conditions {
		if c.Type != t {
			out = append(out, c)
		}
	}
	status.Conditions = out
}

// updateStatus writes the status when it differs from the CloneSet's,
// retrying conflicts on a fresh copy.
func (c *Controller) updateStatus(ctx context.Context, cs *appsv1beta1.CloneSet, status *appsv1beta1.CloneSetStatus) error {
	if apiequality.Semantic.DeepEqual(cs.Status, *status) {
		return nil
	}
	klog.FromContext(ctx).V(2).Info("Updating CloneSet status", "cloneSet", klog.KObj(cs),
		"replicas", status.Replicas, "ready", status.ReadyReplicas, "available", status.AvailableReplicas,
		"updated", status.UpdatedReplicas, "updatedReady", status.UpdatedReadyReplicas,
		"currentRevision", status.CurrentRevision, "updateRevision", status.UpdateRevision)
	client := c.kruiseClient.AppsV1beta1().CloneSets(cs.Namespace)
	current := cs
	return retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		clone := current.DeepCopy()
		clone.Status = *status
		_, err := client.UpdateStatus(ctx, clone, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			fresh, getErr := client.Get(ctx, cs.Name, metav1.GetOptions{})
			if getErr != nil {
				return getErr
			}
			if fresh.UID != cs.UID {
				return nil
			}
			current = fresh
		}
		return err
	})
}
