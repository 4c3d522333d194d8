// Package protection is the deletion protection of core objects: a
// validating webhook on DELETE that applies the rules of
// pkg/deletionprotection, the same rules our own kinds' storage applies,
// to Namespaces, CustomResourceDefinitions, Deployments, ReplicaSets,
// StatefulSets, Services and Ingresses labelled
// policy.kruise.io/delete-protection.
package protection

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/pager"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/deletionprotection"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/webhook"
)

// Path is where the handler is served.
const Path = webhook.PathPrefix + "validate-delete-protection"

var (
	namespaces                = schema.GroupResource{Resource: "namespaces"}
	services                  = schema.GroupResource{Resource: "services"}
	deployments               = schema.GroupResource{Group: "apps", Resource: "deployments"}
	replicaSets               = schema.GroupResource{Group: "apps", Resource: "replicasets"}
	statefulSets              = schema.GroupResource{Group: "apps", Resource: "statefulsets"}
	ingresses                 = schema.GroupResource{Group: "networking.k8s.io", Resource: "ingresses"}
	customResourceDefinitions = schema.GroupResource{Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"}
)

// customResourceDefinitionsV1 is where the live CRD is read.
var customResourceDefinitionsV1 = customResourceDefinitions.WithVersion("v1")

// New builds the handler.
//
// A Cascading Namespace or CRD is checked with live, paginated LISTs
// through kube-apiserver rather than informers: protected deletes are rare,
// informers would keep every Pod, claim and custom object of the cluster in
// the memory of every replica for them, and a lagging cache could let a
// namespace go whose first pod was created a moment before.
func New(c *webhook.Context) (webhook.AdmitFunc, error) {
	h := &handler{kube: c.DeletionProtectionKubeClient, dynamic: c.DynamicClient, metadata: c.MetadataClient}
	return h.admit, nil
}

type handler struct {
	kube     kubernetes.Interface
	dynamic  dynamic.Interface
	metadata metadata.Interface
}

func (h *handler) admit(ctx context.Context, req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
	if req.Operation != admissionv1.Delete {
		return webhook.Allowed()
	}
	resource := schema.GroupResource{Group: req.Resource.Group, Resource: req.Resource.Resource}
	if len(req.OldObject.Raw) == 0 {
		return webhook.Errored(http.StatusBadRequest, fmt.Errorf("DELETE of %s %q: the request has no oldObject", resource, req.Name))
	}
	var (
		obj     metav1.Object
		cascade deletionprotection.Cascade
	)
	switch resource {
	case deployments, replicaSets, statefulSets:
		workload := &workload{}
		if resp := decode(req.OldObject, workload); resp != nil {
			return resp
		}
		obj, cascade = workload, deletionprotection.Replicas(workload.Spec.Replicas)
	case services, ingresses:
		// Cascading means nothing for them: only Always protects.
		meta := &metav1.PartialObjectMetadata{}
		if resp := decode(req.OldObject, meta); resp != nil {
			return resp
		}
		obj = meta
	case namespaces:
		meta := &metav1.PartialObjectMetadata{}
		if resp := decode(req.OldObject, meta); resp != nil {
			return resp
		}
		obj = meta
		if meta.DeletionTimestamp != nil || meta.Labels[deletionprotection.LabelKey] != deletionprotection.Cascading {
			break
		}
		// Counting tells whether a namespace holds active Pods or Bound
		// claims, to a caller nobody authenticated: only for the namespace
		// the cluster stores under the review's name and uid.
		live, resp := h.liveNamespace(ctx, req.Name, meta.UID)
		if resp != nil {
			return resp
		}
		obj = live
		cascade = deletionprotection.Namespace(
			func() (int, error) { return h.activePods(ctx, live.Name) },
			func() (int, error) { return h.boundClaims(ctx, live.Name) })
	case customResourceDefinitions:
		crd := &customResourceDefinition{}
		if resp := decode(req.OldObject, crd); resp != nil {
			return resp
		}
		obj = crd
		if crd.DeletionTimestamp != nil || crd.Labels[deletionprotection.LabelKey] != deletionprotection.Cascading {
			break
		}
		// Counting lists whatever resource the CRD names, with a grant to
		// list everything, for a caller nobody authenticated: the review's
		// oldObject could name Secrets. So the resource comes from the CRD
		// as the cluster stores it, and only if it is the object the
		// review is about.
		live, resp := h.liveCustomResourceDefinition(ctx, req.Name, crd.UID)
		if resp != nil {
			return resp
		}
		obj = live
		gvr, listKind, err := live.listed()
		if err != nil {
			return webhook.Errored(http.StatusBadRequest, err)
		}
		cascade = deletionprotection.CustomResourceDefinition(listKind,
			func() (int, error) { return h.activeObjects(ctx, gvr) })
	default:
		// Not a kind OpenKruise protects; the webhook configuration
		// should not have sent it.
		return webhook.Allowed()
	}
	reason, err := deletionprotection.Check(obj, cascade)
	if err != nil {
		// Not knowing is no reason to let a protected object go.
		return webhook.Forbidden(err.Error())
	}
	if reason != "" {
		return webhook.Forbidden(reason)
	}
	return webhook.Allowed()
}

// decode reads an object of the request; a failure is the response.
func decode(raw runtime.RawExtension, into interface{}) *admissionv1.AdmissionResponse {
	if err := json.Unmarshal(raw.Raw, into); err != nil {
		return webhook.Errored(http.StatusBadRequest, fmt.Errorf("decoding oldObject: %w", err))
	}
	return nil
}

// workload is what the rules read of a Deployment, ReplicaSet or StatefulSet.
type workload struct {
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Replicas *int32 `json:"replicas"`
	} `json:"spec"`
}

// customResourceDefinition is what the rules read of a CRD.
type customResourceDefinition struct {
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Group string `json:"group"`
		Names struct {
			Plural   string `json:"plural"`
			ListKind string `json:"listKind"`
		} `json:"names"`
		Versions []struct {
			Name    string `json:"name"`
			Served  bool   `json:"served"`
			Storage bool   `json:"storage"`
		} `json:"versions"`
	} `json:"spec"`
}

// liveCustomResourceDefinition reads the CRD name from the cluster and
// checks that it is the one with the given uid (oldObject's); a failure is
// the response. One that no longer exists has nothing left to protect.
func (h *handler) liveCustomResourceDefinition(ctx context.Context, name string, uid types.UID) (*customResourceDefinition, *admissionv1.AdmissionResponse) {
	u, err := h.dynamic.Resource(customResourceDefinitionsV1).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, webhook.Allowed()
	}
	if err != nil {
		// Not knowing is no reason to let a protected object go.
		return nil, webhook.Forbidden(fmt.Sprintf("forbidden by ResourcesProtectionDeletion for get CustomResourceDefinition %q error: %v", name, err))
	}
	data, err := u.MarshalJSON()
	if err != nil {
		return nil, webhook.Errored(http.StatusInternalServerError, err)
	}
	live := &customResourceDefinition{}
	if err := json.Unmarshal(data, live); err != nil {
		return nil, webhook.Errored(http.StatusInternalServerError, fmt.Errorf("decoding CustomResourceDefinition %q: %w", name, err))
	}
	if live.UID != uid {
		return nil, webhook.Errored(http.StatusBadRequest, fmt.Errorf("oldObject has uid %q, CustomResourceDefinition %q has uid %q", uid, name, live.UID))
	}
	return live, nil
}

// liveNamespace reads the Namespace name from the cluster and checks that
// it is the one with the given uid (oldObject's); a failure is the
// response. One that no longer exists has nothing left to protect.
func (h *handler) liveNamespace(ctx context.Context, name string, uid types.UID) (*corev1.Namespace, *admissionv1.AdmissionResponse) {
	live, err := h.kube.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, webhook.Allowed()
	}
	if err != nil {
		// Not knowing is no reason to let a protected object go.
		return nil, webhook.Forbidden(fmt.Sprintf("forbidden by ResourcesProtectionDeletion for get Namespace %q error: %v", name, err))
	}
	if live.UID != uid {
		return nil, webhook.Errored(http.StatusBadRequest, fmt.Errorf("oldObject has uid %q, Namespace %q has uid %q", uid, name, live.UID))
	}
	return live, nil
}

// listed returns the resource the CRD's objects are listed at, and the list
// kind for messages: the storage version, as OpenKruise lists them, or a
// served version if the storage version is no longer served (any served
// version lists every object).
func (crd *customResourceDefinition) listed() (schema.GroupVersionResource, schema.GroupVersionKind, error) {
	version := ""
	for _, v := range crd.Spec.Versions {
		if v.Served && (version == "" || v.Storage) {
			version = v.Name
		}
	}
	if version == "" || crd.Spec.Names.Plural == "" {
		return schema.GroupVersionResource{}, schema.GroupVersionKind{},
			fmt.Errorf("CustomResourceDefinition %q has no served version or no plural name to list its objects at", crd.Name)
	}
	return schema.GroupVersionResource{Group: crd.Spec.Group, Version: version, Resource: crd.Spec.Names.Plural},
		schema.GroupVersionKind{Group: crd.Spec.Group, Version: version, Kind: crd.Spec.Names.ListKind}, nil
}

// listPageSize bounds the objects held in memory at once while counting.
const listPageSize = 500

// unfinishedPods leaves the Pods that can never be active again out of the
// LIST on the server's side: a namespace's finished Jobs can outnumber its
// running Pods by far. PodActive still decides (deletionTimestamp).
var unfinishedPods = fields.AndSelectors(
	fields.OneTermNotEqualSelector("status.phase", string(corev1.PodSucceeded)),
	fields.OneTermNotEqualSelector("status.phase", string(corev1.PodFailed)),
).String()

func (h *handler) activePods(ctx context.Context, namespace string) (int, error) {
	n := 0
	err := pager.New(pager.SimplePageFunc(func(opts metav1.ListOptions) (runtime.Object, error) {
		return h.kube.CoreV1().Pods(namespace).List(ctx, opts)
	})).EachListItem(ctx, metav1.ListOptions{Limit: listPageSize, FieldSelector: unfinishedPods}, func(obj runtime.Object) error {
		if deletionprotection.PodActive(obj.(*corev1.Pod)) {
			n++
		}
		return nil
	})
	return n, err
}

func (h *handler) boundClaims(ctx context.Context, namespace string) (int, error) {
	n := 0
	err := pager.New(pager.SimplePageFunc(func(opts metav1.ListOptions) (runtime.Object, error) {
		return h.kube.CoreV1().PersistentVolumeClaims(namespace).List(ctx, opts)
	})).EachListItem(ctx, metav1.ListOptions{Limit: listPageSize}, func(obj runtime.Object) error {
		if deletionprotection.ClaimBound(obj.(*corev1.PersistentVolumeClaim)) {
			n++
		}
		return nil
	})
	return n, err
}

// activeObjects counts a CRD's objects in every namespace that are not
// being deleted; metadata is all it needs.
func (h *handler) activeObjects(ctx context.Context, gvr schema.GroupVersionResource) (int, error) {
	n := 0
	err := pager.New(pager.SimplePageFunc(func(opts metav1.ListOptions) (runtime.Object, error) {
		return h.metadata.Resource(gvr).List(ctx, opts)
	})).EachListItem(ctx, metav1.ListOptions{Limit: listPageSize}, func(obj runtime.Object) error {
		if obj.(*metav1.PartialObjectMetadata).DeletionTimestamp == nil {
			n++
		}
		return nil
	})
	return n, err
}
