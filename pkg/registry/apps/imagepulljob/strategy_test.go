package imagepulljob

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

func newStrategies(t *testing.T) (imagePullJobStrategy, imagePullJobStatusStrategy) {
	t.Helper()
	scheme := runtime.NewScheme()
	install.Install(scheme)
	strategy := NewStrategy(scheme)
	return strategy, NewStatusStrategy(strategy)
}

func newJob() *apps.ImagePullJob {
	return &apps.ImagePullJob{
		ObjectMeta: metav1.ObjectMeta{Name: "prewarm", Namespace: "default", ResourceVersion: "1", Labels: map[string]string{"team": "web"}},
		Spec: apps.ImagePullJobSpec{
			Image: "nginx:1.25.4",
			ImagePullJobTemplate: apps.ImagePullJobTemplate{
				PullPolicy:       &apps.PullPolicy{TimeoutSeconds: ptr.To[int32](600), BackoffLimit: ptr.To[int32](3)},
				CompletionPolicy: &apps.CompletionPolicy{Type: apps.Always},
				ImagePullPolicy:  apps.PullIfNotPresent,
			},
		},
	}
}

func TestPrepareForCreate(t *testing.T) {
	strategy, _ := newStrategies(t)
	job := newJob()
	job.Status = apps.ImagePullJobStatus{Desired: 3, Succeeded: 3, Message: "job has completed"}
	job.Generation = 7
	strategy.PrepareForCreate(context.TODO(), job)
	if !apiequality.Semantic.DeepEqual(job.Status, apps.ImagePullJobStatus{}) {
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
	old.Status = apps.ImagePullJobStatus{Desired: 3, Active: 3}

	// Metadata only: status kept, generation unchanged.
	job := old.DeepCopy()
	job.Labels = map[string]string{"team": "platform"}
	job.Status = apps.ImagePullJobStatus{Desired: 9}
	strategy.PrepareForUpdate(context.TODO(), job, old)
	if !apiequality.Semantic.DeepEqual(job.Status, old.Status) {
		t.Errorf("status changed through the main resource: %+v", job.Status)
	}
	if job.Generation != 2 {
		t.Errorf("generation = %d after a metadata change, want 2", job.Generation)
	}

	// Spec change: generation bumped.
	job = old.DeepCopy()
	job.Spec.Parallelism = nil
	job.Spec.Image = "nginx:1.26.0"
	strategy.PrepareForUpdate(context.TODO(), job, old)
	if job.Generation != 3 {
		t.Errorf("generation = %d after a spec change, want 3", job.Generation)
	}
	if errs := strategy.ValidateUpdate(context.TODO(), job, old); len(errs) > 0 {
		t.Errorf("valid update rejected: %v", errs)
	}

	job = old.DeepCopy()
	job.Spec.PullSecrets = []string{"new-secret"}
	strategy.PrepareForUpdate(context.TODO(), job, old)
	if errs := strategy.ValidateUpdate(context.TODO(), job, old); len(errs) != 1 || errs[0].Field != "spec.pullSecrets" {
		t.Errorf("pull secret change: got %v, want spec.pullSecrets forbidden", errs)
	}
}

func TestStatusPrepareForUpdate(t *testing.T) {
	_, statusStrategy := newStrategies(t)
	old := newJob()
	old.Generation = 2
	job := old.DeepCopy()
	job.Spec.Image = "busybox"
	job.Labels = map[string]string{"team": "other"}
	job.Status = apps.ImagePullJobStatus{Desired: 3, Active: 1, Succeeded: 2, Message: "job is running, progress 66.7%"}
	statusStrategy.PrepareForUpdate(context.TODO(), job, old)
	if !apiequality.Semantic.DeepEqual(job.Spec, old.Spec) || !apiequality.Semantic.DeepEqual(job.Labels, old.Labels) {
		t.Errorf("spec or labels changed through /status: %+v %v", job.Spec, job.Labels)
	}
	if job.Status.Succeeded != 2 || job.Generation != 2 {
		t.Errorf("status not taken or generation bumped: %+v, generation %d", job.Status, job.Generation)
	}
	if errs := statusStrategy.ValidateUpdate(context.TODO(), job, old); len(errs) > 0 {
		t.Errorf("valid status rejected: %v", errs)
	}
	job.Status.Failed = -1
	if errs := statusStrategy.ValidateUpdate(context.TODO(), job, old); len(errs) != 1 || errs[0].Field != "status.failed" {
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
		t.Error("imagepulljobs are namespaced")
	}
}

func TestTableColumns(t *testing.T) {
	job := newJob()
	job.Status = apps.ImagePullJobStatus{Desired: 4, Active: 1, Succeeded: 2, Failed: 1, Message: "job is running, progress 75.0%"}
	table, err := tableConvertor.ConvertToTable(context.TODO(), job, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range table.ColumnDefinitions {
		names = append(names, c.Name)
	}
	want := []string{"Name", "TOTAL", "ACTIVE", "SUCCEED", "FAILED", "AGE", "MESSAGE"}
	if !apiequality.Semantic.DeepEqual(names, want) {
		t.Fatalf("columns %v, want %v", names, want)
	}
	if table.ColumnDefinitions[6].Priority != 1 {
		t.Errorf("MESSAGE should only show with -o wide")
	}
	cells := table.Rows[0].Cells
	if cells[1] != int64(4) || cells[2] != int64(1) || cells[3] != int64(2) || cells[4] != int64(1) || cells[6] != job.Status.Message {
		t.Errorf("cells %v", cells)
	}
}
