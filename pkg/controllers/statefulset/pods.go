package statefulset

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/klog/v2"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/inplaceupdate"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/lifecycle"
)

// The labels, annotations and condition types the controller reads or
// writes: Kubernetes' StatefulSet identity labels and OpenKruise's.
const (
	// PodNameLabel holds a Pod's own name, so that a Service can select one
	// replica (statefulset.kubernetes.io/pod-name).
	PodNameLabel = appsv1.StatefulSetPodNameLabel
	// PodIndexLabel holds a Pod's ordinal (apps.kubernetes.io/pod-index).
	PodIndexLabel = appsv1.PodIndexLabel
	// RevisionLabel holds the name of the revision a Pod was made from
	// (controller-revision-hash).
	RevisionLabel = appsv1.StatefulSetRevisionLabel

	// SpecifiedDeleteLabel, on a Pod, asks its StatefulSet to delete it
	// (any value) within the rolling update's maxUnavailable; the Pod is
	// then re-created at its ordinal.
	SpecifiedDeleteLabel = "apps.kruise.io/specified-delete"
	// LifecycleStateLabel holds a Pod's lifecycle state.
	LifecycleStateLabel = lifecycle.StateLabel
	// LifecycleTimestampAnnotation holds when the lifecycle state last changed (RFC 3339).
	LifecycleTimestampAnnotation = lifecycle.TimestampAnnotation

	// InPlaceUpdateReady is the readiness gate a template may carry for
	// in-place update (OpenKruise asks Advanced StatefulSet users to add it);
	// an in-place update holds it False.
	InPlaceUpdateReady = inplaceupdate.ReadyCondition
	// KruisePodReady is the readiness gate every Pod gets (as OpenKruise's
	// Pod webhook gives it to the Pods of its workloads): the lifecycle
	// hooks' markPodNotReady holds it False.
	KruisePodReady = lifecycle.KruisePodReady
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

// Names and ordinals.

// memberName matches the name of a StatefulSet's Pod: <set>-<ordinal>.
var memberName = regexp.MustCompile(`^(.*)-([0-9]+)$`)

// parentAndOrdinal returns the StatefulSet name and the ordinal in a Pod's
// name, or "" and -1 when the name has no ordinal.
func parentAndOrdinal(name string) (string, int) {
	m := memberName.FindStringSubmatch(name)
	if m == nil {
		return "", -1
	}
	ordinal, err := strconv.ParseInt(m[2], 10, 32)
	if err != nil {
		return "", -1
	}
	return m[1], int(ordinal)
}

func ordinalOf(pod *corev1.Pod) int {
	_, ordinal := parentAndOrdinal(pod.Name)
	return ordinal
}

// isMember reports whether the Pod's name makes it one of the set's: the
// StatefulSet neither adopts nor keeps Pods named otherwise.
func isMember(set *appsv1beta1.StatefulSet, pod *corev1.Pod) bool {
	parent, ordinal := parentAndOrdinal(pod.Name)
	return ordinal >= 0 && parent == set.Name
}

func podName(set *appsv1beta1.StatefulSet, ordinal int) string {
	return fmt.Sprintf("%s-%d", set.Name, ordinal)
}

// claimName is the name of the claim of a volumeClaimTemplate for the Pod
// with an ordinal: <template>-<set>-<ordinal>.
func claimName(set *appsv1beta1.StatefulSet, template *corev1.PersistentVolumeClaim, ordinal int) string {
	return fmt.Sprintf("%s-%s-%d", template.Name, set.Name, ordinal)
}

// ordinalRange is where the replicas of a StatefulSet live: from
// spec.ordinals.start, skipping spec.reserveOrdinals, as many ordinals as
// spec.replicas. The reserved ordinals are kept as ranges, so that a range
// as wide as validation allows costs nothing.
type ordinalRange struct {
	start    int
	reserved [][2]int
	// ordinals are the replicas' ordinals, ascending.
	ordinals []int
}

func newOrdinalRange(set *appsv1beta1.StatefulSet) ordinalRange {
	r := ordinalRange{reserved: parseReserveOrdinals(set.Spec.ReserveOrdinals)}
	if set.Spec.Ordinals != nil {
		r.start = int(set.Spec.Ordinals.Start)
	}
	replicas := int(replicasOf(set))
	r.ordinals = make([]int, 0, replicas)
	for ordinal := r.start; len(r.ordinals) < replicas; {
		if end, ok := r.reservedUntil(ordinal); ok {
			ordinal = end + 1
			continue
		}
		r.ordinals = append(r.ordinals, ordinal)
		ordinal++
	}
	return r
}

// reservedUntil reports whether the ordinal is reserved and, if so, the
// end of the reserved stretch it is in.
func (r ordinalRange) reservedUntil(ordinal int) (int, bool) {
	end, found := 0, false
	for _, rg := range r.reserved {
		if ordinal >= rg[0] && ordinal <= rg[1] && (!found || rg[1] > end) {
			end, found = rg[1], true
		}
	}
	if !found {
		return 0, false
	}
	// Ranges may overlap or touch: follow them to the end of the stretch.
	if next, ok := r.reservedUntil(end + 1); ok {
		return next, true
	}
	return end, true
}

func (r ordinalRange) isReserved(ordinal int) bool {
	_, ok := r.reservedUntil(ordinal)
	return ok
}

// contains reports whether a replica should have the ordinal.
func (r ordinalRange) contains(ordinal int) bool {
	if len(r.ordinals) == 0 || ordinal < r.start || ordinal > r.ordinals[len(r.ordinals)-1] {
		return false
	}
	return !r.isReserved(ordinal)
}

// index returns the position of the ordinal among the replicas', or -1.
func (r ordinalRange) index(ordinal int) int {
	if !r.contains(ordinal) {
		return -1
	}
	i := sort.SearchInts(r.ordinals, ordinal)
	if i < len(r.ordinals) && r.ordinals[i] == ordinal {
		return i
	}
	return -1
}

// parseReserveOrdinals reads spec.reserveOrdinals: integers and inclusive
// ranges "a-b". Like OpenKruise, an unreadable range (which validation
// rejects) makes the whole list be ignored.
func parseReserveOrdinals(values []intstr.IntOrString) [][2]int {
	out := make([][2]int, 0, len(values))
	for _, v := range values {
		if v.Type == intstr.Int {
			out = append(out, [2]int{int(v.IntVal), int(v.IntVal)})
			continue
		}
		lo, hi, err := parseRange(v.StrVal)
		if err != nil {
			klog.ErrorS(err, "Invalid reserveOrdinals range, ignoring reserveOrdinals", "reserveOrdinal", v.StrVal)
			return nil
		}
		out = append(out, [2]int{lo, hi})
	}
	return out
}

func parseRange(s string) (int, int, error) {
	parts := strings.Split(s, "-")
	if len(parts) != 2 {
		return 0, 0, fmt.Errorf("invalid range %s", s)
	}
	lo, err := strconv.Atoi(parts[0])
	if err != nil {
		return 0, 0, err
	}
	hi, err := strconv.Atoi(parts[1])
	if err != nil {
		return 0, 0, err
	}
	if lo > hi {
		return 0, 0, fmt.Errorf("invalid range %s", s)
	}
	return lo, hi, nil
}

func replicasOf(set *appsv1beta1.StatefulSet) int32 {
	if set.Spec.Replicas == nil {
		return 1
	}
	return *set.Spec.Replicas
}

// Pods.

// newPod returns the Pod with the ordinal made from the StatefulSet (as
// restored from a revision) at that revision.
func newPod(set *appsv1beta1.StatefulSet, revisionName string, ordinal int, now time.Time) *corev1.Pod {
	template := set.Spec.Template.DeepCopy()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:            podName(set, ordinal),
			GenerateName:    set.Name + "-",
			Namespace:       set.Namespace,
			Labels:          template.Labels,
			Annotations:     template.Annotations,
			Finalizers:      template.Finalizers,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(set, controllerKind)},
		},
		Spec: template.Spec,
	}
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	setIdentity(set, pod)
	// Set only on creation: both are immutable.
	pod.Spec.Hostname = pod.Name
	pod.Spec.Subdomain = set.Spec.ServiceName
	setStorage(set, pod)
	pod.Labels[RevisionLabel] = revisionName

	// Normal at once unless a preNormal hook is to be satisfied first.
	state := stateNormal
	if set.Spec.Lifecycle != nil && set.Spec.Lifecycle.PreNormal != nil && !lifecycle.IsPodAllHooked(set.Spec.Lifecycle.PreNormal, pod) {
		state = statePreparingNormal
	}
	lifecycle.SetState(state, now)(pod)
	// The gate cannot be added to a Pod later.
	lifecycle.AddReadinessGate(pod, KruisePodReady)
	return pod
}

// setIdentity sets the labels that name the Pod's place in the set.
func setIdentity(set *appsv1beta1.StatefulSet, pod *corev1.Pod) {
	ordinal := ordinalOf(pod)
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[PodNameLabel] = pod.Name
	pod.Labels[PodIndexLabel] = strconv.Itoa(ordinal)
}

// identityMatches reports whether the Pod carries its identity.
func identityMatches(set *appsv1beta1.StatefulSet, pod *corev1.Pod) bool {
	parent, ordinal := parentAndOrdinal(pod.Name)
	return ordinal >= 0 && parent == set.Name && pod.Namespace == set.Namespace &&
		pod.Labels[PodNameLabel] == pod.Name && pod.Labels[PodIndexLabel] == strconv.Itoa(ordinal)
}

// setStorage points a volume named after each volumeClaimTemplate at the
// Pod's claim, replacing a template volume of the same name.
func setStorage(set *appsv1beta1.StatefulSet, pod *corev1.Pod) {
	if len(set.Spec.VolumeClaimTemplates) == 0 {
		return
	}
	ordinal := ordinalOf(pod)
	claimed := map[string]bool{}
	volumes := make([]corev1.Volume, 0, len(set.Spec.VolumeClaimTemplates)+len(pod.Spec.Volumes))
	for i := range set.Spec.VolumeClaimTemplates {
		template := &set.Spec.VolumeClaimTemplates[i]
		claimed[template.Name] = true
		volumes = append(volumes, corev1.Volume{
			Name: template.Name,
			VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claimName(set, template, ordinal)},
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

// storageMatches reports whether the Pod mounts the claim of every
// volumeClaimTemplate.
func storageMatches(set *appsv1beta1.StatefulSet, pod *corev1.Pod) bool {
	ordinal := ordinalOf(pod)
	if ordinal < 0 {
		return false
	}
	volumes := make(map[string]corev1.Volume, len(pod.Spec.Volumes))
	for _, v := range pod.Spec.Volumes {
		volumes[v.Name] = v
	}
	for i := range set.Spec.VolumeClaimTemplates {
		template := &set.Spec.VolumeClaimTemplates[i]
		v, ok := volumes[template.Name]
		if !ok || v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != claimName(set, template, ordinal) {
			return false
		}
	}
	return true
}

func podRevision(pod *corev1.Pod) string {
	return pod.Labels[RevisionLabel]
}

// shortHash is the hash part of a revision name (<set>-<hash>).
func shortHash(revisionName string) string {
	return revisionName[strings.LastIndex(revisionName, "-")+1:]
}

// isPodUpdated is OpenKruise's IsPodUpdate: the Pod's revision label names
// the revision, or carries its hash alone.
func isPodUpdated(pod *corev1.Pod, revisionName string) bool {
	hash := podRevision(pod)
	if hash == revisionName {
		return true
	}
	return hash != "" && shortHash(hash) == shortHash(revisionName)
}

// Pod state, as Kubernetes' StatefulSet controller reads it, with
// OpenKruise's lifecycle states: a Pod in a state other than Normal is
// neither healthy nor available.

func isTerminating(pod *corev1.Pod) bool { return pod.DeletionTimestamp != nil }
func isFailed(pod *corev1.Pod) bool      { return pod.Status.Phase == corev1.PodFailed }
func isSucceeded(pod *corev1.Pod) bool   { return pod.Status.Phase == corev1.PodSucceeded }
func isPending(pod *corev1.Pod) bool     { return pod.Status.Phase == corev1.PodPending }

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

func isRunningAndReady(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodRunning && isPodReady(pod)
}

func isNormal(pod *corev1.Pod) bool {
	state := podLifecycleState(pod)
	return state == "" || state == stateNormal
}

// isHealthy: Running and Ready, not being deleted, and in the Normal
// lifecycle state.
func isHealthy(pod *corev1.Pod) bool {
	return isNormal(pod) && isRunningAndReady(pod) && !isTerminating(pod)
}

// isRunningAndAvailable reports whether the Pod is Normal, Running and has
// been Ready for minReadySeconds; when not, wait is how long until it may
// be (0 when that depends on more than time).
func isRunningAndAvailable(pod *corev1.Pod, minReadySeconds int32, now time.Time) (bool, time.Duration) {
	if !isNormal(pod) || !isRunningAndReady(pod) {
		return false, 0
	}
	if minReadySeconds == 0 {
		return true, 0
	}
	min := time.Duration(minReadySeconds) * time.Second
	since := podCondition(pod, corev1.PodReady).LastTransitionTime
	if since.IsZero() {
		return false, min
	}
	if wait := since.Add(min).Sub(now); wait > 0 {
		return false, wait
	}
	return true, 0
}

func isSpecifiedDelete(pod *corev1.Pod) bool {
	_, ok := pod.Labels[SpecifiedDeleteLabel]
	return ok
}

func podNames(pods []*corev1.Pod) []string {
	out := make([]string, 0, len(pods))
	for _, p := range pods {
		if p != nil {
			out = append(out, p.Name)
		}
	}
	return out
}
