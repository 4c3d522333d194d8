// Package podunavailablebudget is the storage of policy.kruise.io
// PodUnavailableBudgets: strategies for the main resource and its status,
// the no-overlap rule between budgets, and the columns of
// `kubectl get podunavailablebudgets`.
package podunavailablebudget

import (
	"context"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage/names"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/policy"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/policy/validation"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/fieldpaths"
)

// pubStrategy implements create and update of the main resource.
type pubStrategy struct {
	runtime.ObjectTyper
	names.NameGenerator
	rest.DeclarativeValidation
}

// NewStrategy returns the strategy of the main resource.
func NewStrategy(typer *runtime.Scheme) pubStrategy {
	return pubStrategy{typer, names.SimpleNameGenerator, rest.DeclarativeValidation{Scheme: typer}}
}

func (pubStrategy) NamespaceScoped() bool { return true }

// GetResetFields says which fields the main resource ignores, so that
// server-side apply does not record them as owned.
func (pubStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return fieldpaths.ResetFields(policy.GroupName, fieldpath.MakePathOrDie("status"))
}

// PrepareForCreate clears the status: it is the controller's (and the Pod
// webhooks') to write.
func (pubStrategy) PrepareForCreate(ctx context.Context, obj runtime.Object) {
	pub := obj.(*policy.PodUnavailableBudget)
	pub.Status = policy.PodUnavailableBudgetStatus{}
	pub.Generation = 1
}

// PrepareForUpdate keeps the stored status and bumps the generation when
// the spec changed: the status counts are only valid for the generation
// they were computed for.
func (pubStrategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	pub := obj.(*policy.PodUnavailableBudget)
	oldPub := old.(*policy.PodUnavailableBudget)
	pub.Status = oldPub.Status
	if !apiequality.Semantic.DeepEqual(pub.Spec, oldPub.Spec) {
		pub.Generation = oldPub.Generation + 1
	}
}

func (pubStrategy) Validate(ctx context.Context, obj runtime.Object) field.ErrorList {
	return validation.ValidatePodUnavailableBudget(obj.(*policy.PodUnavailableBudget))
}

func (pubStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidatePodUnavailableBudgetUpdate(obj.(*policy.PodUnavailableBudget), old.(*policy.PodUnavailableBudget))
}

func (pubStrategy) WarningsOnCreate(ctx context.Context, obj runtime.Object) []string {
	return warnings(obj.(*policy.PodUnavailableBudget))
}

func (pubStrategy) WarningsOnUpdate(ctx context.Context, obj, old runtime.Object) []string {
	return warnings(obj.(*policy.PodUnavailableBudget))
}

func (pubStrategy) Canonicalize(obj runtime.Object)               {}
func (pubStrategy) AllowCreateOnUpdate(context.Context) bool      { return false }
func (pubStrategy) AllowUnconditionalUpdate(context.Context) bool { return true }

// pubStatusStrategy implements updates of /status.
type pubStatusStrategy struct {
	pubStrategy
}

// NewStatusStrategy returns the strategy of the status subresource.
func NewStatusStrategy(strategy pubStrategy) pubStatusStrategy {
	return pubStatusStrategy{strategy}
}

func (pubStatusStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return fieldpaths.ResetFields(policy.GroupName, fieldpath.MakePathOrDie("spec"), fieldpath.MakePathOrDie("metadata", "labels"))
}

// PrepareForUpdate keeps everything but the status as stored.
func (pubStatusStrategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	pub := obj.(*policy.PodUnavailableBudget)
	oldPub := old.(*policy.PodUnavailableBudget)
	pub.Spec = oldPub.Spec
	pub.Labels = oldPub.Labels
}

func (pubStatusStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidatePodUnavailableBudgetStatusUpdate(obj.(*policy.PodUnavailableBudget), old.(*policy.PodUnavailableBudget))
}

func (pubStatusStrategy) WarningsOnUpdate(ctx context.Context, obj, old runtime.Object) []string {
	return nil
}

// warnings points at what OpenKruise still honours but has replaced.
func warnings(pub *policy.PodUnavailableBudget) []string {
	var out []string
	if _, ok := pub.Annotations[policy.LegacyProtectOperationsAnnotation]; ok {
		msg := "deprecated; use spec.protectOperations (v1beta1)"
		if len(pub.Spec.ProtectOperations) > 0 {
			msg = "ignored, since spec.protectOperations is set"
		}
		out = append(out, "metadata.annotations["+policy.LegacyProtectOperationsAnnotation+"]: "+msg)
	}
	if _, ok := pub.Annotations[policy.LegacyProtectTotalReplicasAnnotation]; ok {
		out = append(out, "metadata.annotations["+policy.LegacyProtectTotalReplicasAnnotation+"]: deprecated; use spec.protectTotalReplicas (v1beta1)")
	}
	return out
}
