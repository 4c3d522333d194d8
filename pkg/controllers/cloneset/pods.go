package cloneset

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/inplaceupdate"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/lifecycle"
)

// OpenKruise's labels, annotations and condition types that the controller
// reads or writes.
const (
	// InstanceIDLabel holds the random suffix of a Pod's name, shared by the
	// Pod and its PVCs.
	InstanceIDLabel = "apps.kruise.io/cloneset-instance-id"
	// SpecifiedDeleteLabel, on a Pod, asks its CloneSet to delete it (any
	// value); the controller sets it to "true" to re-create a Pod for an
	// update.
	SpecifiedDeleteLabel = "apps.kruise.io/specified-delete"
	// LifecycleStateLabel holds a Pod's lifecycle state.
	LifecycleStateLabel = lifecycle.StateLabel
	// LifecycleTimestampAnnotation holds when the lifecycle state last changed (RFC 3339).
	LifecycleTimestampAnnotation = lifecycle.TimestampAnnotation
	// InPlaceUpdateStateAnnotation and InPlaceUpdateGraceAnnotation record an
	// in-place update in progress.
	InPlaceUpdateStateAnnotation = inplaceupdate.StateAnnotation
	InPlaceUpdateGraceAnnotation = inplaceupdate.GraceAnnotation
	// VolumeClaimTemplatesHashAnnotation, on a revision, holds a hash of the
	// CloneSet's volumeClaimTemplates.
	VolumeClaimTemplatesHashAnnotation = "kruise.io/cloneset-volumeclaimtemplate-hash"
	// PodDeletionCostAnnotation ranks Pods for scale-in: lower cost first.
	PodDeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"
	// ScalingExcludePreparingDeleteLabel, "true" on a CloneSet, is the
	// v1alpha1-era form of spec.scaleStrategy.excludePreparingDelete.
	ScalingExcludePreparingDeleteLabel = apps.LegacyExcludePreparingDeleteLabel

	// InPlaceUpdateReady is the readiness gate every CloneSet Pod gets; the
	// controller holds it False during an in-place update.
	InPlaceUpdateReady = inplaceupdate.ReadyCondition
	// KruisePodReady is the readiness gate every CloneSet Pod gets too (as
	// OpenKruise's Pod webhook gives it to the Pods of its workloads): the
	// lifecycle hooks' markPodNotReady holds it False.
	KruisePodReady = lifecycle.KruisePodReady

	instanceIDLength = 5
)

// lifecycleState is a Pod's lifecycle.apps.kruise.io/state.
type lifecycleState = lifecycle.State

const (
	statePreparingNormal = lifecycle.StatePreparingNormal
	stateNormal          = lifecycle.StateNormal
	statePreparingUpdate = lifecycle.StatePreparingUpdate
	stateUpdating        = lifecycle.StateUpdating
	stateUpdated         = lifecycle.StateUpdated
	statePreparingDelete = lifecycle.StatePreparingDelete
)

func podLifecycleState(pod *corev1.Pod) lifecycleState {
	return lifecycle.GetState(pod)
}

func newInstanceID() string {
	return rand.String(instanceIDLength)
}

func instanceID(obj metav1.Object) string {
	return obj.GetLabels()[InstanceIDLabel]
}

// shortHash is the hash part of a revision name (<cloneset>-<hash>), the
// value of pod-template-hash.
func shortHash(revisionName string) string {
	return revisionName[strings.LastIndex(revisionName, "-")+1:]
}

// cloneSetRevisions is how CloneSet Pods carry their revision, for in-place
// updates: controller-revision-hash holds the revision's name and
// pod-template-hash its short hash.
type cloneSetRevisions struct{}

func (cloneSetRevisions) EqualToRevisionHash(pod *corev1.Pod, revision string) bool {
	return isAtRevision(pod, revision)
}

func (cloneSetRevisions) WriteRevisionHash(pod *corev1.Pod, revision string) {
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[appsv1.ControllerRevisionHashLabelKey] = revision
	pod.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = shortHash(revision)
}

// isAtRevision reports whether the Pod was made from the revision; a Pod
// labelled with the short hash alone (OpenKruise's CloneSetShortHash)
// counts too.
func isAtRevision(pod *corev1.Pod, revisionName string) bool {
	hash := pod.Labels[appsv1.ControllerRevisionHashLabelKey]
	if hash == revisionName {
		return true
	}
	return hash != "" && shortHash(hash) == shortHash(revisionName)
}

// isPodUpdated is how scaling counts a Pod as updated. (OpenKruise's
// PreparingUpdateAsUpdate, an alpha gate off by default that also counts
// Pods in PreparingUpdate, is not implemented.)
func isPodUpdated(pod *corev1.Pod, updateRevision string) bool {
	return isAtRevision(pod, updateRevision)
}

// splitByRevision returns the Pods updated to the revision and the others.
func splitByRevision(pods []*corev1.Pod, updateRevision string) (updated, notUpdated []*corev1.Pod) {
	for _, p := range pods {
		if isPodUpdated(p, updateRevision) {
			updated = append(updated, p)
		} else {
			notUpdated = append(notUpdated, p)
		}
	}
	return updated, notUpdated
}

// newPod returns the Pod with the instance id made from the CloneSet (as
// restored from a revision) at that revision.
func newPod(cs *appsv1beta1.CloneSet, revisionName, id string, now time.Time) *corev1.Pod {
	template := cs.Spec.Template.DeepCopy()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:            cs.Name + "-" + id,
			Namespace:       cs.Namespace,
			Labels:          template.Labels,
			Annotations:     template.Annotations,
			Finalizers:      template.Finalizers,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(cs, controllerKind)},
		},
		Spec: template.Spec,
	}
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Labels[appsv1.ControllerRevisionHashLabelKey] = revisionName
	pod.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = shortHash(revisionName)
	pod.Labels[InstanceIDLabel] = id
	// Every Pod starts PreparingNormal and becomes Normal once scheduled
	// (or once its preNormal hook is satisfied).
	pod.Labels[LifecycleStateLabel] = string(statePreparingNormal)
	pod.Annotations[LifecycleTimestampAnnotation] = now.UTC().Format(time.RFC3339)
	// The readiness gates let an in-place update and the lifecycle hooks
	// hold the Pod not ready; they cannot be added to a Pod later, so every
	// Pod gets them.
	lifecycle.AddReadinessGate(pod, InPlaceUpdateReady)
	lifecycle.AddReadinessGate(pod, KruisePodReady)
	addClaimVolumes(cs, pod, id)
	return pod
}

// pvcName is the name of the claim of a volumeClaimTemplate for an instance:
// <template>-<cloneset>-<instance id>.
func pvcName(cs *appsv1beta1.CloneSet, template *corev1.PersistentVolumeClaim, id string) string {
	return fmt.Sprintf("%s-%s-%s", template.Name, cs.Name, id)
}

// newPVCs returns the claims of the instance, one per volumeClaimTemplate:
// the template's labels plus the selector's matchLabels and the instance id,
// controlled by the CloneSet.
func newPVCs(cs *appsv1beta1.CloneSet, id string) []*corev1.PersistentVolumeClaim {
	out := make([]*corev1.PersistentVolumeClaim, 0, len(cs.Spec.VolumeClaimTemplates))
	for i := range cs.Spec.VolumeClaimTemplates {
		template := &cs.Spec.VolumeClaimTemplates[i]
		claim := template.DeepCopy()
		claim.Name = pvcName(cs, template, id)
		claim.Namespace = cs.Namespace
		claim.ResourceVersion = ""
		claim.UID = ""
		if claim.Labels == nil {
			claim.Labels = map[string]string{}
		}
		if cs.Spec.Selector != nil {
			for k, v := range cs.Spec.Selector.MatchLabels {
				claim.Labels[k] = v
			}
		}
		claim.Labels[InstanceIDLabel] = id
		claim.OwnerReferences = append(claim.OwnerReferences, *metav1.NewControllerRef(cs, controllerKind))
		claim.Status = corev1.PersistentVolumeClaimStatus{}
		out = append(out, claim)
	}
	return out
}

// addClaimVolumes points a volume named after each volumeClaimTemplate at
// the instance's claim, replacing a template volume of the same name.
func addClaimVolumes(cs *appsv1beta1.CloneSet, pod *corev1.Pod, id string) {
	if len(cs.Spec.VolumeClaimTemplates) == 0 {
		return
	}
	claimed := map[string]bool{}
	volumes := make([]corev1.Volume, 0, len(cs.Spec.VolumeClaimTemplates)+len(pod.Spec.Volumes))
	for i := range cs.Spec.VolumeClaimTemplates {
		template := &cs.Spec.VolumeClaimTemplates[i]
		claimed[template.Name] = true
		volumes = append(volumes, corev1.Volume{
			Name: template.Name,
			VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: pvcName(cs, template, id)},
			},
		})
	}
	for _, v := range pod.Spec.Volumes {
		if !claimed[v.Name] {
			volumes = append(volumes, v)
		}
	}
	pod.Spec.Volumes = volumes
}

// Pod state, as kube-controller-manager reads it.

func isPodActive(pod *corev1.Pod) bool {
	return pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed && pod.DeletionTimestamp == nil
}

func podCondition(pod *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == t {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

func isPodReady(pod *corev1.Pod) bool {
	c := podCondition(pod, corev1.PodReady)
	return c != nil && c.Status == corev1.ConditionTrue
}

// readySince returns when the Pod became ready, or the zero time.
func readySince(pod *corev1.Pod) metav1.Time {
	if c := podCondition(pod, corev1.PodReady); c != nil && c.Status == corev1.ConditionTrue {
		return c.LastTransitionTime
	}
	return metav1.Time{}
}

// isRunningAndAvailable: Running, and Ready for at least minReadySeconds.
func isRunningAndAvailable(pod *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	if pod.Status.Phase != corev1.PodRunning || !isPodReady(pod) {
		return false
	}
	if minReadySeconds == 0 {
		return true
	}
	since := readySince(pod)
	return !since.IsZero() && since.Add(time.Duration(minReadySeconds)*time.Second).Before(now)
}

// isPodUpdateReady is OpenKruise's readiness of a CloneSet Pod: running and
// available, and not held by an in-place update.
func isPodUpdateReady(pod *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	if !isRunningAndAvailable(pod, minReadySeconds, now) {
		return false
	}
	if c := podCondition(pod, InPlaceUpdateReady); c != nil && c.Status != corev1.ConditionTrue {
		return false
	}
	return true
}

// isPodAvailable is OpenKruise's availability of a CloneSet Pod: ready as
// above for minReadySeconds, in the Normal lifecycle state (or none).
func isPodAvailable(pod *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	if state := podLifecycleState(pod); state != "" && state != stateNormal {
		return false
	}
	return isPodUpdateReady(pod, minReadySeconds, now)
}

// deletionCost returns the Pod's controller.kubernetes.io/pod-deletion-cost,
// 0 when unset or invalid.
func deletionCost(pod *corev1.Pod) int32 {
	v, ok := pod.Annotations[PodDeletionCostAnnotation]
	if !ok || v == "" {
		return 0
	}
	// Like kube-controller-manager: no "+" sign, no leading zeros.
	if !(v[0] == '-' || v == "0" || (v[0] >= '1' && v[0] <= '9')) {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0
	}
	return int32(n)
}

func maxRestarts(pod *corev1.Pod) int32 {
	var m int32
	for _, s := range pod.Status.ContainerStatuses {
		m = max(m, s.RestartCount)
	}
	return m
}

func podNames(pods []*corev1.Pod) []string {
	out := make([]string, 0, len(pods))
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}
