package workloadspread

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/utils/ptr"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/install"
)

func newScheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	install.Install(scheme)
	return scheme
}

func newWorkloadSpread() *apps.WorkloadSpread {
	return &apps.WorkloadSpread{
		ObjectMeta: metav1.ObjectMeta{Name: "ws", Namespace: "default", ResourceVersion: "1", Generation: 3},
		Spec: apps.WorkloadSpreadSpec{
			TargetReference: &apps.TargetReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			Subsets: []apps.WorkloadSpreadSubset{
				{Name: "zone-a", MaxReplicas: ptr.To(intstr.FromInt32(2))},
				{Name: "zone-b"},
			},
		},
		Status: apps.WorkloadSpreadStatus{
			ObservedGeneration: 3,
			SubsetStatuses: []apps.WorkloadSpreadSubsetStatus{
				{Name: "zone-a", Replicas: 2, MissingReplicas: 0},
				{Name: "zone-b", Replicas: 1, MissingReplicas: -1},
			},
		},
	}
}

func TestPrepareForCreateResetsStatus(t *testing.T) {
	strategy := NewStrategy(newScheme())
	ws := newWorkloadSpread()
	strategy.PrepareForCreate(context.Background(), ws)
	if ws.Status.ObservedGeneration != 0 || ws.Status.SubsetStatuses != nil {
		t.Errorf("status not reset: %+v", ws.Status)
	}
	if ws.Generation != 1 {
		t.Errorf("generation %d, want 1", ws.Generation)
	}
}

func TestPrepareForUpdate(t *testing.T) {
	strategy := NewStrategy(newScheme())

	old := newWorkloadSpread()
	ws := old.DeepCopy()
	ws.Labels = map[string]string{"team": "web"}
	ws.Status = apps.WorkloadSpreadStatus{ObservedGeneration: 9}
	strategy.PrepareForUpdate(context.Background(), ws, old)
	if ws.Generation != old.Generation {
		t.Errorf("generation bumped to %d on a metadata-only update", ws.Generation)
	}
	if ws.Status.ObservedGeneration != 3 || len(ws.Status.SubsetStatuses) != 2 {
		t.Errorf("status written through the main resource: %+v", ws.Status)
	}

	ws = old.DeepCopy()
	ws.Spec.Subsets[0].MaxReplicas = ptr.To(intstr.FromInt32(5))
	strategy.PrepareForUpdate(context.Background(), ws, old)
	if ws.Generation != old.Generation+1 {
		t.Errorf("generation %d after a spec change, want %d", ws.Generation, old.Generation+1)
	}
}

func TestStatusPrepareForUpdateKeepsSpecAndLabels(t *testing.T) {
	strategy := NewStatusStrategy(NewStrategy(newScheme()))
	old := newWorkloadSpread()
	old.Labels = map[string]string{"team": "web"}
	ws := old.DeepCopy()
	ws.Labels = map[string]string{"team": "api"}
	ws.Spec.Subsets = nil
	ws.Status.SubsetStatuses[0].Replicas = 1
	ws.Status.SubsetStatuses[0].MissingReplicas = 1
	strategy.PrepareForUpdate(context.Background(), ws, old)
	if len(ws.Spec.Subsets) != 2 || ws.Labels["team"] != "web" {
		t.Errorf("spec or labels changed through /status: %+v %v", ws.Spec, ws.Labels)
	}
	if ws.Status.SubsetStatuses[0].MissingReplicas != 1 {
		t.Errorf("status not taken from /status: %+v", ws.Status)
	}
	if ws.Generation != old.Generation {
		t.Errorf("generation changed on a /status update")
	}
	if errs := strategy.ValidateUpdate(context.Background(), ws, old); len(errs) > 0 {
		t.Errorf("valid status rejected: %v", errs)
	}
	ws.Status.SubsetStatuses[0].MissingReplicas = -2
	if errs := strategy.ValidateUpdate(context.Background(), ws, old); len(errs) != 1 {
		t.Errorf("invalid status: got %v", errs)
	}
}

func TestValidationPathsFollowRequestVersion(t *testing.T) {
	strategy := NewStrategy(newScheme())
	ws := newWorkloadSpread()
	ws.Spec.Subsets[1].PreferredNodeSelector = []corev1.PreferredSchedulingTerm{{Weight: 0}}
	for version, want := range map[string]string{
		"v1alpha1": "spec.subsets[1].preferredNodeSelectorTerms[0].weight",
		"v1beta1":  "spec.subsets[1].preferredNodeSelector[0].weight",
	} {
		ctx := genericapirequest.WithRequestInfo(context.Background(), &genericapirequest.RequestInfo{APIVersion: version})
		errs := strategy.Validate(ctx, ws.DeepCopy())
		if len(errs) != 1 || errs[0].Field != want {
			t.Errorf("%s: got %v, want one error at %s", version, errs, want)
		}
	}
}

func TestTable(t *testing.T) {
	ws := newWorkloadSpread()
	ws.Spec.ScheduleStrategy.Type = apps.AdaptiveWorkloadSpreadScheduleStrategyType
	table, err := tableConvertor.ConvertToTable(context.Background(), ws, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, column := range table.ColumnDefinitions {
		names = append(names, column.Name+":"+column.Type)
	}
	wantColumns := "[Name:string WorkloadName:string WorkloadKind:string Adaptive:boolean Age:date]"
	if got := fmt.Sprint(names); got != wantColumns {
		t.Errorf("columns %s, want %s", got, wantColumns)
	}
	cells := table.Rows[0].Cells
	if cells[0] != "ws" || cells[1] != "web" || cells[2] != "Deployment" || cells[3] != true {
		t.Errorf("cells %v", cells)
	}
	ws.Spec.ScheduleStrategy.Type = ""
	table, _ = tableConvertor.ConvertToTable(context.Background(), ws, nil)
	if table.Rows[0].Cells[3] != false {
		t.Errorf("Adaptive cell %v for a Fixed WorkloadSpread", table.Rows[0].Cells[3])
	}
}
