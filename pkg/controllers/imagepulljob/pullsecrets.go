package imagepulljob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

// Pull secrets: kruise-daemon may read Secrets of its own namespace only, so
// the controller copies each pull secret a running job names into that
// namespace, one copy per source Secret whichever jobs name it, and writes
// the copies into the NodeImages. A copy is named after its source
// (copyName) and carries OpenKruise's annotation with the source's
// namespace/name. Every sync of a running job reads its sources and brings
// the copies up to date, and a running job with pull secrets is synced at
// least every pullSecretResyncPeriod for that: the controller may only get
// Secrets outside the daemon's namespace, not watch them.
//
// Copies no running job names any more (the jobs completed, were deleted,
// or no longer list the secret) are deleted by a collection over all
// copies, queued under pullSecretCopiesKey when a job completes, goes or
// changes its pull secrets and when a copy appears (so also when the
// controller starts). Unlike OpenKruise there is no finalizer on the job
// and no list of referencing jobs on the copy: the jobs in the informer
// say which copies are needed, and a job is never held back from deletion.
// A copy deleted while a job still needs it is made again by that job
// (the deletion queues the jobs naming its source), under the same name,
// so that the NodeImages' references stay right.
const (
	// SecretAnnotationSourceSecretKey is OpenKruise's annotation on a copy:
	// the namespace/name of the Secret it is a copy of.
	SecretAnnotationSourceSecretKey = "imagepulljobs.kruise.io/source-key"

	// pullSecretCopiesKey is the queue key of the collection of copies no
	// running job needs. Job keys always have a namespace; it has none.
	pullSecretCopiesKey = "pull-secret-copies"

	// pullSecretResyncPeriod is how long a change of a pull secret may take
	// to reach its copy.
	pullSecretResyncPeriod = time.Minute
)

// copyName is the name of the copy of Secret namespace/name in the
// daemon's namespace: "<namespace>.<name>", which no other source has
// (a namespace has no dots), or when that is too long for a name, a
// shortened one with a hash of the source.
func copyName(namespace, name string) string {
	full := namespace + "." + name
	if len(full) <= validation.DNS1123SubdomainMaxLength {
		return full
	}
	sum := sha256.Sum256([]byte(namespace + "/" + name))
	suffix := "-" + hex.EncodeToString(sum[:])[:16]
	return strings.TrimRight(full[:validation.DNS1123SubdomainMaxLength-len(suffix)], ".-") + suffix
}

// sourceOf returns the namespace/name of the Secret a copy is of, "" for a
// Secret that is no copy.
func sourceOf(secret *corev1.Secret) string {
	return secret.Annotations[SecretAnnotationSourceSecretKey]
}

// syncPullSecrets makes sure the pull secrets of a running job have their
// up-to-date copies in the daemon's namespace and returns the references
// to those copies for the NodeImages. A secret that does not exist is left
// out, with a Warning event on the job: the nodes pull without it (as in
// OpenKruise), which works for images needing none and otherwise fails
// with the registry's message; once the secret exists, a later sync adds
// it.
func (c *Controller) syncPullSecrets(ctx context.Context, job *appsv1beta1.ImagePullJob) ([]appsv1beta1.ReferenceObject, error) {
	var refs []appsv1beta1.ReferenceObject
	for _, name := range sets.List(sets.New(job.Spec.PullSecrets...)) {
		if job.Namespace == c.daemonNamespace {
			// kruise-daemon reads these where they are.
			refs = append(refs, appsv1beta1.ReferenceObject{Namespace: job.Namespace, Name: name})
			continue
		}
		source, err := c.kubeClient.CoreV1().Secrets(job.Namespace).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			c.recorder.Eventf(job, corev1.EventTypeWarning, "PullSecretNotFound",
				"Pull secret %s/%s not found: the nodes pull %s without it", job.Namespace, name, job.Spec.Image)
			continue
		}
		if err != nil {
			c.recorder.Eventf(job, corev1.EventTypeWarning, "FailedSyncPullSecret", "Failed to read pull secret %s/%s: %v", job.Namespace, name, err)
			return nil, fmt.Errorf("reading pull secret %s/%s: %w", job.Namespace, name, err)
		}
		copied, err := c.syncPullSecretCopy(ctx, source)
		if err != nil {
			c.recorder.Eventf(job, corev1.EventTypeWarning, "FailedSyncPullSecret", "Failed to copy pull secret %s/%s into namespace %s: %v",
				job.Namespace, name, c.daemonNamespace, err)
			return nil, fmt.Errorf("copying pull secret %s/%s into namespace %s: %w", job.Namespace, name, c.daemonNamespace, err)
		}
		refs = append(refs, appsv1beta1.ReferenceObject{Namespace: copied.Namespace, Name: copied.Name})
	}
	return refs, nil
}

// syncPullSecretCopy creates or updates the copy of source.
func (c *Controller) syncPullSecretCopy(ctx context.Context, source *corev1.Secret) (*corev1.Secret, error) {
	key := source.Namespace + "/" + source.Name
	want := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:   c.daemonNamespace,
			Name:        copyName(source.Namespace, source.Name),
			Annotations: map[string]string{SecretAnnotationSourceSecretKey: key},
		},
		Type: source.Type,
		Data: source.Data,
	}
	secrets := c.kubeClient.CoreV1().Secrets(c.daemonNamespace)
	current, err := c.secretCopyLister.Secrets(c.daemonNamespace).Get(want.Name)
	if apierrors.IsNotFound(err) {
		var created *corev1.Secret
		created, err = secrets.Create(ctx, want, metav1.CreateOptions{})
		if err == nil {
			klog.FromContext(ctx).V(2).Info("Copied pull secret", "source", key, "copy", klog.KObj(created))
			return created, nil
		}
		if apierrors.IsAlreadyExists(err) {
			// Made meanwhile, not in the cache yet.
			current, err = secrets.Get(ctx, want.Name, metav1.GetOptions{})
		}
	}
	if err != nil {
		return nil, err
	}
	if sourceOf(current) != key {
		return nil, fmt.Errorf("secret %s/%s exists and is not a copy of %s (annotation %s is %q)",
			current.Namespace, current.Name, key, SecretAnnotationSourceSecretKey, sourceOf(current))
	}
	if current.Type != want.Type {
		// The type of a Secret cannot change: make the copy again.
		uid := current.UID
		err := secrets.Delete(ctx, current.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, err
		}
		return secrets.Create(ctx, want, metav1.CreateOptions{})
	}
	if reflect.DeepEqual(current.Data, want.Data) {
		return current, nil
	}
	updated := current.DeepCopy()
	updated.Data = want.Data
	updated, err = secrets.Update(ctx, updated, metav1.UpdateOptions{})
	if err != nil {
		return nil, err
	}
	klog.FromContext(ctx).V(2).Info("Updated the copy of a pull secret", "source", key, "copy", klog.KObj(updated))
	return updated, nil
}

// collectPullSecretCopies deletes the copies that no running job names.
func (c *Controller) collectPullSecretCopies(ctx context.Context) error {
	copies, err := c.secretCopyLister.Secrets(c.daemonNamespace).List(labels.Everything())
	if err != nil {
		return err
	}
	needed := sets.New[string]()
	for _, job := range c.activeJobs("") {
		for _, name := range job.Spec.PullSecrets {
			needed.Insert(job.Namespace + "/" + name)
		}
	}
	var errs []error
	for _, secret := range copies {
		source := sourceOf(secret)
		if source == "" || needed.Has(source) || secret.DeletionTimestamp != nil {
			continue
		}
		// Only the copy as seen: one written since (by a job that started
		// to need it) stays, and its event brings the collection back.
		uid, rv := secret.UID, secret.ResourceVersion
		err := c.kubeClient.CoreV1().Secrets(secret.Namespace).Delete(ctx, secret.Name, metav1.DeleteOptions{
			Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &rv},
		})
		switch {
		case err == nil:
			klog.FromContext(ctx).V(2).Info("Deleted the copy of a pull secret no running ImagePullJob names", "source", source, "copy", klog.KObj(secret))
		case apierrors.IsNotFound(err), apierrors.IsConflict(err):
		default:
			errs = append(errs, fmt.Errorf("deleting pull secret copy %s/%s: %w", secret.Namespace, secret.Name, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%v", errs)
	}
	return nil
}

// Events of the copies: one appearing or changing may be unneeded; one
// deleted may still be needed, by the running jobs naming its source.

func (c *Controller) onCopyAddOrUpdate(obj any) {
	if secret, ok := obj.(*corev1.Secret); ok && sourceOf(secret) != "" {
		c.queue.Add(pullSecretCopiesKey)
	}
}

func (c *Controller) onCopyDelete(obj any) {
	if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
	secret, ok := obj.(*corev1.Secret)
	if !ok {
		return
	}
	namespace, name, ok := strings.Cut(sourceOf(secret), "/")
	if !ok {
		return
	}
	for _, job := range c.activeJobs(namespace) {
		for _, s := range job.Spec.PullSecrets {
			if s == name {
				c.queue.Add(keyOf(job))
				break
			}
		}
	}
}

// pullSecretsReleased reports whether a job update may leave copies
// unneeded: the job stopped running, or its pull secrets changed.
func pullSecretsReleased(old, cur *appsv1beta1.ImagePullJob) bool {
	if len(old.Spec.PullSecrets) == 0 {
		return false
	}
	wasRunning := old.Status.CompletionTime == nil && old.DeletionTimestamp == nil
	running := cur.Status.CompletionTime == nil && cur.DeletionTimestamp == nil
	return (wasRunning && !running) || !reflect.DeepEqual(old.Spec.PullSecrets, cur.Spec.PullSecrets)
}
