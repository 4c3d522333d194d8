// Package inplaceupdate updates the Pods of Kruise workloads (CloneSet,
// Advanced StatefulSet) to a new revision without re-creating them, as
// OpenKruise does: when only container images (and the template's labels
// and annotations) changed between two revisions, the Pod's images and
// metadata are patched and the kubelet restarts the changed containers with
// their new images.
//
// An update, for a Pod with the InPlaceUpdateReady readiness gate:
//
//  1. InPlaceUpdateReady is set False (reason StartInPlaceUpdate), so the
//     Pod is not ready while it is updated.
//  2. The Pod gets the new revision label and the
//     apps.kruise.io/inplace-update-state annotation (the revision, when the
//     update started, the imageIDs the changed containers ran), and its
//     images are patched. With a grace period, the patch waits in the
//     apps.kruise.io/inplace-update-grace annotation until the period has
//     passed (Refresh applies it).
//  3. Refresh sets InPlaceUpdateReady True again once every changed
//     container runs a new imageID and has started.
//
// Batches by container launch priority, env-from-metadata updates (they
// need kruise-daemon) and in-place resource resizing are not implemented.
package inplaceupdate

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/lifecycle"
)

const (
	// ReadyCondition is the readiness gate (and Pod condition) that holds a
	// Pod not ready during an in-place update.
	ReadyCondition corev1.PodConditionType = "InPlaceUpdateReady"
	// StateAnnotation records the last in-place update of a Pod (State).
	StateAnnotation = "apps.kruise.io/inplace-update-state"
	// GraceAnnotation holds the update to apply once the grace period has
	// passed (Spec).
	GraceAnnotation = "apps.kruise.io/inplace-update-grace"

	// The annotation keys of OpenKruise before v1.0, still read.
	legacyStateAnnotation = "inplace-update-state"
	legacyGraceAnnotation = "inplace-update-grace"

	// ReasonStartInPlaceUpdate is the reason of the False ReadyCondition.
	ReasonStartInPlaceUpdate = "StartInPlaceUpdate"
)

// State is the value of the apps.kruise.io/inplace-update-state annotation.
type State struct {
	// Revision is the revision the Pod is updated to.
	Revision string `json:"revision"`
	// UpdateTimestamp is when the update started (the grace period runs
	// from it).
	UpdateTimestamp metav1.Time `json:"updateTimestamp"`
	// LastContainerStatuses are, per changed container, what it ran before
	// the update: the update is done once it runs something else.
	LastContainerStatuses map[string]ContainerStatus `json:"lastContainerStatuses"`
	// UpdateImages says images are updated.
	UpdateImages bool `json:"updateImages,omitempty"`
	// ContainerBatchesRecord lists when which containers were patched.
	ContainerBatchesRecord []ContainerBatch `json:"containerBatchesRecord,omitempty"`
}

// ContainerStatus is what a container ran before an in-place update.
type ContainerStatus struct {
	ImageID string `json:"imageID,omitempty"`
}

// ContainerBatch records the containers patched at one time.
type ContainerBatch struct {
	Timestamp  metav1.Time `json:"timestamp"`
	Containers []string    `json:"containers"`
}

// Spec is what an in-place update changes in a Pod, and the value of the
// apps.kruise.io/inplace-update-grace annotation.
type Spec struct {
	// Revision is the revision the Pod is updated to.
	Revision string `json:"revision"`
	// ContainerImages are the new images by container name.
	ContainerImages map[string]string `json:"containerImages,omitempty"`
	// MetaDataPatch is a strategic merge patch of the Pod's metadata: the
	// change of the template's labels and annotations.
	MetaDataPatch []byte `json:"metaDataPatch,omitempty"`
	// GraceSeconds is how long to wait, from the start of the update,
	// before patching the Pod.
	GraceSeconds int32 `json:"graceSeconds,omitempty"`
}

// RevisionAdapter reads and writes the revision a Pod is at.
type RevisionAdapter interface {
	EqualToRevisionHash(pod *corev1.Pod, revision string) bool
	WriteRevisionHash(pod *corev1.Pod, revision string)
}

// DefaultRevisionAdapter keeps the revision name in the
// controller-revision-hash label.
type DefaultRevisionAdapter struct{}

func (DefaultRevisionAdapter) EqualToRevisionHash(pod *corev1.Pod, revision string) bool {
	return pod.Labels[appsv1.ControllerRevisionHashLabelKey] == revision
}

func (DefaultRevisionAdapter) WriteRevisionHash(pod *corev1.Pod, revision string) {
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[appsv1.ControllerRevisionHashLabelKey] = revision
}

// Options tune an update.
type Options struct {
	// GracePeriodSeconds is how long a Pod is held not ready before its
	// images are patched.
	GracePeriodSeconds int32
	// AdditionalFuncs change the Pod in the same write as the revision
	// label (e.g. its lifecycle state).
	AdditionalFuncs []func(*corev1.Pod)
}

// UpdateResult is what Update did.
type UpdateResult struct {
	// InPlaceUpdate is false when the revisions do not allow an in-place
	// update (nothing was done).
	InPlaceUpdate bool
	Err           error
	// Delay is when to look at the Pod again (the grace period), or 0.
	Delay time.Duration
	// Pod is the Pod as last written, nil when nothing was.
	Pod *corev1.Pod
}

// RefreshResult is what Refresh did.
type RefreshResult struct {
	Err error
	// Delay is when to look at the Pod again (the end of its grace
	// period), or 0.
	Delay time.Duration
	// Pod is the Pod as written, nil when nothing was.
	Pod *corev1.Pod
}

// Control updates Pods in place.
type Control struct {
	client    kubernetes.Interface
	clock     clock.PassiveClock
	revisions RevisionAdapter
}

// New returns a Control writing through client.
func New(client kubernetes.Interface, clk clock.PassiveClock, revisions RevisionAdapter) *Control {
	if revisions == nil {
		revisions = DefaultRevisionAdapter{}
	}
	return &Control{client: client, clock: clk, revisions: revisions}
}

// CanUpdateInPlace reports whether a Pod can move from oldRevision to
// newRevision in place.
func (c *Control) CanUpdateInPlace(oldRevision, newRevision *appsv1.ControllerRevision, opts *Options) bool {
	return CalculateSpec(oldRevision, newRevision, opts) != nil
}

// Update starts updating the Pod in place from oldRevision to newRevision.
// pod may come from a cache: on a conflict it is read again.
func (c *Control) Update(ctx context.Context, pod *corev1.Pod, oldRevision, newRevision *appsv1.ControllerRevision, opts *Options) UpdateResult {
	if opts == nil {
		opts = &Options{}
	}
	spec := CalculateSpec(oldRevision, newRevision, opts)
	if spec == nil {
		return UpdateResult{}
	}

	current := pod
	if lifecycle.HasReadinessGate(pod, ReadyCondition) {
		written, err := lifecycle.WritePod(ctx, c.client, pod, func(p *corev1.Pod) (*corev1.Pod, error) {
			now := metav1.NewTime(c.clock.Now())
			setCondition(p, corev1.PodCondition{
				Type: ReadyCondition, Status: corev1.ConditionFalse, Reason: ReasonStartInPlaceUpdate, LastTransitionTime: now,
			})
			lifecycle.SetPodReadyCondition(p, now)
			return c.client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
		})
		if err != nil {
			return UpdateResult{InPlaceUpdate: true, Err: fmt.Errorf("setting %s False: %w", ReadyCondition, err)}
		}
		current = written
	}

	written, err := lifecycle.WritePod(ctx, c.client, current, func(p *corev1.Pod) (*corev1.Pod, error) {
		c.revisions.WriteRevisionHash(p, spec.Revision)
		if p.Annotations == nil {
			p.Annotations = map[string]string{}
		}
		for _, f := range opts.AdditionalFuncs {
			f(p)
		}
		state := State{
			Revision:        spec.Revision,
			UpdateTimestamp: metav1.NewTime(c.clock.Now()),
			UpdateImages:    len(spec.ContainerImages) > 0,
		}
		delete(p.Annotations, legacyStateAnnotation)
		if spec.GraceSeconds <= 0 {
			var err error
			if p, err = c.patchSpecToPod(p, spec, &state); err != nil {
				return nil, err
			}
			removeGrace(p)
		} else {
			raw, _ := json.Marshal(state)
			p.Annotations[StateAnnotation] = string(raw)
			raw, _ = json.Marshal(spec)
			p.Annotations[GraceAnnotation] = string(raw)
		}
		return c.client.CoreV1().Pods(p.Namespace).Update(ctx, p, metav1.UpdateOptions{})
	})
	if err != nil {
		return UpdateResult{InPlaceUpdate: true, Err: err, Pod: current}
	}
	var delay time.Duration
	if opts.GracePeriodSeconds > 0 {
		delay = time.Duration(opts.GracePeriodSeconds) * time.Second
	}
	return UpdateResult{InPlaceUpdate: true, Delay: delay, Pod: written}
}

// Refresh moves an in-place update on: it applies the update waiting in
// the grace annotation once the grace period has passed, and sets
// InPlaceUpdateReady True once the update is done (or when no update holds
// the Pod). A conflict is returned as is: the Pod changed, and its newer
// version will be refreshed.
func (c *Control) Refresh(ctx context.Context, pod *corev1.Pod, opts *Options) RefreshResult {
	if _, ok := graceOf(pod); ok {
		return c.finishGracePeriod(ctx, pod)
	}
	if state, ok, err := GetState(pod); err != nil {
		return RefreshResult{Err: err}
	} else if ok && checkContainersCompleted(pod, state) != nil {
		return RefreshResult{}
	}
	if !lifecycle.HasReadinessGate(pod, ReadyCondition) {
		return RefreshResult{}
	}
	if cond := lifecycle.GetCondition(pod, ReadyCondition); cond != nil &&
		cond.Status == corev1.ConditionTrue && cond.Reason == "" && cond.Message == "" {
		return RefreshResult{}
	}
	// Only for this version of the Pod, no retry: a newer one may hold a
	// newer update.
	clone := pod.DeepCopy()
	if cond := lifecycle.GetCondition(clone, ReadyCondition); cond != nil {
		*cond = corev1.PodCondition{Type: ReadyCondition, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(c.clock.Now())}
	} else {
		clone.Status.Conditions = append(clone.Status.Conditions, corev1.PodCondition{
			Type: ReadyCondition, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(c.clock.Now()),
		})
	}
	written, err := c.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, clone, metav1.UpdateOptions{})
	if err != nil {
		return RefreshResult{Err: err}
	}
	return RefreshResult{Pod: written}
}

// finishGracePeriod applies the update of the grace annotation when its
// period has passed, or drops it when the Pod has since moved to another
// revision.
func (c *Control) finishGracePeriod(ctx context.Context, pod *corev1.Pod) RefreshResult {
	var delay time.Duration
	written, err := lifecycle.WritePod(ctx, c.client, pod, func(p *corev1.Pod) (*corev1.Pod, error) {
		delay = 0
		raw, ok := graceOf(p)
		if !ok {
			return nil, nil
		}
		spec := Spec{}
		if err := json.Unmarshal([]byte(raw), &spec); err != nil {
			return nil, fmt.Errorf("parsing %s of Pod %s: %w", GraceAnnotation, p.Name, err)
		}
		state, ok, err := GetState(p)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("pod %s has %s but no %s", p.Name, GraceAnnotation, StateAnnotation)
		}
		if !c.revisions.EqualToRevisionHash(p, spec.Revision) {
			// Moved on to another revision since: the normal update
			// process takes over.
			removeGrace(p)
		} else {
			grace := time.Duration(spec.GraceSeconds) * time.Second
			if span := c.clock.Since(state.UpdateTimestamp.Time); span < grace {
				delay = roundUpSeconds(grace - span)
				return nil, nil
			}
			if p, err = c.patchSpecToPod(p, &spec, state); err != nil {
				return nil, err
			}
			removeGrace(p)
		}
		return c.client.CoreV1().Pods(p.Namespace).Update(ctx, p, metav1.UpdateOptions{})
	})
	return RefreshResult{Err: err, Delay: delay, Pod: written}
}

// patchSpecToPod applies the update to the Pod: its metadata patch and
// images; it records in the state what the changed containers ran before,
// and writes the state annotation.
func (c *Control) patchSpecToPod(pod *corev1.Pod, spec *Spec, state *State) (*corev1.Pod, error) {
	if len(spec.MetaDataPatch) > 0 {
		original, err := json.Marshal(pod)
		if err != nil {
			return nil, err
		}
		patched, err := strategicpatch.StrategicMergePatch(original, spec.MetaDataPatch, &corev1.Pod{})
		if err != nil {
			return nil, fmt.Errorf("applying the metadata patch to Pod %s: %w", pod.Name, err)
		}
		pod = &corev1.Pod{}
		if err := json.Unmarshal(patched, pod); err != nil {
			return nil, err
		}
	}
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}

	var changed []string
	for i := range pod.Spec.Containers {
		if image, ok := spec.ContainerImages[pod.Spec.Containers[i].Name]; ok {
			pod.Spec.Containers[i].Image = image
			changed = append(changed, pod.Spec.Containers[i].Name)
		}
	}
	sort.Strings(changed)
	for _, s := range pod.Status.ContainerStatuses {
		if !contains(changed, s.Name) {
			continue
		}
		if state.LastContainerStatuses == nil {
			state.LastContainerStatuses = map[string]ContainerStatus{}
		}
		state.LastContainerStatuses[s.Name] = ContainerStatus{ImageID: s.ImageID}
	}
	if changed == nil {
		changed = []string{}
	}
	state.ContainerBatchesRecord = append(state.ContainerBatchesRecord, ContainerBatch{
		Timestamp: metav1.NewTime(c.clock.Now()), Containers: changed,
	})
	raw, err := json.Marshal(state)
	if err != nil {
		return nil, err
	}
	pod.Annotations[StateAnnotation] = string(raw)
	return pod, nil
}

// TemplateFromRevision returns the Pod template a workload revision
// records ({"spec":{"template":{...}}}).
func TemplateFromRevision(r *appsv1.ControllerRevision) (*corev1.PodTemplateSpec, error) {
	var data struct {
		Spec struct {
			Template corev1.PodTemplateSpec `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(r.Data.Raw, &data); err != nil {
		return nil, fmt.Errorf("parsing revision %s: %w", r.Name, err)
	}
	return &data.Spec.Template, nil
}

// CalculateSpec returns the in-place update from oldRevision to
// newRevision, or nil when the Pod has to be re-created: when anything in
// the template's spec other than the images of its containers changed (an
// image added or removed, a container added, removed or renamed, init
// containers, ...). Changes of the template's metadata become a metadata
// patch.
func CalculateSpec(oldRevision, newRevision *appsv1.ControllerRevision, opts *Options) *Spec {
	if oldRevision == nil || newRevision == nil {
		return nil
	}
	oldTemplate, err := TemplateFromRevision(oldRevision)
	if err != nil {
		return nil
	}
	newTemplate, err := TemplateFromRevision(newRevision)
	if err != nil {
		return nil
	}
	spec := &Spec{Revision: newRevision.Name, ContainerImages: map[string]string{}}
	if opts != nil {
		spec.GraceSeconds = opts.GracePeriodSeconds
	}

	oldSpec, newSpec := oldTemplate.Spec.DeepCopy(), newTemplate.Spec.DeepCopy()
	if len(oldSpec.Containers) != len(newSpec.Containers) {
		return nil
	}
	for i := range oldSpec.Containers {
		o, n := &oldSpec.Containers[i], &newSpec.Containers[i]
		if o.Image == n.Image {
			continue
		}
		if o.Image == "" || n.Image == "" {
			// Not a replacement of one image by another.
			return nil
		}
		spec.ContainerImages[o.Name] = n.Image
		o.Image, n.Image = "", ""
	}
	if !apiequality.Semantic.DeepEqual(oldSpec, newSpec) {
		return nil
	}

	if !apiequality.Semantic.DeepEqual(oldTemplate.ObjectMeta, newTemplate.ObjectMeta) {
		oldMeta, err := json.Marshal(corev1.Pod{ObjectMeta: oldTemplate.ObjectMeta})
		if err != nil {
			return nil
		}
		newMeta, err := json.Marshal(corev1.Pod{ObjectMeta: newTemplate.ObjectMeta})
		if err != nil {
			return nil
		}
		patch, err := strategicpatch.CreateTwoWayMergePatch(oldMeta, newMeta, &corev1.Pod{})
		if err != nil {
			return nil
		}
		if string(patch) != "{}" {
			spec.MetaDataPatch = patch
		}
	}
	return spec
}

// GetState returns the Pod's in-place update state, and whether it has one.
func GetState(pod *corev1.Pod) (*State, bool, error) {
	raw, ok := pod.Annotations[StateAnnotation]
	if !ok {
		raw, ok = pod.Annotations[legacyStateAnnotation]
	}
	if !ok {
		return nil, false, nil
	}
	state := &State{}
	if err := json.Unmarshal([]byte(raw), state); err != nil {
		return nil, true, fmt.Errorf("parsing %s of Pod %s: %w", StateAnnotation, pod.Name, err)
	}
	return state, true, nil
}

// InGracePeriod reports whether the Pod's update waits for its grace
// period to pass.
func InGracePeriod(pod *corev1.Pod) bool {
	_, ok := graceOf(pod)
	return ok
}

func graceOf(pod *corev1.Pod) (string, bool) {
	if v, ok := pod.Annotations[GraceAnnotation]; ok && v != "" {
		return v, true
	}
	if v, ok := pod.Annotations[legacyGraceAnnotation]; ok && v != "" {
		return v, true
	}
	return "", false
}

func removeGrace(pod *corev1.Pod) {
	delete(pod.Annotations, GraceAnnotation)
	delete(pod.Annotations, legacyGraceAnnotation)
}

// CheckCompleted returns nil when no in-place update of the Pod is in
// progress, and why it is not done otherwise.
func CheckCompleted(pod *corev1.Pod) error {
	if InGracePeriod(pod) {
		return fmt.Errorf("still in the grace period of the in-place update")
	}
	state, ok, err := GetState(pod)
	if err != nil || !ok {
		return err
	}
	return checkContainersCompleted(pod, state)
}

// checkContainersCompleted: every changed container whose earlier status
// was recorded runs another imageID now (or the same imageID under the new
// image name: a new tag of the same image) and has started.
func checkContainersCompleted(pod *corev1.Pod, state *State) error {
	images := make(map[string]string, len(pod.Spec.Containers))
	for _, c := range pod.Spec.Containers {
		images[c.Name] = withDefaultTag(c.Image)
	}
	statuses := make(map[string]*corev1.ContainerStatus, len(pod.Status.ContainerStatuses))
	for i := range pod.Status.ContainerStatuses {
		statuses[pod.Status.ContainerStatuses[i].Name] = &pod.Status.ContainerStatuses[i]
	}
	names := make([]string, 0, len(state.LastContainerStatuses))
	for name := range state.LastContainerStatuses {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		s := statuses[name]
		if s == nil {
			return fmt.Errorf("no status of container %s", name)
		}
		if s.ImageID == state.LastContainerStatuses[name].ImageID && images[name] != s.Image {
			return fmt.Errorf("container %s still runs imageID %s", name, s.ImageID)
		}
		if !s.Ready && (s.Started == nil || !*s.Started) {
			return fmt.Errorf("container %s has not started", name)
		}
	}
	return nil
}

// withDefaultTag adds :latest to an image without a tag or digest.
func withDefaultTag(image string) string {
	if strings.Contains(image, "@") {
		return image
	}
	name := image[strings.LastIndex(image, "/")+1:]
	if !strings.Contains(name, ":") {
		return image + ":latest"
	}
	return image
}

// setCondition sets the Pod condition, replacing one of the type only
// when its status differs.
func setCondition(pod *corev1.Pod, cond corev1.PodCondition) {
	if existing := lifecycle.GetCondition(pod, cond.Type); existing != nil {
		if existing.Status != cond.Status {
			*existing = cond
		}
		return
	}
	pod.Status.Conditions = append(pod.Status.Conditions, cond)
}

func roundUpSeconds(d time.Duration) time.Duration {
	if d%time.Second == 0 {
		return d
	}
	return (d/time.Second + 1) * time.Second
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
