package cloneset

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/revision"
)

func TestRevisionContent(t *testing.T) {
	cs := withClaims(newCloneSet("web", 1), "data")
	cs.Annotations = map[string]string{"team": "a"}
	cr, err := newRevision(cs, 3, ptr.To[int32](0))
	if err != nil {
		t.Fatal(err)
	}
	// OpenKruise's patch: the template, replaced as a whole.
	var data map[string]map[string]map[string]any
	if err := json.Unmarshal(cr.Data.Raw, &data); err != nil {
		t.Fatal(err)
	}
	if len(data) != 1 || len(data["spec"]) != 1 || data["spec"]["template"]["$patch"] != "replace" {
		t.Errorf("data %s", cr.Data.Raw)
	}
	if !strings.HasPrefix(string(cr.Data.Raw), `{"spec":{"template":{"$patch":"replace","metadata":`) {
		t.Errorf("data not in sorted-key form: %s", cr.Data.Raw)
	}
	hash := cr.Labels[revision.HashLabel]
	if cr.Name != "web-"+hash || hash != revision.Hash(cr, ptr.To[int32](0)) {
		t.Errorf("name %s, hash %s", cr.Name, hash)
	}
	if cr.Labels["app"] != "web" || cr.Labels["tier"] != "web" || cr.Revision != 3 {
		t.Errorf("labels %v, revision %d", cr.Labels, cr.Revision)
	}
	if cr.Annotations["team"] != "a" || cr.Annotations[VolumeClaimTemplatesHashAnnotation] == "" {
		t.Errorf("annotations %v", cr.Annotations)
	}
	if ref := metav1.GetControllerOf(cr); ref == nil || ref.UID != cs.UID || ref.Kind != "CloneSet" {
		t.Errorf("owner %+v", ref)
	}
	// A different collision count gives another name.
	other, _ := newRevision(cs, 3, ptr.To[int32](1))
	if other.Name == cr.Name {
		t.Error("collision count does not change the name")
	}
	// Labels and annotations of the CloneSet do not change the revision's data.
	cs2 := cs.DeepCopy()
	cs2.Annotations["team"] = "b"
	cs2.Spec.Replicas = ptr32(9)
	if r2, _ := newRevision(cs2, 3, ptr.To[int32](0)); r2.Name != cr.Name {
		t.Error("the name depends on more than the template")
	}

	// Applying the revision restores the template.
	changed := cs.DeepCopy()
	changed.Spec.Template.Spec.Containers = []corev1.Container{{Name: "other", Image: "busybox"}}
	changed.Spec.Template.Labels["extra"] = "x"
	restored, err := applyRevision(changed, cr)
	if err != nil {
		t.Fatal(err)
	}
	if !apiequality.Semantic.DeepEqual(restored.Spec.Template, cs.Spec.Template) {
		t.Errorf("restored template %+v", restored.Spec.Template)
	}
	if *restored.Spec.Replicas != *changed.Spec.Replicas {
		t.Errorf("applying changed more than the template")
	}
}

func TestRevisionHistoryTrimming(t *testing.T) {
	cs := newCloneSet("web", 1)
	cs.Spec.RevisionHistoryLimit = ptr32(2)
	cs.Spec.UpdateStrategy.Type = appsv1beta1.OnDeleteCloneSetUpdateStrategyType
	f := newFixture(t, true, cs)
	f.sync("web")
	f.run()
	f.sync("web")
	first := f.cloneSet("web").Status.CurrentRevision

	names := map[string]string{}
	for i := 2; i <= 6; i++ {
		image := fmt.Sprintf("nginx:%d", i)
		f.updateCloneSet("web", func(cs *appsv1beta1.CloneSet) { cs.Spec.Template.Spec.Containers[0].Image = image })
		f.sync("web")
		names[image] = f.cloneSet("web").Status.UpdateRevision
	}
	f.sync("web") // history is trimmed after the status
	var got []string
	for _, r := range f.revisions() {
		got = append(got, r.Name)
	}
	// The Pod's revision (also the current one), the update revision, and
	// the two newest others.
	want := []string{first, names["nginx:4"], names["nginx:5"], names["nginx:6"]}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("revisions %v, want %v", got, want)
	}

	// Back to nginx:5: its revision becomes the newest, no new one is made.
	f.updateCloneSet("web", func(cs *appsv1beta1.CloneSet) { cs.Spec.Template.Spec.Containers[0].Image = "nginx:5" })
	writes := f.sync("web")
	if n := count(writes, "create", "controllerrevisions"); n != 0 {
		t.Fatalf("created %d revisions on a rollback", n)
	}
	if got := f.cloneSet("web").Status.UpdateRevision; got != names["nginx:5"] {
		t.Fatalf("update revision %s, want %s", got, names["nginx:5"])
	}
	revs := f.revisions()
	if newest := revs[len(revs)-1]; newest.Name != names["nginx:5"] || newest.Revision != 7 {
		t.Fatalf("newest revision %s #%d", newest.Name, newest.Revision)
	}
}

func TestRevisionCollision(t *testing.T) {
	cs := newCloneSet("web", 1)
	name := revisionOf(t, cs)
	// Someone else's revision already has the name, with other data.
	squatter := &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": "other"}},
		Data:       runtime.RawExtension{Raw: []byte(`{"other":true}`)},
		Revision:   1,
	}
	f := newFixture(t, true, cs, squatter)
	f.sync("web")
	status := f.cloneSet("web").Status
	if status.CollisionCount == nil || *status.CollisionCount != 1 {
		t.Fatalf("collisionCount %v", status.CollisionCount)
	}
	if status.UpdateRevision == name || !strings.HasPrefix(status.UpdateRevision, "web-") {
		t.Fatalf("update revision %s", status.UpdateRevision)
	}
	if got := f.pods()[0].Labels[appsv1.ControllerRevisionHashLabelKey]; got != status.UpdateRevision {
		t.Fatalf("Pod at %s", got)
	}
	// Stable from then on.
	f.sync("web")
	if got := f.cloneSet("web").Status.UpdateRevision; got != status.UpdateRevision {
		t.Fatalf("update revision moved to %s", got)
	}
}

func TestOrphanRevisionIsAdopted(t *testing.T) {
	cs := newCloneSet("web", 0)
	orphan, err := newRevision(cs, 1, ptr.To[int32](0))
	if err != nil {
		t.Fatal(err)
	}
	orphan.OwnerReferences = nil
	f := newFixture(t, true, cs, orphan)
	writes := f.sync("web")
	if n := count(writes, "create", "controllerrevisions"); n != 0 {
		t.Fatalf("created %d revisions", n)
	}
	if ref := metav1.GetControllerOf(f.revisions()[0]); ref == nil || ref.UID != cs.UID {
		t.Fatalf("revision owner %+v", ref)
	}
}
