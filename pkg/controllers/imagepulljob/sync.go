package imagepulljob

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"time"

	"github.com/distribution/reference"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers"
)

const (
	// defaultParallelism is how many nodes pull at a time without
	// spec.parallelism.
	defaultParallelism = 1

	// The tag pull policy of a job that never completes: kept a day (give
	// or take ten minutes, so that the tags of many nodes do not expire at
	// once) after the node finished it, and failed if not done within
	// 30 minutes or the pull timeout, whichever is longer.
	ttlSecondsForNever            = int32(24 * 3600)
	activeDeadlineSecondsForNever = int64(1800)

	// defaultTTLSecondsForAlwaysNodeImage is how long, beyond the job's own
	// TTL, the tag of a job that completes stays in a NodeImage (OpenKruise's
	// --default-ttlseconds-for-always-nodeimage default). A node done early
	// keeps its tag while the job still works through the other nodes; were
	// the tag dropped, the job would see the node unsynced and write it again
	// as a new version, pulling again.
	defaultTTLSecondsForAlwaysNodeImage = int32(300)

	// MessageDeadlineExceeded is the job's message when activeDeadlineSeconds
	// ended it.
	MessageDeadlineExceeded = "job exceeds activeDeadlineSeconds"
	// MessageCompleted is the message of a completed job.
	MessageCompleted = "job has completed"
)

// ImageNameTag splits an image reference as NodeImages key it: the
// familiar name ("nginx" for docker.io/library/nginx) and the tag ("latest"
// when none is given), or the digest for a reference by digest.
func ImageNameTag(image string) (name, tag string, err error) {
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return "", "", err
	}
	if digested, ok := named.(reference.Digested); ok {
		return reference.FamiliarName(named), digested.Digest().String(), nil
	}
	tagged, ok := reference.TagNameOnly(named).(reference.Tagged)
	if !ok {
		return "", "", fmt.Errorf("image %q has no tag", image)
	}
	return reference.FamiliarName(named), tagged.Tag(), nil
}

// selectsByNode reports whether a job without podSelector selects the node
// of the NodeImage.
func selectsByNode(job *appsv1beta1.ImagePullJob, ni *appsv1beta1.NodeImage) bool {
	if job.Spec.PodSelector != nil {
		return false
	}
	if job.Spec.Selector == nil {
		return true
	}
	if len(job.Spec.Selector.Names) > 0 {
		return slices.Contains(job.Spec.Selector.Names, ni.Name)
	}
	selector, err := metav1.LabelSelectorAsSelector(&job.Spec.Selector.LabelSelector)
	if err != nil {
		return false
	}
	return selector.Matches(labels.Set(ni.Labels))
}

// nodeImagesNamed returns the NodeImages of names that exist, sorted by name.
func (c *Controller) nodeImagesNamed(names sets.Set[string]) ([]*appsv1beta1.NodeImage, error) {
	var out []*appsv1beta1.NodeImage
	for _, name := range sets.List(names) {
		ni, err := c.nodeImageLister.Get(name)
		if apierrors.IsNotFound(err) {
			continue
		} else if err != nil {
			return nil, err
		}
		out = append(out, ni)
	}
	return out, nil
}

// selectNodeImages returns the NodeImages of the nodes the job selects,
// sorted by name. Nodes without a NodeImage are left out.
func (c *Controller) selectNodeImages(job *appsv1beta1.ImagePullJob) ([]*appsv1beta1.NodeImage, error) {
	var out []*appsv1beta1.NodeImage
	switch {
	case job.Spec.PodSelector != nil:
		selector, err := metav1.LabelSelectorAsSelector(&job.Spec.PodSelector.LabelSelector)
		if err != nil {
			return nil, fmt.Errorf("podSelector: %w", err)
		}
		pods, err := c.podLister.Pods(job.Namespace).List(selector)
		if err != nil {
			return nil, err
		}
		nodes := sets.New[string]()
		for _, pod := range pods {
			if pod.Spec.NodeName != "" && podIsActive(pod) {
				nodes.Insert(pod.Spec.NodeName)
			}
		}
		if out, err = c.nodeImagesNamed(nodes); err != nil {
			return nil, err
		}
	case job.Spec.Selector != nil && len(job.Spec.Selector.Names) > 0:
		var err error
		if out, err = c.nodeImagesNamed(sets.New(job.Spec.Selector.Names...)); err != nil {
			return nil, err
		}
	default:
		selector := labels.Everything()
		if job.Spec.Selector != nil {
			var err error
			if selector, err = metav1.LabelSelectorAsSelector(&job.Spec.Selector.LabelSelector); err != nil {
				return nil, fmt.Errorf("selector: %w", err)
			}
		}
		list, err := c.nodeImageLister.List(selector)
		if err != nil {
			return nil, err
		}
		out = list
		sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	}
	// A NodeImage being deleted goes with its Node.
	return slices.DeleteFunc(out, func(ni *appsv1beta1.NodeImage) bool { return ni.DeletionTimestamp != nil }), nil
}

// sync reconciles one job and returns when it should be looked at again
// (for a deadline, a TTL, or its pull secrets' copies), 0 for not. The key
// pullSecretCopiesKey collects the copies no running job needs.
func (c *Controller) sync(ctx context.Context, key string) (time.Duration, error) {
	if key == pullSecretCopiesKey {
		return 0, c.collectPullSecretCopies(ctx)
	}
	logger := klog.FromContext(ctx)
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return 0, err
	}
	cached, err := c.jobLister.ImagePullJobs(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	if ok, wait := c.versionExpectations.Satisfied(cached); !ok {
		return wait, nil
	}
	if cached.DeletionTimestamp != nil {
		return 0, nil
	}
	job := cached.DeepCopy()
	completion := completionPolicy(job)

	now := c.clock.Now()
	if job.Status.CompletionTime != nil {
		if left, due := controllers.TTLAfterFinished(job.Status.CompletionTime.Time, completion.TTLSecondsAfterFinished, now); !due {
			return left, nil
		}
		logger.Info("Deleting ImagePullJob after ttlSecondsAfterFinished", "imagePullJob", klog.KObj(job))
		err := c.kruiseClient.AppsV1beta1().ImagePullJobs(namespace).Delete(ctx, name, metav1.DeleteOptions{
			Preconditions: &metav1.Preconditions{UID: &job.UID},
		})
		if err != nil && !apierrors.IsNotFound(err) {
			return 0, fmt.Errorf("deleting ImagePullJob %s after ttlSecondsAfterFinished: %w", key, err)
		}
		return 0, nil
	}

	nodeImages, err := c.selectNodeImages(job)
	if err != nil {
		return 0, err
	}
	for _, ni := range nodeImages {
		if ok, wait := c.versionExpectations.Satisfied(ni); !ok {
			// The node this controller wrote last is not in the cache yet;
			// its update event brings the job back.
			return wait, nil
		}
	}

	// The copies first: a node must not start pulling without them.
	secrets, err := c.syncPullSecrets(ctx, job)
	if err != nil {
		return 0, err
	}
	status, notSynced, err := c.calculateStatus(job, nodeImages, secrets, now)
	if err != nil {
		return 0, err
	}
	if err := c.syncNodeImages(ctx, job, status, notSynced, secrets, now); err != nil {
		return 0, err
	}

	if !statusEqual(&job.Status, status) {
		job.Status = *status
		updated, err := c.kruiseClient.AppsV1beta1().ImagePullJobs(namespace).UpdateStatus(ctx, job, metav1.UpdateOptions{})
		if err != nil {
			return 0, fmt.Errorf("updating the status of ImagePullJob %s: %w", key, err)
		}
		c.versionExpectations.Expect(updated)
		if status.CompletionTime != nil && cached.Status.CompletionTime == nil {
			c.recorder.Eventf(job, corev1.EventTypeNormal, "Completed", "%s: %d succeeded, %d failed of %d nodes",
				status.Message, status.Succeeded, status.Failed, status.Desired)
		}
		// The update brings the job back, for its TTL.
		return c.pullSecretResync(job, 0), nil
	}

	if completion.Type != appsv1beta1.Never && completion.ActiveDeadlineSeconds != nil {
		left := time.Duration(*completion.ActiveDeadlineSeconds)*time.Second - now.Sub(status.StartTime.Time)
		return c.pullSecretResync(job, max(left, time.Second)), nil
	}
	return c.pullSecretResync(job, 0), nil
}

// pullSecretResync shortens the time until the next sync of a running job
// copying pull secrets to pullSecretResyncPeriod: its copies follow their
// sources only when the job is synced.
func (c *Controller) pullSecretResync(job *appsv1beta1.ImagePullJob, after time.Duration) time.Duration {
	if job.Status.CompletionTime != nil || len(job.Spec.PullSecrets) == 0 || job.Namespace == c.daemonNamespace {
		return after
	}
	if after == 0 || after > pullSecretResyncPeriod {
		return pullSecretResyncPeriod
	}
	return after
}

func completionPolicy(job *appsv1beta1.ImagePullJob) appsv1beta1.CompletionPolicy {
	if job.Spec.CompletionPolicy == nil {
		return appsv1beta1.CompletionPolicy{Type: appsv1beta1.Always}
	}
	return *job.Spec.CompletionPolicy
}

// statusEqual compares statuses as stored (times to the second).
func statusEqual(a, b *appsv1beta1.ImagePullJobStatus) bool {
	norm := func(s *appsv1beta1.ImagePullJobStatus) appsv1beta1.ImagePullJobStatus {
		out := *s.DeepCopy()
		out.StartTime = controllers.TimeAsStored(out.StartTime)
		out.CompletionTime = controllers.TimeAsStored(out.CompletionTime)
		if len(out.FailedNodes) == 0 {
			out.FailedNodes = nil
		}
		return out
	}
	return apiequality.Semantic.DeepEqual(norm(a), norm(b))
}

// calculateStatus sums the nodes up: a node is synced when the job owns
// the image's tag in its NodeImage and the job's pull secrets (secrets,
// the references to their copies) are there, and then pulling until the
// node reports that tag version done. It also returns the nodes not synced
// yet, in order.
func (c *Controller) calculateStatus(job *appsv1beta1.ImagePullJob, nodeImages []*appsv1beta1.NodeImage, secrets []appsv1beta1.ReferenceObject, now time.Time) (*appsv1beta1.ImagePullJobStatus, []string, error) {
	mnow := metav1.NewTime(now)
	status := &appsv1beta1.ImagePullJobStatus{
		StartTime: job.Status.StartTime,
		Desired:   int32(len(nodeImages)),
	}
	if status.StartTime == nil {
		status.StartTime = &mnow
	}
	imageName, imageTag, err := ImageNameTag(job.Spec.Image)
	if err != nil {
		return nil, nil, fmt.Errorf("image %q: %w", job.Spec.Image, err)
	}

	var pulling, succeeded, failed, notSynced []string
	for _, ni := range nodeImages {
		version := int64(-1)
		spec, ok := ni.Spec.Images[imageName]
		if ok {
			for _, tag := range spec.Tags {
				if tag.Tag == imageTag && ownedBy(tag, job) {
					version = tag.Version
				}
			}
		}
		if version < 0 {
			notSynced = append(notSynced, ni.Name)
			continue
		}
		if !containsAll(spec.PullSecrets, secrets) {
			// Written again for the secrets, yet counted by its phase below.
			notSynced = append(notSynced, ni.Name)
		}
		phase := appsv1beta1.ImagePhasePulling
		for _, st := range ni.Status.ImageStatuses[imageName].Tags {
			if st.Tag == imageTag && st.Version == version {
				phase = st.Phase
			}
		}
		switch phase {
		case appsv1beta1.ImagePhaseSucceeded:
			succeeded = append(succeeded, ni.Name)
		case appsv1beta1.ImagePhaseFailed:
			failed = append(failed, ni.Name)
		default:
			pulling = append(pulling, ni.Name)
		}
	}

	completion := completionPolicy(job)
	done := len(succeeded) + len(failed)
	if completion.Type != appsv1beta1.Never && completion.ActiveDeadlineSeconds != nil && done != len(nodeImages) &&
		now.Sub(status.StartTime.Time) >= time.Duration(*completion.ActiveDeadlineSeconds)*time.Second {
		// Out of time: what is not done failed. A node not synced for its
		// pull secrets only has a phase already: counted once.
		failed = append(failed, pulling...)
		for _, name := range notSynced {
			if !slices.Contains(failed, name) && !slices.Contains(succeeded, name) {
				failed = append(failed, name)
			}
		}
		sort.Strings(failed)
		status.CompletionTime = &mnow
		status.Succeeded = int32(len(succeeded))
		status.Failed = int32(len(failed))
		status.FailedNodes = failed
		status.Message = MessageDeadlineExceeded
		return status, nil, nil
	}

	status.Active = int32(len(pulling))
	status.Succeeded = int32(len(succeeded))
	status.Failed = int32(len(failed))
	sort.Strings(failed)
	status.FailedNodes = failed
	if completion.Type != appsv1beta1.Never && done == len(nodeImages) {
		status.CompletionTime = &mnow
	}
	status.Message = statusMessage(status)
	return status, notSynced, nil
}

// statusMessage words the progress as OpenKruise does.
func statusMessage(status *appsv1beta1.ImagePullJobStatus) string {
	if status.CompletionTime != nil {
		return MessageCompleted
	}
	if status.Desired == 0 {
		return "job is running, no progress"
	}
	return fmt.Sprintf("job is running, progress %.1f%%", 100.0*float64(status.Succeeded+status.Failed)/float64(status.Desired))
}

func ownedBy(tag appsv1beta1.ImageTagSpec, job *appsv1beta1.ImagePullJob) bool {
	for _, ref := range tag.OwnerReferences {
		if ref.UID == job.UID {
			return true
		}
	}
	return false
}

func containsSecret(list []appsv1beta1.ReferenceObject, s appsv1beta1.ReferenceObject) bool {
	for _, o := range list {
		if o.Namespace == s.Namespace && o.Name == s.Name {
			return true
		}
	}
	return false
}

func containsAll(list, want []appsv1beta1.ReferenceObject) bool {
	for _, s := range want {
		if !containsSecret(list, s) {
			return false
		}
	}
	return true
}

// parallelism is how many nodes may pull at once.
func parallelism(job *appsv1beta1.ImagePullJob, desired int32) int {
	if job.Spec.Parallelism == nil {
		return defaultParallelism
	}
	// Validation admits integers only; a percentage of the selected nodes
	// (rounded up) is understood all the same.
	n, err := intstr.GetScaledValueFromIntOrPercent(job.Spec.Parallelism, int(desired), true)
	if err != nil {
		return defaultParallelism
	}
	return n
}

// syncNodeImages writes the job and its pull secrets' references into the
// NodeImages of nodes not synced yet, as many as parallelism leaves room
// for.
func (c *Controller) syncNodeImages(ctx context.Context, job *appsv1beta1.ImagePullJob, status *appsv1beta1.ImagePullJobStatus, notSynced []string,
	secrets []appsv1beta1.ReferenceObject, now time.Time) error {
	room := parallelism(job, status.Desired) - int(status.Active)
	if room <= 0 || len(notSynced) == 0 {
		return nil
	}
	imageName, imageTag, err := ImageNameTag(job.Spec.Image)
	if err != nil {
		return err
	}
	owner := corev1.ObjectReference{
		APIVersion: controllerKind.GroupVersion().String(),
		Kind:       controllerKind.Kind,
		Namespace:  job.Namespace,
		Name:       job.Name,
		UID:        job.UID,
	}
	tagPolicy := c.tagPullPolicy(job)
	created := metav1.NewTime(now).Rfc3339Copy()
	for _, name := range notSynced[:min(room, len(notSynced))] {
		err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
			ni, err := c.kruiseClient.AppsV1beta1().NodeImages().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if !addTag(ni, imageName, imageTag, job, owner, tagPolicy, secrets, created) {
				return nil
			}
			updated, err := c.kruiseClient.AppsV1beta1().NodeImages().Update(ctx, ni, metav1.UpdateOptions{})
			if err != nil {
				return err
			}
			c.versionExpectations.Expect(updated)
			return nil
		})
		if apierrors.IsNotFound(err) {
			// The node went meanwhile.
			continue
		}
		if err != nil {
			c.recorder.Eventf(job, corev1.EventTypeWarning, "FailedSyncNodeImage", "Failed to add image %s to NodeImage %s: %v", job.Spec.Image, name, err)
			return fmt.Errorf("adding image %s to NodeImage %s: %w", job.Spec.Image, name, err)
		}
		klog.FromContext(ctx).V(3).Info("Added image to NodeImage", "imagePullJob", klog.KObj(job), "image", job.Spec.Image, "nodeImage", name)
	}
	return nil
}

// addTag writes the job's image into the NodeImage and reports whether
// anything changed.
func addTag(ni *appsv1beta1.NodeImage, imageName, imageTag string, job *appsv1beta1.ImagePullJob, owner corev1.ObjectReference,
	policy *appsv1beta1.ImageTagPullPolicy, secrets []appsv1beta1.ReferenceObject, created metav1.Time) bool {
	if ni.Spec.Images == nil {
		ni.Spec.Images = map[string]appsv1beta1.ImageSpec{}
	}
	image := ni.Spec.Images[imageName]
	changed := false
	for _, s := range secrets {
		if !containsSecret(image.PullSecrets, s) {
			image.PullSecrets = append(image.PullSecrets, s)
			changed = true
		}
	}
	if job.Spec.SandboxConfig != nil && !reflect.DeepEqual(image.SandboxConfig, job.Spec.SandboxConfig) {
		image.SandboxConfig = job.Spec.SandboxConfig.DeepCopy()
		changed = true
	}
	found := false
	for i := range image.Tags {
		tag := &image.Tags[i]
		if tag.Tag != imageTag {
			continue
		}
		found = true
		if ownedBy(*tag, job) {
			break
		}
		// Another job asked for this tag before: a new pull round, which
		// pulls again under imagePullPolicy Always.
		tag.Version++
		tag.OwnerReferences = append(tag.OwnerReferences, owner)
		tag.CreatedAt = &created
		tag.ImagePullPolicy = job.Spec.ImagePullPolicy
		changed = true
		break
	}
	if !found {
		// After the version the node last reported, so that the node
		// takes it as new.
		version := int64(-1)
		for _, st := range ni.Status.ImageStatuses[imageName].Tags {
			if st.Tag == imageTag {
				version = st.Version
			}
		}
		image.Tags = append(image.Tags, appsv1beta1.ImageTagSpec{
			Tag:             imageTag,
			CreatedAt:       &created,
			PullPolicy:      policy.DeepCopy(),
			OwnerReferences: []corev1.ObjectReference{owner},
			Version:         version + 1,
			ImagePullPolicy: job.Spec.ImagePullPolicy,
		})
		sort.SliceStable(image.Tags, func(i, j int) bool { return image.Tags[i].Tag < image.Tags[j].Tag })
		changed = true
	}
	if image.Tags == nil {
		image.Tags = []appsv1beta1.ImageTagSpec{}
	}
	ni.Spec.Images[imageName] = image
	return changed
}

// tagPullPolicy is the pullPolicy of the job's tags in NodeImages.
func (c *Controller) tagPullPolicy(job *appsv1beta1.ImagePullJob) *appsv1beta1.ImageTagPullPolicy {
	timeout := int32(appsv1beta1.DefaultImagePullTimeoutSeconds)
	backoff := int32(appsv1beta1.DefaultImagePullBackoffLimit)
	if p := job.Spec.PullPolicy; p != nil {
		if p.TimeoutSeconds != nil {
			timeout = *p.TimeoutSeconds
		}
		if p.BackoffLimit != nil {
			backoff = *p.BackoffLimit
		}
	}
	policy := &appsv1beta1.ImageTagPullPolicy{TimeoutSeconds: ptr.To(timeout), BackoffLimit: ptr.To(backoff)}
	completion := completionPolicy(job)
	if completion.Type == appsv1beta1.Never {
		policy.TTLSecondsAfterFinished = ptr.To(ttlSecondsForNever + c.randInt31n(1200) - 600)
		policy.ActiveDeadlineSeconds = ptr.To(max(activeDeadlineSecondsForNever, int64(timeout)))
		return policy
	}
	// The tag outlives the job: until its TTL, else its deadline, else
	// every attempt timing out, plus the default NodeImage TTL and up to
	// five minutes more.
	var ttl int32
	switch {
	case completion.TTLSecondsAfterFinished != nil:
		ttl = *completion.TTLSecondsAfterFinished
	case completion.ActiveDeadlineSeconds != nil:
		ttl = int32(*completion.ActiveDeadlineSeconds)
	default:
		ttl = timeout * backoff
	}
	policy.TTLSecondsAfterFinished = ptr.To(ttl + defaultTTLSecondsForAlwaysNodeImage + c.randInt31n(300))
	policy.ActiveDeadlineSeconds = completion.ActiveDeadlineSeconds
	return policy
}
