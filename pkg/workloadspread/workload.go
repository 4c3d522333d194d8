package workloadspread

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned"
	kruiselisters "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/listers/apps/v1beta1"
)

// Workload is the workload a WorkloadSpread targets, as far as spreading
// needs it.
type Workload struct {
	// Object is the Deployment, ReplicaSet, CloneSet or StatefulSet.
	Object   metav1.Object
	Replicas int32
	Selector *metav1.LabelSelector
}

// WorkloadReader reads the workloads WorkloadSpreads target.
type WorkloadReader interface {
	GetDeployment(ctx context.Context, namespace, name string) (*appsv1.Deployment, error)
	GetReplicaSet(ctx context.Context, namespace, name string) (*appsv1.ReplicaSet, error)
	ListReplicaSets(ctx context.Context, namespace string, selector labels.Selector) ([]*appsv1.ReplicaSet, error)
	GetCloneSet(ctx context.Context, namespace, name string) (*appsv1beta1.CloneSet, error)
	GetStatefulSet(ctx context.Context, namespace, name string) (*appsv1beta1.StatefulSet, error)
}

// Workloads answers what spreading asks about workloads, from a
// WorkloadReader.
type Workloads struct {
	Reader WorkloadReader
}

// ListerReader reads workloads from informer caches: the controller's
// way, which watches the Pods of every workload anyway. KubeClient, if set,
// is asked for a ReplicaSet the cache does not hold yet: a Deployment's new
// ReplicaSet creates its first Pods at once, maybe before the cache has
// seen it.
type ListerReader struct {
	Deployments  appslisters.DeploymentLister
	ReplicaSets  appslisters.ReplicaSetLister
	CloneSets    kruiselisters.CloneSetLister
	StatefulSets kruiselisters.StatefulSetLister
	KubeClient   kubernetes.Interface
}

var _ WorkloadReader = ListerReader{}

func (r ListerReader) GetDeployment(_ context.Context, namespace, name string) (*appsv1.Deployment, error) {
	return r.Deployments.Deployments(namespace).Get(name)
}

func (r ListerReader) GetReplicaSet(ctx context.Context, namespace, name string) (*appsv1.ReplicaSet, error) {
	rs, err := r.ReplicaSets.ReplicaSets(namespace).Get(name)
	if apierrors.IsNotFound(err) && r.KubeClient != nil {
		return r.KubeClient.AppsV1().ReplicaSets(namespace).Get(ctx, name, metav1.GetOptions{})
	}
	return rs, err
}

func (r ListerReader) ListReplicaSets(_ context.Context, namespace string, selector labels.Selector) ([]*appsv1.ReplicaSet, error) {
	return r.ReplicaSets.ReplicaSets(namespace).List(selector)
}

func (r ListerReader) GetCloneSet(_ context.Context, namespace, name string) (*appsv1beta1.CloneSet, error) {
	return r.CloneSets.CloneSets(namespace).Get(name)
}

func (r ListerReader) GetStatefulSet(_ context.Context, namespace, name string) (*appsv1beta1.StatefulSet, error) {
	return r.StatefulSets.StatefulSets(namespace).Get(name)
}

// APIReader reads workloads with requests: the Pod webhook's way. It runs
// in every replica, where informers would hold every Deployment, ReplicaSet,
// CloneSet and StatefulSet of the cluster (our own kinds a second time,
// beside the watch cache) for the few reads placing a Pod takes — and only
// Pods in a namespace with a WorkloadSpread that targets them are read for.
// Our kinds come over the loopback connection, from the watch cache.
type APIReader struct {
	Kube   kubernetes.Interface
	Kruise versioned.Interface
}

var _ WorkloadReader = APIReader{}

func (r APIReader) GetDeployment(ctx context.Context, namespace, name string) (*appsv1.Deployment, error) {
	return r.Kube.AppsV1().Deployments(namespace).Get(ctx, name, metav1.GetOptions{})
}

func (r APIReader) GetReplicaSet(ctx context.Context, namespace, name string) (*appsv1.ReplicaSet, error) {
	return r.Kube.AppsV1().ReplicaSets(namespace).Get(ctx, name, metav1.GetOptions{})
}

func (r APIReader) ListReplicaSets(ctx context.Context, namespace string, selector labels.Selector) ([]*appsv1.ReplicaSet, error) {
	list, err := r.Kube.AppsV1().ReplicaSets(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector.String()})
	if err != nil {
		return nil, err
	}
	out := make([]*appsv1.ReplicaSet, len(list.Items))
	for i := range list.Items {
		out[i] = &list.Items[i]
	}
	return out, nil
}

func (r APIReader) GetCloneSet(ctx context.Context, namespace, name string) (*appsv1beta1.CloneSet, error) {
	return r.Kruise.AppsV1beta1().CloneSets(namespace).Get(ctx, name, metav1.GetOptions{})
}

func (r APIReader) GetStatefulSet(ctx context.Context, namespace, name string) (*appsv1beta1.StatefulSet, error) {
	return r.Kruise.AppsV1beta1().StatefulSets(namespace).Get(ctx, name, metav1.GetOptions{})
}

// ErrUnsupportedTarget is returned for a target kind spreading does not
// handle.
var ErrUnsupportedTarget = fmt.Errorf("unsupported target kind")

// Get returns a WorkloadSpread's target, or nil if it does not exist. The
// replica count is the workload's own, or the sum at the targetFilter's
// replicasPathList.
func (w Workloads) Get(ctx context.Context, ws *appsv1beta1.WorkloadSpread) (*Workload, error) {
	ref := ws.Spec.TargetReference
	if ref == nil {
		return nil, nil
	}
	var wl *Workload
	var object runtime.Object
	var err error
	switch TargetGroupKind(ws) {
	case DeploymentKind:
		var d *appsv1.Deployment
		if d, err = w.Reader.GetDeployment(ctx, ws.Namespace, ref.Name); err == nil {
			wl, object = &Workload{Object: d, Replicas: replicasOf(d.Spec.Replicas), Selector: d.Spec.Selector}, d
		}
	case ReplicaSetKind:
		var rs *appsv1.ReplicaSet
		if rs, err = w.Reader.GetReplicaSet(ctx, ws.Namespace, ref.Name); err == nil {
			wl, object = &Workload{Object: rs, Replicas: replicasOf(rs.Spec.Replicas), Selector: rs.Spec.Selector}, rs
		}
	case CloneSetKind:
		var cs *appsv1beta1.CloneSet
		if cs, err = w.Reader.GetCloneSet(ctx, ws.Namespace, ref.Name); err == nil {
			wl, object = &Workload{Object: cs, Replicas: replicasOf(cs.Spec.Replicas), Selector: cs.Spec.Selector}, cs
		}
	case StatefulSetKind:
		var sts *appsv1beta1.StatefulSet
		if sts, err = w.Reader.GetStatefulSet(ctx, ws.Namespace, ref.Name); err == nil {
			wl, object = &Workload{Object: sts, Replicas: replicasOf(sts.Spec.Replicas), Selector: sts.Spec.Selector}, sts
		}
	default:
		return nil, fmt.Errorf("%w %s %s", ErrUnsupportedTarget, ref.APIVersion, ref.Kind)
	}
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if f := ws.Spec.TargetFilter; f != nil && len(f.ReplicasPathList) > 0 {
		if wl.Replicas, err = ReplicasAtPaths(object, f.ReplicasPathList); err != nil {
			return nil, fmt.Errorf("workloadspread %s/%s: %w", ws.Namespace, ws.Name, err)
		}
	}
	return wl, nil
}

func replicasOf(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

// Version is the version of the workload's current Pods (see Versioning).
func (w Workloads) Version(ctx context.Context, v Versioning, wl *Workload) (string, error) {
	switch o := wl.Object.(type) {
	case *appsv1.Deployment:
		selector, err := metav1.LabelSelectorAsSelector(o.Spec.Selector)
		if err != nil {
			return "", err
		}
		replicaSets, err := w.Reader.ListReplicaSets(ctx, o.Namespace, selector)
		if err != nil {
			return "", err
		}
		return v.DeploymentVersion(o, replicaSets)
	case *appsv1.ReplicaSet:
		return v.ReplicaSetVersion(o), nil
	case *appsv1beta1.CloneSet:
		return v.CloneSetVersion(o)
	case *appsv1beta1.StatefulSet:
		return v.StatefulSetVersion(o)
	}
	return VersionIgnored, nil
}

// Targets says whether a Pod with this controller reference belongs to the
// WorkloadSpread's target: the reference is the target (group, kind and
// name), or is a ReplicaSet the target Deployment controls.
func (w Workloads) Targets(ctx context.Context, ws *appsv1beta1.WorkloadSpread, owner *metav1.OwnerReference, namespace string) (bool, error) {
	if owner == nil || ws.Spec.TargetReference == nil {
		return false, nil
	}
	target := TargetGroupKind(ws)
	ownerKind := OwnerGroupKind(owner)
	if ownerKind == target && owner.Name == ws.Spec.TargetReference.Name {
		return true, nil
	}
	if ownerKind != ReplicaSetKind || target != DeploymentKind {
		return false, nil
	}
	rs, err := w.Reader.GetReplicaSet(ctx, namespace, owner.Name)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	parent := metav1.GetControllerOfNoCopy(rs)
	return parent != nil && OwnerGroupKind(parent) == DeploymentKind && parent.Name == ws.Spec.TargetReference.Name, nil
}

// Controls says whether the workload controls the Pod, directly or (a
// Deployment) through one of its ReplicaSets.
func (w Workloads) Controls(ctx context.Context, wl *Workload, pod *corev1.Pod) bool {
	owner := metav1.GetControllerOfNoCopy(pod)
	if owner == nil {
		return false
	}
	if owner.UID == wl.Object.GetUID() {
		return true
	}
	if _, ok := wl.Object.(*appsv1.Deployment); !ok || OwnerGroupKind(owner) != ReplicaSetKind {
		return false
	}
	rs, err := w.Reader.GetReplicaSet(ctx, pod.Namespace, owner.Name)
	if err != nil || rs.UID != owner.UID {
		return false
	}
	parent := metav1.GetControllerOfNoCopy(rs)
	return parent != nil && parent.UID == wl.Object.GetUID()
}

// Pods lists the Pods of the workload the WorkloadSpread spreads: those the
// workload controls that its targetFilter selects.
func (w Workloads) Pods(ctx context.Context, pods []*corev1.Pod, ws *appsv1beta1.WorkloadSpread, wl *Workload) ([]*corev1.Pod, error) {
	var out []*corev1.Pod
	for _, pod := range pods {
		if !w.Controls(ctx, wl, pod) {
			continue
		}
		selected, err := Selects(ws, pod.Labels)
		if err != nil {
			return nil, err
		}
		if selected {
			out = append(out, pod)
		}
	}
	return out, nil
}

// WorkloadSelector is the workload's Pod selector.
func WorkloadSelector(wl *Workload) (labels.Selector, error) {
	if wl.Selector == nil {
		return labels.Nothing(), nil
	}
	return metav1.LabelSelectorAsSelector(wl.Selector)
}

// ReplicasAtPaths sums the integers at dot-separated paths in an object
// ("spec.replicas", array elements by index: "spec.groups.1.replicas").
// A path that leads nowhere counts 0, as in OpenKruise.
func ReplicasAtPaths(object runtime.Object, paths []string) (int32, error) {
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(object)
	if err != nil {
		return 0, err
	}
	var sum int64
	for _, path := range paths {
		var cur any = content
		for _, part := range strings.Split(path, ".") {
			switch node := cur.(type) {
			case map[string]any:
				cur = node[part]
			case []any:
				i, err := strconv.Atoi(part)
				if err != nil || i < 0 || i >= len(node) {
					cur = nil
				} else {
					cur = node[i]
				}
			default:
				cur = nil
			}
		}
		switch n := cur.(type) {
		case nil:
		case int64:
			sum += n
		case float64:
			sum += int64(n)
		default:
			return 0, fmt.Errorf("replicasPathList: %q is a %T, not an integer", path, cur)
		}
	}
	return int32(sum), nil
}
