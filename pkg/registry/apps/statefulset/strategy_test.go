package statefulset

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/install"
)

func testStrategy() statefulSetStrategy {
	scheme := runtime.NewScheme()
	install.Install(scheme)
	return NewStrategy(scheme)
}

func storedStatefulSet() *apps.StatefulSet {
	labels := map[string]string{"app": "db"}
	return &apps.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "default", ResourceVersion: "7", Generation: 3,
			Labels: map[string]string{"team": "storage"}},
		Spec: apps.StatefulSetSpec{
			Replicas:            ptr.To[int32](3),
			Selector:            &metav1.LabelSelector{MatchLabels: labels},
			PodManagementPolicy: apps.OrderedReadyPodManagement,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{Name: "db", Image: "db:1",
						ImagePullPolicy: corev1.PullIfNotPresent, TerminationMessagePolicy: corev1.TerminationMessageReadFile}},
					RestartPolicy: corev1.RestartPolicyAlways,
					DNSPolicy:     corev1.DNSClusterFirst,
				},
			},
			UpdateStrategy: apps.StatefulSetUpdateStrategy{
				Type: apps.RollingUpdateStatefulSetStrategyType,
				RollingUpdate: &apps.RollingUpdateStatefulSetStrategy{
					Partition: ptr.To[int32](0), MaxUnavailable: ptr.To(intstr.FromInt32(1)),
					PodUpdatePolicy: apps.RecreatePodUpdateStrategyType, MinReadySeconds: ptr.To[int32](0),
				},
			},
			RevisionHistoryLimit: ptr.To[int32](10),
			PersistentVolumeClaimRetentionPolicy: &apps.StatefulSetPersistentVolumeClaimRetentionPolicy{
				WhenDeleted: apps.RetainPersistentVolumeClaimRetentionPolicyType,
				WhenScaled:  apps.RetainPersistentVolumeClaimRetentionPolicyType,
			},
		},
		Status: apps.StatefulSetStatus{ObservedGeneration: 3, Replicas: 3, ReadyReplicas: 2, UpdatedReadyReplicas: 1},
	}
}

func TestPrepareForCreateResetsStatus(t *testing.T) {
	sts := storedStatefulSet()
	sts.Generation = 0
	testStrategy().PrepareForCreate(context.Background(), sts)
	if sts.Status.Replicas != 0 || sts.Status.UpdatedReadyReplicas != 0 || sts.Status.ObservedGeneration != 0 {
		t.Errorf("status not reset: %+v", sts.Status)
	}
	if sts.Generation != 1 {
		t.Errorf("generation = %d, want 1", sts.Generation)
	}
	if errs := testStrategy().Validate(context.Background(), sts); len(errs) > 0 {
		t.Errorf("valid StatefulSet rejected: %v", errs.ToAggregate())
	}
}

func TestPrepareForUpdateBumpsGenerationOnSpecChangeOnly(t *testing.T) {
	strategy := testStrategy()

	old := storedStatefulSet()
	metaOnly := old.DeepCopy()
	metaOnly.Annotations = map[string]string{"note": "x"}
	strategy.PrepareForUpdate(context.Background(), metaOnly, old)
	if metaOnly.Generation != old.Generation {
		t.Errorf("metadata change bumped generation to %d", metaOnly.Generation)
	}

	scaled := old.DeepCopy()
	scaled.Spec.Replicas = ptr.To[int32](5)
	strategy.PrepareForUpdate(context.Background(), scaled, old)
	if scaled.Generation != old.Generation+1 {
		t.Errorf("spec change: generation = %d, want %d", scaled.Generation, old.Generation+1)
	}
}

func TestMainUpdateIgnoresStatus(t *testing.T) {
	old := storedStatefulSet()
	sts := old.DeepCopy()
	sts.Status = apps.StatefulSetStatus{Replicas: 99, UpdatedAvailableReplicas: 42}
	testStrategy().PrepareForUpdate(context.Background(), sts, old)
	if sts.Status.Replicas != 3 || sts.Status.UpdatedAvailableReplicas != 0 || sts.Status.UpdatedReadyReplicas != 1 {
		t.Errorf("status written through the main resource: %+v", sts.Status)
	}
	if sts.Generation != old.Generation {
		t.Errorf("status-only change bumped generation to %d", sts.Generation)
	}
}

func TestStatusUpdateIgnoresSpecAndLabels(t *testing.T) {
	old := storedStatefulSet()
	sts := old.DeepCopy()
	sts.Spec.Replicas = ptr.To[int32](10)
	sts.Labels = map[string]string{"team": "other"}
	sts.Status.Replicas = 10
	strategy := NewStatusStrategy(testStrategy())
	strategy.PrepareForUpdate(context.Background(), sts, old)
	if *sts.Spec.Replicas != 3 {
		t.Errorf("spec written through /status: replicas = %d", *sts.Spec.Replicas)
	}
	if sts.Labels["team"] != "storage" {
		t.Errorf("labels written through /status: %v", sts.Labels)
	}
	if sts.Status.Replicas != 10 {
		t.Errorf("status not taken from /status: %+v", sts.Status)
	}
	if errs := strategy.ValidateUpdate(context.Background(), sts, old); len(errs) > 0 {
		t.Errorf("valid status rejected: %v", errs.ToAggregate())
	}
	sts.Status.ReadyReplicas = -1
	if errs := strategy.ValidateUpdate(context.Background(), sts, old); len(errs) != 1 || errs[0].Field != "status.readyReplicas" {
		t.Errorf("negative readyReplicas: got %v", errs)
	}
}

func TestTableColumns(t *testing.T) {
	sts := storedStatefulSet()
	sts.Status.UpdatedReplicas = 2
	table, err := tableConvertor.ConvertToTable(context.Background(), sts, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range table.ColumnDefinitions {
		names = append(names, c.Name)
	}
	want := []string{"Name", "DESIRED", "CURRENT", "UPDATED", "READY", "AGE", "CONTAINERS", "IMAGES"}
	if len(names) != len(want) {
		t.Fatalf("columns %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("columns %v, want %v", names, want)
		}
	}
	cells := table.Rows[0].Cells
	if cells[1] != int64(3) || cells[2] != int64(3) || cells[3] != int64(2) || cells[4] != int64(2) || cells[6] != "db" || cells[7] != "db:1" {
		t.Errorf("cells %v", cells)
	}
}

func TestScaleAccessor(t *testing.T) {
	sts := storedStatefulSet()
	accessor := scaleAccessor{}
	accessor.SetReplicas(sts, 7)
	if *accessor.Replicas(sts) != 7 || accessor.StatusReplicas(sts) != 3 {
		t.Errorf("replicas %d, status replicas %d", *accessor.Replicas(sts), accessor.StatusReplicas(sts))
	}
	if _, selector := accessor.Selector(sts); selector.MatchLabels["app"] != "db" {
		t.Errorf("selector %v", selector)
	}
}

func TestShortNames(t *testing.T) {
	got := (&REST{}).ShortNames()
	if len(got) != 2 || got[0] != "sts" || got[1] != "asts" {
		t.Errorf("short names %v", got)
	}
	if c := (&REST{}).Categories(); len(c) != 1 || c[0] != "kruise" {
		t.Errorf("categories %v", c)
	}
}
