package nodeimage

import (
	"context"
	"testing"
	"time"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/install"
)

func newStrategies(t *testing.T) (nodeImageStrategy, nodeImageStatusStrategy) {
	t.Helper()
	scheme := runtime.NewScheme()
	install.Install(scheme)
	strategy := NewStrategy(scheme)
	return strategy, NewStatusStrategy(strategy)
}

func tag(name string) apps.ImageTagSpec {
	created := metav1.NewTime(time.Date(2024, 5, 20, 10, 30, 0, 0, time.UTC))
	return apps.ImageTagSpec{
		Tag:       name,
		CreatedAt: &created,
		PullPolicy: &apps.ImageTagPullPolicy{
			TimeoutSeconds: ptr.To[int32](600), BackoffLimit: ptr.To[int32](3), TTLSecondsAfterFinished: ptr.To[int32](3600),
		},
	}
}

func newNodeImage() *apps.NodeImage {
	return &apps.NodeImage{
		ObjectMeta: metav1.ObjectMeta{Name: "node-1", ResourceVersion: "1", Labels: map[string]string{"pool": "general"}},
		Spec: apps.NodeImageSpec{Images: map[string]apps.ImageSpec{
			"docker.io/library/nginx": {Tags: []apps.ImageTagSpec{tag("1.25.4"), tag("1.26.0")}},
		}},
	}
}

func tagNames(ni *apps.NodeImage, image string) []string {
	var names []string
	for _, t := range ni.Spec.Images[image].Tags {
		names = append(names, t.Tag)
	}
	return names
}

func TestPrepareForCreate(t *testing.T) {
	strategy, _ := newStrategies(t)
	ni := newNodeImage()
	ni.Status = apps.NodeImageStatus{Desired: 2, Succeeded: 2}
	ni.Generation = 7
	strategy.PrepareForCreate(context.TODO(), ni)
	if !apiequality.Semantic.DeepEqual(ni.Status, apps.NodeImageStatus{}) {
		t.Errorf("status not reset: %+v", ni.Status)
	}
	if ni.Generation != 1 {
		t.Errorf("generation = %d, want 1", ni.Generation)
	}
	if errs := strategy.Validate(context.TODO(), ni); len(errs) > 0 {
		t.Errorf("valid NodeImage rejected: %v", errs)
	}
}

func TestCanonicalizeSortsTags(t *testing.T) {
	strategy, _ := newStrategies(t)
	ni := newNodeImage()
	ni.Spec.Images["docker.io/library/nginx"] = apps.ImageSpec{Tags: []apps.ImageTagSpec{tag("latest"), tag("1.26.0"), tag("1.25.4")}}
	strategy.Canonicalize(ni)
	if got, want := tagNames(ni, "docker.io/library/nginx"), []string{"1.25.4", "1.26.0", "latest"}; !apiequality.Semantic.DeepEqual(got, want) {
		t.Errorf("tags %v, want %v", got, want)
	}
}

func TestPrepareForUpdate(t *testing.T) {
	strategy, _ := newStrategies(t)
	old := newNodeImage()
	old.Generation = 2
	old.Status = apps.NodeImageStatus{Desired: 2, Pulling: 2}

	// Metadata only, and tags merely reordered: status kept, no new generation.
	ni := old.DeepCopy()
	ni.Labels = map[string]string{"pool": "gpu"}
	ni.Status = apps.NodeImageStatus{Desired: 9}
	tags := ni.Spec.Images["docker.io/library/nginx"].Tags
	tags[0], tags[1] = tags[1], tags[0]
	strategy.PrepareForUpdate(context.TODO(), ni, old)
	if !apiequality.Semantic.DeepEqual(ni.Status, old.Status) {
		t.Errorf("status changed through the main resource: %+v", ni.Status)
	}
	if ni.Generation != 2 {
		t.Errorf("generation = %d after reordering tags, want 2", ni.Generation)
	}

	ni = old.DeepCopy()
	ni.Spec.Images["docker.io/library/nginx"].Tags[0].Version = 1
	strategy.PrepareForUpdate(context.TODO(), ni, old)
	if ni.Generation != 3 {
		t.Errorf("generation = %d after a spec change, want 3", ni.Generation)
	}
	if errs := strategy.ValidateUpdate(context.TODO(), ni, old); len(errs) > 0 {
		t.Errorf("valid update rejected: %v", errs)
	}
}

func TestStatusPrepareForUpdate(t *testing.T) {
	_, statusStrategy := newStrategies(t)
	old := newNodeImage()
	old.Generation = 2
	ni := old.DeepCopy()
	delete(ni.Spec.Images, "docker.io/library/nginx")
	ni.Labels = map[string]string{"pool": "other"}
	ni.Status = apps.NodeImageStatus{Desired: 2, Succeeded: 1, Pulling: 1, ImageStatuses: map[string]apps.ImageStatus{
		"docker.io/library/nginx": {Tags: []apps.ImageTagStatus{{Tag: "1.25.4", Phase: apps.ImagePhaseSucceeded, Progress: 100}}},
	}}
	statusStrategy.PrepareForUpdate(context.TODO(), ni, old)
	if !apiequality.Semantic.DeepEqual(ni.Spec, old.Spec) || !apiequality.Semantic.DeepEqual(ni.Labels, old.Labels) {
		t.Errorf("spec or labels changed through /status: %+v %v", ni.Spec, ni.Labels)
	}
	if ni.Status.Succeeded != 1 || ni.Generation != 2 {
		t.Errorf("status not taken or generation bumped: %+v, generation %d", ni.Status, ni.Generation)
	}
	if errs := statusStrategy.ValidateUpdate(context.TODO(), ni, old); len(errs) > 0 {
		t.Errorf("valid status rejected: %v", errs)
	}
	ni.Status.Waiting = -1
	if errs := statusStrategy.ValidateUpdate(context.TODO(), ni, old); len(errs) != 1 || errs[0].Field != "status.waiting" {
		t.Errorf("negative counter: got %v", errs)
	}
}

func TestResetFieldsAndScope(t *testing.T) {
	strategy, statusStrategy := newStrategies(t)
	for _, version := range []string{"v1alpha1", "v1beta1"} {
		apiVersion := fieldpath.APIVersion("apps.kruise.io/" + version)
		if set := strategy.GetResetFields()[apiVersion]; set == nil || !set.Has(fieldpath.MakePathOrDie("status")) {
			t.Errorf("%s: main resource does not reset status", version)
		}
		set := statusStrategy.GetResetFields()[apiVersion]
		if set == nil || !set.Has(fieldpath.MakePathOrDie("spec")) || !set.Has(fieldpath.MakePathOrDie("metadata", "labels")) {
			t.Errorf("%s: /status does not reset spec and labels", version)
		}
	}
	if strategy.NamespaceScoped() || statusStrategy.NamespaceScoped() {
		t.Error("nodeimages are cluster-scoped")
	}
}

func TestTableColumns(t *testing.T) {
	ni := newNodeImage()
	ni.Status = apps.NodeImageStatus{Desired: 5, Pulling: 1, Succeeded: 3, Failed: 1}
	table, err := tableConvertor.ConvertToTable(context.TODO(), ni, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range table.ColumnDefinitions {
		names = append(names, c.Name)
	}
	want := []string{"Name", "DESIRED", "PULLING", "SUCCEED", "FAILED", "AGE"}
	if !apiequality.Semantic.DeepEqual(names, want) {
		t.Fatalf("columns %v, want %v", names, want)
	}
	cells := table.Rows[0].Cells
	if cells[1] != int64(5) || cells[2] != int64(1) || cells[3] != int64(3) || cells[4] != int64(1) {
		t.Errorf("cells %v", cells)
	}
}
