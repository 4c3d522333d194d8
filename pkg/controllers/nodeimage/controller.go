// Package nodeimage is the NodeImage controller: it keeps one NodeImage per
// Node (same name, the Node's labels copied so that ImagePullJobs can select
// nodes by label), deletes it when the Node goes, and does the housekeeping
// of the image tags that the ImagePullJob controller writes into NodeImage
// specs and kruise-daemon answers in their status.
//
// It follows OpenKruise's NodeImage controller
// (pkg/controller/nodeimage/nodeimage_controller.go):
//   - a tag is dropped from the spec when it has no creation time, when every
//     ImagePullJob that owns it is gone (or replaced by another of the same
//     name), or when pullPolicy.ttlSecondsAfterFinished has passed since the
//     node reported the current version of the tag complete; an image with no
//     tag left is dropped;
//   - in the status, a tag the node has not answered (its version) within ten
//     minutes of its creation, or that is still not done
//     pullPolicy.activeDeadlineSeconds (plus those ten minutes) after it, is
//     marked Failed, with a PullImageFailed Event on its owners and on the
//     NodeImage; statuses of tags no longer in the spec are dropped and the
//     counters recounted.
//
// Unlike OpenKruise, a NodeImage is created as soon as its Node exists, not
// 30 seconds after the Node became Ready: a node needs no kubelet to pull
// images (a Node object and kruise-daemon on a CRI endpoint are enough), so
// readiness says nothing about it. Nodes of virtual-kubelet (label
// type=virtual-kubelet) get none, as in OpenKruise. NodeImages labelled
// apps.kruise.io/fake-nodeimage are kept without a Node (for tests, as in
// OpenKruise). Pull secret references are not pruned when their Secret is
// deleted (OpenKruise does that for secrets it did not copy itself); they go
// with their image.
package nodeimage

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
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
)

const (
	// FakeLabelKey marks a NodeImage that may exist without a Node.
	FakeLabelKey = "apps.kruise.io/fake-nodeimage"
	// VirtualKubeletLabelKey and VirtualKubeletLabelValue mark a
	// virtual-kubelet Node, which pulls no images and gets no NodeImage.
	VirtualKubeletLabelKey   = "type"
	VirtualKubeletLabelValue = "virtual-kubelet"

	// ResponseTimeout is how long a node has to answer a new version of a
	// tag before the tag is marked Failed.
	ResponseTimeout = 10 * time.Minute

	// Messages of the tags this controller fails, as OpenKruise words them.
	MessageNotResponded     = "node has not responded for a long time"
	MessageDeadlineExceeded = "pulling exceeds the activeDeadlineSeconds"

	// minRequeue bounds how soon a NodeImage is looked at again for a TTL
	// or a deadline, so that many tags expiring together cost one sync.
	minRequeue = 3 * time.Second
)

var imagePullJobKind = appsv1beta1.SchemeGroupVersion.WithKind("ImagePullJob")

// Controller is the NodeImage controller.
type Controller struct {
	kruiseClient versioned.Interface
	recorder     record.EventRecorder

	nodeLister      corelisters.NodeLister
	nodeImageLister kruiselisters.NodeImageLister
	jobLister       kruiselisters.ImagePullJobLister
	synced          []cache.InformerSynced

	// queue holds NodeImage names (= Node names).
	queue workqueue.TypedRateLimitingInterface[string]
	clock clock.Clock
}

// New builds the NodeImage controller and registers its event handlers on
// the Node, NodeImage and ImagePullJob informers.
func New(ctx *controllers.Context) (controllers.Controller, error) {
	return newController(ctx, clock.RealClock{})
}

func newController(ctx *controllers.Context, clk clock.WithTicker) (*Controller, error) {
	nodeInformer := ctx.KubeInformers.Core().V1().Nodes()
	nodeImageInformer := ctx.KruiseInformers.Apps().V1beta1().NodeImages()
	jobInformer := ctx.KruiseInformers.Apps().V1beta1().ImagePullJobs()
	c := &Controller{
		kruiseClient:    ctx.KruiseClient,
		recorder:        ctx.Recorder,
		nodeLister:      nodeInformer.Lister(),
		nodeImageLister: nodeImageInformer.Lister(),
		jobLister:       jobInformer.Lister(),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "nodeimage", Clock: clk},
		),
		clock: clk,
	}
	synced, err := controllers.AddEventHandlers(
		controllers.EventHandler{Informer: nodeInformer.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueueNode,
			UpdateFunc: c.onNodeUpdate,
			DeleteFunc: c.enqueueNode,
		}},
		controllers.EventHandler{Informer: nodeImageInformer.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueueObject,
			UpdateFunc: func(_, cur any) { c.enqueueObject(cur) },
			DeleteFunc: c.enqueueObject,
		}},
		// A deleted job's tags are dropped from the NodeImages that hold
		// them.
		controllers.EventHandler{Informer: jobInformer.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			DeleteFunc: c.onJobDelete,
		}},
	)
	if err != nil {
		return nil, err
	}
	c.synced = synced
	return c, nil
}

// Run processes NodeImage keys with workers goroutines until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	controllers.RunWorkers(ctx, "NodeImage", c.queue, c.synced, workers, c.sync)
}

func isVirtualKubelet(node *corev1.Node) bool {
	return node.Labels[VirtualKubeletLabelKey] == VirtualKubeletLabelValue
}

func (c *Controller) enqueueNode(obj any) {
	if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
	node, ok := obj.(*corev1.Node)
	if !ok || isVirtualKubelet(node) {
		return
	}
	c.queue.Add(node.Name)
}

// onNodeUpdate reacts to what the NodeImage follows: labels and deletion
// (a status heartbeat changes neither).
func (c *Controller) onNodeUpdate(old, cur any) {
	oldNode, curNode := old.(*corev1.Node), cur.(*corev1.Node)
	if reflect.DeepEqual(oldNode.Labels, curNode.Labels) && oldNode.DeletionTimestamp.Equal(curNode.DeletionTimestamp) {
		return
	}
	c.enqueueNode(curNode)
}

func (c *Controller) enqueueObject(obj any) {
	if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
	if o, ok := obj.(metav1.Object); ok {
		c.queue.Add(o.GetName())
	}
}

func (c *Controller) onJobDelete(obj any) {
	if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
	job, ok := obj.(*appsv1beta1.ImagePullJob)
	if !ok {
		return
	}
	nodeImages, err := c.nodeImageLister.List(labels.Everything())
	if err != nil {
		utilruntime.HandleError(err)
		return
	}
	for _, ni := range nodeImages {
		if ownsATag(ni, job.UID) {
			c.queue.Add(ni.Name)
		}
	}
}

func ownsATag(ni *appsv1beta1.NodeImage, uid types.UID) bool {
	for _, image := range ni.Spec.Images {
		for _, tag := range image.Tags {
			for _, ref := range tag.OwnerReferences {
				if ref.UID == uid {
					return true
				}
			}
		}
	}
	return false
}

// sync brings the NodeImage of one Node in line and returns when it should
// be looked at again (for a TTL or a deadline), 0 for not.
func (c *Controller) sync(ctx context.Context, name string) (time.Duration, error) {
	logger := klog.FromContext(ctx)
	node, err := c.nodeLister.Get(name)
	if apierrors.IsNotFound(err) {
		node = nil
	} else if err != nil {
		return 0, err
	}
	nodeImage, err := c.nodeImageLister.Get(name)
	if apierrors.IsNotFound(err) {
		nodeImage = nil
	} else if err != nil {
		return 0, err
	}

	if node == nil || node.DeletionTimestamp != nil || isVirtualKubelet(node) {
		if nodeImage == nil || nodeImage.DeletionTimestamp != nil {
			return 0, nil
		}
		if _, fake := nodeImage.Labels[FakeLabelKey]; fake {
			// Housekept like any other, though there is no Node.
			node = nil
		} else {
			err := c.kruiseClient.AppsV1beta1().NodeImages().Delete(ctx, name, metav1.DeleteOptions{
				Preconditions: &metav1.Preconditions{UID: &nodeImage.UID},
			})
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				return 0, fmt.Errorf("deleting NodeImage %s of a deleted Node: %w", name, err)
			}
			logger.Info("Deleted the NodeImage of a deleted Node", "nodeImage", name)
			return 0, nil
		}
	}

	if nodeImage == nil {
		nodeImage = &appsv1beta1.NodeImage{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: node.Labels}}
		_, err := c.kruiseClient.AppsV1beta1().NodeImages().Create(ctx, nodeImage, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return 0, fmt.Errorf("creating NodeImage %s: %w", name, err)
		}
		logger.Info("Created NodeImage for Node", "nodeImage", name)
		return 0, nil
	}
	if nodeImage.DeletionTimestamp != nil {
		return 0, nil
	}

	now := c.clock.Now()
	updated, specWait, messages := c.cleanSpec(nodeImage, node, now)
	if updated != nil {
		if _, err := c.kruiseClient.AppsV1beta1().NodeImages().Update(ctx, updated, metav1.UpdateOptions{}); err != nil {
			return 0, fmt.Errorf("updating NodeImage %s: %w", name, err)
		}
		logger.V(2).Info("Updated NodeImage", "nodeImage", name, "changes", messages)
		// The update brings the NodeImage back through the informer; the
		// status is looked at then.
		return 0, nil
	}

	status, statusWait, failed := c.checkStatus(nodeImage, now)
	if status != nil {
		updated := nodeImage.DeepCopy()
		updated.Status = *status
		if _, err := c.kruiseClient.AppsV1beta1().NodeImages().UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
			// A conflict is kruise-daemon writing at the same time: the
			// informer brings the NodeImage back.
			return 0, fmt.Errorf("updating the status of NodeImage %s: %w", name, err)
		}
		c.recordFailures(nodeImage, failed)
	}
	return requeueAfter(specWait, statusWait), nil
}

func requeueAfter(waits ...time.Duration) time.Duration {
	var d time.Duration
	for _, w := range waits {
		if w > 0 && (d == 0 || w < d) {
			d = w
		}
	}
	if d > 0 && d < minRequeue {
		d = minRequeue
	}
	return d
}

// cleanSpec returns the NodeImage with its labels copied from the Node and
// its spent tags dropped, or nil when nothing changes; wait is when the
// next tag's TTL runs out.
func (c *Controller) cleanSpec(ni *appsv1beta1.NodeImage, node *corev1.Node, now time.Time) (updated *appsv1beta1.NodeImage, wait time.Duration, messages []string) {
	out := ni.DeepCopy()
	modified := false
	if node != nil && !reflect.DeepEqual(labelsOrNil(ni.Labels), labelsOrNil(node.Labels)) {
		out.Labels = node.Labels
		modified = true
		messages = append(messages, "node labels changed")
	}
	images := make(map[string]appsv1beta1.ImageSpec, len(ni.Spec.Images))
	for name, image := range out.Spec.Images {
		var tags []appsv1beta1.ImageTagSpec
		for _, tag := range image.Tags {
			fullName := name + ":" + tag.Tag
			if tag.CreatedAt == nil {
				modified = true
				messages = append(messages, fmt.Sprintf("image %s has no createdAt", fullName))
				continue
			}
			owners := c.liveOwners(tag.OwnerReferences)
			if len(owners) != len(tag.OwnerReferences) {
				modified = true
				if len(owners) == 0 {
					messages = append(messages, fmt.Sprintf("image %s has no owner left", fullName))
					continue
				}
				messages = append(messages, fmt.Sprintf("image %s lost owners", fullName))
				tag.OwnerReferences = owners
			}
			if tag.PullPolicy != nil && tag.PullPolicy.TTLSecondsAfterFinished != nil {
				if done := completionTime(ni, name, tag); done != nil {
					left := time.Duration(*tag.PullPolicy.TTLSecondsAfterFinished)*time.Second - now.Sub(done.Time)
					if left <= 0 {
						modified = true
						messages = append(messages, fmt.Sprintf("image %s is past its TTL", fullName))
						continue
					}
					wait = requeueAfter(wait, left)
				}
			}
			tags = append(tags, tag)
		}
		if len(tags) == 0 {
			modified = true
			messages = append(messages, fmt.Sprintf("image %s has no tag left", name))
			continue
		}
		sort.SliceStable(tags, func(i, j int) bool { return tags[i].Tag < tags[j].Tag })
		image.Tags = tags
		images[name] = image
	}
	if !modified {
		return nil, wait, nil
	}
	out.Spec.Images = images
	if len(images) == 0 {
		out.Spec.Images = nil
	}
	return out, wait, messages
}

func labelsOrNil(l map[string]string) map[string]string {
	if len(l) == 0 {
		return nil
	}
	return l
}

// liveOwners returns the references whose ImagePullJob still exists (the
// same one: same UID). References to other kinds are kept.
func (c *Controller) liveOwners(refs []corev1.ObjectReference) []corev1.ObjectReference {
	var live []corev1.ObjectReference
	for _, ref := range refs {
		gv, err := schema.ParseGroupVersion(ref.APIVersion)
		if err != nil || gv.Group != imagePullJobKind.Group || ref.Kind != imagePullJobKind.Kind {
			live = append(live, ref)
			continue
		}
		job, err := c.jobLister.ImagePullJobs(ref.Namespace).Get(ref.Name)
		if err != nil || job.UID != ref.UID {
			continue
		}
		live = append(live, ref)
	}
	return live
}

// completionTime is when the node finished the tag's current version, nil
// while it has not.
func completionTime(ni *appsv1beta1.NodeImage, image string, tag appsv1beta1.ImageTagSpec) *metav1.Time {
	for _, st := range ni.Status.ImageStatuses[image].Tags {
		if st.Tag == tag.Tag && st.Version == tag.Version {
			return st.CompletionTime
		}
	}
	return nil
}

// failedTag names a tag this controller failed, for the Events.
type failedTag struct {
	fullName string
	message  string
	owners   []corev1.ObjectReference
}

// checkStatus fails the tags the node has not answered in time or has not
// finished by their deadline, drops the statuses of tags no longer in the
// spec and recounts; it returns the new status, nil when nothing changes,
// and when the next deadline falls.
func (c *Controller) checkStatus(ni *appsv1beta1.NodeImage, now time.Time) (*appsv1beta1.NodeImageStatus, time.Duration, []failedTag) {
	mnow := metav1.NewTime(now)
	status := ni.Status.DeepCopy()
	var wait time.Duration
	var failed []failedTag
	inSpec := sets.New[string]()
	for name, image := range ni.Spec.Images {
		imageStatus := status.ImageStatuses[name]
		for _, tag := range image.Tags {
			fullName := name + ":" + tag.Tag
			inSpec.Insert(fullName)
			if tag.CreatedAt == nil {
				continue
			}
			var st *appsv1beta1.ImageTagStatus
			for i := range imageStatus.Tags {
				if imageStatus.Tags[i].Tag == tag.Tag {
					st = &imageStatus.Tags[i]
					break
				}
			}
			var message string
			if st == nil || st.Version != tag.Version {
				if left := ResponseTimeout - now.Sub(tag.CreatedAt.Time); left > 0 {
					wait = requeueAfter(wait, left)
					continue
				}
				message = MessageNotResponded
			} else if st.CompletionTime == nil && tag.PullPolicy != nil && tag.PullPolicy.ActiveDeadlineSeconds != nil {
				left := time.Duration(*tag.PullPolicy.ActiveDeadlineSeconds)*time.Second + ResponseTimeout - now.Sub(tag.CreatedAt.Time)
				if left > 0 {
					wait = requeueAfter(wait, left)
					continue
				}
				message = MessageDeadlineExceeded
			} else {
				continue
			}
			failedStatus := appsv1beta1.ImageTagStatus{
				Tag:            tag.Tag,
				Phase:          appsv1beta1.ImagePhaseFailed,
				CompletionTime: &mnow,
				Version:        tag.Version,
				Message:        message,
			}
			if st == nil {
				imageStatus.Tags = append(imageStatus.Tags, failedStatus)
			} else {
				failedStatus.Progress, failedStatus.StartTime, failedStatus.ImageID = st.Progress, st.StartTime, st.ImageID
				*st = failedStatus
			}
			failed = append(failed, failedTag{fullName: fullName, message: message, owners: tag.OwnerReferences})
		}
		if len(imageStatus.Tags) > 0 {
			if status.ImageStatuses == nil {
				status.ImageStatuses = map[string]appsv1beta1.ImageStatus{}
			}
			sort.SliceStable(imageStatus.Tags, func(i, j int) bool { return imageStatus.Tags[i].Tag < imageStatus.Tags[j].Tag })
			status.ImageStatuses[name] = imageStatus
		}
	}

	// Only what is in the spec stays. The counters are kruise-daemon's to
	// keep; they are recounted here only along with a change of the tags
	// (as OpenKruise does), so that the two writers do not take turns.
	kept := map[string]appsv1beta1.ImageStatus{}
	for name, imageStatus := range status.ImageStatuses {
		var tags []appsv1beta1.ImageTagStatus
		for _, st := range imageStatus.Tags {
			if inSpec.Has(name + ":" + st.Tag) {
				tags = append(tags, st)
			}
		}
		if len(tags) > 0 {
			kept[name] = appsv1beta1.ImageStatus{Tags: tags}
		}
	}
	if len(kept) == 0 {
		kept = nil
	}
	status.ImageStatuses = kept
	if reflect.DeepEqual(status.ImageStatuses, normalized(ni.Status).ImageStatuses) {
		return nil, wait, nil
	}
	var succeeded, failedCount, pulling int32
	for _, imageStatus := range kept {
		for _, st := range imageStatus.Tags {
			switch st.Phase {
			case appsv1beta1.ImagePhaseSucceeded:
				succeeded++
			case appsv1beta1.ImagePhaseFailed:
				failedCount++
			case appsv1beta1.ImagePhasePulling:
				pulling++
			}
		}
	}
	status.Desired = int32(inSpec.Len())
	status.Succeeded, status.Failed, status.Pulling = succeeded, failedCount, pulling
	return status, wait, failed
}

// normalized is the status with empty maps as nil, to compare.
func normalized(s appsv1beta1.NodeImageStatus) appsv1beta1.NodeImageStatus {
	if len(s.ImageStatuses) == 0 {
		s.ImageStatuses = nil
	}
	return s
}

func (c *Controller) recordFailures(ni *appsv1beta1.NodeImage, failed []failedTag) {
	if c.recorder == nil {
		return
	}
	for _, f := range failed {
		for i := range f.owners {
			c.recorder.Eventf(&f.owners[i], corev1.EventTypeWarning, "PullImageFailed",
				"Failed to pull image %v on node %v for %v", f.fullName, ni.Name, f.message)
		}
		c.recorder.Eventf(ni, corev1.EventTypeWarning, "PullImageFailed",
			"Failed to pull image %v on node %v for %v", f.fullName, ni.Name, f.message)
	}
}
