// Package workloadspread is the WorkloadSpread controller. The Pod
// admission webhook places each new Pod of a targeted workload in a subset
// and records it in the WorkloadSpread's status (creatingPods, one less
// missingReplicas); this controller recounts the status from the Pods it
// sees, per subset and per version of the workload's Pod template, drops
// the records of Pods it has seen (or that timed out), and writes the
// pod-deletion-cost annotation on the Pods so that scaling in removes the
// Pods of the later subsets, and those over a subset's cap, first.
//
// The rules are in package pkg/workloadspread; this package reads the
// caches and writes the results. It follows OpenKruise's controller in
// behaviour (status fields, deletion cost values, timeouts, event reasons)
// and kube-controller-manager's controllers in structure.
//
// The Adaptive strategy with rescheduleCriticalSeconds marks a subset
// Schedulable=False while one of its Pods stays unschedulable longer than
// that, deletes those Pods so that their replacements go to a later
// subset, and marks it schedulable again five minutes later.
//
// Running Pods that no subset holds (created before the WorkloadSpread, or
// while the webhook was not called) are adopted into the subset their node
// belongs to; those that fit none are deleted first on scale-in.
//
// Not implemented: the Adaptive strategy's simulation schedule (checking a
// subset's node resources before placing a Pod).
package workloadspread

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned"
	kruiselisters "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/listers/apps/v1beta1"
	wsutil "github.com/kruise-apiserver/kruise-apiserver/pkg/workloadspread"
)

// Controller is the WorkloadSpread controller.
type Controller struct {
	kubeClient   kubernetes.Interface
	kruiseClient versioned.Interface
	recorder     record.EventRecorder
	versioning   wsutil.Versioning

	wsLister   kruiselisters.WorkloadSpreadLister
	podLister  corelisters.PodLister
	nodeLister corelisters.NodeLister
	workloads  wsutil.Workloads
	synced     []cache.InformerSynced

	queue workqueue.TypedRateLimitingInterface[string]
	clock clock.Clock

	// unplaced holds, per WorkloadSpread key, the Pods already reported as
	// created without a subset, so that each is reported once.
	unplacedMu sync.Mutex
	unplaced   map[string]sets.Set[types.UID]
}

// New builds the WorkloadSpread controller and registers its event handlers
// on the WorkloadSpread, Pod and workload informers.
func New(ctx *controllers.Context) (controllers.Controller, error) {
	return newController(ctx, clock.RealClock{})
}

func newController(ctx *controllers.Context, clk clock.WithTicker) (*Controller, error) {
	wsInformer := ctx.KruiseInformers.Apps().V1beta1().WorkloadSpreads()
	podInformer := ctx.KubeInformers.Core().V1().Pods()
	nodeInformer := ctx.KubeInformers.Core().V1().Nodes()
	deploymentInformer := ctx.KubeInformers.Apps().V1().Deployments()
	replicaSetInformer := ctx.KubeInformers.Apps().V1().ReplicaSets()
	cloneSetInformer := ctx.KruiseInformers.Apps().V1beta1().CloneSets()
	statefulSetInformer := ctx.KruiseInformers.Apps().V1beta1().StatefulSets()

	c := &Controller{
		kubeClient:   ctx.KubeClient,
		kruiseClient: ctx.KruiseClient,
		recorder:     ctx.Recorder,
		versioning:   ctx.WorkloadSpreadVersioning,
		wsLister:     wsInformer.Lister(),
		podLister:    podInformer.Lister(),
		nodeLister:   nodeInformer.Lister(),
		workloads: wsutil.Workloads{Reader: wsutil.ListerReader{
			Deployments:  deploymentInformer.Lister(),
			ReplicaSets:  replicaSetInformer.Lister(),
			CloneSets:    cloneSetInformer.Lister(),
			StatefulSets: statefulSetInformer.Lister(),
		}},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "workloadspread", Clock: clk},
		),
		clock:    clk,
		unplaced: map[string]sets.Set[types.UID]{},
	}

	workloadHandler := cache.ResourceEventHandlerFuncs{
		AddFunc:    c.onWorkload,
		UpdateFunc: func(_, cur any) { c.onWorkload(cur) },
		DeleteFunc: c.onWorkload,
	}
	synced, err := controllers.AddEventHandlers(
		controllers.EventHandler{Informer: wsInformer.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueue,
			UpdateFunc: func(_, cur any) { c.enqueue(cur) },
			DeleteFunc: c.enqueue,
		}},
		controllers.EventHandler{Informer: podInformer.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.onPod,
			UpdateFunc: c.onPodUpdate,
			DeleteFunc: c.onPod,
		}},
		// Nodes only to adopt running Pods; their changes need no sync.
		controllers.EventHandler{Informer: nodeInformer.Informer(), Handler: cache.ResourceEventHandlerFuncs{}},
		controllers.EventHandler{Informer: deploymentInformer.Informer(), Handler: workloadHandler},
		controllers.EventHandler{Informer: replicaSetInformer.Informer(), Handler: workloadHandler},
		controllers.EventHandler{Informer: cloneSetInformer.Informer(), Handler: workloadHandler},
		controllers.EventHandler{Informer: statefulSetInformer.Informer(), Handler: workloadHandler},
	)
	if err != nil {
		return nil, err
	}
	c.synced = synced
	return c, nil
}

// Run processes WorkloadSpread keys with workers goroutines until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	klog.FromContext(ctx).Info("WorkloadSpread Pods counted per version", "versionedKinds", c.versioning.Kinds())
	controllers.RunWorkers(ctx, "WorkloadSpread", c.queue, c.synced, workers, c.sync)
}

func (c *Controller) enqueue(obj any) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		utilruntime.HandleError(err)
		return
	}
	c.queue.Add(key)
}

// onPod enqueues the WorkloadSpread a Pod was placed by, or, for a Pod
// placed by none, every WorkloadSpread of its namespace (it may be one's
// Pod that no subset had room for; there are few WorkloadSpreads).
func (c *Controller) onPod(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		tombstone, ok := obj.(cache.DeletedFinalStateUnknown)
		if !ok {
			return
		}
		if pod, ok = tombstone.Obj.(*corev1.Pod); !ok {
			return
		}
	}
	if m := wsutil.MatchedOf(pod); m != nil {
		c.queue.Add(pod.Namespace + "/" + m.Name)
		return
	}
	if metav1.GetControllerOfNoCopy(pod) == nil || wsutil.SystemNamespaces.Has(pod.Namespace) {
		return
	}
	c.enqueueNamespace(pod.Namespace)
}

func (c *Controller) onPodUpdate(old, cur any) {
	oldPod, curPod := old.(*corev1.Pod), cur.(*corev1.Pod)
	if oldPod.ResourceVersion == curPod.ResourceVersion {
		return
	}
	if oldM, curM := wsutil.MatchedOf(oldPod), wsutil.MatchedOf(curPod); oldM != nil && (curM == nil || oldM.Name != curM.Name) {
		c.onPod(oldPod)
	}
	c.onPod(curPod)
}

// onWorkload enqueues the WorkloadSpreads of a workload's namespace that
// target it (or, for a ReplicaSet, its Deployment): its replicas set the
// percentages, its revision the deletion costs.
func (c *Controller) onWorkload(obj any) {
	if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
	o, ok := obj.(metav1.Object)
	if !ok {
		return
	}
	kind := ""
	switch obj.(type) {
	case *appsv1.Deployment:
		kind = "Deployment"
	case *appsv1.ReplicaSet:
		kind = "ReplicaSet"
	case *appsv1beta1.CloneSet:
		kind = "CloneSet"
	case *appsv1beta1.StatefulSet:
		kind = "StatefulSet"
	}
	names := map[string]bool{kind + "/" + o.GetName(): true}
	if owner := metav1.GetControllerOfNoCopy(o); owner != nil && kind == "ReplicaSet" && owner.Kind == "Deployment" {
		names["Deployment/"+owner.Name] = true
	}
	list, err := c.wsLister.WorkloadSpreads(o.GetNamespace()).List(labels.Everything())
	if err != nil {
		return
	}
	for _, ws := range list {
		if ref := ws.Spec.TargetReference; ref != nil && names[ref.Kind+"/"+ref.Name] {
			c.queue.Add(ws.Namespace + "/" + ws.Name)
		}
	}
}

func (c *Controller) enqueueNamespace(namespace string) {
	list, err := c.wsLister.WorkloadSpreads(namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, ws := range list {
		c.queue.Add(ws.Namespace + "/" + ws.Name)
	}
}

// sync brings one WorkloadSpread's status and its Pods' deletion costs up
// to date. It returns when to look again (records about to time out).
func (c *Controller) sync(ctx context.Context, key string) (time.Duration, error) {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return 0, nil
	}
	ws, err := c.wsLister.WorkloadSpreads(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		c.forgetUnplaced(key)
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if ws.DeletionTimestamp != nil || ws.Spec.TargetReference == nil {
		c.forgetUnplaced(key)
		return 0, nil
	}

	if wsutil.SystemNamespaces.Has(namespace) {
		return 0, c.refuseSystemNamespace(ctx, ws)
	}

	wl, err := c.workloads.Get(ctx, ws)
	if errors.Is(err, wsutil.ErrUnsupportedTarget) {
		c.recorder.Eventf(ws, corev1.EventTypeWarning, "UnsupportedTarget", "%v", err)
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var pods []*corev1.Pod
	var replicas int32
	if wl != nil {
		replicas = wl.Replicas
		selector, err := wsutil.WorkloadSelector(wl)
		if err != nil {
			return 0, err
		}
		all, err := c.podLister.Pods(namespace).List(selector)
		if err != nil {
			return 0, err
		}
		if pods, err = c.workloads.Pods(ctx, all, ws, wl); err != nil {
			return 0, err
		}
	}

	now := c.clock.Now()
	grouping := wsutil.Group(ws, pods, c.versioning)
	if err := c.adopt(ctx, ws, grouping, replicas); err != nil {
		return 0, err
	}
	c.reportUnplaced(ws, key, grouping.All[wsutil.UnmatchedSubset])
	var costErr error
	if wl != nil && deletionCostApplies(ws) {
		costErr = c.syncDeletionCosts(ctx, ws, wl, grouping, replicas)
	}

	computed, err := wsutil.ComputeStatus(ws, grouping, replicas, now)
	if err != nil {
		c.recorder.Eventf(ws, corev1.EventTypeWarning, "InvalidSubset", "%v", err)
		return 0, nil
	}
	if !apiequality.Semantic.DeepEqual(ws.Status, computed.Status) {
		clone := ws.DeepCopy()
		clone.Status = computed.Status
		// The webhook writes the status too: writing over a newer version
		// would lose the Pods it admitted, so a conflict means sync again.
		if _, err := c.kruiseClient.AppsV1beta1().WorkloadSpreads(namespace).UpdateStatus(ctx, clone, metav1.UpdateOptions{}); err != nil {
			return 0, err
		}
		// Events only once the records are really dropped.
		for _, e := range computed.Expired {
			c.recorder.Event(ws, corev1.EventTypeWarning, e.Reason(), e.Message(namespace))
		}
		for _, subset := range computed.Recovered {
			c.recorder.Eventf(ws, corev1.EventTypeNormal, "RecoverSchedulable",
				"Subset %s of WorkloadSpread %s/%s is recovered from unschedulable to schedulable", subset, namespace, name)
		}
	}
	// Only once the subset is marked unschedulable in the status: the
	// replacements must not be placed there again.
	if err := c.deleteUnschedulable(ctx, ws, computed.Unschedulable); err != nil {
		return 0, err
	}
	return computed.RecheckAfter, costErr
}

// deleteUnschedulable deletes the Pods the Adaptive strategy gave up on, so
// that their workload creates them again, in a later subset.
func (c *Controller) deleteUnschedulable(ctx context.Context, ws *appsv1beta1.WorkloadSpread, bySubset map[string][]*corev1.Pod) error {
	for subset, pods := range bySubset {
		for _, pod := range pods {
			precondition := metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &pod.UID}}
			err := c.kubeClient.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, precondition)
			if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
				continue
			}
			if err != nil {
				c.recorder.Eventf(ws, corev1.EventTypeWarning, "DeletePodFailed",
					"Failed to delete unschedulable Pod %s/%s in Subset %s of WorkloadSpread %s/%s", pod.Namespace, pod.Name, subset, ws.Namespace, ws.Name)
				return err
			}
			klog.FromContext(ctx).V(3).Info("Deleted unschedulable Pod", "workloadSpread", klog.KObj(ws), "pod", klog.KObj(pod), "subset", subset)
		}
	}
	return nil
}

// adopt puts the running Pods that no subset holds (created before the
// WorkloadSpread, or while the webhook was not called) in the subset their
// node belongs to, as OpenKruise does: it annotates them and moves them
// in the grouping, version by version.
func (c *Controller) adopt(ctx context.Context, ws *appsv1beta1.WorkloadSpread, g wsutil.Grouping, replicas int32) error {
	for _, pods := range g.Versions {
		var missing map[string]int32
		var kept []*corev1.Pod
		for _, pod := range pods[wsutil.UnmatchedSubset] {
			if !wsutil.Adoptable(ws, pod) {
				kept = append(kept, pod)
				continue
			}
			node, err := c.nodeLister.Get(pod.Spec.NodeName)
			if err != nil {
				kept = append(kept, pod)
				continue
			}
			if missing == nil {
				missing = wsutil.MissingByVersion(ws, pods, replicas)
			}
			subset := wsutil.AdoptSubset(ws, pod, node, missing)
			if subset == "" {
				kept = append(kept, pod)
				continue
			}
			patch, err := wsutil.AdoptionPatch(ws, subset)
			if err != nil {
				return err
			}
			patched, err := c.kubeClient.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil {
				return err
			}
			klog.FromContext(ctx).V(3).Info("Adopted Pod into subset", "workloadSpread", klog.KObj(ws), "pod", klog.KObj(pod), "subset", subset)
			missing[subset]--
			pods[subset] = append(pods[subset], patched)
			g.All[subset] = append(g.All[subset], patched)
			g.All[wsutil.UnmatchedSubset] = slices.DeleteFunc(g.All[wsutil.UnmatchedSubset], func(p *corev1.Pod) bool { return p == pod })
		}
		pods[wsutil.UnmatchedSubset] = kept
	}
	return nil
}

// reportUnplaced records a Warning event for each Pod created after the
// WorkloadSpread that is still in no subset: no subset had room for it, or
// the Pod webhook was not called and its node is in no subset (or it is
// not scheduled yet). The webhook
// for Deployment and ReplicaSet Pods ignores failures (a stopped
// kruise-apiserver must not stop the cluster's Pods), so this is how such
// a Pod is noticed rather than silently left unspread.
func (c *Controller) reportUnplaced(ws *appsv1beta1.WorkloadSpread, key string, pods []*corev1.Pod) {
	c.unplacedMu.Lock()
	defer c.unplacedMu.Unlock()
	reported := c.unplaced[key]
	current := sets.New[types.UID]()
	for _, pod := range pods {
		if _, ok := pod.Annotations[wsutil.MatchedAnnotation]; ok || pod.CreationTimestamp.Before(&ws.CreationTimestamp) {
			continue
		}
		current.Insert(pod.UID)
		if reported.Has(pod.UID) {
			continue
		}
		c.recorder.Eventf(ws, corev1.EventTypeWarning, "PodNotSpread",
			"Pod %s/%s was created without a subset: no subset had room for it, or the Pod webhook was not reachable", pod.Namespace, pod.Name)
	}
	// Forget the Pods that are gone or placed since.
	if current.Len() == 0 {
		delete(c.unplaced, key)
		return
	}
	c.unplaced[key] = current
}

// forgetUnplaced drops what reportUnplaced remembers of a WorkloadSpread
// that is gone or no longer spreads anything.
func (c *Controller) forgetUnplaced(key string) {
	c.unplacedMu.Lock()
	defer c.unplacedMu.Unlock()
	delete(c.unplaced, key)
}

// refuseSystemNamespace answers a WorkloadSpread in one of the cluster's
// own namespaces, which is never acted on (the Pod webhook leaves those
// namespaces alone too): its status says only that it was seen, with no
// subsets, and a Warning event says why, once per generation.
func (c *Controller) refuseSystemNamespace(ctx context.Context, ws *appsv1beta1.WorkloadSpread) error {
	if ws.Status.ObservedGeneration == ws.Generation && len(ws.Status.SubsetStatuses) == 0 && len(ws.Status.VersionedSubsetStatuses) == 0 {
		return nil
	}
	clone := ws.DeepCopy()
	clone.Status = appsv1beta1.WorkloadSpreadStatus{ObservedGeneration: ws.Generation}
	if _, err := c.kruiseClient.AppsV1beta1().WorkloadSpreads(ws.Namespace).UpdateStatus(ctx, clone, metav1.UpdateOptions{}); err != nil {
		return err
	}
	c.recorder.Eventf(ws, corev1.EventTypeWarning, "SystemNamespace",
		"WorkloadSpreads in %s are not acted on: its Pods are never placed in subsets, annotated or deleted", ws.Namespace)
	return nil
}

// deletionCostApplies says whether the target's controller honours
// pod-deletion-cost: the ReplicaSet (so Deployment) and CloneSet ones do;
// a StatefulSet deletes by ordinal.
func deletionCostApplies(ws *appsv1beta1.WorkloadSpread) bool {
	switch wsutil.TargetGroupKind(ws) {
	case wsutil.DeploymentKind, wsutil.ReplicaSetKind, wsutil.CloneSetKind:
		return true
	}
	return false
}

// syncDeletionCosts writes the deletion cost of every active Pod. The
// Pods of the workload's current version are ranked in subset order, the
// older ones in reverse, so that a rolling update takes old Pods from the
// first subsets, where new ones go first.
func (c *Controller) syncDeletionCosts(ctx context.Context, ws *appsv1beta1.WorkloadSpread, wl *wsutil.Workload, g wsutil.Grouping, replicas int32) error {
	latest, err := c.workloads.Version(ctx, c.versioning, wl)
	if err != nil {
		// The workload's controller has not caught up with its spec yet;
		// its update will bring the WorkloadSpread back.
		klog.FromContext(ctx).V(4).Info("Workload version not known yet, deletion costs left as they are", "workloadSpread", klog.KObj(ws), "reason", err)
		return nil
	}
	for version, pods := range g.Versions {
		costs, err := wsutil.DeletionCosts(ws, pods, replicas, version != latest)
		if err != nil {
			return err
		}
		for pod, cost := range costs {
			if pod.Annotations[wsutil.PodDeletionCostAnnotation] == cost {
				continue
			}
			patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, wsutil.PodDeletionCostAnnotation, cost)
			if _, err := c.kubeClient.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
				if apierrors.IsNotFound(err) {
					continue
				}
				c.recorder.Eventf(ws, corev1.EventTypeWarning, "PatchPodDeletionCostFailed",
					"WorkloadSpread %s/%s failed to patch deletion-cost annotation to %s for Pod %s/%s",
					ws.Namespace, ws.Name, cost, pod.Namespace, pod.Name)
				return err
			}
		}
	}
	return nil
}
