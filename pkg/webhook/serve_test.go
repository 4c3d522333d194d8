package webhook

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func post(t *testing.T, h http.Handler, contentType, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhooks/test", strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func reviewBody(t *testing.T, uid types.UID, namespace string) string {
	t.Helper()
	review := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       uid,
			Kind:      metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
			Resource:  metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
			Namespace: namespace,
			Name:      "p",
			Operation: admissionv1.Create,
		},
	}
	data, err := json.Marshal(review)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func decodeResponse(t *testing.T, rec *httptest.ResponseRecorder) *admissionv1.AdmissionReview {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	out := &admissionv1.AdmissionReview{}
	if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
		t.Fatal(err)
	}
	if out.APIVersion != "admission.k8s.io/v1" || out.Kind != "AdmissionReview" || out.Response == nil {
		t.Fatalf("not an AdmissionReview v1 response: %s", rec.Body)
	}
	return out
}

func TestServeEchoesUIDAndResponse(t *testing.T) {
	var seen *admissionv1.AdmissionRequest
	h := Serve("/webhooks/test", func(ctx context.Context, req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
		seen = req
		return Forbidden("no")
	})
	out := decodeResponse(t, post(t, h, "application/json; charset=utf-8", reviewBody(t, "uid-1", "default")))
	if seen == nil || seen.Name != "p" || seen.Namespace != "default" || seen.Operation != admissionv1.Create {
		t.Fatalf("handler saw %+v", seen)
	}
	if out.Response.UID != "uid-1" {
		t.Errorf("uid %q, want uid-1", out.Response.UID)
	}
	if out.Response.Allowed || out.Response.Result == nil || out.Response.Result.Code != 403 ||
		out.Response.Result.Message != "no" || out.Response.Result.Reason != metav1.StatusReasonForbidden {
		t.Errorf("response %+v, want a 403 denial saying no", out.Response)
	}
}

func TestServeNilResponseAdmits(t *testing.T) {
	h := Serve("/webhooks/test", func(context.Context, *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse { return nil })
	out := decodeResponse(t, post(t, h, "application/json", reviewBody(t, "uid-2", "default")))
	if !out.Response.Allowed || out.Response.UID != "uid-2" || out.Response.Patch != nil {
		t.Errorf("response %+v, want admitted untouched", out.Response)
	}
}

func TestServePatch(t *testing.T) {
	patch := `[{"op":"add","path":"/metadata/labels","value":{"a":"b"}}]`
	h := Serve("/webhooks/test", func(context.Context, *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
		return Patched([]byte(patch))
	})
	out := decodeResponse(t, post(t, h, "application/json", reviewBody(t, "uid-3", "default")))
	if !out.Response.Allowed || string(out.Response.Patch) != patch || out.Response.PatchType == nil || *out.Response.PatchType != admissionv1.PatchTypeJSONPatch {
		t.Errorf("response %+v, want the JSON patch", out.Response)
	}
}

func TestServeRecoversPanics(t *testing.T) {
	h := Serve("/webhooks/test", func(context.Context, *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
		var m map[string]int
		m["boom"] = 1
		return nil
	})
	// A bare 500, no AdmissionReview: kube-apiserver then applies the
	// entry's failure policy, where a denial would refuse even under Ignore.
	rec := post(t, h, "application/json", reviewBody(t, "uid-4", "default"))
	body := rec.Body.String()
	if rec.Code != http.StatusInternalServerError || strings.Contains(body, "AdmissionReview") ||
		!strings.Contains(body, "internal error in admission handler /webhooks/test") ||
		!strings.Contains(body, "assignment to entry in nil map") {
		t.Errorf("got %d %q, want a bare 500 naming the handler and the panic", rec.Code, body)
	}
}

func TestServeRejectsBadRequests(t *testing.T) {
	admit := func(context.Context, *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
		t.Error("handler called for a bad request")
		return nil
	}
	h := Serve("/webhooks/test", admit)
	cases := []struct {
		name, contentType, body string
		code                    int
		message                 string
	}{
		{"not JSON", "application/json", "{", http.StatusBadRequest, "decoding the AdmissionReview"},
		{"empty", "application/json", "", http.StatusBadRequest, "empty body"},
		{"v1beta1", "application/json", `{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"u"}}`, http.StatusBadRequest, `got apiVersion "admission.k8s.io/v1beta1"`},
		{"other kind", "application/json", `{"apiVersion":"v1","kind":"Pod"}`, http.StatusBadRequest, "want an AdmissionReview of admission.k8s.io/v1"},
		{"no request", "application/json", `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`, http.StatusBadRequest, "has no request"},
		{"no uid", "application/json", `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"name":"x"}}`, http.StatusBadRequest, "has no uid"},
		{"too large", "application/json", `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"name":"` + strings.Repeat("x", maxReviewBytes) + `"}}`, http.StatusBadRequest, "larger than"},
		{"YAML", "application/yaml", reviewBody(t, "u", "default"), http.StatusUnsupportedMediaType, "want application/json"},
		{"no content type", "", reviewBody(t, "u", "default"), http.StatusUnsupportedMediaType, "want application/json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := post(t, h, tc.contentType, tc.body)
			if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.message) {
				t.Errorf("got %d %q, want %d containing %q", rec.Code, rec.Body.String(), tc.code, tc.message)
			}
		})
	}

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/webhooks/test", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: got %d, want 405", rec.Code)
	}
}

func TestSkipSystemNamespaces(t *testing.T) {
	called := 0
	admit := SkipSystemNamespaces(func(context.Context, *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
		called++
		return Patched([]byte(`[{"op":"add","path":"/metadata/annotations","value":{"mutated":"yes"}}]`))
	})
	for _, ns := range []string{"kube-system", "kube-public", "kube-node-lease"} {
		resp := admit(context.Background(), &admissionv1.AdmissionRequest{Namespace: ns, Operation: admissionv1.Create})
		if !resp.Allowed || resp.Patch != nil || resp.PatchType != nil {
			t.Errorf("%s: %+v, want admitted untouched", ns, resp)
		}
	}
	if called != 0 {
		t.Fatalf("the handler was called %d times for system namespaces", called)
	}
	for _, ns := range []string{"default", "kruise-system", "kube-systemx", ""} {
		resp := admit(context.Background(), &admissionv1.AdmissionRequest{Namespace: ns, Operation: admissionv1.Create})
		if resp.Patch == nil {
			t.Errorf("%q: not passed to the handler", ns)
		}
	}
	if called != 4 {
		t.Fatalf("the handler was called %d times, want 4", called)
	}
}
