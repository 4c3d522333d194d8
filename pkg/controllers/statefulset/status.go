package statefulset

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/klog/v2"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

// countStatus counts the Pods the pass found into the status, as OpenKruise
// counts them: every Pod in replicas; Running and Ready ones in
// readyReplicas; those also Normal and ready for minReadySeconds in
// availableReplicas; and, of the Pods not being deleted, those at the
// current and update revisions in currentReplicas and updatedReplicas. It
// also counts the claims into volumeClaims.
func (p *pass) countStatus() {
	s := p.status
	s.Replicas, s.ReadyReplicas, s.AvailableReplicas, s.CurrentReplicas = 0, 0, 0, 0
	s.UpdatedReplicas, s.UpdatedReadyReplicas, s.UpdatedAvailableReplicas = 0, 0, 0
	p.countVolumeClaims()
	for _, pod := range podsOf(p.replicas, p.condemned) {
		s.Replicas++
		revision := podRevision(pod)
		if isRunningAndReady(pod) {
			s.ReadyReplicas++
			available, _ := p.available(pod)
			if available {
				s.AvailableReplicas++
			}
			if revision == p.update.Name {
				s.UpdatedReadyReplicas++
				if available {
					s.UpdatedAvailableReplicas++
				}
			}
		}
		if !isTerminating(pod) {
			if revision == p.current.Name {
				s.CurrentReplicas++
			}
			if revision == p.update.Name {
				s.UpdatedReplicas++
			}
		}
	}
}

// countVolumeClaims reports, per volumeClaimTemplate, how many claims of
// the ordinals in range are compatible with the template (same storage
// class and access modes, requesting at least its storage) and, of those,
// ready (their capacity has reached their request), as OpenKruise does.
func (p *pass) countVolumeClaims() {
	templates := p.set.Spec.VolumeClaimTemplates
	if len(templates) == 0 {
		p.status.VolumeClaims = nil
		return
	}
	out := make([]appsv1beta1.VolumeClaimStatus, len(templates))
	for i := range templates {
		template := &templates[i]
		out[i].VolumeClaimName = template.Name
		for _, ordinal := range p.rng.ordinals {
			claim, err := p.c.pvcLister.PersistentVolumeClaims(p.set.Namespace).Get(claimName(p.set, template, ordinal))
			if err != nil || claim.DeletionTimestamp != nil {
				continue
			}
			if compatible, ready := claimCompatibleAndReady(claim, template); compatible {
				out[i].CompatibleReplicas++
				if ready {
					out[i].CompatibleReadyReplicas++
				}
			}
		}
	}
	p.status.VolumeClaims = out
}

func claimCompatibleAndReady(claim, template *corev1.PersistentVolumeClaim) (compatible, ready bool) {
	if template.Spec.StorageClassName != nil && claim.Spec.StorageClassName != nil &&
		*template.Spec.StorageClassName != *claim.Spec.StorageClassName {
		return false, false
	}
	if len(claim.Spec.AccessModes) != len(template.Spec.AccessModes) {
		return false, false
	}
	for i, mode := range claim.Spec.AccessModes {
		if template.Spec.AccessModes[i] != mode {
			return false, false
		}
	}
	// A missing quantity counts as zero.
	request := claim.Spec.Resources.Requests.Storage()
	compatible = request.Cmp(*template.Spec.Resources.Requests.Storage()) >= 0
	ready = claim.Status.Capacity.Storage().Cmp(*request) >= 0
	return compatible, ready
}

// completeRollingUpdate makes the update revision the current one once a
// rolling update is done: all the wanted Pods exist, are at the update
// revision and are ready.
func (p *pass) completeRollingUpdate() {
	s := p.status
	if p.set.Spec.UpdateStrategy.Type == appsv1beta1.RollingUpdateStatefulSetStrategyType &&
		s.Replicas == replicasOf(p.set) && s.UpdatedReplicas == s.Replicas && s.ReadyReplicas == s.Replicas {
		s.CurrentReplicas = s.UpdatedReplicas
		s.CurrentRevision = s.UpdateRevision
	}
}

// setFailureCondition sets the condition True with the error's message, or
// removes it when err is nil: the conditions say how the last pass went.
func (p *pass) setFailureCondition(t appsv1beta1.StatefulSetConditionType, format string, err error) {
	if err == nil {
		removeCondition(p.status, t)
		return
	}
	setCondition(p.status, appsv1beta1.StatefulSetCondition{
		Type:               t,
		Status:             corev1.ConditionTrue,
		LastTransitionTime: metav1.NewTime(p.now),
		Message:            fmt.Sprintf(format, err),
	})
}

// setCondition sets a condition, keeping the lastTransitionTime of one of
// the same type and status.
func setCondition(status *appsv1beta1.StatefulSetStatus, cond appsv1beta1.StatefulSetCondition) {
	for i := range status.Conditions {
		existing := &status.Conditions[i]
		if existing.Type != cond.Type {
			continue
		}
		if existing.Status == cond.Status {
			cond.LastTransitionTime = existing.LastTransitionTime
		}
		*existing = cond
		return
	}
	status.Conditions = append(status.Conditions, cond)
}

func removeCondition(status *appsv1beta1.StatefulSetStatus, t appsv1beta1.StatefulSetConditionType) {
	out := status.Conditions[:0:0]
	for _, c := range status.Conditions {
		if c.Type != t {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		out = nil
	}
	status.Conditions = out
}

// updateStatus writes the status when it differs from the StatefulSet's,
// retrying conflicts on a fresh copy.
func (c *Controller) updateStatus(ctx context.Context, set *appsv1beta1.StatefulSet, status *appsv1beta1.StatefulSetStatus) error {
	if apiequality.Semantic.DeepEqual(set.Status, *status) {
		return nil
	}
	klog.FromContext(ctx).V(2).Info("Updating StatefulSet status", "statefulSet", klog.KObj(set),
		"replicas", status.Replicas, "ready", status.ReadyReplicas, "available", status.AvailableReplicas,
		"current", status.CurrentReplicas, "updated", status.UpdatedReplicas,
		"currentRevision", status.CurrentRevision, "updateRevision", status.UpdateRevision)
	client := c.kruiseClient.AppsV1beta1().StatefulSets(set.Namespace)
	current := set
	return retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		clone := current.DeepCopy()
		clone.Status = *status
		_, err := client.UpdateStatus(ctx, clone, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			fresh, getErr := client.Get(ctx, set.Name, metav1.GetOptions{})
			if getErr != nil {
				return getErr
			}
			if fresh.UID != set.UID {
				return nil
			}
			current = fresh
		}
		return err
	})
}

func isAlreadyExists(err error) bool {
	return apierrors.IsAlreadyExists(err)
}
