package statefulset

import (
	"context"
	"encoding/json"
	"fmt"

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

// revisionPatch returns what a StatefulSet revision records, as Kubernetes
// and OpenKruise record it: a strategic merge patch that replaces
// spec.template,
//
//	{"spec":{"template":{"$patch":"replace", ...the template...}}}
//
// with the keys sorted, so that equal templates give equal bytes (and the
// revision the same name as upstream gives it).
func revisionPatch(set *appsv1beta1.StatefulSet) ([]byte, error) {
	raw, err := json.Marshal(set.Spec.Template)
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

// newRevision returns the revision of the StatefulSet as it is now, numbered
// number: labelled with the template's labels and annotated with the
// StatefulSet's annotations.
func newRevision(set *appsv1beta1.StatefulSet, number int64, collisionCount *int32) (*appsv1.ControllerRevision, error) {
	patch, err := revisionPatch(set)
	if err != nil {
		return nil, err
	}
	cr := revision.New(set, controllerKind, set.Spec.Template.Labels, patch, number, collisionCount)
	if len(set.Annotations) > 0 {
		cr.Annotations = make(map[string]string, len(set.Annotations))
		for k, v := range set.Annotations {
			cr.Annotations[k] = v
		}
	}
	return cr, nil
}

// applyRevision returns the StatefulSet with the revision's patch applied:
// the StatefulSet as it was at that revision.
func applyRevision(set *appsv1beta1.StatefulSet, cr *appsv1.ControllerRevision) (*appsv1beta1.StatefulSet, error) {
	original, err := json.Marshal(set)
	if err != nil {
		return nil, err
	}
	patched, err := strategicpatch.StrategicMergePatch(original, cr.Data.Raw, &appsv1beta1.StatefulSet{})
	if err != nil {
		return nil, fmt.Errorf("applying revision %s: %w", cr.Name, err)
	}
	restored := &appsv1beta1.StatefulSet{}
	if err := json.Unmarshal(patched, restored); err != nil {
		return nil, fmt.Errorf("applying revision %s: %w", cr.Name, err)
	}
	return restored, nil
}

// listRevisions returns the StatefulSet's revisions, sorted oldest first,
// adopting the orphans its selector matches (after a fresh read has
// confirmed that the StatefulSet may adopt).
func (c *Controller) listRevisions(ctx context.Context, set *appsv1beta1.StatefulSet, selector labels.Selector, adopter *adopter) ([]*appsv1.ControllerRevision, error) {
	revisions, err := c.history.List(set, selector)
	if err != nil {
		return nil, err
	}
	out := make([]*appsv1.ControllerRevision, 0, len(revisions))
	for _, r := range revisions {
		if metav1.GetControllerOfNoCopy(r) == nil {
			if set.DeletionTimestamp != nil {
				continue
			}
			if err := adopter.canAdopt(ctx); err != nil {
				return nil, fmt.Errorf("can't adopt revision %s: %w", r.Name, err)
			}
			adopted, err := c.history.Adopt(ctx, set, controllerKind, r)
			if err != nil {
				return nil, fmt.Errorf("adopting revision %s: %w", r.Name, err)
			}
			c.versionExpectations.Expect(adopted)
			r = adopted
		}
		out = append(out, r)
	}
	revision.Sort(out)
	return out, nil
}

// activeRevisions returns the current and update revisions of the
// StatefulSet, creating the update revision when the template is new and
// renumbering an older one when the template went back to it, and the
// collision count to record.
func (c *Controller) activeRevisions(ctx context.Context, set *appsv1beta1.StatefulSet, revisions []*appsv1.ControllerRevision) (
	current, update *appsv1.ControllerRevision, collisionCount int32, err error) {
	if set.Status.CollisionCount != nil {
		collisionCount = *set.Status.CollisionCount
	}
	update, err = newRevision(set, revision.Next(revisions), &collisionCount)
	if err != nil {
		return nil, nil, collisionCount, err
	}

	equal := revision.FindEqual(revisions, update)
	switch {
	case len(equal) > 0 && revision.Equal(revisions[len(revisions)-1], equal[len(equal)-1]):
		// The newest revision already has this template.
		update = revisions[len(revisions)-1]
	case len(equal) > 0:
		// Back to an older template (a rollback): make its revision the
		// newest.
		update, err = c.history.Renumber(ctx, equal[len(equal)-1], update.Revision, nil)
		if err != nil {
			return nil, nil, collisionCount, err
		}
		c.versionExpectations.Expect(update)
	default:
		update, err = c.history.Create(ctx, set, update, &collisionCount)
		if err != nil {
			return nil, nil, collisionCount, err
		}
		klog.FromContext(ctx).V(2).Info("Created revision", "statefulSet", klog.KObj(set), "revision", update.Name)
	}

	for _, r := range revisions {
		if r.Name == set.Status.CurrentRevision {
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
// nor the update revision nor the revision of a Pod, keeping
// revisionHistoryLimit of them.
func (c *Controller) truncateHistory(ctx context.Context, set *appsv1beta1.StatefulSet, pods []*corev1.Pod,
	revisions []*appsv1.ControllerRevision, current, update *appsv1.ControllerRevision) error {
	limit := defaultRevisionHistoryLimit
	if set.Spec.RevisionHistoryLimit != nil {
		limit = int(*set.Spec.RevisionHistoryLimit)
	}
	live := map[string]bool{}
	if current != nil {
		live[current.Name] = true
	}
	if update != nil {
		live[update.Name] = true
	}
	for _, pod := range pods {
		live[podRevision(pod)] = true
	}
	return c.history.Prune(ctx, revisions, func(r *appsv1.ControllerRevision) bool { return live[r.Name] }, limit)
}
