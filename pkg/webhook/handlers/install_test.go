package handlers

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"k8s.io/apiserver/pkg/server/mux"
	kubefake "k8s.io/client-go/kubernetes/fake"

	kruisefake "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned/fake"
	kruiseinformers "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/informers/externalversions"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/webhook"
)

func TestKnownPathsAreUnderThePrefix(t *testing.T) {
	for path := range Known {
		if !strings.HasPrefix(path, webhook.PathPrefix) {
			t.Errorf("%s is not under %s: it would need authorization", path, webhook.PathPrefix)
		}
	}
}

func TestInstallServesEveryKnownHandler(t *testing.T) {
	m := mux.NewPathRecorderMux("test")
	// Handlers ask the Context's factories for informers (never started here).
	kube, kruise := kubefake.NewClientset(), kruisefake.NewSimpleClientset()
	c := &webhook.Context{
		KubeClient: kube, KruiseClient: kruise,
		KruiseInformers: kruiseinformers.NewSharedInformerFactory(kruise, 0),
	}
	if err := Install(m, c); err != nil {
		t.Fatal(err)
	}
	for path := range Known {
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader("{")))
		// Served by webhook.Serve: a body that is no AdmissionReview is a 415/400, not a 404.
		if rec.Code != http.StatusUnsupportedMediaType {
			t.Errorf("%s: got %d %s, want 415 from the admission server", path, rec.Code, rec.Body)
		}
	}
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, webhook.PathPrefix+"no-such-handler", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("unknown path: got %d, want 404", rec.Code)
	}
}
