// Package workloadspread is the storage of apps.kruise.io WorkloadSpreads:
// strategies for the main resource and its status, the checks that need
// other objects, and the columns of `kubectl get workloadspreads`.
package workloadspread

import (
	"context"
	"fmt"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage/names"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/validation"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/fieldpaths"
)

// workloadSpreadStrategy implements create and update of the main resource.
type workloadSpreadStrategy struct {
	runtime.ObjectTyper
	names.NameGenerator
	rest.DeclarativeValidation
}

// NewStrategy returns the strategy of the main resource.
func NewStrategy(typer *runtime.Scheme) workloadSpreadStrategy {
	return workloadSpreadStrategy{typer, names.SimpleNameGenerator, rest.DeclarativeValidation{Scheme: typer}}
}

func (workloadSpreadStrategy) NamespaceScoped() bool { return true }

// GetResetFields says which fields the main resource ignores, so that
// server-side apply does not record them as owned.
func (workloadSpreadStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return fieldpaths.ResetFields(apps.GroupName, fieldpath.MakePathOrDie("status"))
}

// PrepareForCreate clears the status: it is the controller's (and the Pod
// webhook's) to write.
func (workloadSpreadStrategy) PrepareForCreate(ctx context.Context, obj runtime.Object) {
	ws := obj.(*apps.WorkloadSpread)
	ws.Status = apps.WorkloadSpreadStatus{}
	ws.Generation = 1
}

// PrepareForUpdate keeps the stored status and bumps the generation when
// the spec changed.
func (workloadSpreadStrategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	ws := obj.(*apps.WorkloadSpread)
	oldWS := old.(*apps.WorkloadSpread)
	ws.Status = oldWS.Status
	if !apiequality.Semantic.DeepEqual(ws.Spec, oldWS.Spec) {
		ws.Generation = oldWS.Generation + 1
	}
}

func (workloadSpreadStrategy) Validate(ctx context.Context, obj runtime.Object) field.ErrorList {
	ws := obj.(*apps.WorkloadSpread)
	return fieldpaths.ForRequestVersion(ctx, pathsByVersion(ws), validation.ValidateWorkloadSpread(ws))
}

func (workloadSpreadStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	ws := obj.(*apps.WorkloadSpread)
	return fieldpaths.ForRequestVersion(ctx, pathsByVersion(ws), validation.ValidateWorkloadSpreadUpdate(ws, old.(*apps.WorkloadSpread)))
}

func (workloadSpreadStrategy) WarningsOnCreate(ctx context.Context, obj runtime.Object) []string {
	return nil
}

func (workloadSpreadStrategy) WarningsOnUpdate(ctx context.Context, obj, old runtime.Object) []string {
	return nil
}

func (workloadSpreadStrategy) Canonicalize(obj runtime.Object)               {}
func (workloadSpreadStrategy) AllowCreateOnUpdate(context.Context) bool      { return false }
func (workloadSpreadStrategy) AllowUnconditionalUpdate(context.Context) bool { return true }

// workloadSpreadStatusStrategy implements updates of /status.
type workloadSpreadStatusStrategy struct {
	workloadSpreadStrategy
}

// NewStatusStrategy returns the strategy of the status subresource.
func NewStatusStrategy(strategy workloadSpreadStrategy) workloadSpreadStatusStrategy {
	return workloadSpreadStatusStrategy{strategy}
}

func (workloadSpreadStatusStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return fieldpaths.ResetFields(apps.GroupName, fieldpath.MakePathOrDie("spec"), fieldpath.MakePathOrDie("metadata", "labels"))
}

// PrepareForUpdate keeps everything but the status as stored.
func (workloadSpreadStatusStrategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	ws := obj.(*apps.WorkloadSpread)
	oldWS := old.(*apps.WorkloadSpread)
	ws.Spec = oldWS.Spec
	ws.Labels = oldWS.Labels
}

func (workloadSpreadStatusStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidateWorkloadSpreadStatusUpdate(obj.(*apps.WorkloadSpread), old.(*apps.WorkloadSpread))
}

func (workloadSpreadStatusStrategy) WarningsOnUpdate(ctx context.Context, obj, old runtime.Object) []string {
	return nil
}

// pathsByVersion maps the hub's (v1beta1's) names of the subsets' node
// selectors back to v1alpha1's, for errors reported to v1alpha1 clients.
func pathsByVersion(ws *apps.WorkloadSpread) map[string][]fieldpaths.Rule {
	rules := make([]fieldpaths.Rule, 0, 2*len(ws.Spec.Subsets))
	for i := range ws.Spec.Subsets {
		subset := fmt.Sprintf("spec.subsets[%d].", i)
		rules = append(rules,
			fieldpaths.Rule{From: subset + "requiredNodeSelector", To: subset + "requiredNodeSelectorTerm"},
			fieldpaths.Rule{From: subset + "preferredNodeSelector", To: subset + "preferredNodeSelectorTerms"},
		)
	}
	return map[string][]fieldpaths.Rule{"v1alpha1": rules}
}
