package statefulset

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/klog/v2"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

// Stable storage: each volumeClaimTemplate gives each ordinal a claim named
// <template>-<set>-<ordinal>, created before the Pod and kept when the Pod is
// re-created. Who owns the claims follows persistentVolumeClaimRetentionPolicy,
// as in Kubernetes:
//
//	whenScaled Retain, whenDeleted Retain: neither the set nor the Pod
//	whenScaled Retain, whenDeleted Delete: the set (as controller)
//	whenScaled Delete, whenDeleted Retain: the Pod, once scaled away
//	whenScaled Delete, whenDeleted Delete: the set while the ordinal is in
//	                                      range, the Pod once scaled away
//
// so that the garbage collector deletes the claims with their owner.

func retentionPolicy(set *appsv1beta1.StatefulSet) appsv1beta1.StatefulSetPersistentVolumeClaimRetentionPolicy {
	policy := appsv1beta1.StatefulSetPersistentVolumeClaimRetentionPolicy{
		WhenDeleted: appsv1beta1.RetainPersistentVolumeClaimRetentionPolicyType,
		WhenScaled:  appsv1beta1.RetainPersistentVolumeClaimRetentionPolicyType,
	}
	if p := set.Spec.PersistentVolumeClaimRetentionPolicy; p != nil {
		if p.WhenDeleted != "" {
			policy.WhenDeleted = p.WhenDeleted
		}
		if p.WhenScaled != "" {
			policy.WhenScaled = p.WhenScaled
		}
	}
	return policy
}

// newClaims returns the claims of the ordinal, one per volumeClaimTemplate,
// labelled with the template's labels and the selector's matchLabels.
func newClaims(set *appsv1beta1.StatefulSet, ordinal int) []*corev1.PersistentVolumeClaim {
	out := make([]*corev1.PersistentVolumeClaim, 0, len(set.Spec.VolumeClaimTemplates))
	for i := range set.Spec.VolumeClaimTemplates {
		template := &set.Spec.VolumeClaimTemplates[i]
		claim := &corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{
				Name:      claimName(set, template, ordinal),
				Namespace: set.Namespace,
				Labels:    map[string]string{},
			},
			Spec: *template.Spec.DeepCopy(),
		}
		for k, v := range template.Labels {
			claim.Labels[k] = v
		}
		if set.Spec.Selector != nil {
			for k, v := range set.Spec.Selector.MatchLabels {
				claim.Labels[k] = v
			}
		}
		if len(template.Annotations) > 0 {
			claim.Annotations = make(map[string]string, len(template.Annotations))
			for k, v := range template.Annotations {
				claim.Annotations[k] = v
			}
		}
		if len(template.Finalizers) > 0 {
			claim.Finalizers = append([]string(nil), template.Finalizers...)
		}
		out = append(out, claim)
	}
	return out
}

// createClaims creates the claims of the Pod's ordinal that do not exist
// yet. A claim being deleted is an error: the Pod must wait for it to go.
// Claims are created owned as the retention policy wants for a Pod in range
// (the set as controller when whenDeleted is Delete).
func (c *Controller) createClaims(ctx context.Context, set *appsv1beta1.StatefulSet, pod *corev1.Pod) error {
	var errs []error
	ordinal := ordinalOf(pod)
	policy := retentionPolicy(set)
	for _, claim := range newClaims(set, ordinal) {
		existing, err := c.pvcLister.PersistentVolumeClaims(claim.Namespace).Get(claim.Name)
		switch {
		case err == nil:
			if existing.DeletionTimestamp != nil {
				errs = append(errs, fmt.Errorf("pvc %s is to be deleted", claim.Name))
			}
			continue
		case !apierrors.IsNotFound(err):
			errs = append(errs, fmt.Errorf("failed to retrieve PVC %s: %w", claim.Name, err))
			c.recordClaimEvent("create", set, pod, claim, err)
			continue
		}
		if policy.WhenDeleted == appsv1beta1.DeletePersistentVolumeClaimRetentionPolicyType {
			claim.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(set, controllerKind)}
		}
		_, err = c.kubeClient.CoreV1().PersistentVolumeClaims(claim.Namespace).Create(ctx, claim, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			// Created since the cache was filled: it is there, as wanted.
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("failed to create PVC %s: %w", claim.Name, err))
		}
		c.recordClaimEvent("create", set, pod, claim, err)
	}
	return utilerrors.NewAggregate(errs)
}

// claimsStale reports whether a claim of the ordinal still belongs to a
// Pod of that ordinal that is gone (scaled away with whenScaled Delete and
// not yet collected): a new Pod must not be created on it.
func (c *Controller) claimsStale(set *appsv1beta1.StatefulSet, ordinal int) (bool, error) {
	if retentionPolicy(set).WhenScaled == appsv1beta1.RetainPersistentVolumeClaimRetentionPolicyType {
		return false, nil
	}
	name := podName(set, ordinal)
	for _, claim := range newClaims(set, ordinal) {
		existing, err := c.pvcLister.PersistentVolumeClaims(claim.Namespace).Get(claim.Name)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return false, err
		}
		for _, ref := range existing.OwnerReferences {
			// The Pod to create has no UID yet: any reference to a Pod of
			// that name is to an older one.
			if refersTo(ref, podKind, name) {
				return true, nil
			}
		}
	}
	return false, nil
}

// refersTo reports whether an owner reference names an object of the kind
// (any version of its group) and name.
func refersTo(ref metav1.OwnerReference, gvk schema.GroupVersionKind, name string) bool {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	return err == nil && gv.Group == gvk.Group && ref.Kind == gvk.Kind && ref.Name == name
}

func isController(ref metav1.OwnerReference) bool {
	return ref.Controller != nil && *ref.Controller
}

func hasOwner(obj metav1.Object, owner metav1.Object) bool {
	for _, ref := range obj.GetOwnerReferences() {
		if ref.UID == owner.GetUID() {
			return true
		}
	}
	return false
}

// claimOwnersUpToDate reports whether the claim's owner references are what
// the retention policy wants for the Pod (in range or scaled away). A claim
// referring to an older set or Pod of the same name is left alone, and so is
// one another controller owns, unless it also refers to this set or Pod.
func claimOwnersUpToDate(claim *corev1.PersistentVolumeClaim, set *appsv1beta1.StatefulSet, pod *corev1.Pod, inRange bool) bool {
	for _, ref := range claim.OwnerReferences {
		if (refersTo(ref, controllerKind, set.Name) && ref.UID != set.UID) ||
			(refersTo(ref, podKind, pod.Name) && ref.UID != pod.UID) {
			return true
		}
	}
	if hasOtherController(claim, set, pod) {
		return !hasOwner(claim, set) && !hasOwner(claim, pod)
	}
	for _, ref := range claim.OwnerReferences {
		if (ref.UID == set.UID || ref.UID == pod.UID) && !isController(ref) {
			return false
		}
	}
	wantSet, wantPod := wantedClaimOwners(set, inRange)
	if pod.UID == "" {
		// Not created yet: nothing can refer to it.
		wantPod = false
	}
	return hasOwner(claim, set) == wantSet && hasOwner(claim, pod) == wantPod
}

// wantedClaimOwners returns whether the set and the Pod should own a claim.
func wantedClaimOwners(set *appsv1beta1.StatefulSet, inRange bool) (setOwns, podOwns bool) {
	policy := retentionPolicy(set)
	const del = appsv1beta1.DeletePersistentVolumeClaimRetentionPolicyType
	switch {
	case policy.WhenScaled == del && policy.WhenDeleted == del:
		return inRange, !inRange
	case policy.WhenScaled == del:
		return false, !inRange
	case policy.WhenDeleted == del:
		return true, false
	default:
		// Retain, and any policy not known.
		return false, false
	}
}

// hasOtherController reports whether, under a policy that deletes, a
// controller other than the set and the Pod owns the claim.
func hasOtherController(claim *corev1.PersistentVolumeClaim, set *appsv1beta1.StatefulSet, pod *corev1.Pod) bool {
	policy := retentionPolicy(set)
	if policy.WhenScaled == appsv1beta1.RetainPersistentVolumeClaimRetentionPolicyType &&
		policy.WhenDeleted == appsv1beta1.RetainPersistentVolumeClaimRetentionPolicyType {
		return false
	}
	for _, ref := range claim.OwnerReferences {
		if refersTo(ref, controllerKind, set.Name) {
			if ref.UID != set.UID {
				return true
			}
			continue
		}
		if refersTo(ref, podKind, pod.Name) {
			if ref.UID != pod.UID {
				return true
			}
			continue
		}
		if isController(ref) {
			return true
		}
	}
	return false
}

// claimOwners returns the claim's owner references as the retention policy
// wants them: the references to the set and the Pod are rewritten, the
// others kept.
func claimOwners(claim *corev1.PersistentVolumeClaim, set *appsv1beta1.StatefulSet, pod *corev1.Pod, inRange bool) []metav1.OwnerReference {
	other := hasOtherController(claim, set, pod)
	refs := make([]metav1.OwnerReference, 0, len(claim.OwnerReferences)+1)
	for _, ref := range claim.OwnerReferences {
		if refersTo(ref, controllerKind, set.Name) || refersTo(ref, podKind, pod.Name) {
			continue
		}
		refs = append(refs, ref)
	}
	if other {
		return refs
	}
	setOwns, podOwns := wantedClaimOwners(set, inRange)
	if setOwns {
		refs = append(refs, *metav1.NewControllerRef(set, controllerKind))
	}
	if podOwns && pod.UID != "" {
		refs = append(refs, *metav1.NewControllerRef(pod, podKind))
	}
	return refs
}

// updateClaimOwners brings the owner references of the Pod's claims in line
// with the retention policy. Claims not there yet are left for later.
func (c *Controller) updateClaimOwners(ctx context.Context, set *appsv1beta1.StatefulSet, pod *corev1.Pod, inRange bool) error {
	ordinal := ordinalOf(pod)
	for i := range set.Spec.VolumeClaimTemplates {
		name := claimName(set, &set.Spec.VolumeClaimTemplates[i], ordinal)
		claim, err := c.pvcLister.PersistentVolumeClaims(set.Namespace).Get(name)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("could not retrieve claim %s for %s when checking PVC deletion policy: %w", name, pod.Name, err)
		}
		if claim.DeletionTimestamp != nil || claimOwnersUpToDate(claim, set, pod, inRange) {
			continue
		}
		if ok, _ := c.versionExpectations.Satisfied(claim); !ok {
			// Our last write of it is not in the cache yet.
			continue
		}
		clone := claim.DeepCopy()
		clone.OwnerReferences = claimOwners(claim, set, pod, inRange)
		updated, err := c.kubeClient.CoreV1().PersistentVolumeClaims(clone.Namespace).Update(ctx, clone, metav1.UpdateOptions{})
		if err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return fmt.Errorf("could not update claim %s for delete policy ownerRefs: %w", name, err)
		}
		c.versionExpectations.Expect(updated)
		klog.FromContext(ctx).V(3).Info("Updated the owners of a claim for the retention policy", "statefulSet", klog.KObj(set),
			"pvc", klog.KObj(claim), "pod", klog.KObj(pod), "inRange", inRange)
	}
	return nil
}
