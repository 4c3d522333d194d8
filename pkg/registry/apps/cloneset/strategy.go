// Package cloneset is the storage of apps.kruise.io CloneSets: strategies
// for the main resource and its status, the /scale subresource and the
// columns of `kubectl get clonesets`.
package cloneset

import (
	"context"

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

// cloneSetStrategy implements create and update of the main resource.
type cloneSetStrategy struct {
	runtime.ObjectTyper
	names.NameGenerator
	rest.DeclarativeValidation
}

// NewStrategy returns the strategy of the main resource.
func NewStrategy(typer *runtime.Scheme) cloneSetStrategy {
	return cloneSetStrategy{typer, names.SimpleNameGenerator, rest.DeclarativeValidation{Scheme: typer}}
}

func (cloneSetStrategy) NamespaceScoped() bool { return true }

// GetResetFields says which fields the main resource ignores, so that
// server-side apply does not record them as owned.
func (cloneSetStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return fieldpaths.ResetFields(apps.GroupName, fieldpath.MakePathOrDie("status"))
}

// PrepareForCreate clears the status: it is the controller's to write.
func (cloneSetStrategy) PrepareForCreate(ctx context.Context, obj runtime.Object) {
	cs := obj.(*apps.CloneSet)
	cs.Status = apps.CloneSetStatus{}
	cs.Generation = 1
}

// PrepareForUpdate keeps the stored status and bumps the generation when
// the spec changed.
func (cloneSetStrategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	cs := obj.(*apps.CloneSet)
	oldCS := old.(*apps.CloneSet)
	cs.Status = oldCS.Status
	if !apiequality.Semantic.DeepEqual(cs.Spec, oldCS.Spec) {
		cs.Generation = oldCS.Generation + 1
	}
}

func (cloneSetStrategy) Validate(ctx context.Context, obj runtime.Object) field.ErrorList {
	return fieldpaths.ForRequestVersion(ctx, pathsByVersion, validation.ValidateCloneSet(obj.(*apps.CloneSet)))
}

func (cloneSetStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return fieldpaths.ForRequestVersion(ctx, pathsByVersion, validation.ValidateCloneSetUpdate(obj.(*apps.CloneSet), old.(*apps.CloneSet)))
}

func (cloneSetStrategy) WarningsOnCreate(ctx context.Context, obj runtime.Object) []string {
	return warnings(obj.(*apps.CloneSet))
}

func (cloneSetStrategy) WarningsOnUpdate(ctx context.Context, obj, old runtime.Object) []string {
	return warnings(obj.(*apps.CloneSet))
}

func (cloneSetStrategy) Canonicalize(obj runtime.Object)               {}
func (cloneSetStrategy) AllowCreateOnUpdate(context.Context) bool      { return false }
func (cloneSetStrategy) AllowUnconditionalUpdate(context.Context) bool { return true }

// cloneSetStatusStrategy implements updates of /status.
type cloneSetStatusStrategy struct {
	cloneSetStrategy
}

// NewStatusStrategy returns the strategy of the status subresource.
func NewStatusStrategy(strategy cloneSetStrategy) cloneSetStatusStrategy {
	return cloneSetStatusStrategy{strategy}
}

func (cloneSetStatusStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return fieldpaths.ResetFields(apps.GroupName, fieldpath.MakePathOrDie("spec"), fieldpath.MakePathOrDie("metadata", "labels"))
}

// PrepareForUpdate keeps everything but the status as stored.
func (cloneSetStatusStrategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	cs := obj.(*apps.CloneSet)
	oldCS := old.(*apps.CloneSet)
	cs.Spec = oldCS.Spec
	cs.Labels = oldCS.Labels
}

func (cloneSetStatusStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidateCloneSetStatusUpdate(obj.(*apps.CloneSet), old.(*apps.CloneSet))
}

func (cloneSetStatusStrategy) WarningsOnUpdate(ctx context.Context, obj, old runtime.Object) []string {
	return nil
}

// v1alpha1 keeps the rollout parameters directly under updateStrategy and
// calls podUpdatePolicy its type: errors found on the hub are reported at
// the path the client wrote.
var pathsByVersion = map[string][]fieldpaths.Rule{
	"v1alpha1": {
		{From: "spec.updateStrategy.rollingUpdate.podUpdatePolicy", To: "spec.updateStrategy.type"},
		{From: "spec.updateStrategy.rollingUpdate", To: "spec.updateStrategy"},
		{From: "spec.scaleStrategy.enablePVCReuse", To: "spec.scaleStrategy.disablePVCReuse"},
	},
}

// warnings points at what OpenKruise still honours but has replaced.
func warnings(cs *apps.CloneSet) []string {
	var out []string
	if _, ok := cs.Labels[apps.LegacyExcludePreparingDeleteLabel]; ok {
		out = append(out, "metadata.labels["+apps.LegacyExcludePreparingDeleteLabel+"]: deprecated; use spec.scaleStrategy.excludePreparingDelete (v1beta1)")
	}
	for _, key := range []string{
		apps.LegacyImagePreDownloadParallelismAnnotation,
		apps.LegacyImagePreDownloadTimeoutSecondsAnnotation,
		apps.LegacyImagePreDownloadMinUpdatedReadyAnnotation,
	} {
		if _, ok := cs.Annotations[key]; ok {
			out = append(out, "metadata.annotations["+key+"]: deprecated; use spec.updateStrategy.rollingUpdate.inPlaceUpdateStrategy (v1beta1)")
		}
	}
	return out
}
