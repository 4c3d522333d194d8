// Package imagepuller is the node side of ImagePullJob and
// ImageListPullJob: it watches the NodeImage of its node (named after the
// node), pulls every tag its spec lists through the node's CRI
// ImageService, and reports each tag's pull in the NodeImage's status.
//
// It follows OpenKruise's kruise-daemon image puller in behaviour: one
// worker per image tag and spec version (a new version of a tag is a new
// pull round), IfNotPresent reports success without pulling when the
// runtime already has the image, Always pulls every round; each attempt is
// bounded by pullPolicy.timeoutSeconds, failed attempts are retried
// pullPolicy.backoffLimit times with a growing pause, and
// pullPolicy.activeDeadlineSeconds bounds the whole round, counted from the
// tag's createdAt (waiting for a pull slot included). Pull secrets named in
// the spec are read from the cluster: kruise-apiserver copies the jobs'
// secrets into the daemon's namespace, the only one whose Secrets the
// daemon's RBAC lets it read. Status writes are rate
// limited, since every node writes its own NodeImage.
//
// The CRI reports no byte progress, so a tag's progress is 0 while it is
// pulled and 100 once the image is on the node; imageID is the image's
// repository digest as the runtime records it (what the kubelet reports as
// a container's imageID), or the runtime's image ID when it records none.
package imagepuller

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/retry"
	"k8s.io/client-go/util/workqueue"
	internalapi "k8s.io/cri-api/pkg/apis"
	"k8s.io/klog/v2"

	"golang.org/x/time/rate"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned"
	kruiseinformers "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/informers/externalversions/apps/v1beta1"
	kruiselisters "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/listers/apps/v1beta1"
)

// Event reasons, as OpenKruise's daemon records them.
const (
	ReasonPullImageSucceed = "PullImageSucceed"
	ReasonPullImageFailed  = "PullImageFailed"
)

// Options tune the controller; zero values mean the defaults.
type Options struct {
	// MaxConcurrentPulls bounds the pulls in flight on the node; tags
	// beyond it stay Waiting. Default 5.
	MaxConcurrentPulls int
	// StatusQPS and StatusBurst limit the status writes. Default 1 and 5.
	StatusQPS   float64
	StatusBurst int
	// RetryPause is the first pause between a failed attempt and the next;
	// it doubles up to MaxRetryPause. Default 1s and 30s.
	RetryPause, MaxRetryPause time.Duration
}

func (o *Options) setDefaults() {
	if o.MaxConcurrentPulls <= 0 {
		o.MaxConcurrentPulls = 5
	}
	if o.StatusQPS <= 0 {
		o.StatusQPS = 1
	}
	if o.StatusBurst <= 0 {
		o.StatusBurst = 5
	}
	if o.RetryPause <= 0 {
		o.RetryPause = time.Second
	}
	if o.MaxRetryPause <= 0 {
		o.MaxRetryPause = 30 * time.Second
	}
}

// Controller pulls the images of one node's NodeImage.
type Controller struct {
	nodeName     string
	kruiseClient versioned.Interface
	secrets      corev1client.SecretsGetter
	images       internalapi.ImageManagerService
	recorder     record.EventRecorder
	opts         Options

	informer cache.SharedIndexInformer
	lister   kruiselisters.NodeImageLister
	queue    workqueue.TypedRateLimitingInterface[string]
	limiter  *rate.Limiter
	// pullSlots holds a token per pull in flight.
	pullSlots chan struct{}

	// ctx is Run's: workers live as long as it.
	ctx context.Context

	mu sync.Mutex
	// workers are the pulls under way (or waiting for a slot), one per tag.
	workers map[tagKey]*worker
	// statuses are the latest state of every tag in the spec.
	statuses map[tagKey]appsv1beta1.ImageTagStatus
}

// tagKey names one tag of one image of the spec.
type tagKey struct{ image, tag string }

// NewController returns the image puller of node nodeName. recorder may be
// nil (no Events).
func NewController(nodeName string, kruiseClient versioned.Interface, secrets corev1client.SecretsGetter,
	images internalapi.ImageManagerService, recorder record.EventRecorder, opts Options) *Controller {
	opts.setDefaults()
	// Only this node's NodeImage: a cluster's daemons each watch one object.
	informer := kruiseinformers.NewFilteredNodeImageInformer(kruiseClient, 0, cache.Indexers{}, func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("metadata.name", nodeName).String()
	})
	c := &Controller{
		nodeName:     nodeName,
		kruiseClient: kruiseClient,
		secrets:      secrets,
		images:       images,
		recorder:     recorder,
		opts:         opts,
		informer:     informer,
		lister:       kruiselisters.NewNodeImageLister(informer.GetIndexer()),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](500*time.Millisecond, 50*time.Second),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "imagepuller"}),
		limiter:   rate.NewLimiter(rate.Limit(opts.StatusQPS), opts.StatusBurst),
		pullSlots: make(chan struct{}, opts.MaxConcurrentPulls),
		workers:   map[tagKey]*worker{},
		statuses:  map[tagKey]appsv1beta1.ImageTagStatus{},
	}
	_, _ = informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj interface{}) { c.enqueue() },
		// Our own status writes come back as updates too; the sync after
		// them finds nothing to write.
		UpdateFunc: func(oldObj, newObj interface{}) { c.enqueue() },
		DeleteFunc: func(obj interface{}) { c.enqueue() },
	})
	return c
}

func (c *Controller) enqueue() { c.queue.Add(c.nodeName) }

// HasSynced tells whether the NodeImage informer has synced (for health
// checks).
func (c *Controller) HasSynced() bool { return c.informer.HasSynced() }

// Run watches the NodeImage and pulls until ctx is done; then it stops the
// pulls in flight.
func (c *Controller) Run(ctx context.Context) {
	defer utilruntime.HandleCrash()
	c.ctx = ctx
	defer c.queue.ShutDown()
	go c.informer.RunWithContext(ctx)
	if !cache.WaitForNamedCacheSyncWithContext(ctx, c.informer.HasSynced) {
		return
	}
	klog.InfoS("Image puller started", "node", c.nodeName)
	// One worker: there is one object.
	go wait.UntilWithContext(ctx, func(ctx context.Context) {
		for c.processNextWorkItem(ctx) {
		}
	}, time.Second)
	<-ctx.Done()
	c.mu.Lock()
	for key, w := range c.workers {
		w.cancel()
		delete(c.workers, key)
	}
	c.mu.Unlock()
}

func (c *Controller) processNextWorkItem(ctx context.Context) bool {
	key, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(key)
	if err := c.sync(ctx); err != nil {
		utilruntime.HandleErrorWithContext(ctx, err, "Syncing NodeImage", "nodeImage", key)
		c.queue.AddRateLimited(key)
		return true
	}
	c.queue.Forget(key)
	return true
}

// sync starts and stops the pulls the NodeImage asks for and writes its
// status when it changed.
func (c *Controller) sync(ctx context.Context) error {
	cached, err := c.lister.Get(c.nodeName)
	if apierrors.IsNotFound(err) {
		// No NodeImage (yet, or any more): nothing to pull, nowhere to report.
		c.reconcile(&appsv1beta1.NodeImage{})
		return nil
	}
	if err != nil {
		return err
	}
	first := true
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ni := cached
		if !first {
			// Our cache was behind: work from the object as it is now.
			if ni, err = c.kruiseClient.AppsV1beta1().NodeImages().Get(ctx, c.nodeName, metav1.GetOptions{}); err != nil {
				return err
			}
		}
		first = false
		c.reconcile(ni)
		status := c.statusFor(ni)
		if apiequality.Semantic.DeepEqual(status, ni.Status) {
			return nil
		}
		if r := c.limiter.Reserve(); r.Delay() > 0 {
			// Written later, with whatever changed meanwhile.
			delay := r.Delay()
			r.Cancel()
			c.queue.AddAfter(c.nodeName, delay)
			return nil
		}
		update := ni.DeepCopy()
		update.Status = status
		_, err := c.kruiseClient.AppsV1beta1().NodeImages().UpdateStatus(ctx, update, metav1.UpdateOptions{})
		return err
	})
}

// reconcile makes the workers match the spec: a worker per tag whose
// current version has not finished, none for tags no longer asked for.
func (c *Controller) reconcile(ni *appsv1beta1.NodeImage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	wanted := map[tagKey]bool{}
	for name, image := range ni.Spec.Images {
		for _, tag := range image.Tags {
			key := tagKey{name, tag.Tag}
			wanted[key] = true
			if st, ok := c.statuses[key]; ok && st.Version == tag.Version && st.CompletionTime != nil {
				// This daemon finished the round (its worker is gone).
				continue
			}
			// Finished as the stored status says: by this daemon before it
			// restarted, or failed by the NodeImage controller past the
			// round's deadline. Keep that outcome, as OpenKruise's daemon
			// does, and stop a pull still under way for it: reporting it
			// Waiting or Pulling again would undo the controller's Failed,
			// and the two would take turns.
			if st := tagStatusIn(&ni.Status, name, tag.Tag); st != nil && st.Version == tag.Version && st.CompletionTime != nil {
				if w := c.workers[key]; w != nil {
					klog.V(2).InfoS("Stopping the pull of a round already finished", "image", key.image, "tag", key.tag,
						"version", tag.Version, "phase", st.Phase, "message", st.Message)
					w.cancel()
					delete(c.workers, key)
				}
				c.statuses[key] = *st
				continue
			}
			if w := c.workers[key]; w != nil {
				if w.tag.Version == tag.Version {
					continue
				}
				// A new round of this tag: the old one is moot.
				w.cancel()
				delete(c.workers, key)
			}
			c.startWorker(key, tag, image)
		}
	}
	for key, w := range c.workers {
		if !wanted[key] {
			klog.V(2).InfoS("Stopping the pull of an image no longer asked for", "image", key.image, "tag", key.tag)
			w.cancel()
			delete(c.workers, key)
		}
	}
	for key := range c.statuses {
		if !wanted[key] {
			delete(c.statuses, key)
		}
	}
}

func tagStatusIn(status *appsv1beta1.NodeImageStatus, image, tag string) *appsv1beta1.ImageTagStatus {
	is, ok := status.ImageStatuses[image]
	if !ok {
		return nil
	}
	for i := range is.Tags {
		if is.Tags[i].Tag == tag {
			return &is.Tags[i]
		}
	}
	return nil
}

// startWorker starts the pull of one round of a tag; c.mu is held.
func (c *Controller) startWorker(key tagKey, tag appsv1beta1.ImageTagSpec, image appsv1beta1.ImageSpec) {
	ctx := c.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &worker{
		c:           c,
		key:         key,
		tag:         *tag.DeepCopy(),
		pullSecrets: append([]appsv1beta1.ReferenceObject(nil), image.PullSecrets...),
		sandbox:     image.SandboxConfig.DeepCopy(),
		cancel:      cancel,
	}
	c.workers[key] = w
	c.statuses[key] = appsv1beta1.ImageTagStatus{Tag: tag.Tag, Phase: appsv1beta1.ImagePhaseWaiting, Version: tag.Version}
	klog.V(2).InfoS("Pulling", "image", key.image, "tag", key.tag, "version", tag.Version, "imagePullPolicy", tag.ImagePullPolicy)
	go w.run(ctx)
}

// report records a worker's state, unless the worker was stopped
// meanwhile; a finished worker is done.
func (c *Controller) report(w *worker, status appsv1beta1.ImageTagStatus) bool {
	c.mu.Lock()
	if c.workers[w.key] != w {
		c.mu.Unlock()
		return false
	}
	c.statuses[w.key] = status
	if status.CompletionTime != nil {
		delete(c.workers, w.key)
	}
	c.mu.Unlock()
	c.enqueue()
	return true
}

// statusFor is the status of ni from the workers' states: each image's
// tags sorted by tag, and the counts.
func (c *Controller) statusFor(ni *appsv1beta1.NodeImage) appsv1beta1.NodeImageStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	status := appsv1beta1.NodeImageStatus{FirstSyncStatus: ni.Status.FirstSyncStatus.DeepCopy()}
	var failed []string
	for name, image := range ni.Spec.Images {
		var tags []appsv1beta1.ImageTagStatus
		for _, tag := range image.Tags {
			status.Desired++
			st, ok := c.statuses[tagKey{name, tag.Tag}]
			if !ok {
				continue
			}
			tags = append(tags, st)
			switch st.Phase {
			case appsv1beta1.ImagePhaseSucceeded:
				status.Succeeded++
			case appsv1beta1.ImagePhaseFailed:
				status.Failed++
				failed = append(failed, name+":"+tag.Tag)
			case appsv1beta1.ImagePhasePulling:
				status.Pulling++
			default:
				status.Waiting++
			}
		}
		if len(tags) == 0 {
			continue
		}
		sort.Slice(tags, func(i, j int) bool { return tags[i].Tag < tags[j].Tag })
		if status.ImageStatuses == nil {
			status.ImageStatuses = map[string]appsv1beta1.ImageStatus{}
		}
		status.ImageStatuses[name] = appsv1beta1.ImageStatus{Tags: tags}
	}
	// The first round of pulls the node was given has ended: say how, once.
	if status.FirstSyncStatus == nil && status.Desired > 0 && status.Succeeded+status.Failed == status.Desired {
		status.FirstSyncStatus = &appsv1beta1.SyncStatus{SyncAt: metav1.Now().Rfc3339Copy(), Status: appsv1beta1.SyncStatusSucceeded}
		if len(failed) > 0 {
			sort.Strings(failed)
			status.FirstSyncStatus.Status = appsv1beta1.SyncStatusFailed
			status.FirstSyncStatus.Message = "failed to pull " + strings.Join(failed, ", ")
		}
	}
	return status
}

// event records an Event about the NodeImage (cluster-scoped Events go to
// the default namespace) and, for failures, about the jobs that asked for
// the tag.
func (c *Controller) event(tag appsv1beta1.ImageTagSpec, eventType, reason, format string, args ...interface{}) {
	if c.recorder == nil {
		return
	}
	ref := &corev1.ObjectReference{
		APIVersion: appsv1beta1.SchemeGroupVersion.String(), Kind: "NodeImage", Name: c.nodeName,
	}
	if ni, err := c.lister.Get(c.nodeName); err == nil {
		ref.UID, ref.ResourceVersion = ni.UID, ni.ResourceVersion
	}
	c.recorder.Eventf(ref, eventType, reason, format, args...)
	if eventType != corev1.EventTypeWarning {
		return
	}
	for i := range tag.OwnerReferences {
		c.recorder.Eventf(&tag.OwnerReferences[i], eventType, reason, format, args...)
	}
}

// String is for logs.
func (k tagKey) String() string { return fmt.Sprintf("%s:%s", k.image, k.tag) }
