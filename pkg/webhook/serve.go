package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"runtime/debug"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/klog/v2"
)

// maxReviewBytes bounds the body of an AdmissionReview: an object and its
// old version, each up to kube-apiserver's 3 MiB request limit, and the
// review around them.
const maxReviewBytes = 7 << 20

// Serve answers AdmissionReview v1 requests with admit: the review's
// request in, the same review kind with admit's response out, the request's
// UID echoed. A body that is not an AdmissionReview v1 gets 400 Bad
// Request. A panic in admit is logged with its stack and answered with a
// bare HTTP 500, no AdmissionReview, instead of taking the process down:
// kube-apiserver counts that as a failed call and applies the webhook
// entry's failure policy (a denial in the review would refuse the request
// even where the policy is Ignore).
func Serve(path string, admit AdmitFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "admission reviews are POSTed", http.StatusMethodNotAllowed)
			return
		}
		if mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mediaType != "application/json" {
			http.Error(w, fmt.Sprintf("Content-Type %q: want application/json", r.Header.Get("Content-Type")), http.StatusUnsupportedMediaType)
			return
		}
		review, err := readReview(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		resp, panicked := admitSafely(r, path, admit, review.Request)
		if panicked != nil {
			http.Error(w, fmt.Sprintf("internal error in admission handler %s: %v", path, panicked), http.StatusInternalServerError)
			return
		}
		resp.UID = review.Request.UID
		out := admissionv1.AdmissionReview{TypeMeta: review.TypeMeta, Response: resp}
		body, err := json.Marshal(&out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
}

func readReview(body io.Reader) (*admissionv1.AdmissionReview, error) {
	data, err := io.ReadAll(io.LimitReader(body, maxReviewBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the AdmissionReview: %w", err)
	}
	if len(data) > maxReviewBytes {
		return nil, fmt.Errorf("the AdmissionReview is larger than %d bytes", maxReviewBytes)
	}
	if len(data) == 0 {
		return nil, errors.New("empty body: want an AdmissionReview")
	}
	review := &admissionv1.AdmissionReview{}
	if err := json.Unmarshal(data, review); err != nil {
		return nil, fmt.Errorf("decoding the AdmissionReview: %w", err)
	}
	if gvk := review.GroupVersionKind(); gvk != admissionv1.SchemeGroupVersion.WithKind("AdmissionReview") {
		return nil, fmt.Errorf("got apiVersion %q kind %q: want an AdmissionReview of %s", review.APIVersion, review.Kind, admissionv1.SchemeGroupVersion)
	}
	if review.Request == nil {
		return nil, errors.New("the AdmissionReview has no request")
	}
	if review.Request.UID == "" {
		return nil, errors.New("the AdmissionReview's request has no uid")
	}
	return review, nil
}

// admitSafely runs admit; if it panics, it returns what admit panicked
// with instead of a response.
func admitSafely(r *http.Request, path string, admit AdmitFunc, req *admissionv1.AdmissionRequest) (resp *admissionv1.AdmissionResponse, panicked any) {
	defer func() {
		if p := recover(); p != nil {
			klog.ErrorS(nil, "Admission handler panicked", "path", path, "uid", req.UID, "kind", req.Kind, "namespace", req.Namespace, "name", req.Name,
				"operation", req.Operation, "panic", p, "stack", string(debug.Stack()))
			resp, panicked = nil, p
		}
	}()
	resp = admit(r.Context(), req)
	if resp == nil {
		resp = Allowed()
	}
	return resp, nil
}
