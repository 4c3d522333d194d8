// Package scale serves the autoscaling/v1 /scale subresource of a workload
// kind on top of its generic registry store, so that `kubectl scale`, HPAs
// and anything else speaking the scale protocol work on our workloads.
package scale

import (
	"context"
	"fmt"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
)

// Accessor reads and writes the scale-related fields of a workload object.
type Accessor interface {
	Replicas(obj runtime.Object) *int32
	SetReplicas(obj runtime.Object, replicas int32)
	StatusReplicas(obj runtime.Object) int32
	// Selector returns the selector in string form from status (what the
	// controller last published) and spec.selector.
	Selector(obj runtime.Object) (status string, spec *metav1.LabelSelector)
}

// REST is the /scale subresource of one workload kind.
type REST struct {
	store    *genericregistry.Store
	accessor Accessor
}

var (
	_ rest.Patcher                  = &REST{}
	_ rest.GroupVersionKindProvider = &REST{}
)

// NewREST serves /scale for the objects of store.
func NewREST(store *genericregistry.Store, accessor Accessor) *REST {
	return &REST{store: store, accessor: accessor}
}

// GroupVersionKind says /scale speaks autoscaling/v1 Scale whatever the
// version of the parent resource.
func (r *REST) GroupVersionKind(schema.GroupVersion) schema.GroupVersionKind {
	return autoscalingv1.SchemeGroupVersion.WithKind("Scale")
}

func (r *REST) New() runtime.Object { return &autoscalingv1.Scale{} }
func (r *REST) Destroy()            {}

func (r *REST) Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error) {
	obj, err := r.store.Get(ctx, name, options)
	if err != nil {
		return nil, err
	}
	return r.scaleOf(obj)
}

func (r *REST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	obj, _, err := r.store.Update(ctx, name,
		&scaledObjectInfo{name: name, inner: objInfo, rest: r},
		r.scaleCreateValidation(createValidation),
		r.scaleUpdateValidation(updateValidation),
		false, options)
	if err != nil {
		return nil, false, err
	}
	scale, err := r.scaleOf(obj)
	return scale, false, err
}

func (r *REST) scaleOf(obj runtime.Object) (*autoscalingv1.Scale, error) {
	accessor, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	statusSelector, specSelector := r.accessor.Selector(obj)
	if statusSelector == "" && specSelector != nil {
		// Before the controller has published status.labelSelector, an
		// HPA can still find the Pods through spec.selector.
		if parsed, err := metav1.LabelSelectorAsSelector(specSelector); err == nil {
			statusSelector = parsed.String()
		}
	}
	var replicas int32
	if p := r.accessor.Replicas(obj); p != nil {
		replicas = *p
	}
	return &autoscalingv1.Scale{
		ObjectMeta: metav1.ObjectMeta{
			Name:              accessor.GetName(),
			Namespace:         accessor.GetNamespace(),
			UID:               accessor.GetUID(),
			ResourceVersion:   accessor.GetResourceVersion(),
			CreationTimestamp: accessor.GetCreationTimestamp(),
		},
		Spec:   autoscalingv1.ScaleSpec{Replicas: replicas},
		Status: autoscalingv1.ScaleStatus{Replicas: r.accessor.StatusReplicas(obj), Selector: statusSelector},
	}, nil
}

// Admission sees the Scale, not the workload, as for Kubernetes' own /scale.
func (r *REST) scaleCreateValidation(validate rest.ValidateObjectFunc) rest.ValidateObjectFunc {
	return func(ctx context.Context, obj runtime.Object) error {
		scale, err := r.scaleOf(obj)
		if err != nil {
			return err
		}
		return validate(ctx, scale)
	}
}

func (r *REST) scaleUpdateValidation(validate rest.ValidateObjectUpdateFunc) rest.ValidateObjectUpdateFunc {
	return func(ctx context.Context, obj, old runtime.Object) error {
		newScale, err := r.scaleOf(obj)
		if err != nil {
			return err
		}
		oldScale, err := r.scaleOf(old)
		if err != nil {
			return err
		}
		return validate(ctx, newScale, oldScale)
	}
}

// scaledObjectInfo turns the client's new Scale into the new workload.
type scaledObjectInfo struct {
	name  string
	inner rest.UpdatedObjectInfo
	rest  *REST
}

func (i *scaledObjectInfo) Preconditions() *metav1.Preconditions { return i.inner.Preconditions() }

func (i *scaledObjectInfo) UpdatedObject(ctx context.Context, oldObj runtime.Object) (runtime.Object, error) {
	obj := oldObj.DeepCopyObject()
	if obj == nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("nil update passed to %s", i.rest.store.DefaultQualifiedResource))
	}
	oldScale, err := i.rest.scaleOf(obj)
	if err != nil {
		return nil, err
	}
	newObj, err := i.inner.UpdatedObject(ctx, oldScale)
	if err != nil {
		return nil, err
	}
	if newObj == nil {
		return nil, apierrors.NewBadRequest("nil update passed to Scale")
	}
	scale, ok := newObj.(*autoscalingv1.Scale)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("expected input object type to be Scale, but %T", newObj))
	}
	if errs := validateScale(scale); len(errs) > 0 {
		return nil, apierrors.NewInvalid(autoscalingv1.SchemeGroupVersion.WithKind("Scale").GroupKind(), scale.Name, errs)
	}
	i.rest.accessor.SetReplicas(obj, scale.Spec.Replicas)
	// A resourceVersion in the Scale is a precondition on the workload.
	if scale.ResourceVersion != "" {
		accessor, err := meta.Accessor(obj)
		if err != nil {
			return nil, err
		}
		accessor.SetResourceVersion(scale.ResourceVersion)
	}
	return obj, nil
}

func validateScale(scale *autoscalingv1.Scale) field.ErrorList {
	var errs field.ErrorList
	if scale.Spec.Replicas < 0 {
		errs = append(errs, field.Invalid(field.NewPath("spec", "replicas"), scale.Spec.Replicas, "must be greater than or equal to 0"))
	}
	return errs
}
