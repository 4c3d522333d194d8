package imagelistpulljob

import (
	"context"
	"testing"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/install"
)

func newStrategies(t *testing.T) (imageListPullJobStrategy, imageListPullJobStatusStrategy) {
	t.Helper()
	scheme := runtime.NewScheme()
	install.Install(scheme)
	strategy := NewStrategy(scheme)
	return strategy, NewStatusStrategy(strategy)
}

func newJob() *apps.ImageListPullJob {
	return &apps.ImageListPullJob{
		ObjectMeta: metav1.ObjectMeta{Name: "release-images", Namespace: "default", ResourceVersion: "1", Labels: map[string]string{"team": "web"}},
		Spec: apps.ImageListPullJobSpec{
			Images: []string{"nginx:1.25.4", "redis:7.2.4"},
			ImagePullJobTemplate: apps.ImagePullJobTemplate{
				PullSecrets:      []string{"dockerhub-credentials"},
				PullPolicy:       &apps.PullPolicy{TimeoutSeconds: ptr.To[int32](600), BackoffLimit: ptr.To[int32](3)},
				CompletionPolicy: &apps.CompletionPolicy{Type: apps.Always, TTLSecondsAfterFinished: ptr.To[int32](30)},
			},
		},
	}
}

func TestPrepareForCreate(t *testing.T) {
	strategy, _ := newStrategies(t)
	job := newJob()
	job.Status = apps.ImageListPullJobStatus{Desired: 2, Completed: 2, Succeeded: 2}
	job.Generation = 7
	strategy.PrepareForCreate(context.TODO(), job)
	if !apiequality.Semantic.DeepEqual(job.Status, apps.ImageListPullJobStatus{}) {
		t.Errorf("status not reset: %+v", job.Status)
	}
	if job.Generation != 1 {
		t.Errorf("generation = %d, want 1", job.Generation)
	}
	if errs := strategy.Validate(context.TODO(), job); len(errs) > 0 {
		t.Errorf("valid job rejected: %v", errs)
	}
}

func TestPrepareForUpdate(t *testing.T) {
	strategy, _ := newStrategies(t)
	old := newJob()
	old.Generation = 2
	old.Status = apps.ImageListPullJobStatus{Desired: 2, Active: 2}

	job := old.DeepCopy()
	job.Labels = map[string]string{"team": "platform"}
	job.Status = apps.ImageListPullJobStatus{Desired: 9}
	strategy.PrepareForUpdate(context.TODO(), job, old)
	if !apiequality.Semantic.DeepEqual(job.Status, old.Status) {
		t.Errorf("status changed through the main resource: %+v", job.Status)
	}
	if job.Generation != 2 {
		t.Errorf("generation = %d after a metadata change, want 2", job.Generation)
	}

	// Every spec field may change on a list job, pull secrets included.
	job = old.DeepCopy()
	job.Spec.Images = append(job.Spec.Images, "busybox:1.36")
	job.Spec.PullSecrets = nil
	strategy.PrepareForUpdate(context.TODO(), job, old)
	if job.Generation != 3 {
		t.Errorf("generation = %d after a spec change, want 3", job.Generation)
	}
	if errs := strategy.ValidateUpdate(context.TODO(), job, old); len(errs) > 0 {
		t.Errorf("valid update rejected: %v", errs)
	}
}

func TestStatusPrepareForUpdate(t *testing.T) {
	_, statusStrategy := newStrategies(t)
	old := newJob()
	old.Generation = 2
	job := old.DeepCopy()
	job.Spec.Images = []string{"busybox"}
	job.Labels = map[string]string{"team": "other"}
	job.Status = apps.ImageListPullJobStatus{Desired: 2, Active: 1, Completed: 1, Succeeded: 1,
		FailedImageStatuses: []apps.FailedImageStatus{{ImagePullJob: "release-images-abc", Name: "redis:7.2.4", Message: "1 node failed"}}}
	statusStrategy.PrepareForUpdate(context.TODO(), job, old)
	if !apiequality.Semantic.DeepEqual(job.Spec, old.Spec) || !apiequality.Semantic.DeepEqual(job.Labels, old.Labels) {
		t.Errorf("spec or labels changed through /status: %+v %v", job.Spec, job.Labels)
	}
	if job.Status.Completed != 1 || job.Generation != 2 {
		t.Errorf("status not taken or generation bumped: %+v, generation %d", job.Status, job.Generation)
	}
	if errs := statusStrategy.ValidateUpdate(context.TODO(), job, old); len(errs) > 0 {
		t.Errorf("valid status rejected: %v", errs)
	}
	job.Status.Completed = -1
	if errs := statusStrategy.ValidateUpdate(context.TODO(), job, old); len(errs) != 1 || errs[0].Field != "status.completed" {
		t.Errorf("negative counter: got %v", errs)
	}
}

func TestResetFields(t *testing.T) {
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
	if !strategy.NamespaceScoped() {
		t.Error("imagelistpulljobs are namespaced")
	}
}

func TestTableColumns(t *testing.T) {
	job := newJob()
	job.Status = apps.ImageListPullJobStatus{Desired: 4, Succeeded: 2, Completed: 3}
	table, err := tableConvertor.ConvertToTable(context.TODO(), job, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range table.ColumnDefinitions {
		names = append(names, c.Name)
	}
	want := []string{"Name", "TOTAL", "SUCCEEDED", "COMPLETED", "AGE"}
	if !apiequality.Semantic.DeepEqual(names, want) {
		t.Fatalf("columns %v, want %v", names, want)
	}
	cells := table.Rows[0].Cells
	if cells[1] != int64(4) || cells[2] != int64(2) || cells[3] != int64(3) {
		t.Errorf("cells %v", cells)
	}
}
