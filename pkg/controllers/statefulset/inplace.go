package statefulset

import (
	"context"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/inplaceupdate"
)

// inPlaceOptions tune one in-place update.
type inPlaceOptions struct {
	// GracePeriodSeconds is rollingUpdate.inPlaceUpdateStrategy.gracePeriodSeconds.
	GracePeriodSeconds int32
	// Mutations are applied to the Pod along with the update (the lifecycle
	// state moving to Updating).
	Mutations []func(*corev1.Pod)
}

// inPlaceResult is the outcome of inPlaceUpdater.update.
type inPlaceResult struct {
	// InPlace is false when the Pod cannot be updated in place: the caller
	// re-creates it (or fails, for InPlaceOnly).
	InPlace bool
	// Written is the Pod as the update wrote it, if it did.
	Written *corev1.Pod
	// After is when to look at the StatefulSet again (a grace period), or 0.
	After time.Duration
	Err   error
}

// inPlaceUpdater is what the StatefulSet controller needs of in-place
// update (OpenKruise's inplaceupdate.Interface, cut down). The controller
// keeps the lifecycle hooks, the ordering and the maxUnavailable
// accounting; the updater only changes Pods. sharedInPlace is the real one,
// over pkg/controllers/inplaceupdate.
type inPlaceUpdater interface {
	// canUpdateInPlace reports whether a Pod can go from the old revision
	// (nil when unknown) to the target one in place.
	canUpdateInPlace(old, target *appsv1.ControllerRevision, opts inPlaceOptions) bool
	// update starts moving the Pod to the target revision in place.
	update(ctx context.Context, pod *corev1.Pod, old, target *appsv1.ControllerRevision, opts inPlaceOptions) inPlaceResult
	// refresh moves in-place updates in progress forward (an elapsed grace
	// period) and keeps the InPlaceUpdateReady condition of Pods with that
	// readiness gate. It returns the Pod as written when it wrote it, and
	// when to look again.
	refresh(ctx context.Context, pod *corev1.Pod, opts inPlaceOptions) (written *corev1.Pod, after time.Duration, err error)
	// completed returns nil when no in-place update of the Pod is in
	// progress.
	completed(pod *corev1.Pod) error
}

// sharedInPlace updates Pods in place with pkg/controllers/inplaceupdate:
// image (and template metadata) changes only; the revision is the
// controller-revision-hash label.
type sharedInPlace struct{ control *inplaceupdate.Control }

func (u sharedInPlace) options(opts inPlaceOptions) *inplaceupdate.Options {
	return &inplaceupdate.Options{GracePeriodSeconds: opts.GracePeriodSeconds, AdditionalFuncs: opts.Mutations}
}

func (u sharedInPlace) canUpdateInPlace(old, target *appsv1.ControllerRevision, opts inPlaceOptions) bool {
	return u.control.CanUpdateInPlace(old, target, u.options(opts))
}

func (u sharedInPlace) update(ctx context.Context, pod *corev1.Pod, old, target *appsv1.ControllerRevision, opts inPlaceOptions) inPlaceResult {
	res := u.control.Update(ctx, pod, old, target, u.options(opts))
	return inPlaceResult{InPlace: res.InPlaceUpdate, Written: res.Pod, After: res.Delay, Err: res.Err}
}

func (u sharedInPlace) refresh(ctx context.Context, pod *corev1.Pod, opts inPlaceOptions) (*corev1.Pod, time.Duration, error) {
	res := u.control.Refresh(ctx, pod, u.options(opts))
	return res.Pod, res.Delay, res.Err
}

func (u sharedInPlace) completed(pod *corev1.Pod) error {
	return inplaceupdate.CheckCompleted(pod)
}
