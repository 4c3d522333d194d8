// Package workloadspread is the WorkloadSpread Pod webhook: on the creation
// of a Pod of a CloneSet, Advanced StatefulSet, ReplicaSet or Deployment
// that a WorkloadSpread targets, it picks the Pod's subset (pkg/workloadspread
// Admit), records the Pod in the WorkloadSpread's status, and patches the
// Pod with the subset's node affinity, tolerations and patch and the
// apps.kruise.io/matched-workloadspread annotation. On the deletion or
// eviction of a Pod placed in a capped subset it records the Pod in the
// subset's deletingPods, so that its replacement may go back there before
// the controller has seen it gone.
//
// Replicas of kruise-apiserver run it concurrently: the status is written
// with optimistic concurrency, and a conflict reads the WorkloadSpread
// again and decides again.
package workloadspread

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned"
	kruiselisters "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/listers/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/webhook"
	wsutil "github.com/kruise-apiserver/kruise-apiserver/pkg/workloadspread"
)

// handler decides on Pod admissions for WorkloadSpreads.
type handler struct {
	kruise     versioned.Interface
	kube       kubernetes.Interface
	wsLister   kruiselisters.WorkloadSpreadLister
	workloads  wsutil.Workloads
	versioning wsutil.Versioning
	clock      clock.Clock
	newUID     func() string
}

// statusBackoff retries status writes that conflict: a Deployment creates
// its Pods in bursts, each admitted by whichever replica kube-apiserver
// reaches, all writing the same WorkloadSpread.
var statusBackoff = wait.Backoff{Steps: 12, Duration: 10 * time.Millisecond, Factor: 1.5, Jitter: 0.5, Cap: 500 * time.Millisecond}

// spreadKinds are the Pod controllers whose Pods are spread.
var spreadKinds = map[string]bool{
	wsutil.CloneSetKind.String():    true,
	wsutil.StatefulSetKind.String(): true,
	wsutil.ReplicaSetKind.String():  true,
}

func (h *handler) admit(ctx context.Context, req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
	if req.Resource.Group != "" || req.Resource.Resource != "pods" {
		return webhook.Allowed()
	}
	switch {
	case req.Operation == admissionv1.Create && req.SubResource == "":
		return h.admitCreate(ctx, req)
	case req.Operation == admissionv1.Delete && req.SubResource == "":
		return h.admitDelete(ctx, req)
	case req.Operation == admissionv1.Create && req.SubResource == "eviction":
		return h.admitEviction(ctx, req)
	}
	return webhook.Allowed()
}

func (h *handler) admitCreate(ctx context.Context, req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
	pod := &corev1.Pod{}
	if err := json.Unmarshal(req.Object.Raw, pod); err != nil {
		return webhook.Errored(http.StatusBadRequest, fmt.Errorf("decoding the Pod: %w", err))
	}
	// A dry run must not take a place in a subset.
	if req.DryRun != nil && *req.DryRun {
		return webhook.Allowed()
	}
	if pod.Namespace == "" {
		pod.Namespace = req.Namespace
	}
	owner := metav1.GetControllerOfNoCopy(pod)
	if !wsutil.IsActive(pod) || owner == nil || !spreadKinds[wsutil.OwnerGroupKind(owner).String()] {
		return webhook.Allowed()
	}
	// The Pods of Kruise workloads are refused when they cannot be placed
	// (their controller retries), like their webhook entry fails closed.
	// A Deployment's Pod is created unplaced instead, like its entry
	// ignores failures: a half-working kruise-apiserver must not stop the
	// cluster's Deployments either, and the controller adopts the Pod.
	fail := func(err error) *admissionv1.AdmissionResponse {
		if wsutil.OwnerGroupKind(owner) != wsutil.ReplicaSetKind {
			return webhook.Errored(http.StatusInternalServerError, err)
		}
		klog.ErrorS(err, "Could not place the Pod; created as it is", "pod", podName(pod))
		resp := webhook.Allowed()
		resp.Warnings = []string{"WorkloadSpread: the Pod could not be placed in a subset: " + err.Error()}
		return resp
	}
	workloads := wsutil.Workloads{Reader: newAdmissionReader(h.workloads.Reader)}
	ws, err := h.matching(ctx, workloads, pod, owner)
	if err != nil {
		return fail(err)
	}
	if ws == nil {
		return webhook.Allowed()
	}
	admission, err := h.place(ctx, workloads, ws, pod)
	if err != nil {
		return fail(fmt.Errorf("workloadspread %s/%s: %w", ws.Namespace, ws.Name, err))
	}
	if admission.Subset == "" {
		klog.V(3).InfoS("No subset has room for the Pod; created as it is", "workloadSpread", klog.KObj(ws), "pod", podName(pod))
		return webhook.Allowed()
	}
	mutated := pod.DeepCopy()
	if err := wsutil.Inject(ws, mutated, admission.Subset, admission.UID); err != nil {
		return fail(err)
	}
	patch, err := jsonPatch(pod, mutated)
	if err != nil {
		return fail(err)
	}
	klog.V(3).InfoS("Placed Pod in subset", "workloadSpread", klog.KObj(ws), "pod", podName(pod), "subset", admission.Subset)
	return webhook.Patched(patch)
}

// matching returns the WorkloadSpread that targets the Pod's workload and
// selects it, or nil; a Pod has at most one (validation keeps two from
// targeting the same workload).
func (h *handler) matching(ctx context.Context, workloads wsutil.Workloads, pod *corev1.Pod, owner *metav1.OwnerReference) (*appsv1beta1.WorkloadSpread, error) {
	list, err := h.wsLister.WorkloadSpreads(pod.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	for _, ws := range list {
		if ws.DeletionTimestamp != nil || ws.Spec.TargetReference == nil {
			continue
		}
		targets, err := workloads.Targets(ctx, ws, owner, pod.Namespace)
		if err != nil {
			return nil, err
		}
		if !targets {
			continue
		}
		selected, err := wsutil.Selects(ws, pod.Labels)
		if err != nil {
			return nil, err
		}
		if selected {
			return ws, nil
		}
	}
	return nil, nil
}

// place picks the Pod's subset and records it in the WorkloadSpread's
// status. The first try uses the cached WorkloadSpread; after a conflict
// it is read again from the server, and so it is before answering that no
// subset has room: that answer writes nothing, so no conflict would tell
// that the cache lags behind (the controller freeing places, records
// expiring, a spec with a new subset).
func (h *handler) place(ctx context.Context, workloads wsutil.Workloads, cached *appsv1beta1.WorkloadSpread, pod *corev1.Pod) (wsutil.Admission, error) {
	var replicas int32
	if wsutil.HasPercentage(cached) {
		wl, err := workloads.Get(ctx, cached)
		if err != nil {
			return wsutil.Admission{}, err
		}
		if wl != nil {
			replicas = wl.Replicas
		}
	}
	version := h.versioning.PodVersion(pod)
	var admission wsutil.Admission
	ws := cached.DeepCopy()
	fresh := false
	err := retry.RetryOnConflict(statusBackoff, func() error {
		for {
			if fresh {
				got, err := h.kruise.AppsV1beta1().WorkloadSpreads(cached.Namespace).Get(ctx, cached.Name, metav1.GetOptions{})
				if err != nil {
					return err
				}
				ws = got
			}
			fromCache := !fresh
			fresh = true
			var err error
			if admission, err = wsutil.Admit(ws, version, pod.Name, replicas, h.clock.Now(), h.newUID); err != nil {
				return err
			}
			if admission.Subset == "" && fromCache {
				continue
			}
			if !admission.StatusChanged {
				return nil
			}
			_, err = h.kruise.AppsV1beta1().WorkloadSpreads(ws.Namespace).UpdateStatus(ctx, ws, metav1.UpdateOptions{})
			return err
		}
	})
	if apierrors.IsNotFound(err) {
		return wsutil.Admission{}, nil
	}
	return admission, err
}

// admitDelete and admitEviction never refuse: a response that is not
// allowed is a denial whatever the failure policy (which only covers calls
// that fail outright), and a deletion must not wait for WorkloadSpread.
// Failing to record only delays the replacement's placement until the
// controller sees the Pod gone.
func (h *handler) admitDelete(ctx context.Context, req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
	if req.DryRun != nil && *req.DryRun {
		return webhook.Allowed()
	}
	if len(req.OldObject.Raw) == 0 {
		return webhook.Allowed()
	}
	pod := &corev1.Pod{}
	if err := json.Unmarshal(req.OldObject.Raw, pod); err != nil {
		klog.ErrorS(err, "Could not decode the deleted Pod; its deletion is not recorded", "pod", klog.KRef(req.Namespace, req.Name))
		return webhook.Allowed()
	}
	return h.recordDeletion(ctx, pod)
}

func (h *handler) admitEviction(ctx context.Context, req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
	eviction := &policyv1.Eviction{}
	if err := json.Unmarshal(req.Object.Raw, eviction); err != nil {
		klog.ErrorS(err, "Could not decode the Eviction; the Pod's deletion is not recorded", "pod", klog.KRef(req.Namespace, req.Name))
		return webhook.Allowed()
	}
	if (req.DryRun != nil && *req.DryRun) || (eviction.DeleteOptions != nil && len(eviction.DeleteOptions.DryRun) > 0) {
		return webhook.Allowed()
	}
	pod, err := h.kube.CoreV1().Pods(req.Namespace).Get(ctx, req.Name, metav1.GetOptions{})
	if err != nil {
		if !apierrors.IsNotFound(err) {
			klog.ErrorS(err, "Could not read the evicted Pod; its deletion is not recorded", "pod", klog.KRef(req.Namespace, req.Name))
		}
		return webhook.Allowed()
	}
	return h.recordDeletion(ctx, pod)
}

// recordDeletion records a Pod that is going away in its subset's
// deletingPods. Like its callers, it never refuses the deletion.
func (h *handler) recordDeletion(ctx context.Context, pod *corev1.Pod) *admissionv1.AdmissionResponse {
	m := wsutil.MatchedOf(pod)
	if m == nil || !wsutil.IsActive(pod) || metav1.GetControllerOfNoCopy(pod) == nil {
		return webhook.Allowed()
	}
	cached, err := h.wsLister.WorkloadSpreads(pod.Namespace).Get(m.Name)
	if err != nil {
		return webhook.Allowed()
	}
	version := h.versioning.PodVersion(pod)
	ws := cached.DeepCopy()
	fresh := false
	err = retry.RetryOnConflict(statusBackoff, func() error {
		if fresh {
			got, err := h.kruise.AppsV1beta1().WorkloadSpreads(cached.Namespace).Get(ctx, cached.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			ws = got
		}
		fresh = true
		if !wsutil.RecordDeletion(ws, version, pod.Name, m.Subset, h.clock.Now()) {
			return nil
		}
		_, err := h.kruise.AppsV1beta1().WorkloadSpreads(ws.Namespace).UpdateStatus(ctx, ws, metav1.UpdateOptions{})
		return err
	})
	if err != nil && !apierrors.IsNotFound(err) {
		klog.ErrorS(err, "Could not record the Pod's deletion in its WorkloadSpread", "workloadSpread", klog.KObj(cached), "pod", klog.KObj(pod))
	}
	return webhook.Allowed()
}

// admissionReader reads each ReplicaSet once per admission: a Deployment's
// Pod is checked against every WorkloadSpread of its namespace, and each
// check asks for the Pod's ReplicaSet.
type admissionReader struct {
	wsutil.WorkloadReader
	replicaSets map[string]replicaSetRead
}

type replicaSetRead struct {
	rs  *appsv1.ReplicaSet
	err error
}

func newAdmissionReader(r wsutil.WorkloadReader) *admissionReader {
	return &admissionReader{WorkloadReader: r, replicaSets: map[string]replicaSetRead{}}
}

func (r *admissionReader) GetReplicaSet(ctx context.Context, namespace, name string) (*appsv1.ReplicaSet, error) {
	key := namespace + "/" + name
	if read, ok := r.replicaSets[key]; ok {
		return read.rs, read.err
	}
	rs, err := r.WorkloadReader.GetReplicaSet(ctx, namespace, name)
	r.replicaSets[key] = replicaSetRead{rs: rs, err: err}
	return rs, err
}

func podName(pod *corev1.Pod) string {
	if pod.Name != "" {
		return pod.Namespace + "/" + pod.Name
	}
	return pod.Namespace + "/" + pod.GenerateName + "*"
}

func newUID() string { return string(uuid.NewUUID()) }
