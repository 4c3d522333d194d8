// Package cloneset is the CloneSet controller: it keeps spec.replicas Pods
// (and their PersistentVolumeClaims) of a CloneSet, rolls them to new
// revisions of the template, and reports what it sees in the status.
//
// It follows OpenKruise's CloneSet controller in behaviour — the labels,
// annotations, names, revision format, event reasons and the arithmetic of
// partition, maxUnavailable and maxSurge — and kube-controller-manager's
// ReplicaSet and Deployment controllers in structure: shared informers, a
// rate-limited workqueue of CloneSet keys, an idempotent sync of one key,
// expectations so that a sync on a stale cache never creates or deletes
// twice, and Events on the CloneSet.
//
// One sync does at most one of: scale (create or delete Pods), or update.
// With podUpdatePolicy ReCreate, and with InPlaceIfPossible when more than
// container images (and template labels and annotations) changed, Pods are
// updated by re-creation: the update step labels them
// apps.kruise.io/specified-delete and the scale step of a later sync deletes
// them and creates Pods of the new revision, within maxUnavailable and
// maxSurge. Otherwise they are updated in place (package inplaceupdate):
// their images are patched and the kubelet restarts the containers.
//
// The lifecycle hooks of spec.lifecycle (package lifecycle) hold Pods in
// PreparingNormal after creation, in PreparingUpdate and Updated around an
// in-place update, and in PreparingDelete before deletion.
//
// Not implemented: the image pre-download of in-place updates (ImagePullJobs
// created ahead of a rollout, rollingUpdate.inPlaceUpdateStrategy's
// imagePreDownload* fields and their v1alpha1 annotations), which needs the
// ImagePullJob controller.
package cloneset

import (
	"context"
	"fmt"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/expectations"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/inplaceupdate"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/lifecycle"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/revision"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned"
	kruiselisters "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/listers/apps/v1beta1"
)

// controllerKind is the kind of the owner references to CloneSets.
var controllerKind = appsv1beta1.SchemeGroupVersion.WithKind("CloneSet")

// Controller is the CloneSet controller.
type Controller struct {
	kubeClient   kubernetes.Interface
	kruiseClient versioned.Interface
	recorder     record.EventRecorder

	setLister kruiselisters.CloneSetLister
	podLister corelisters.PodLister
	pvcLister corelisters.PersistentVolumeClaimLister
	history   *revision.History
	synced    []cache.InformerSynced

	queue workqueue.TypedRateLimitingInterface[string]

	// scaleExpectations holds the Pods and PVCs created or deleted and not
	// yet seen, per CloneSet key.
	scaleExpectations *expectations.Scale
	// versionExpectations holds the resourceVersions of the Pods and
	// revisions this controller wrote, until the caches catch up.
	versionExpectations *expectations.ResourceVersions

	clock clock.WithTicker
	// podUpdater updates Pods to a new revision, in place or by re-creation.
	podUpdater podUpdater
	// inPlace updates Pods in place; lifecycle writes their lifecycle
	// states and KruisePodReady condition.
	inPlace   *inplaceupdate.Control
	lifecycle *lifecycle.Control
	// randomID returns a new instance id (tests replace it).
	randomID func() string
}

// New builds the CloneSet controller and registers its event handlers on
// the CloneSet, Pod, PersistentVolumeClaim and ControllerRevision informers.
func New(ctx *controllers.Context) (controllers.Controller, error) {
	return newController(ctx, clock.RealClock{})
}

func newController(ctx *controllers.Context, clk clock.WithTicker) (*Controller, error) {
	setInformer := ctx.KruiseInformers.Apps().V1beta1().CloneSets()
	podInformer := ctx.KubeInformers.Core().V1().Pods()
	pvcInformer := ctx.KubeInformers.Core().V1().PersistentVolumeClaims()
	revisionInformer := ctx.KubeInformers.Apps().V1().ControllerRevisions()

	c := &Controller{
		kubeClient:   ctx.KubeClient,
		kruiseClient: ctx.KruiseClient,
		recorder:     ctx.Recorder,
		setLister:    setInformer.Lister(),
		podLister:    podInformer.Lister(),
		pvcLister:    pvcInformer.Lister(),
		history:      revision.NewHistory(ctx.KubeClient, revisionInformer.Lister()),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "cloneset", Clock: clk},
		),
		scaleExpectations:   expectations.NewScaleWithClock(clk, expectations.DefaultTimeout),
		versionExpectations: expectations.NewResourceVersionsWithClock(clk, expectations.DefaultTimeout),
		clock:               clk,
		inPlace:             inplaceupdate.New(ctx.KubeClient, clk, cloneSetRevisions{}),
		lifecycle:           lifecycle.New(ctx.KubeClient, clk),
		randomID:            newInstanceID,
	}
	c.podUpdater = revisionUpdater{c}

	synced, err := controllers.AddEventHandlers(
		controllers.EventHandler{Informer: setInformer.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.onCloneSetAdd,
			UpdateFunc: c.onCloneSetUpdate,
			DeleteFunc: c.onCloneSetDelete,
		}},
		controllers.EventHandler{Informer: podInformer.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.onPodAdd,
			UpdateFunc: c.onPodUpdate,
			DeleteFunc: c.onPodDelete,
		}},
		controllers.EventHandler{Informer: pvcInformer.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.onPVCAdd,
			UpdateFunc: c.onPVCUpdate,
			DeleteFunc: c.onPVCDelete,
		}},
		controllers.EventHandler{Informer: revisionInformer.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueueRevisionOwner,
			UpdateFunc: func(_, cur any) { c.enqueueRevisionOwner(cur) },
			DeleteFunc: c.enqueueRevisionOwner,
		}},
	)
	if err != nil {
		return nil, err
	}
	c.synced = synced
	return c, nil
}

// Run processes CloneSet keys with workers goroutines until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	controllers.RunWorkers(ctx, "CloneSet", c.queue, c.synced, workers, c.sync)
}

func (c *Controller) enqueue(cs *appsv1beta1.CloneSet) {
	key, err := cache.MetaNamespaceKeyFunc(cs)
	if err != nil {
		utilruntime.HandleError(err)
		return
	}
	c.queue.Add(key)
}

func keyOf(cs *appsv1beta1.CloneSet) string {
	return cs.Namespace + "/" + cs.Name
}

// CloneSet events.

func (c *Controller) onCloneSetAdd(obj any) {
	cs := obj.(*appsv1beta1.CloneSet)
	klog.V(4).InfoS("Adding CloneSet", "cloneSet", klog.KObj(cs))
	c.enqueue(cs)
}

func (c *Controller) onCloneSetUpdate(old, cur any) {
	oldCS, curCS := old.(*appsv1beta1.CloneSet), cur.(*appsv1beta1.CloneSet)
	if oldCS.UID != curCS.UID {
		// Deleted and re-created under the same name while the watch was
		// down: forget what the old one expected.
		c.onCloneSetDelete(cache.DeletedFinalStateUnknown{Key: keyOf(oldCS), Obj: oldCS})
	}
	if !reflect.DeepEqual(oldCS.Spec.Replicas, curCS.Spec.Replicas) {
		klog.V(4).InfoS("CloneSet replicas changed", "cloneSet", klog.KObj(curCS),
			"old", ptrValue(oldCS.Spec.Replicas), "new", ptrValue(curCS.Spec.Replicas))
	}
	c.enqueue(curCS)
}

func (c *Controller) onCloneSetDelete(obj any) {
	cs, ok := obj.(*appsv1beta1.CloneSet)
	if !ok {
		tombstone, ok := obj.(cache.DeletedFinalStateUnknown)
		if !ok {
			utilruntime.HandleError(fmt.Errorf("couldn't get object from tombstone %#v", obj))
			return
		}
		if cs, ok = tombstone.Obj.(*appsv1beta1.CloneSet); !ok {
			utilruntime.HandleError(fmt.Errorf("tombstone contained object that is not a CloneSet %#v", obj))
			return
		}
	}
	klog.V(4).InfoS("Deleting CloneSet", "cloneSet", klog.KObj(cs))
	c.scaleExpectations.Delete(keyOf(cs))
	c.queue.Add(keyOf(cs))
}

// resolveControllerRef returns the CloneSet a controller reference points
// to, or nil when it is not a CloneSet's or that CloneSet is gone.
func (c *Controller) resolveControllerRef(namespace string, ref *metav1.OwnerReference) *appsv1beta1.CloneSet {
	if ref == nil || ref.Kind != controllerKind.Kind {
		return nil
	}
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil || gv.Group != controllerKind.Group {
		return nil
	}
	cs, err := c.setLister.CloneSets(namespace).Get(ref.Name)
	if err != nil || cs.UID != ref.UID {
		return nil
	}
	return cs
}

// cloneSetsSelecting returns the CloneSets whose selector matches the labels.
func (c *Controller) cloneSetsSelecting(namespace string, lbls map[string]string) []*appsv1beta1.CloneSet {
	list, err := c.setLister.CloneSets(namespace).List(labels.Everything())
	if err != nil {
		return nil
	}
	var out []*appsv1beta1.CloneSet
	for _, cs := range list {
		selector, err := metav1.LabelSelectorAsSelector(cs.Spec.Selector)
		if err != nil || selector.Empty() || !selector.Matches(labels.Set(lbls)) {
			continue
		}
		out = append(out, cs)
	}
	if len(out) > 1 {
		// Controller references keep this safe, but it is a user error.
		names := make([]string, 0, len(out))
		for _, cs := range out {
			names = append(names, cs.Name)
		}
		klog.InfoS("More than one CloneSet selects the same labels", "namespace", namespace, "cloneSets", names, "labels", lbls)
	}
	return out
}

// Pod events.

func (c *Controller) onPodAdd(obj any) {
	pod := obj.(*corev1.Pod)
	if pod.DeletionTimestamp != nil {
		// Seen for the first time already being deleted (after a restart):
		// not a creation to observe.
		c.onPodDelete(pod)
		return
	}
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		cs := c.resolveControllerRef(pod.Namespace, ref)
		if cs == nil {
			return
		}
		klog.V(4).InfoS("Pod created", "pod", klog.KObj(pod), "cloneSet", klog.KObj(cs))
		c.scaleExpectations.Observe(keyOf(cs), expectations.Create, pod.Name)
		c.enqueue(cs)
		return
	}
	// An orphan: let the CloneSets that select it decide whether to adopt it.
	for _, cs := range c.cloneSetsSelecting(pod.Namespace, pod.Labels) {
		c.enqueue(cs)
	}
}

func (c *Controller) onPodUpdate(old, cur any) {
	oldPod, curPod := old.(*corev1.Pod), cur.(*corev1.Pod)
	if oldPod.ResourceVersion == curPod.ResourceVersion {
		// A resync: nothing changed.
		return
	}
	labelsChanged := !reflect.DeepEqual(oldPod.Labels, curPod.Labels)
	if curPod.DeletionTimestamp != nil {
		// A graceful deletion has begun: the Pod no longer counts, so act
		// now rather than when the kubelet removes it.
		c.onPodDelete(curPod)
		if labelsChanged {
			c.onPodDelete(oldPod)
		}
		return
	}
	curRef, oldRef := metav1.GetControllerOfNoCopy(curPod), metav1.GetControllerOfNoCopy(oldPod)
	refChanged := !reflect.DeepEqual(curRef, oldRef)
	if refChanged && oldRef != nil {
		if cs := c.resolveControllerRef(oldPod.Namespace, oldRef); cs != nil {
			c.enqueue(cs)
		}
	}
	if curRef != nil {
		if cs := c.resolveControllerRef(curPod.Namespace, curRef); cs != nil {
			c.enqueue(cs)
		}
		return
	}
	if labelsChanged || refChanged {
		for _, cs := range c.cloneSetsSelecting(curPod.Namespace, curPod.Labels) {
			c.enqueue(cs)
		}
	}
}

func (c *Controller) onPodDelete(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		tombstone, ok := obj.(cache.DeletedFinalStateUnknown)
		if !ok {
			utilruntime.HandleError(fmt.Errorf("couldn't get object from tombstone %#v", obj))
			return
		}
		if pod, ok = tombstone.Obj.(*corev1.Pod); !ok {
			utilruntime.HandleError(fmt.Errorf("tombstone contained object that is not a Pod %#v", obj))
			return
		}
	}
	c.versionExpectations.Forget(pod)
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil {
		return
	}
	cs := c.resolveControllerRef(pod.Namespace, ref)
	if cs == nil {
		return
	}
	klog.V(4).InfoS("Pod deleted", "pod", klog.KObj(pod), "cloneSet", klog.KObj(cs))
	c.scaleExpectations.Observe(keyOf(cs), expectations.Delete, pod.Name)
	c.enqueue(cs)
}

// PersistentVolumeClaim events.

func (c *Controller) onPVCAdd(obj any) {
	pvc := obj.(*corev1.PersistentVolumeClaim)
	if pvc.DeletionTimestamp != nil {
		c.onPVCDelete(pvc)
		return
	}
	if cs := c.resolveControllerRef(pvc.Namespace, metav1.GetControllerOfNoCopy(pvc)); cs != nil {
		c.scaleExpectations.Observe(keyOf(cs), expectations.Create, pvc.Name)
		c.enqueue(cs)
	}
}

func (c *Controller) onPVCUpdate(old, cur any) {
	pvc := cur.(*corev1.PersistentVolumeClaim)
	if pvc.DeletionTimestamp != nil {
		c.onPVCDelete(pvc)
	}
}

func (c *Controller) onPVCDelete(obj any) {
	pvc, ok := obj.(*corev1.PersistentVolumeClaim)
	if !ok {
		tombstone, ok := obj.(cache.DeletedFinalStateUnknown)
		if !ok {
			utilruntime.HandleError(fmt.Errorf("couldn't get object from tombstone %#v", obj))
			return
		}
		if pvc, ok = tombstone.Obj.(*corev1.PersistentVolumeClaim); !ok {
			utilruntime.HandleError(fmt.Errorf("tombstone contained object that is not a PersistentVolumeClaim %#v", obj))
			return
		}
	}
	if cs := c.resolveControllerRef(pvc.Namespace, metav1.GetControllerOfNoCopy(pvc)); cs != nil {
		c.scaleExpectations.Observe(keyOf(cs), expectations.Delete, pvc.Name)
		c.enqueue(cs)
	}
}

// ControllerRevision events: a revision changed or deleted by someone else
// is reconciled by its CloneSet.
func (c *Controller) enqueueRevisionOwner(obj any) {
	if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
	cr, ok := obj.(*appsv1.ControllerRevision)
	if !ok {
		return
	}
	if cs := c.resolveControllerRef(cr.Namespace, metav1.GetControllerOfNoCopy(cr)); cs != nil {
		c.enqueue(cs)
	}
}

func ptrValue(p *int32) any {
	if p == nil {
		return nil
	}
	return *p
}

// isNotFoundOrGone reports whether err says the object is already gone.
func isNotFoundOrGone(err error) bool {
	return apierrors.IsNotFound(err) || apierrors.IsGone(err)
}

// isInvalid reports whether err is a validation failure (a patch the
// object no longer admits).
func isInvalid(err error) bool {
	return apierrors.IsInvalid(err)
}
