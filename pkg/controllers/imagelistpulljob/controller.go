// Package imagelistpulljob is the ImageListPullJob controller: it keeps one
// ImagePullJob per image of the list (owned by the list job, made from its
// template) and sums their statuses up.
//
// It follows OpenKruise's controller (pkg/controller/imagelistpulljob):
// the list job carries the hash of its template in the label
// controller-revision-hash, and so does each ImagePullJob; an ImagePullJob
// of another template, or of an image no longer listed, is deleted (and one
// of the current template created in its place). An ImagePullJob counts as
// active while it has active nodes, completed when all its nodes are done,
// succeeded when all succeeded; one with failed nodes is listed in
// failedImageStatuses. With completionPolicy Always the list job completes
// when every image's job has, and is deleted ttlSecondsAfterFinished later.
package imagelistpulljob

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/expectations"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned"
	kruiselisters "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/listers/apps/v1beta1"
)

// TemplateHashLabel holds the hash of the template an ImagePullJob was made
// from (and, on the list job, the hash of its current template).
const TemplateHashLabel = "controller-revision-hash"

var controllerKind = appsv1beta1.SchemeGroupVersion.WithKind("ImageListPullJob")

// Controller is the ImageListPullJob controller.
type Controller struct {
	kruiseClient versioned.Interface
	recorder     record.EventRecorder

	listLister kruiselisters.ImageListPullJobLister
	jobLister  kruiselisters.ImagePullJobLister
	synced     []cache.InformerSynced

	queue workqueue.TypedRateLimitingInterface[string]
	// scaleExpectations holds, per list job, the images whose ImagePullJob
	// was created or deleted and not yet seen so: created with a generated
	// name, an ImagePullJob is known by its image until then.
	scaleExpectations *expectations.Scale
	clock             clock.Clock
}

// New builds the ImageListPullJob controller and registers its event
// handlers on the ImageListPullJob and ImagePullJob informers.
func New(ctx *controllers.Context) (controllers.Controller, error) {
	return newController(ctx, clock.RealClock{})
}

func newController(ctx *controllers.Context, clk clock.WithTicker) (*Controller, error) {
	listInformer := ctx.KruiseInformers.Apps().V1beta1().ImageListPullJobs()
	jobInformer := ctx.KruiseInformers.Apps().V1beta1().ImagePullJobs()
	c := &Controller{
		kruiseClient: ctx.KruiseClient,
		recorder:     ctx.Recorder,
		listLister:   listInformer.Lister(),
		jobLister:    jobInformer.Lister(),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "imagelistpulljob", Clock: clk},
		),
		scaleExpectations: expectations.NewScaleWithClock(clk, expectations.DefaultTimeout),
		clock:             clk,
	}
	synced, err := controllers.AddEventHandlers(
		controllers.EventHandler{Informer: listInformer.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueue,
			UpdateFunc: func(_, cur any) { c.enqueue(cur) },
			DeleteFunc: c.onListDelete,
		}},
		controllers.EventHandler{Informer: jobInformer.Informer(), Handler: cache.ResourceEventHandlerFuncs{
			AddFunc: func(obj any) { c.onJobEvent(obj, expectations.Create) },
			UpdateFunc: func(old, cur any) {
				if old.(*appsv1beta1.ImagePullJob).ResourceVersion != cur.(*appsv1beta1.ImagePullJob).ResourceVersion {
					c.onJobEvent(cur, "")
				}
			},
			DeleteFunc: func(obj any) { c.onJobEvent(obj, expectations.Delete) },
		}},
	)
	if err != nil {
		return nil, err
	}
	c.synced = synced
	return c, nil
}

// Run processes ImageListPullJob keys with workers goroutines until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	controllers.RunWorkers(ctx, "ImageListPullJob", c.queue, c.synced, workers, c.sync)
}

func (c *Controller) enqueue(obj any) {
	if list, ok := obj.(*appsv1beta1.ImageListPullJob); ok {
		c.queue.Add(list.Namespace + "/" + list.Name)
	}
}

func (c *Controller) onListDelete(obj any) {
	if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
	if list, ok := obj.(*appsv1beta1.ImageListPullJob); ok {
		c.scaleExpectations.Delete(list.Namespace + "/" + list.Name)
	}
}

// onJobEvent observes a creation or deletion of an ImagePullJob (action
// "" for an update) and enqueues the list job that owns it.
func (c *Controller) onJobEvent(obj any, action expectations.Action) {
	if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
	job, ok := obj.(*appsv1beta1.ImagePullJob)
	if !ok {
		return
	}
	ref := metav1.GetControllerOfNoCopy(job)
	if ref == nil || ref.Kind != controllerKind.Kind {
		return
	}
	if gv, err := schema.ParseGroupVersion(ref.APIVersion); err != nil || gv.Group != controllerKind.Group {
		return
	}
	key := job.Namespace + "/" + ref.Name
	if action == expectations.Create && job.DeletionTimestamp != nil {
		action = expectations.Delete
	}
	if action != "" {
		c.scaleExpectations.Observe(key, action, job.Spec.Image)
	}
	c.queue.Add(key)
}

// templateHash is the hash of a list job's template, as a label value.
func templateHash(template *appsv1beta1.ImagePullJobTemplate) string {
	// JSON of a typed struct is deterministic: fields in declaration
	// order, map keys sorted.
	data, err := json.Marshal(template)
	if err != nil {
		panic(fmt.Sprintf("encoding an ImagePullJob template: %v", err))
	}
	h := fnv.New32a()
	h.Write(data)
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

func (c *Controller) sync(ctx context.Context, key string) (time.Duration, error) {
	logger := klog.FromContext(ctx)
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return 0, err
	}
	list, err := c.listLister.ImageListPullJobs(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	if list.DeletionTimestamp != nil {
		return 0, nil
	}

	hash := templateHash(&list.Spec.ImagePullJobTemplate)
	if list.Labels[TemplateHashLabel] != hash {
		patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%q}}}`, TemplateHashLabel, hash)
		patched, err := c.kruiseClient.AppsV1beta1().ImageListPullJobs(namespace).Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
		if err != nil {
			return 0, fmt.Errorf("labelling ImageListPullJob %s with its template hash: %w", key, err)
		}
		list = patched
	}

	completion := appsv1beta1.CompletionPolicy{Type: appsv1beta1.Always}
	if list.Spec.CompletionPolicy != nil {
		completion = *list.Spec.CompletionPolicy
	}
	now := c.clock.Now()
	if list.Status.CompletionTime != nil {
		if left, due := controllers.TTLAfterFinished(list.Status.CompletionTime.Time, completion.TTLSecondsAfterFinished, now); !due {
			return left, nil
		}
		logger.Info("Deleting ImageListPullJob after ttlSecondsAfterFinished", "imageListPullJob", klog.KObj(list))
		err := c.kruiseClient.AppsV1beta1().ImageListPullJobs(namespace).Delete(ctx, name, metav1.DeleteOptions{
			Preconditions: &metav1.Preconditions{UID: &list.UID},
		})
		if err != nil && !apierrors.IsNotFound(err) {
			return 0, fmt.Errorf("deleting ImageListPullJob %s after ttlSecondsAfterFinished: %w", key, err)
		}
		return 0, nil
	}

	if ok, wait := c.scaleExpectations.Satisfied(key); !ok {
		logger.V(4).Info("Waiting for ImagePullJobs created or deleted to be seen", "imageListPullJob", key, "pending", c.scaleExpectations.Pending(key))
		return wait, nil
	}

	owned, extra, err := c.ownedJobs(list, hash)
	if err != nil {
		return 0, err
	}
	status := calculateStatus(list, owned, completion, now)

	var create []string
	// A second ImagePullJob of one image (made when the cache lagged past
	// the expectations' timeout) would pull it again and never be counted.
	remove := extra
	for _, image := range list.Spec.Images {
		job, ok := owned[image]
		if !ok {
			create = append(create, image)
			continue
		}
		if job.Labels[TemplateHashLabel] != hash {
			// Made from another template: replaced.
			remove = append(remove, job)
			create = append(create, image)
		}
	}
	for image, job := range owned {
		if !slices.Contains(list.Spec.Images, image) {
			remove = append(remove, job)
		}
	}
	if err := c.manageJobs(ctx, list, hash, create, remove); err != nil {
		return 0, err
	}

	if !statusEqual(&list.Status, status) {
		updated := list.DeepCopy()
		updated.Status = *status
		if _, err := c.kruiseClient.AppsV1beta1().ImageListPullJobs(namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
			return 0, fmt.Errorf("updating the status of ImageListPullJob %s: %w", key, err)
		}
	}
	return 0, nil
}

// ownedJobs returns the list job's ImagePullJobs not being deleted, one by
// image, and the others of an image already taken (to be deleted). Of
// several jobs of one image it keeps one of the current template (hash),
// else the oldest.
func (c *Controller) ownedJobs(list *appsv1beta1.ImageListPullJob, hash string) (map[string]*appsv1beta1.ImagePullJob, []*appsv1beta1.ImagePullJob, error) {
	jobs, err := c.jobLister.ImagePullJobs(list.Namespace).List(labels.Everything())
	if err != nil {
		return nil, nil, err
	}
	var mine []*appsv1beta1.ImagePullJob
	for _, job := range jobs {
		ref := metav1.GetControllerOfNoCopy(job)
		if ref == nil || ref.UID != list.UID || job.DeletionTimestamp != nil {
			continue
		}
		mine = append(mine, job)
	}
	slices.SortFunc(mine, func(a, b *appsv1beta1.ImagePullJob) int {
		if current := a.Labels[TemplateHashLabel] == hash; current != (b.Labels[TemplateHashLabel] == hash) {
			if current {
				return -1
			}
			return 1
		}
		if d := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); d != 0 {
			return d
		}
		return strings.Compare(a.Name, b.Name)
	})
	owned := map[string]*appsv1beta1.ImagePullJob{}
	var extra []*appsv1beta1.ImagePullJob
	for _, job := range mine {
		if _, ok := owned[job.Spec.Image]; ok {
			extra = append(extra, job)
			continue
		}
		owned[job.Spec.Image] = job
	}
	return owned, extra, nil
}

func calculateStatus(list *appsv1beta1.ImageListPullJob, owned map[string]*appsv1beta1.ImagePullJob, completion appsv1beta1.CompletionPolicy, now time.Time) *appsv1beta1.ImageListPullJobStatus {
	status := &appsv1beta1.ImageListPullJobStatus{
		StartTime: list.Status.StartTime,
		Desired:   int32(len(list.Spec.Images)),
	}
	if status.StartTime == nil {
		t := metav1.NewTime(now)
		status.StartTime = &t
	}
	// In the order of the list, so that the status does not change with
	// the order of a map.
	for _, image := range list.Spec.Images {
		job, ok := owned[image]
		if !ok || job.Status.StartTime == nil {
			continue
		}
		js := job.Status
		if js.Active > 0 {
			status.Active++
		}
		if js.Failed > 0 {
			status.FailedImageStatuses = append(status.FailedImageStatuses, appsv1beta1.FailedImageStatus{
				ImagePullJob: job.Name,
				Name:         job.Spec.Image,
				Message:      fmt.Sprintf("Please check for details which nodes failed by 'kubectl get ImagePullJob %s'.", job.Name),
			})
		}
		if js.Desired == js.Failed+js.Succeeded {
			status.Completed++
		}
		if js.Desired == js.Succeeded {
			status.Succeeded++
		}
	}
	if completion.Type != appsv1beta1.Never && status.Completed == status.Desired {
		t := metav1.NewTime(now)
		status.CompletionTime = &t
	}
	return status
}

// statusEqual compares statuses as stored (times to the second).
func statusEqual(a, b *appsv1beta1.ImageListPullJobStatus) bool {
	norm := func(s *appsv1beta1.ImageListPullJobStatus) appsv1beta1.ImageListPullJobStatus {
		out := *s.DeepCopy()
		out.StartTime = controllers.TimeAsStored(out.StartTime)
		out.CompletionTime = controllers.TimeAsStored(out.CompletionTime)
		if len(out.FailedImageStatuses) == 0 {
			out.FailedImageStatuses = nil
		}
		return out
	}
	return apiequality.Semantic.DeepEqual(norm(a), norm(b))
}

// manageJobs creates the ImagePullJobs of the images in create and deletes
// the jobs in remove.
func (c *Controller) manageJobs(ctx context.Context, list *appsv1beta1.ImageListPullJob, hash string, create []string, remove []*appsv1beta1.ImagePullJob) error {
	key := list.Namespace + "/" + list.Name
	var errs []error
	if len(create) > 0 {
		c.scaleExpectations.Expect(key, expectations.Create, create...)
		created := 0
		for _, image := range create {
			job := &appsv1beta1.ImagePullJob{
				ObjectMeta: metav1.ObjectMeta{
					Namespace:       list.Namespace,
					GenerateName:    list.Name + "-",
					Labels:          map[string]string{TemplateHashLabel: hash},
					OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(list, controllerKind)},
				},
				Spec: appsv1beta1.ImagePullJobSpec{
					Image:                image,
					ImagePullJobTemplate: *list.Spec.ImagePullJobTemplate.DeepCopy(),
				},
			}
			if _, err := c.kruiseClient.AppsV1beta1().ImagePullJobs(list.Namespace).Create(ctx, job, metav1.CreateOptions{}); err != nil {
				c.scaleExpectations.Observe(key, expectations.Create, image)
				errs = append(errs, fmt.Errorf("creating the ImagePullJob of %s: %w", image, err))
				continue
			}
			created++
		}
		if created > 0 {
			c.recorder.Eventf(list, corev1.EventTypeNormal, "Successful create ImagePullJob", "Create %d ImagePullJob", created)
		}
	}
	if len(remove) > 0 {
		deleted := 0
		for _, job := range remove {
			c.scaleExpectations.Expect(key, expectations.Delete, job.Spec.Image)
			err := c.kruiseClient.AppsV1beta1().ImagePullJobs(job.Namespace).Delete(ctx, job.Name, metav1.DeleteOptions{
				Preconditions: &metav1.Preconditions{UID: &job.UID},
			})
			if err != nil && !apierrors.IsNotFound(err) {
				c.scaleExpectations.Observe(key, expectations.Delete, job.Spec.Image)
				errs = append(errs, fmt.Errorf("deleting ImagePullJob %s: %w", job.Name, err))
				continue
			}
			deleted++
		}
		if deleted > 0 {
			c.recorder.Eventf(list, corev1.EventTypeNormal, "Successful delete ImagePullJob", "Delete %d ImagePullJob", deleted)
		}
	}
	return utilerrors.NewAggregate(errs)
}
