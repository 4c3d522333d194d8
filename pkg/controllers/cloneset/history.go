package cloneset

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/klog/v2"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/revision"
)

const defaultRevisionHistoryLimit = 10

// revisionPatch returns what a CloneSet revision records, as OpenKruise
// records it: a strategic merge patch that replaces spec.template,
//
//	{"spec":{"template":{"$patch":"replace", ...the template...}}}
//
// with the keys sorted, so that equal templates give equal bytes (and the
// revision the same name as OpenKruise gives it).
func revisionPatch(cs *appsv1beta1.CloneSet) ([]byte, error) {
	raw, err := json.Marshal(cs.Spec.Template)
	if err != nil {
		return nil, err
	}
	var template map[string]any
	if err := json.Unmarshal(raw, &template); err != nil {
		return nil, err
	}
	template["$patch"] = "replace"
	return json.Marshal(map[string]any{"spec": map[string]any{"template": template}})
}

// newRevision returns the revision of the CloneSet as it is now, numbered
// number: labelled with the template's labels, annotated with the
// CloneSet's annotations and the hash of its volumeClaimTemplates.
func newRevision(cs *appsv1beta1.CloneSet, number int64, collisionCount *int32) (*appsv1.ControllerRevision, error) {
	patch, err := revisionPatch(cs)
	if err != nil {
		return nil, err
	}
	cr := revision.New(cs, controllerKind, cs.Spec.Template.Labels, patch, number, collisionCount)
	cr.Annotations = make(map[string]string, len(cs.Annotations)+1)
	for k, v := range cs.Annotations {
		cr.Annotations[k] = v
	}
	cr.Annotations[VolumeClaimTemplatesHashAnnotation] = volumeClaimTemplatesHash(cs.Spec.VolumeClaimTemplates)
	return cr, nil
}

// volumeClaimTemplatesHash hashes the names and specs of the templates,
// sorted by name ("" without templates). In-place update compares it between
// revisions: a changed claim template forces re-creation.
func volumeClaimTemplatesHash(templates []corev1.PersistentVolumeClaim) string {
	if len(templates) == 0 {
		return ""
	}
	type nameAndSpec struct {
		Name string                           `json:"name"`
		Spec corev1.PersistentVolumeClaimSpec `json:"spec"`
	}
	list := make([]nameAndSpec, 0, len(templates))
	for _, t := range templates {
		list = append(list, nameAndSpec{Name: t.Name, Spec: t.Spec})
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	raw, _ := json.Marshal(list)
	h := fnv.New32a()
	h.Write(raw)
	return strconv.FormatUint(uint64(h.Sum32()), 10)
}

// applyRevision returns the CloneSet with the revision's patch applied: the
// CloneSet as it was at that revision.
func applyRevision(cs *appsv1beta1.CloneSet, cr *appsv1.ControllerRevision) (*appsv1beta1.CloneSet, error) {
	original, err := json.Marshal(cs)
	if err != nil {
		return nil, err
	}
	patched, err := strategicpatch.StrategicMergePatch(original, cr.Data.Raw, &appsv1beta1.CloneSet{})
	if err != nil {
		return nil, fmt.Errorf("applying revision %s: %w", cr.Name, err)
	}
	restored := &appsv1beta1.CloneSet{}
	if err := json.Unmarshal(patched, restored); err != nil {
		return nil, fmt.Errorf("applying revision %s: %w", cr.Name, err)
	}
	return restored, nil
}

// listRevisions returns the CloneSet's revisions, sorted oldest first,
// adopting orphans that its selector matches.
func (c *Controller) listRevisions(ctx context.Context, cs *appsv1beta1.CloneSet, selector labels.Selector) ([]*appsv1.ControllerRevision, error) {
	revisions, err := c.history.List(cs, selector)
	if err != nil {
		return nil, err
	}
	out := make([]*appsv1.ControllerRevision, 0, len(revisions))
	for _, r := range revisions {
		if metav1.GetControllerOfNoCopy(r) == nil && cs.DeletionTimestamp == nil {
			adopted, err := c.history.Adopt(ctx, cs, controllerKind, r)
			if err != nil {
				return nil, fmt.Errorf("adopting revision %s: %w", r.Name, err)
			}
			r = adopted
		}
		out = append(out, r)
	}
	revision.Sort(out)
	return out, nil
}

// activeRevisions returns the current and update revisions of the CloneSet,
// creating the update revision when the template is new and renumbering an
// older one when the template went back to it, and the collision count to
// record.
func (c *Controller) activeRevisions(ctx context.Context, cs *appsv1beta1.CloneSet, revisions []*appsv1.ControllerRevision) (
	current, update *appsv1.ControllerRevision, collisionCount int32, err error) {
	if cs.Status.CollisionCount != nil {
		collisionCount = *cs.Status.CollisionCount
	}
	update, err = newRevision(cs, revision.Next(revisions), &collisionCount)
	if err != nil {
		return nil, nil, collisionCount, err
	}

	equal := revision.FindEqual(revisions, update)
	switch {
	case len(equal) > 0 && revision.Equal(revisions[len(revisions)-1], equal[len(equal)-1]):
		// The newest revision already has this template.
		update = revisions[len(revisions)-1]
	case len(equal) > 0:
		// Back to an older template: make its revision the newest, and
		// record the current claim templates' hash on it.
		vctHash := update.Annotations[VolumeClaimTemplatesHashAnnotation]
		update, err = c.history.Renumber(ctx, equal[len(equal)-1], update.Revision, func(r *appsv1.ControllerRevision) {
			if r.Annotations[VolumeClaimTemplatesHashAnnotation] != vctHash {
				if r.Annotations == nil {
					r.Annotations = map[string]string{}
				}
				r.Annotations[VolumeClaimTemplatesHashAnnotation] = vctHash
			}
		})
		if err != nil {
			return nil, nil, collisionCount, err
		}
		c.versionExpectations.Expect(update)
	default:
		update, err = c.history.Create(ctx, cs, update, &collisionCount)
		if err != nil {
			return nil, nil, collisionCount, err
		}
		klog.V(2).InfoS("Created revision", "cloneSet", klog.KObj(cs), "revision", update.Name)
	}

	for _, r := range revisions {
		if r.Name == cs.Status.CurrentRevision {
			current = r
			break
		}
	}
	if current == nil {
		current = update
	}
	return current, update, collisionCount, nil
}

// truncateHistory deletes the oldest revisions that are neither the current
// nor the update revision nor used by a Pod, keeping revisionHistoryLimit of
// them.
func (c *Controller) truncateHistory(ctx context.Context, cs *appsv1beta1.CloneSet, pods []*corev1.Pod,
	revisions []*appsv1.ControllerRevision, current, update *appsv1.ControllerRevision) error {
	limit := defaultRevisionHistoryLimit
	if cs.Spec.RevisionHistoryLimit != nil {
		limit = int(*cs.Spec.RevisionHistoryLimit)
	}
	live := func(r *appsv1.ControllerRevision) bool {
		if r.Name == current.Name || r.Name == update.Name {
			return true
		}
		for _, pod := range pods {
			if isAtRevision(pod, r.Name) {
				return true
			}
		}
		return false
	}
	return c.history.Prune(ctx, revisions, live, limit)
}
