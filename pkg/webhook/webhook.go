// Package webhook is the admission webhook server inside kruise-apiserver:
// kube-apiserver calls it, through the Mutating- and
// ValidatingWebhookConfigurations of artifacts/base/webhooks.yaml, for
// core objects (Pods, Namespaces, Deployments, ...), which kruise-apiserver
// does not store but must act on.
//
// Handlers are AdmitFuncs served under /webhooks/ on kruise-apiserver's own
// secure port. They are built from a Context by the InitFuncs listed in
// pkg/webhook/handlers (Known), which also installs them. Webhooks are not
// leader-elected: kube-apiserver reaches whichever replica the Service
// picks, so every replica serves every handler and starts the informers
// the handlers asked for.
package webhook

import (
	"context"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned"
	kruiseinformers "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/informers/externalversions"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/workloadspread"
)

// PathPrefix is where every handler is served. The prefix passes
// authorization without a SubjectAccessReview (see pkg/webhook/handlers).
const PathPrefix = "/webhooks/"

// AdmitFunc decides on one admission request. It returns the response
// without its UID (the server echoes the request's); a nil response admits
// the request untouched. ctx ends when kube-apiserver gives up on the call.
type AdmitFunc func(ctx context.Context, req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse

// InitFunc builds a handler from the Context; it may ask KruiseInformers
// for informers, which every replica starts and syncs before it reports
// ready.
type InitFunc func(ctx *Context) (AdmitFunc, error)

// Context is what a handler is built from.
type Context struct {
	// KruiseClient talks to this server (the loopback connection).
	KruiseClient versioned.Interface
	// KubeClient talks to the cluster's kube-apiserver (the delegation
	// kubeconfig): the Pods and workloads that Pod admissions read.
	KubeClient kubernetes.Interface
	// DeletionProtectionKubeClient talks to kube-apiserver too, with a rate
	// limiter of its own, for deletion protection's paginated LISTs of a
	// namespace's Pods and claims: a burst of Namespace deletions (real,
	// or forged, since the calls are unauthenticated) must not queue the
	// requests that Pod admissions wait on behind theirs.
	DeletionProtectionKubeClient kubernetes.Interface
	// DynamicClient reads objects of any kind whole, e.g. a
	// CustomResourceDefinition; MetadataClient lists any resource's
	// objects' metadata, e.g. the objects of a CRD.
	DynamicClient  dynamic.Interface
	MetadataClient metadata.Interface
	// KruiseInformers is started on every replica once the handlers are
	// built; only the informers asked for run. Handlers read core objects
	// with requests, not informers (see New of each handler).
	KruiseInformers kruiseinformers.SharedInformerFactory
	// WorkloadSpreadVersioning says which workloads' Pods WorkloadSpreads
	// count per template version (--ws-enabled-versioned-status, shared
	// with the controller).
	WorkloadSpreadVersioning workloadspread.Versioning
}

// Allowed admits the request untouched.
func Allowed() *admissionv1.AdmissionResponse {
	return &admissionv1.AdmissionResponse{Allowed: true}
}

// Denied refuses the request with an HTTP status code and a message, which
// kubectl shows as `admission webhook "<name>" denied the request: <message>`.
func Denied(code int32, message string) *admissionv1.AdmissionResponse {
	return &admissionv1.AdmissionResponse{
		Allowed: false,
		Result: &metav1.Status{
			Status:  metav1.StatusFailure,
			Code:    code,
			Reason:  reasonFor(code),
			Message: message,
		},
	}
}

// Forbidden refuses the request with 403 Forbidden.
func Forbidden(message string) *admissionv1.AdmissionResponse {
	return Denied(http.StatusForbidden, message)
}

// Errored refuses the request because the handler could not decide; it is
// a denial, not an admission, so that an error never lets through what a
// working handler would have refused.
func Errored(code int32, err error) *admissionv1.AdmissionResponse {
	return Denied(code, err.Error())
}

// Patched admits the request with a JSON patch (RFC 6902) applied to the
// object.
func Patched(jsonPatch []byte) *admissionv1.AdmissionResponse {
	if len(jsonPatch) == 0 {
		return Allowed()
	}
	patchType := admissionv1.PatchTypeJSONPatch
	return &admissionv1.AdmissionResponse{Allowed: true, Patch: jsonPatch, PatchType: &patchType}
}

func reasonFor(code int32) metav1.StatusReason {
	switch code {
	case http.StatusBadRequest:
		return metav1.StatusReasonBadRequest
	case http.StatusForbidden:
		return metav1.StatusReasonForbidden
	case http.StatusNotFound:
		return metav1.StatusReasonNotFound
	case http.StatusConflict:
		return metav1.StatusReasonConflict
	case http.StatusUnprocessableEntity:
		return metav1.StatusReasonInvalid
	case http.StatusInternalServerError:
		return metav1.StatusReasonInternalError
	case http.StatusServiceUnavailable:
		return metav1.StatusReasonServiceUnavailable
	}
	return metav1.StatusReasonUnknown
}

// NewContext builds a Context: kruiseConfig reaches this server (the
// loopback connection), kubeConfig the cluster's kube-apiserver.
func NewContext(kruiseConfig, kubeConfig *rest.Config) (*Context, error) {
	kruiseConfig, kubeConfig = clientConfig(kruiseConfig), clientConfig(kubeConfig)
	kruiseClient, err := versioned.NewForConfig(kruiseConfig)
	if err != nil {
		return nil, err
	}
	kubeClient, err := kubernetes.NewForConfig(kubeConfig)
	if err != nil {
		return nil, err
	}
	// Each NewForConfig makes its own rate limiter.
	deletionProtectionKubeClient, err := kubernetes.NewForConfig(kubeConfig)
	if err != nil {
		return nil, err
	}
	dynamicClient, err := dynamic.NewForConfig(kubeConfig)
	if err != nil {
		return nil, err
	}
	metadataClient, err := metadata.NewForConfig(kubeConfig)
	if err != nil {
		return nil, err
	}
	return &Context{
		KruiseClient:                 kruiseClient,
		KubeClient:                   kubeClient,
		DeletionProtectionKubeClient: deletionProtectionKubeClient,
		DynamicClient:                dynamicClient,
		MetadataClient:               metadataClient,
		KruiseInformers:              kruiseinformers.NewSharedInformerFactory(kruiseClient, 0),
	}, nil
}

// clientConfig is config for the handlers' clients. Their rate limit is
// generous: a handler's requests are made while kube-apiserver waits for
// the answer, within the webhook's timeout, and client-go's default of 5
// per second would queue them behind each other's.
func clientConfig(config *rest.Config) *rest.Config {
	config = rest.AddUserAgent(rest.CopyConfig(config), "kruise-apiserver-webhooks")
	config.QPS, config.Burst = 100, 200
	return config
}

// StartInformers starts the informers the handlers asked for and waits
// until they have synced. They fail to sync only if ctx ends first, which
// is the server shutting down, not an error.
func (c *Context) StartInformers(ctx context.Context) error {
	c.KruiseInformers.Start(ctx.Done())
	c.KruiseInformers.WaitForCacheSync(ctx.Done())
	return nil
}
