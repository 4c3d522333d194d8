// Package statefulset is the Advanced StatefulSet controller
// (apps.kruise.io/v1beta1 StatefulSet): it keeps spec.replicas Pods named
// <set>-<ordinal> with stable PersistentVolumeClaims, creates and deletes
// them in ordinal order (OrderedReady) or all at once (Parallel), rolls them
// to new revisions of the template, and reports what it sees in the status.
//
// It follows OpenKruise's Advanced StatefulSet controller, itself derived
// from Kubernetes' StatefulSet controller, in behaviour: the names, labels,
// annotations, revision format, event reasons, PVC ownership under
// persistentVolumeClaimRetentionPolicy, partition and maxUnavailable
// arithmetic, reserveOrdinals, ordinals.start, scaleStrategy.maxUnavailable
// and unorderedUpdate. In structure it follows kube-controller-manager's
// controllers (and this module's CloneSet controller): shared informers, a
// rate-limited workqueue of StatefulSet keys, an idempotent sync of one key,
// expectations so that a sync on a stale cache never creates or deletes a
// Pod twice, Events on the StatefulSet, and a status written only when it
// changed.
//
// Pods are updated by deletion and re-creation (podUpdatePolicy ReCreate),
// or in place (InPlaceIfPossible, InPlaceOnly) through
// pkg/controllers/inplaceupdate behind the small inPlaceUpdater interface;
// a Pod that cannot be updated in place is re-created under
// InPlaceIfPossible and left alone under InPlaceOnly, which reports the
// FailedUpdatePod condition. spec.lifecycle's hooks go through
// pkg/controllers/lifecycle.
package statefulset

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

var (
	// controllerKind is the kind of the owner references to StatefulSets.
	controllerKind = appsv1beta1.SchemeGroupVersion.WithKind("StatefulSet")
	podKind        = corev1.SchemeGroupVersion.WithKind("Pod")
)

// Controller is the Advanced StatefulSet controller.
type Controller struct {
	kubeClient   kubernetes.Interface
	kruiseClient versioned.Interface
	recorder     record.EventRecorder

	setLister kruiselisters.StatefulSetLister
	podLister corelisters.PodLister
	pvcLister corelisters.PersistentVolumeClaimLister
	history   *revision.History
	synced    []cache.InformerSynced

	queue workqueue.TypedRateLimitingInterface[string]

	// scaleExpectations holds the Pods created or deleted and not yet seen,
	// per StatefulSet key.
	scaleExpectations *expectations.Scale
	// versionExpectations holds the resourceVersions of the Pods, PVCs and
	// revisions this controller wrote, until the caches catch up.
	versionExpectations *expectations.ResourceVersions

	clock clock.WithTicker
	// inPlace updates Pods in place (tests replace it).
	inPlace inPlaceUpdater
	// lifecycle writes Pods' lifecycle states and KruisePodReady condition.
	lifecycle *lifecycle.Control
}

// New builds the StatefulSet controller and registers its event handlers on
// the StatefulSet, Pod, PersistentVolumeClaim and ControllerRevision
// informers.
func New(ctx *controllers.Context) (controllers.Controller, error) {
	return newController(ctx, clock.RealClock{})
}

func newController(ctx *controllers.Context, clk clock.WithTicker) (*Controller, error) {
	setInformer := ctx.KruiseInformers.Apps().V1beta1().StatefulSets()
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
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "statefulset", Clock: clk},
		),
		scaleExpectations:   expectations.NewScaleWithClock(clk, expectations.DefaultTimeout),
		versionExpectations: expectations.NewResourceVersionsWithClock(clk, expectations.DefaultTimeout),
		clock:               clk,
		inPlace:             sharedInPlace{inplaceupdate.New(ctx.KubeClient, clk, inplaceupdate.DefaultRevisionAdapter{})},
		lifecycle:           lifecycle.New(ctx.KubeClient, clk),
	}

	synced, err := controllers.AddEventHandlers(
		controllers.EventHandler{Informer: setInformer.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.onSetAdd,
			UpdateFunc: c.onSetUpdate,
			DeleteFunc: c.onSetDelete,
		}},
		controllers.EventHandler{Informer: podInformer.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.onPodAdd,
			UpdateFunc: c.onPodUpdate,
			DeleteFunc: c.onPodDelete,
		}},
		controllers.EventHandler{Informer: pvcInformer.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.onPVC,
			UpdateFunc: func(_, cur any) { c.onPVC(cur) },
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

// Run processes StatefulSet keys with workers goroutines until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	controllers.RunWorkers(ctx, "StatefulSet", c.queue, c.synced, workers, c.sync)
}

func keyOf(set *appsv1beta1.StatefulSet) string {
	return set.Namespace + "/" + set.Name
}

func (c *Controller) enqueue(set *appsv1beta1.StatefulSet) {
	c.queue.Add(keyOf(set))
}

// StatefulSet events.

func (c *Controller) onSetAdd(obj any) {
	set := obj.(*appsv1beta1.StatefulSet)
	klog.V(4).InfoS("Adding StatefulSet", "statefulSet", klog.KObj(set))
	c.enqueue(set)
}

func (c *Controller) onSetUpdate(old, cur any) {
	oldSet, curSet := old.(*appsv1beta1.StatefulSet), cur.(*appsv1beta1.StatefulSet)
	if oldSet.UID != curSet.UID {
		// Deleted and re-created under the same name while the watch was
		// down: forget what the old one expected.
		c.onSetDelete(cache.DeletedFinalStateUnknown{Key: keyOf(oldSet), Obj: oldSet})
	}
	if oldSet.Status.Replicas != curSet.Status.Replicas {
		klog.V(4).InfoS("Observed updated replica count for StatefulSet", "statefulSet", klog.KObj(curSet),
			"oldReplicas", oldSet.Status.Replicas, "newReplicas", curSet.Status.Replicas)
	}
	c.enqueue(curSet)
}

func (c *Controller) onSetDelete(obj any) {
	set, ok := obj.(*appsv1beta1.StatefulSet)
	if !ok {
		tombstone, ok := obj.(cache.DeletedFinalStateUnknown)
		if !ok {
			utilruntime.HandleError(fmt.Errorf("couldn't get object from tombstone %#v", obj))
			return
		}
		if set, ok = tombstone.Obj.(*appsv1beta1.StatefulSet); !ok {
			utilruntime.HandleError(fmt.Errorf("tombstone contained object that is not a StatefulSet %#v", obj))
			return
		}
	}
	klog.V(4).InfoS("Deleting StatefulSet", "statefulSet", klog.KObj(set))
	c.scaleExpectations.Delete(keyOf(set))
	c.queue.Add(keyOf(set))
}

// resolveControllerRef returns the StatefulSet a controller reference
// points to, or nil when it is not a StatefulSet's or that one is gone.
func (c *Controller) resolveControllerRef(namespace string, ref *metav1.OwnerReference) *appsv1beta1.StatefulSet {
	if ref == nil || ref.Kind != controllerKind.Kind {
		return nil
	}
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil || gv.Group != controllerKind.Group {
		return nil
	}
	set, err := c.setLister.StatefulSets(namespace).Get(ref.Name)
	if err != nil || set.UID != ref.UID {
		return nil
	}
	return set
}

// setsSelecting returns the StatefulSets whose selector matches the Pod and
// whose name its name carries.
func (c *Controller) setsSelecting(pod *corev1.Pod) []*appsv1beta1.StatefulSet {
	list, err := c.setLister.StatefulSets(pod.Namespace).List(labels.Everything())
	if err != nil {
		return nil
	}
	var out []*appsv1beta1.StatefulSet
	for _, set := range list {
		selector, err := metav1.LabelSelectorAsSelector(set.Spec.Selector)
		if err != nil || selector.Empty() || !selector.Matches(labels.Set(pod.Labels)) || !isMember(set, pod) {
			continue
		}
		out = append(out, set)
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
		set := c.resolveControllerRef(pod.Namespace, ref)
		if set == nil {
			return
		}
		klog.V(4).InfoS("Pod created", "pod", klog.KObj(pod), "statefulSet", klog.KObj(set))
		c.scaleExpectations.Observe(keyOf(set), expectations.Create, pod.Name)
		c.enqueue(set)
		return
	}
	// An orphan: let the StatefulSets that would own it decide.
	for _, set := range c.setsSelecting(pod) {
		c.enqueue(set)
	}
}

func (c *Controller) onPodUpdate(old, cur any) {
	oldPod, curPod := old.(*corev1.Pod), cur.(*corev1.Pod)
	if oldPod.ResourceVersion != "" && oldPod.ResourceVersion == curPod.ResourceVersion {
		// A resync: nothing changed.
		return
	}
	labelsChanged := !reflect.DeepEqual(oldPod.Labels, curPod.Labels)
	if curPod.DeletionTimestamp != nil && oldPod.DeletionTimestamp == nil {
		// A graceful deletion has begun: count it as the deletion.
		c.observeDeletion(curPod)
	}
	curRef, oldRef := metav1.GetControllerOfNoCopy(curPod), metav1.GetControllerOfNoCopy(oldPod)
	refChanged := !reflect.DeepEqual(curRef, oldRef)
	if refChanged && oldRef != nil {
		if set := c.resolveControllerRef(oldPod.Namespace, oldRef); set != nil {
			c.enqueue(set)
		}
	}
	if curRef != nil {
		if set := c.resolveControllerRef(curPod.Namespace, curRef); set != nil {
			c.enqueue(set)
		}
		return
	}
	if labelsChanged || refChanged {
		for _, set := range c.setsSelecting(curPod) {
			c.enqueue(set)
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
	if set := c.observeDeletion(pod); set != nil {
		c.enqueue(set)
	}
}

// observeDeletion records the deletion of a Pod of a StatefulSet and
// returns that StatefulSet.
func (c *Controller) observeDeletion(pod *corev1.Pod) *appsv1beta1.StatefulSet {
	set := c.resolveControllerRef(pod.Namespace, metav1.GetControllerOfNoCopy(pod))
	if set == nil {
		return nil
	}
	klog.V(4).InfoS("Pod deleted", "pod", klog.KObj(pod), "statefulSet", klog.KObj(set))
	c.scaleExpectations.Observe(keyOf(set), expectations.Delete, pod.Name)
	return set
}

// PersistentVolumeClaim events: a claim owned by a StatefulSet, or by one
// of its Pods (a claim of a Pod scaled away, which blocks re-creating that
// ordinal until it is gone), makes the StatefulSet look again.

func (c *Controller) onPVC(obj any) {
	pvc, ok := obj.(*corev1.PersistentVolumeClaim)
	if !ok {
		return
	}
	for _, set := range c.setsOwningClaim(pvc) {
		c.enqueue(set)
	}
}

func (c *Controller) onPVCDelete(obj any) {
	if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
	pvc, ok := obj.(*corev1.PersistentVolumeClaim)
	if !ok {
		return
	}
	c.versionExpectations.Forget(pvc)
	c.onPVC(pvc)
}

func (c *Controller) setsOwningClaim(pvc *corev1.PersistentVolumeClaim) []*appsv1beta1.StatefulSet {
	var out []*appsv1beta1.StatefulSet
	for i := range pvc.OwnerReferences {
		ref := &pvc.OwnerReferences[i]
		if set := c.resolveControllerRef(pvc.Namespace, ref); set != nil {
			out = append(out, set)
			continue
		}
		if ref.Kind != podKind.Kind || ref.APIVersion != podKind.GroupVersion().String() {
			continue
		}
		parent, ordinal := parentAndOrdinal(ref.Name)
		if ordinal < 0 {
			continue
		}
		if set, err := c.setLister.StatefulSets(pvc.Namespace).Get(parent); err == nil {
			out = append(out, set)
		}
	}
	return out
}

// ControllerRevision events: a revision changed or deleted by someone else
// is reconciled by its StatefulSet.
func (c *Controller) enqueueRevisionOwner(obj any) {
	if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
	cr, ok := obj.(*appsv1.ControllerRevision)
	if !ok {
		return
	}
	if set := c.resolveControllerRef(cr.Namespace, metav1.GetControllerOfNoCopy(cr)); set != nil {
		c.enqueue(set)
	}
}

func isNotFoundOrGone(err error) bool {
	return apierrors.IsNotFound(err) || apierrors.IsGone(err)
}

func isInvalid(err error) bool {
	return apierrors.IsInvalid(err)
}
