// Package imagepulljob is the ImagePullJob controller: it fans a job out
// into the NodeImages of the nodes it selects (a tag entry per image, owned
// by the job), a few nodes at a time (spec.parallelism), and sums up what
// the nodes' kruise-daemons report in the NodeImages' status into the job's
// status.
//
// It follows OpenKruise's controller (pkg/controller/imagepulljob):
//   - nodes are selected through their NodeImages (which carry the Nodes'
//     labels): spec.selector.names, the label selector of spec.selector,
//     all of them without a selector, or with spec.podSelector the nodes
//     running active pods of the job's namespace that match it;
//   - a node is synced when the job owns the image's tag in its NodeImage
//     (and the job's pull secrets are listed there); writing it, a tag that
//     another job already asked for gets a new version (a new pull round, so
//     that imagePullPolicy Always pulls again) and this job added to its
//     owners, a new tag the version after the one the node last reported;
//     the tag's pullPolicy derives TTL and deadline from the completion
//     policy (getTagPullPolicy);
//   - a synced node is active until the node reports the tag's current
//     version Succeeded or Failed; no more than spec.parallelism (default
//     1) nodes are active at a time;
//   - completionPolicy Always: the job completes when every selected node
//     is done, or activeDeadlineSeconds after it started (nodes not done
//     then count as failed), and is deleted ttlSecondsAfterFinished after
//     it completed. Never: the job stays open and takes in the nodes that
//     come to match later.
//
// The job's pull secrets are copied into kruise-daemon's namespace, the
// only one whose Secrets kruise-daemon may read, and the NodeImages name
// the copies (see pullsecrets.go; OpenKruise does the same with its
// kruise-daemon-config namespace, but keeps the copies with a finalizer on
// the job where this controller collects them). Tags of a deleted job are
// dropped from the NodeImages by the NodeImage controller, as in
// OpenKruise.
package imagepulljob

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/expectations"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned"
	kruiselisters "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/listers/apps/v1beta1"
)

// controllerKind is the kind of the owner references in NodeImage tags.
var controllerKind = appsv1beta1.SchemeGroupVersion.WithKind("ImagePullJob")

// Controller is the ImagePullJob controller.
type Controller struct {
	kruiseClient versioned.Interface
	kubeClient   kubernetes.Interface
	recorder     record.EventRecorder
	// daemonNamespace is kruise-daemon's, where the pull secrets are copied.
	daemonNamespace string

	jobLister       kruiselisters.ImagePullJobLister
	nodeImageLister kruiselisters.NodeImageLister
	podLister       corelisters.PodLister
	synced          []cache.InformerSynced

	// secretCopyLister lists the Secrets of daemonNamespace.
	secretCopyLister corelisters.SecretLister

	queue workqueue.TypedRateLimitingInterface[string]
	// versionExpectations holds the resourceVersions of the jobs and
	// NodeImages this controller wrote, until the caches catch up: a sync on
	// a stale NodeImage would count a node it just synced as not synced,
	// and go past parallelism.
	versionExpectations *expectations.ResourceVersions

	clock clock.Clock
	// randInt31n spreads the TTLs of tags (tests fix it).
	randInt31n func(n int32) int32
}

// New builds the ImagePullJob controller and registers its event handlers
// on the ImagePullJob, NodeImage and Pod informers, and on the Secret
// informer of kruise-daemon's namespace (the copies of pull secrets). The
// Pod informer is the one the CloneSet and StatefulSet controllers share:
// it costs nothing more when they run, and its events are filtered down to
// pods on a node whose node, labels or activity changed.
func New(ctx *controllers.Context) (controllers.Controller, error) {
	return newController(ctx, clock.RealClock{})
}

func newController(ctx *controllers.Context, clk clock.WithTicker) (*Controller, error) {
	jobInformer := ctx.KruiseInformers.Apps().V1beta1().ImagePullJobs()
	nodeImageInformer := ctx.KruiseInformers.Apps().V1beta1().NodeImages()
	podInformer := ctx.KubeInformers.Core().V1().Pods()
	if ctx.KruiseDaemonNamespace == "" || ctx.KruiseDaemonInformers == nil {
		return nil, fmt.Errorf("the ImagePullJob controller needs kruise-daemon's namespace and its informers")
	}
	copyInformer := ctx.KruiseDaemonInformers.Core().V1().Secrets()
	c := &Controller{
		kruiseClient:    ctx.KruiseClient,
		kubeClient:      ctx.KubeClient,
		recorder:        ctx.Recorder,
		daemonNamespace: ctx.KruiseDaemonNamespace,
		jobLister:       jobInformer.Lister(),
		nodeImageLister: nodeImageInformer.Lister(),
		podLister:       podInformer.Lister(),

		secretCopyLister: copyInformer.Lister(),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "imagepulljob", Clock: clk},
		),
		versionExpectations: expectations.NewResourceVersionsWithClock(clk, expectations.DefaultTimeout),
		clock:               clk,
		randInt31n:          rand.Int32N,
	}
	synced, err := controllers.AddEventHandlers(
		controllers.EventHandler{Informer: jobInformer.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueueJob,
			UpdateFunc: c.onJobUpdate,
			DeleteFunc: c.onJobDelete,
		}},
		controllers.EventHandler{Informer: copyInformer.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.onCopyAddOrUpdate,
			UpdateFunc: func(_, cur any) { c.onCopyAddOrUpdate(cur) },
			DeleteFunc: c.onCopyDelete,
		}},
		controllers.EventHandler{Informer: nodeImageInformer.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.onNodeImageAddOrDelete,
			UpdateFunc: c.onNodeImageUpdate,
			DeleteFunc: c.onNodeImageAddOrDelete,
		}},
		controllers.EventHandler{Informer: podInformer.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.onPodAddOrDelete,
			UpdateFunc: c.onPodUpdate,
			DeleteFunc: c.onPodAddOrDelete,
		}},
	)
	if err != nil {
		return nil, err
	}
	c.synced = synced
	return c, nil
}

// Run processes ImagePullJob keys with workers goroutines until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	controllers.RunWorkers(ctx, "ImagePullJob", c.queue, c.synced, workers, c.sync)
}

func keyOf(job *appsv1beta1.ImagePullJob) string {
	return job.Namespace + "/" + job.Name
}

func (c *Controller) enqueueJob(obj any) {
	if job, ok := obj.(*appsv1beta1.ImagePullJob); ok {
		c.queue.Add(keyOf(job))
	}
}

func (c *Controller) onJobUpdate(old, cur any) {
	c.enqueueJob(cur)
	oldJob, curJob := old.(*appsv1beta1.ImagePullJob), cur.(*appsv1beta1.ImagePullJob)
	if pullSecretsReleased(oldJob, curJob) {
		c.queue.Add(pullSecretCopiesKey)
	}
}

func (c *Controller) onJobDelete(obj any) {
	if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
	if job, ok := obj.(*appsv1beta1.ImagePullJob); ok {
		c.versionExpectations.Forget(job)
		if len(job.Spec.PullSecrets) > 0 {
			c.queue.Add(pullSecretCopiesKey)
		}
	}
}

// activeJobs are the jobs not completed nor being deleted, in namespace
// ("" for all).
func (c *Controller) activeJobs(namespace string) []*appsv1beta1.ImagePullJob {
	var list []*appsv1beta1.ImagePullJob
	var err error
	if namespace == "" {
		list, err = c.jobLister.List(labels.Everything())
	} else {
		list, err = c.jobLister.ImagePullJobs(namespace).List(labels.Everything())
	}
	if err != nil {
		utilruntime.HandleError(err)
		return nil
	}
	active := list[:0:0]
	for _, job := range list {
		if job.Status.CompletionTime == nil && job.DeletionTimestamp == nil {
			active = append(active, job)
		}
	}
	return active
}

// NodeImage events.

func (c *Controller) onNodeImageAddOrDelete(obj any) {
	if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
	ni, ok := obj.(*appsv1beta1.NodeImage)
	if !ok {
		return
	}
	for _, job := range c.activeJobs("") {
		// Whether a podSelector job selects the node depends on its pods:
		// let the job find out.
		if job.Spec.PodSelector != nil || selectsByNode(job, ni) {
			c.queue.Add(keyOf(job))
		}
	}
}

// onNodeImageUpdate enqueues the jobs that the change may concern: those
// selecting the node by labels that changed, and those of an image whose
// spec or status changed on the node.
func (c *Controller) onNodeImageUpdate(old, cur any) {
	oldNI, curNI := old.(*appsv1beta1.NodeImage), cur.(*appsv1beta1.NodeImage)
	if oldNI.ResourceVersion == curNI.ResourceVersion {
		return
	}
	labelsChanged := !reflect.DeepEqual(oldNI.Labels, curNI.Labels)
	changedImages := map[string]bool{}
	for name := range curNI.Spec.Images {
		if !reflect.DeepEqual(curNI.Spec.Images[name], oldNI.Spec.Images[name]) {
			changedImages[name] = true
		}
	}
	for name := range oldNI.Spec.Images {
		if _, ok := curNI.Spec.Images[name]; !ok {
			changedImages[name] = true
		}
	}
	for name := range curNI.Status.ImageStatuses {
		if !reflect.DeepEqual(curNI.Status.ImageStatuses[name], oldNI.Status.ImageStatuses[name]) {
			changedImages[name] = true
		}
	}
	for name := range oldNI.Status.ImageStatuses {
		if _, ok := curNI.Status.ImageStatuses[name]; !ok {
			changedImages[name] = true
		}
	}
	if !labelsChanged && len(changedImages) == 0 {
		return
	}
	for _, job := range c.activeJobs("") {
		if labelsChanged && job.Spec.PodSelector == nil && (selectsByNode(job, oldNI) || selectsByNode(job, curNI)) {
			c.queue.Add(keyOf(job))
			continue
		}
		if name, _, err := ImageNameTag(job.Spec.Image); err == nil && changedImages[name] {
			c.queue.Add(keyOf(job))
		}
	}
}

// Pod events: they matter to jobs with a podSelector, and only for pods on
// a node.

func podIsActive(pod *corev1.Pod) bool {
	return pod.DeletionTimestamp == nil && pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed
}

func (c *Controller) onPodAddOrDelete(obj any) {
	if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok || pod.Spec.NodeName == "" {
		return
	}
	c.enqueueJobsSelectingPod(pod.Namespace, pod.Labels, nil)
}

func (c *Controller) onPodUpdate(old, cur any) {
	oldPod, curPod := old.(*corev1.Pod), cur.(*corev1.Pod)
	if curPod.Spec.NodeName == "" {
		return
	}
	if oldPod.Spec.NodeName == curPod.Spec.NodeName && reflect.DeepEqual(oldPod.Labels, curPod.Labels) &&
		podIsActive(oldPod) == podIsActive(curPod) {
		return
	}
	c.enqueueJobsSelectingPod(curPod.Namespace, curPod.Labels, oldPod.Labels)
}

func (c *Controller) enqueueJobsSelectingPod(namespace string, lbls, oldLabels map[string]string) {
	for _, job := range c.activeJobs(namespace) {
		if job.Spec.PodSelector == nil {
			continue
		}
		selector, err := metav1.LabelSelectorAsSelector(&job.Spec.PodSelector.LabelSelector)
		if err != nil {
			continue
		}
		if selector.Matches(labels.Set(lbls)) || (oldLabels != nil && selector.Matches(labels.Set(oldLabels))) {
			c.queue.Add(keyOf(job))
		}
	}
}
