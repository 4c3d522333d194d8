// Package revision keeps the history of a workload in apps/v1
// ControllerRevisions, the way kube-controller-manager's StatefulSet and
// DaemonSet controllers do (and OpenKruise's CloneSet and Advanced
// StatefulSet after them): a revision holds a patch that restores the
// workload's template, is named <owner>-<hash of the patch> with a collision
// count mixed into the hash when two patches collide, and is numbered so
// that the newest has the highest Revision.
//
// What goes into the patch is the workload controller's business; this
// package builds, names, lists, creates, renumbers, adopts and prunes
// revisions.
package revision

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	"k8s.io/client-go/util/retry"
)

// HashLabel is the label holding a revision's hash
// (kube-controller-manager's controller.kubernetes.io/hash).
const HashLabel = "controller.kubernetes.io/hash"

// maxPrefixLength keeps <prefix>-<hash> within the 253 characters of a name.
const maxPrefixLength = 223

// Hash returns the hash of a revision's data, with collisionCount (when not
// nil) mixed in; the same function as kube-controller-manager's, so that a
// revision gets the same name from either.
func Hash(cr *appsv1.ControllerRevision, collisionCount *int32) string {
	h := fnv.New32()
	if len(cr.Data.Raw) > 0 {
		h.Write(cr.Data.Raw)
	}
	if cr.Data.Object != nil {
		// Revisions built by this package always carry Raw; an Object is
		// hashed through its JSON form.
		if raw, err := json.Marshal(cr.Data.Object); err == nil {
			h.Write(raw)
		}
	}
	if collisionCount != nil {
		h.Write([]byte(strconv.FormatInt(int64(*collisionCount), 10)))
	}
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

// Name returns the name of the revision of prefix (the owner's name) with
// the given hash.
func Name(prefix, hash string) string {
	if len(prefix) > maxPrefixLength {
		prefix = prefix[:maxPrefixLength]
	}
	return prefix + "-" + hash
}

// New returns a revision of parent, not yet created: labelled with
// templateLabels and HashLabel, controlled by parent, holding data, numbered
// number and named after its hash.
func New(parent metav1.Object, parentKind schema.GroupVersionKind, templateLabels map[string]string,
	data []byte, number int64, collisionCount *int32) *appsv1.ControllerRevision {
	lbls := make(map[string]string, len(templateLabels)+1)
	for k, v := range templateLabels {
		lbls[k] = v
	}
	cr := &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:       parent.GetNamespace(),
			Labels:          lbls,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(parent, parentKind)},
		},
		Data:     runtime.RawExtension{Raw: data},
		Revision: number,
	}
	hash := Hash(cr, collisionCount)
	cr.Name = Name(parent.GetName(), hash)
	cr.Labels[HashLabel] = hash
	return cr
}

// Sort sorts revisions by Revision, then creation time, then name, oldest
// first.
func Sort(revisions []*appsv1.ControllerRevision) {
	sort.SliceStable(revisions, func(i, j int) bool {
		a, b := revisions[i], revisions[j]
		if a.Revision != b.Revision {
			return a.Revision < b.Revision
		}
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Name < b.Name
	})
}

// Equal reports whether two revisions hold the same data.
func Equal(a, b *appsv1.ControllerRevision) bool {
	if a == nil || b == nil {
		return a == b
	}
	if !bytes.Equal(a.Data.Raw, b.Data.Raw) {
		return false
	}
	if a.Data.Object == nil && b.Data.Object == nil {
		return true
	}
	ja, errA := json.Marshal(a.Data.Object)
	jb, errB := json.Marshal(b.Data.Object)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

// FindEqual returns the revisions holding the same data as needle, in the
// order of revisions.
func FindEqual(revisions []*appsv1.ControllerRevision, needle *appsv1.ControllerRevision) []*appsv1.ControllerRevision {
	var out []*appsv1.ControllerRevision
	for _, r := range revisions {
		if Equal(r, needle) {
			out = append(out, r)
		}
	}
	return out
}

// Next returns the number of a new revision: one more than the highest of
// revisions (which must be sorted), or 1.
func Next(revisions []*appsv1.ControllerRevision) int64 {
	if len(revisions) == 0 {
		return 1
	}
	return revisions[len(revisions)-1].Revision + 1
}

// History reads revisions from an informer's lister and writes them through
// a client.
type History struct {
	client kubernetes.Interface
	lister appslisters.ControllerRevisionLister
}

// NewHistory returns a History.
func NewHistory(client kubernetes.Interface, lister appslisters.ControllerRevisionLister) *History {
	return &History{client: client, lister: lister}
}

// List returns the cached revisions in parent's namespace that match
// selector and are controlled by parent or by nothing (orphans, to adopt).
// The objects are the cache's: do not modify them.
func (h *History) List(parent metav1.Object, selector labels.Selector) ([]*appsv1.ControllerRevision, error) {
	all, err := h.lister.ControllerRevisions(parent.GetNamespace()).List(selector)
	if err != nil {
		return nil, err
	}
	var out []*appsv1.ControllerRevision
	for _, r := range all {
		ref := metav1.GetControllerOfNoCopy(r)
		if ref == nil || ref.UID == parent.GetUID() {
			out = append(out, r)
		}
	}
	return out, nil
}

// Create creates cr for parent. When another revision already has its name,
// Create returns that one if it holds the same data, and otherwise
// increments collisionCount and tries the next name.
func (h *History) Create(ctx context.Context, parent metav1.Object, cr *appsv1.ControllerRevision, collisionCount *int32) (*appsv1.ControllerRevision, error) {
	if collisionCount == nil {
		return nil, fmt.Errorf("collisionCount must not be nil")
	}
	clone := cr.DeepCopy()
	clone.Namespace = parent.GetNamespace()
	for {
		hash := Hash(cr, collisionCount)
		clone.Name = Name(parent.GetName(), hash)
		if clone.Labels == nil {
			clone.Labels = map[string]string{}
		}
		clone.Labels[HashLabel] = hash
		created, err := h.client.AppsV1().ControllerRevisions(clone.Namespace).Create(ctx, clone, metav1.CreateOptions{})
		if !apierrors.IsAlreadyExists(err) {
			return created, err
		}
		existing, err := h.client.AppsV1().ControllerRevisions(clone.Namespace).Get(ctx, clone.Name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		if bytes.Equal(existing.Data.Raw, clone.Data.Raw) {
			return existing, nil
		}
		*collisionCount++
	}
}

// Renumber gives cr the Revision number (to make an older revision the
// newest again, on a rollback); mutate, when not nil, may change more of it
// (annotations) before each attempt. Conflicts are retried on a fresh copy.
func (h *History) Renumber(ctx context.Context, cr *appsv1.ControllerRevision, number int64,
	mutate func(*appsv1.ControllerRevision)) (*appsv1.ControllerRevision, error) {
	clone := cr.DeepCopy()
	var result *appsv1.ControllerRevision
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		before := clone.DeepCopy()
		clone.Revision = number
		if mutate != nil {
			mutate(clone)
		}
		if before.Revision == number && sameAnnotations(before, clone) {
			result = clone
			return nil
		}
		updated, err := h.client.AppsV1().ControllerRevisions(clone.Namespace).Update(ctx, clone, metav1.UpdateOptions{})
		if err == nil {
			result = updated
			return nil
		}
		if apierrors.IsConflict(err) {
			if fresh, getErr := h.client.AppsV1().ControllerRevisions(clone.Namespace).Get(ctx, clone.Name, metav1.GetOptions{}); getErr == nil {
				clone = fresh
			}
		}
		return err
	})
	return result, err
}

func sameAnnotations(a, b *appsv1.ControllerRevision) bool {
	if len(a.Annotations) != len(b.Annotations) {
		return false
	}
	for k, v := range a.Annotations {
		if bv, ok := b.Annotations[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// Delete deletes the revision; a revision already gone is not an error.
func (h *History) Delete(ctx context.Context, cr *appsv1.ControllerRevision) error {
	err := h.client.AppsV1().ControllerRevisions(cr.Namespace).Delete(ctx, cr.Name, metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: &cr.UID},
	})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// Adopt makes parent the controller of the orphan revision cr.
func (h *History) Adopt(ctx context.Context, parent metav1.Object, parentKind schema.GroupVersionKind,
	cr *appsv1.ControllerRevision) (*appsv1.ControllerRevision, error) {
	if ref := metav1.GetControllerOfNoCopy(cr); ref != nil {
		return nil, fmt.Errorf("revision %s/%s is already controlled by %s %s", cr.Namespace, cr.Name, ref.Kind, ref.Name)
	}
	patch, err := AdoptPatch(parent, parentKind, cr.UID)
	if err != nil {
		return nil, err
	}
	return h.client.AppsV1().ControllerRevisions(cr.Namespace).Patch(ctx, cr.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
}

// Release removes parent's owner reference from the revision. A revision
// gone or no longer valid is not an error.
func (h *History) Release(ctx context.Context, parent metav1.Object, cr *appsv1.ControllerRevision) (*appsv1.ControllerRevision, error) {
	patch, err := ReleasePatch(parent.GetUID(), cr.UID)
	if err != nil {
		return nil, err
	}
	released, err := h.client.AppsV1().ControllerRevisions(cr.Namespace).Patch(ctx, cr.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsInvalid(err) {
		return nil, nil
	}
	return released, err
}

// Prune deletes the oldest revisions for which live returns false until at
// most limit of them remain. revisions must be sorted (Sort).
func (h *History) Prune(ctx context.Context, revisions []*appsv1.ControllerRevision, live func(*appsv1.ControllerRevision) bool, limit int) error {
	var dead []*appsv1.ControllerRevision
	for _, r := range revisions {
		if !live(r) {
			dead = append(dead, r)
		}
	}
	if limit < 0 {
		limit = 0
	}
	for i := 0; i < len(dead)-limit; i++ {
		if err := h.Delete(ctx, dead[i]); err != nil {
			return err
		}
	}
	return nil
}

// AdoptPatch returns a strategic merge patch that adds parent as the
// controller of the object with the given UID (the UID guards against
// patching a re-created object of the same name). It suits any kind.
func AdoptPatch(parent metav1.Object, parentKind schema.GroupVersionKind, uid types.UID) ([]byte, error) {
	ref := metav1.NewControllerRef(parent, parentKind)
	return json.Marshal(map[string]any{
		"metadata": map[string]any{
			"uid":             uid,
			"ownerReferences": []metav1.OwnerReference{*ref},
		},
	})
}

// ReleasePatch returns a strategic merge patch that removes the owner
// reference to ownerUID from the object with the given UID. It suits any
// kind.
func ReleasePatch(ownerUID, uid types.UID) ([]byte, error) {
	return json.Marshal(map[string]any{
		"metadata": map[string]any{
			"uid": uid,
			"ownerReferences": []map[string]any{{
				"$patch": "delete",
				"uid":    ownerUID,
			}},
		},
	})
}
