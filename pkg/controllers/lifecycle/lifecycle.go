// Package lifecycle moves the Pods of Kruise workloads (CloneSet, Advanced
// StatefulSet) through OpenKruise's lifecycle states, the
// lifecycle.apps.kruise.io/state label, and applies the hooks of
// spec.lifecycle: a hook holds a Pod in a state while the Pod carries the
// hook's labels or finalizers, which some other party removes when it is
// done.
//
//	PreparingNormal -> Normal                        (preNormal hook)
//	Normal -> PreparingUpdate -> Updating -> Updated -> Normal  (inPlaceUpdate hook)
//	any -> PreparingDelete -> (deleted)              (preDelete hook)
//
// With markPodNotReady, a hook also holds the Pod not ready through the
// KruisePodReady condition (readiness.go).
package lifecycle

import (
	"context"
	"encoding/json"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/clock"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

const (
	// StateLabel holds a Pod's lifecycle state.
	StateLabel = "lifecycle.apps.kruise.io/state"
	// TimestampAnnotation holds when the state last changed (RFC 3339).
	TimestampAnnotation = "lifecycle.apps.kruise.io/timestamp"
)

// State is a Pod's lifecycle state.
type State string

const (
	// StatePreparingNormal: created, not yet available; becomes Normal once
	// scheduled, or once the preNormal hook is satisfied.
	StatePreparingNormal State = "PreparingNormal"
	// StateNormal is required for a Pod to count as available.
	StateNormal State = "Normal"
	// StatePreparingUpdate: about to be updated in place, held by the
	// inPlaceUpdate hook.
	StatePreparingUpdate State = "PreparingUpdate"
	// StateUpdating: being updated in place.
	StateUpdating State = "Updating"
	// StateUpdated: updated in place, waiting for the inPlaceUpdate hook to
	// be satisfied again before becoming Normal.
	StateUpdated State = "Updated"
	// StatePreparingDelete: to be deleted once the preDelete hook lets it go.
	StatePreparingDelete State = "PreparingDelete"
)

// GetState returns the Pod's lifecycle state ("" when it has none).
func GetState(pod *corev1.Pod) State {
	if pod == nil {
		return ""
	}
	return State(pod.Labels[StateLabel])
}

// IsPodHooked reports whether the hook holds the Pod: it has any of the
// hook's finalizers or labels (with the hook's value).
func IsPodHooked(hook *appsv1beta1.LifecycleHook, pod *corev1.Pod) bool {
	if hook == nil || pod == nil {
		return false
	}
	for _, f := range hook.FinalizersHandler {
		if hasFinalizer(pod, f) {
			return true
		}
	}
	for k, v := range hook.LabelsHandler {
		if pod.Labels[k] == v {
			return true
		}
	}
	return false
}

// IsPodAllHooked reports whether the Pod has every finalizer and label of
// the hook; false for no hook.
func IsPodAllHooked(hook *appsv1beta1.LifecycleHook, pod *corev1.Pod) bool {
	if hook == nil || pod == nil {
		return false
	}
	for _, f := range hook.FinalizersHandler {
		if !hasFinalizer(pod, f) {
			return false
		}
	}
	for k, v := range hook.LabelsHandler {
		if pod.Labels[k] != v {
			return false
		}
	}
	return true
}

// IsMarkPodNotReady reports whether the hook marks Pods not ready.
func IsMarkPodNotReady(hook *appsv1beta1.LifecycleHook) bool {
	return hook != nil && hook.MarkPodNotReady
}

// IsLifecycleMarkPodNotReady reports whether the preDelete or inPlaceUpdate
// hook marks Pods not ready (the only hooks where markPodNotReady applies).
func IsLifecycleMarkPodNotReady(l *appsv1beta1.Lifecycle) bool {
	return l != nil && (IsMarkPodNotReady(l.PreDelete) || IsMarkPodNotReady(l.InPlaceUpdate))
}

func hasFinalizer(pod *corev1.Pod, f string) bool {
	for _, pf := range pod.Finalizers {
		if pf == f {
			return true
		}
	}
	return false
}

// SetState returns a mutation that puts the Pod in the state, stamped now,
// for writes that change more than the state.
func SetState(state State, now time.Time) func(*corev1.Pod) {
	return func(pod *corev1.Pod) {
		if pod.Labels == nil {
			pod.Labels = map[string]string{}
		}
		if pod.Annotations == nil {
			pod.Annotations = map[string]string{}
		}
		pod.Labels[StateLabel] = string(state)
		pod.Annotations[TimestampAnnotation] = now.UTC().Format(time.RFC3339)
	}
}

// Control writes lifecycle states and the KruisePodReady condition of Pods.
type Control struct {
	client kubernetes.Interface
	clock  clock.PassiveClock
}

// New returns a Control writing through client.
func New(client kubernetes.Interface, clk clock.PassiveClock) *Control {
	return &Control{client: client, clock: clk}
}

// UpdatePodLifecycle moves the Pod to the state. With markPodNotReady it
// first applies the readiness policy of the state: PreparingDelete and
// PreparingUpdate add their key to the KruisePodReady condition (holding
// the Pod not ready), Updated and Normal remove PreparingUpdate's.
//
// updated reports whether the state label was written; written is the
// Pod as last written (the readiness write, the label patch), nil when
// nothing was written.
func (c *Control) UpdatePodLifecycle(ctx context.Context, pod *corev1.Pod, state State, markPodNotReady bool) (updated bool, written *corev1.Pod, err error) {
	return c.updatePodLifecycle(ctx, pod, state, markPodNotReady, nil)
}

// UpdatePodLifecycleWithHandler is UpdatePodLifecycle that also puts the
// hook's labels and finalizers back on the Pod (an Updated Pod going back to
// PreparingUpdate for another update), with the hook's markPodNotReady. It
// does nothing without a hook.
func (c *Control) UpdatePodLifecycleWithHandler(ctx context.Context, pod *corev1.Pod, state State, hook *appsv1beta1.LifecycleHook) (updated bool, written *corev1.Pod, err error) {
	if hook == nil || pod == nil {
		return false, nil, nil
	}
	return c.updatePodLifecycle(ctx, pod, state, hook.MarkPodNotReady, hook)
}

func (c *Control) updatePodLifecycle(ctx context.Context, pod *corev1.Pod, state State, markPodNotReady bool,
	hook *appsv1beta1.LifecycleHook) (bool, *corev1.Pod, error) {
	var written *corev1.Pod
	if markPodNotReady {
		w, err := c.applyNotReadyPolicy(ctx, pod, state)
		if err != nil {
			return false, nil, err
		}
		if w != nil {
			pod, written = w, w
		}
	}
	if GetState(pod) == state {
		return false, written, nil
	}

	labels := map[string]string{StateLabel: string(state)}
	meta := map[string]any{
		"labels":      labels,
		"annotations": map[string]string{TimestampAnnotation: c.clock.Now().UTC().Format(time.RFC3339)},
	}
	if hook != nil {
		for k, v := range hook.LabelsHandler {
			labels[k] = v
		}
		// finalizers merge by value: this adds the missing ones.
		if len(hook.FinalizersHandler) > 0 {
			meta["finalizers"] = hook.FinalizersHandler
		}
	}
	patch, err := json.Marshal(map[string]any{"metadata": meta})
	if err != nil {
		return false, written, err
	}
	patched, err := c.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		return false, written, err
	}
	return true, patched, nil
}

// applyNotReadyPolicy is markPodNotReady's effect of entering the state.
func (c *Control) applyNotReadyPolicy(ctx context.Context, pod *corev1.Pod, state State) (*corev1.Pod, error) {
	switch state {
	case StatePreparingDelete:
		return c.AddNotReadyKey(ctx, pod, preDeleteHookKey)
	case StatePreparingUpdate:
		return c.AddNotReadyKey(ctx, pod, preUpdateHookKey)
	case StateUpdated, StateNormal:
		// OpenKruise removes the key at Updated; a Pod whose hook was
		// satisfied again before the update finished goes straight to
		// Normal, and must not stay not ready.
		return c.RemoveNotReadyKey(ctx, pod, preUpdateHookKey)
	}
	return nil, nil
}

// WritePod writes the Pod with write, given a copy of pod; on a conflict it
// reads the Pod again and retries with a copy of the fresh one (the retry
// backoff of client-go). A Pod replaced under the same name counts as gone.
// It returns what write returned last.
func WritePod(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod,
	write func(*corev1.Pod) (*corev1.Pod, error)) (*corev1.Pod, error) {
	current := pod
	var written *corev1.Pod
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		if current == nil {
			fresh, err := client.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if fresh.UID != pod.UID {
				return apierrors.NewNotFound(corev1.Resource("pods"), pod.Name)
			}
			current = fresh
		}
		w, err := write(current.DeepCopy())
		if apierrors.IsConflict(err) {
			current = nil
		}
		written = w
		return err
	})
	if err != nil {
		return nil, err
	}
	return written, nil
}
