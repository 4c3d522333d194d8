package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/webhook"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/webhook/protection"
)

const (
	protectionLabel   = "policy.kruise.io/delete-protection"
	protectionWebhook = "delete-protection.policy.kruise.io"
	deniedAlways      = `admission webhook "` + protectionWebhook + `" denied the request: forbidden by ResourcesProtectionDeletion for policy.kruise.io/delete-protection=Always`
	deniedCascading   = `admission webhook "` + protectionWebhook + `" denied the request: forbidden by ResourcesProtectionDeletion for policy.kruise.io/delete-protection=Cascading`
)

// TestDeletionProtectionOfCoreObjects: kubectl delete of a labelled
// Service, Ingress or Deployment is refused by the webhook with
// OpenKruise's message; taking the label off, or (for a Deployment)
// scaling to zero, lets it go.
func TestDeletionProtectionOfCoreObjects(t *testing.T) {
	t.Parallel()
	ns := namespace(t)

	t.Run("Service", func(t *testing.T) {
		kubectl(t, "-n", ns, "create", "service", "clusterip", "test-web", "--tcp=80:8080")
		kubectl(t, "-n", ns, "label", "svc", "test-web", protectionLabel+"=Always")
		stderr := kubectlFails(t, "-n", ns, "delete", "svc", "test-web")
		expectContains(t, "delete of a protected Service", stderr, deniedAlways)
		kubectl(t, "-n", ns, "get", "svc", "test-web")

		// OpenKruise supports only Always for Services: Cascading, like a
		// misspelt value, protects nothing.
		kubectl(t, "-n", ns, "create", "service", "clusterip", "cascading", "--tcp=80:8080")
		kubectl(t, "-n", ns, "label", "svc", "cascading", protectionLabel+"=Cascading")
		kubectl(t, "-n", ns, "delete", "svc", "cascading")
		kubectl(t, "-n", ns, "create", "service", "clusterip", "misspelt", "--tcp=80:8080")
		kubectl(t, "-n", ns, "label", "svc", "misspelt", protectionLabel+"=always")
		kubectl(t, "-n", ns, "delete", "svc", "misspelt")

		kubectl(t, "-n", ns, "label", "svc", "test-web", protectionLabel+"-")
		kubectl(t, "-n", ns, "delete", "svc", "test-web")
	})

	t.Run("Ingress", func(t *testing.T) {
		kubectlIn(t, `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: test-web
  labels:
    policy.kruise.io/delete-protection: Always
spec:
  defaultBackend:
    service: {name: test-web, port: {number: 80}}
`, "-n", ns, "apply", "-f", "-")
		stderr := kubectlFails(t, "-n", ns, "delete", "ingress", "test-web")
		expectContains(t, "delete of a protected Ingress", stderr, deniedAlways)
		kubectl(t, "-n", ns, "label", "ingress", "test-web", protectionLabel+"=Cascading", "--overwrite")
		kubectl(t, "-n", ns, "delete", "ingress", "test-web")
	})

	t.Run("Deployment", func(t *testing.T) {
		// No deployment controller runs here: the Deployment makes no Pods.
		kubectl(t, "-n", ns, "create", "deployment", "web", "--image=example.invalid/web:v1", "--replicas=2")
		kubectl(t, "-n", ns, "label", "deployment", "web", protectionLabel+"=Always")
		stderr := kubectlFails(t, "-n", ns, "delete", "deployment", "web")
		expectContains(t, "delete of an Always Deployment", stderr, deniedAlways)
		kubectl(t, "-n", ns, "label", "deployment", "web", protectionLabel+"=Cascading", "--overwrite")
		stderr = kubectlFails(t, "-n", ns, "delete", "deployment", "web")
		expectContains(t, "delete of a Cascading Deployment with replicas", stderr, deniedCascading+" and replicas 2>0")
		kubectl(t, "-n", ns, "scale", "deployment", "web", "--replicas=0")
		kubectl(t, "-n", ns, "delete", "deployment", "web")
	})

	t.Run("ReplicaSet and StatefulSet", func(t *testing.T) {
		// apps/v1 ones, not Kruise's Advanced StatefulSet (also "sts").
		kubectlIn(t, `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web
  labels: {policy.kruise.io/delete-protection: Cascading}
spec:
  replicas: 1
  selector: {matchLabels: {app: web-rs}}
  template:
    metadata: {labels: {app: web-rs}}
    spec: {containers: [{name: web, image: example.invalid/web:v1}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
  labels: {policy.kruise.io/delete-protection: Always}
spec:
  replicas: 0
  serviceName: web
  selector: {matchLabels: {app: web-sts}}
  template:
    metadata: {labels: {app: web-sts}}
    spec: {containers: [{name: web, image: example.invalid/web:v1}]}
`, "-n", ns, "apply", "-f", "-")
		stderr := kubectlFails(t, "-n", ns, "delete", "replicasets.apps", "web")
		expectContains(t, "delete of a Cascading ReplicaSet with replicas", stderr, deniedCascading+" and replicas 1>0")
		kubectl(t, "-n", ns, "scale", "replicasets.apps", "web", "--replicas=0")
		kubectl(t, "-n", ns, "delete", "replicasets.apps", "web")

		stderr = kubectlFails(t, "-n", ns, "delete", "statefulsets.apps", "web")
		expectContains(t, "delete of an Always StatefulSet", stderr, deniedAlways)
		kubectl(t, "-n", ns, "label", "statefulsets.apps", "web", protectionLabel+"=Cascading", "--overwrite")
		kubectl(t, "-n", ns, "delete", "statefulsets.apps", "web")
	})

	t.Run("CloneSet keeps its storage protection, with the same text", func(t *testing.T) {
		kubectlIn(t, cloneSetManifest("same-text", 0), "apply", "-n", ns, "-f", "-")
		kubectl(t, "-n", ns, "label", "clone", "same-text", protectionLabel+"=Always")
		stderr := kubectlFails(t, "-n", ns, "delete", "clone", "same-text")
		expectContains(t, "delete of a protected CloneSet", stderr,
			`clonesets.apps.kruise.io "same-text" is forbidden: forbidden by ResourcesProtectionDeletion for policy.kruise.io/delete-protection=Always`)
		kubectl(t, "-n", ns, "label", "clone", "same-text", protectionLabel+"-")
		kubectl(t, "-n", ns, "delete", "clone", "same-text")
	})
}

// TestDeletionProtectionOfNamespaces: an Always Namespace cannot be
// deleted; a Cascading one not while it has an active Pod or, with the
// node (which runs the volume binder), a Bound claim.
func TestDeletionProtectionOfNamespaces(t *testing.T) {
	t.Parallel()
	base := fmt.Sprintf("e2e-protected-ns-%d", namespaces.Add(1))

	always := base + "-always"
	kubectl(t, "create", "namespace", always)
	t.Cleanup(func() {
		runKubectl("", "label", "namespace", always, protectionLabel+"-")
		runKubectl("", "delete", "namespace", always, "--wait=false")
	})
	kubectl(t, "label", "namespace", always, protectionLabel+"=Always")
	stderr := kubectlFails(t, "delete", "namespace", always)
	expectContains(t, "delete of an Always Namespace", stderr, deniedAlways)
	kubectl(t, "label", "namespace", always, protectionLabel+"-")
	kubectl(t, "delete", "namespace", always, "--wait=false")

	cascading := base + "-cascading"
	kubectl(t, "create", "namespace", cascading)
	t.Cleanup(func() {
		runKubectl("", "label", "namespace", cascading, protectionLabel+"-")
		runKubectl("", "delete", "namespace", cascading, "--wait=false")
	})
	kubectl(t, "label", "namespace", cascading, protectionLabel+"=Cascading")
	waitForDefaultServiceAccount(t, cascading)
	image := "example.invalid/testapp:v1"
	if withNode {
		image = cluster.Images.TestAppV1
	}
	kubectlIn(t, testAppPod("app", image), "-n", cascading, "apply", "-f", "-")
	if withNode {
		waitPodReady(t, cascading, "app")
	}
	stderr = kubectlFails(t, "delete", "namespace", cascading)
	expectContains(t, "delete of a Cascading Namespace with a Pod", stderr, deniedCascading+" and active pods 1>0")

	if withNode {
		pv := cascading + "-pv"
		kubectlIn(t, fmt.Sprintf(`apiVersion: v1
kind: PersistentVolume
metadata:
  name: %s
spec:
  capacity: {storage: 1Mi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: ""
  hostPath: {path: /tmp/%s}
`, pv, pv), "apply", "-f", "-")
		t.Cleanup(func() { runKubectl("", "delete", "pv", pv, "--wait=false") })
		kubectlIn(t, fmt.Sprintf(`apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: ""
  volumeName: %s
  resources: {requests: {storage: 1Mi}}
`, pv), "-n", cascading, "apply", "-f", "-")
		kubectl(t, "-n", cascading, "wait", "pvc/data", "--for=jsonpath={.status.phase}=Bound", "--timeout=1m")
	}

	// A Pod on its way out does not count: the namespace is held by its
	// claim now, if it has one.
	kubectl(t, "-n", cascading, "delete", "pod", "app", "--wait=false")
	if withNode {
		stderr = kubectlFails(t, "delete", "namespace", cascading)
		expectContains(t, "delete of a Cascading Namespace with a Bound claim", stderr, deniedCascading+` and "Bound" status pvc 1>0`)
		kubectl(t, "-n", cascading, "delete", "pvc", "data", "--wait=false")
	}
	kubectl(t, "delete", "namespace", cascading, "--wait=false")
}

// TestDeletionProtectionOfCRDs: a Cascading CustomResourceDefinition
// cannot be deleted while objects of it exist, in any namespace.
func TestDeletionProtectionOfCRDs(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	other := namespace(t)
	group := fmt.Sprintf("crd%d.e2e.example.com", namespaces.Add(1))
	crd := "widgets." + group
	kubectlIn(t, fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: %s
  labels:
    policy.kruise.io/delete-protection: Cascading
spec:
  group: %s
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`, crd, group), "apply", "-f", "-")
	t.Cleanup(func() {
		runKubectl("", "label", "crd", crd, protectionLabel+"-")
		runKubectl("", "delete", "crd", crd, "--wait=false")
	})
	kubectl(t, "wait", "crd/"+crd, "--for=condition=Established", "--timeout=1m")
	widget := func(name string) string {
		return fmt.Sprintf("apiVersion: %s/v1\nkind: Widget\nmetadata:\n  name: %s\n", group, name)
	}
	kubectlIn(t, widget("one"), "-n", ns, "apply", "-f", "-")
	kubectlIn(t, widget("two"), "-n", other, "apply", "-f", "-")

	stderr := kubectlFails(t, "delete", "crd", crd)
	expectContains(t, "delete of a Cascading CRD with objects", stderr, deniedCascading+" and active CRs 2>0")

	// Reviews arrive unauthenticated: one whose oldObject names another
	// resource (Secrets) gets the stored CRD's objects counted, and one
	// whose uid is not the stored CRD's is refused without counting.
	uid := strings.TrimSpace(kubectl(t, "get", "crd", crd, "-o", "jsonpath={.metadata.uid}"))
	forged := func(uid string) []byte {
		review := admissionv1.AdmissionReview{
			TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
			Request: &admissionv1.AdmissionRequest{
				UID: "forged", Operation: admissionv1.Delete, Name: crd,
				Resource: metav1.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"},
				OldObject: rawJSON(t, map[string]interface{}{
					"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
					"metadata": map[string]interface{}{"name": crd, "uid": uid, "labels": map[string]string{protectionLabel: "Cascading"}},
					"spec": map[string]interface{}{
						"group": "", "names": map[string]interface{}{"plural": "secrets", "listKind": "SecretList"},
						"versions": []interface{}{map[string]interface{}{"name": "v1", "served": true, "storage": true}},
					},
				}),
			},
		}
		return rawJSON(t, review).Raw
	}
	port := cluster.KruiseReplicas()[0].Port
	for _, tc := range []struct{ uid, want string }{
		{uid, "active CRs 2>0"},
		{"forged-uid", `oldObject has uid "forged-uid"`},
	} {
		code, body := anonymousPost(t, port, protection.Path, forged(tc.uid))
		out := admissionv1.AdmissionReview{}
		if err := json.Unmarshal(body, &out); code != http.StatusOK || err != nil || out.Response == nil {
			t.Fatalf("forged review: got %d %s (%v)", code, body, err)
		}
		if out.Response.Allowed || out.Response.Result == nil || !strings.Contains(out.Response.Result.Message, tc.want) {
			t.Errorf("forged review with uid %q: got %+v, want a denial saying %q", tc.uid, out.Response, tc.want)
		}
	}

	kubectl(t, "-n", ns, "delete", "widgets."+group, "one")
	stderr = kubectlFails(t, "delete", "crd", crd)
	expectContains(t, "delete of a Cascading CRD with an object left", stderr, deniedCascading+" and active CRs 1>0")
	kubectl(t, "-n", other, "delete", "widgets."+group, "two")
	kubectl(t, "delete", "crd", crd)
}

// anonymousClient reaches a replica directly without credentials, as
// kube-apiserver's webhook client does, trusting the serving CA.
func anonymousClient(t *testing.T) *http.Client {
	t.Helper()
	caPEM, err := os.ReadFile(filepath.Join(filepath.Dir(cluster.Kubeconfig), "pki", "kruise-ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost"}}
	t.Cleanup(transport.CloseIdleConnections)
	return &http.Client{Timeout: 30 * time.Second, Transport: transport}
}

func anonymousPost(t *testing.T, port int, path string, body []byte) (int, []byte) {
	t.Helper()
	resp, err := anonymousClient(t).Post(fmt.Sprintf("https://127.0.0.1:%d%s", port, path), "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// TestWebhookEndpoints: kube-apiserver's webhook calls carry no
// credentials, so /webhooks/ answers anonymous requests (and nothing else
// does); a bad AdmissionReview gets 400, an unknown path 404.
func TestWebhookEndpoints(t *testing.T) {
	t.Parallel()
	port := cluster.KruiseReplicas()[0].Port

	code, body := anonymousPost(t, port, protection.Path, []byte("{"))
	if code != http.StatusBadRequest || !strings.Contains(string(body), "decoding the AdmissionReview") {
		t.Errorf("bad AdmissionReview: got %d %s, want 400", code, body)
	}
	code, body = anonymousPost(t, port, webhook.PathPrefix+"no-such-handler", []byte("{}"))
	if code != http.StatusNotFound {
		t.Errorf("unknown webhook path: got %d %s, want 404", code, body)
	}
	resp, err := anonymousClient(t).Get(fmt.Sprintf("https://127.0.0.1:%d/apis/apps.kruise.io/v1beta1/clonesets", port))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("anonymous LIST of CloneSets: got %d, want 403", resp.StatusCode)
	}

	// A well-formed review is answered, its uid echoed.
	review := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID: "e2e-uid", Operation: admissionv1.Delete, Name: "x", Namespace: "default",
			Resource:  metav1.GroupVersionResource{Version: "v1", Resource: "services"},
			OldObject: rawJSON(t, map[string]interface{}{"apiVersion": "v1", "kind": "Service", "metadata": map[string]interface{}{"name": "x", "labels": map[string]string{protectionLabel: "Always"}}}),
		},
	}
	code, body = anonymousPost(t, port, protection.Path, rawJSON(t, review).Raw)
	out := admissionv1.AdmissionReview{}
	if err := json.Unmarshal(body, &out); code != http.StatusOK || err != nil || out.Response == nil {
		t.Fatalf("AdmissionReview: got %d %s (%v)", code, body, err)
	}
	if out.Response.UID != "e2e-uid" || out.Response.Allowed || out.Response.Result.Code != 403 {
		t.Errorf("AdmissionReview: got %+v, want a 403 denial for uid e2e-uid", out.Response)
	}
}

// TestWebhooksLeaveKubeSystemAlone: every webhook of ours on Pods has a
// namespaceSelector that leaves out the cluster's own namespaces, and its
// handler admits a kube-system Pod untouched even when called directly; a
// Pod created in kube-system through kube-apiserver is stored as sent.
func TestWebhooksLeaveKubeSystemAlone(t *testing.T) {
	t.Parallel()
	var mutating admissionregistrationv1.MutatingWebhookConfiguration
	if err := json.Unmarshal([]byte(kubectl(t, "get", "mutatingwebhookconfiguration", "kruise-apiserver", "-o", "json")), &mutating); err != nil {
		t.Fatal(err)
	}
	var validating admissionregistrationv1.ValidatingWebhookConfiguration
	if err := json.Unmarshal([]byte(kubectl(t, "get", "validatingwebhookconfiguration", "kruise-apiserver", "-o", "json")), &validating); err != nil {
		t.Fatal(err)
	}
	type podWebhook struct {
		name, path string
		selector   *metav1.LabelSelector
	}
	var podWebhooks []podWebhook
	onPods := func(rules []admissionregistrationv1.RuleWithOperations) bool {
		for _, r := range rules {
			if slices.Contains(r.APIGroups, "") && (slices.Contains(r.Resources, "pods") || slices.Contains(r.Resources, "*") || slices.Contains(r.Resources, "pods/*")) {
				return true
			}
		}
		return false
	}
	for _, w := range mutating.Webhooks {
		if onPods(w.Rules) {
			podWebhooks = append(podWebhooks, podWebhook{w.Name, *w.ClientConfig.Service.Path, w.NamespaceSelector})
		}
	}
	for _, w := range validating.Webhooks {
		if onPods(w.Rules) {
			podWebhooks = append(podWebhooks, podWebhook{w.Name, *w.ClientConfig.Service.Path, w.NamespaceSelector})
		}
	}
	for _, w := range podWebhooks {
		excluded := false
		if w.selector != nil {
			for _, e := range w.selector.MatchExpressions {
				if e.Key == "kubernetes.io/metadata.name" && e.Operator == metav1.LabelSelectorOpNotIn &&
					slices.Contains(e.Values, "kube-system") && slices.Contains(e.Values, "kube-public") && slices.Contains(e.Values, "kube-node-lease") {
					excluded = true
				}
			}
		}
		if !excluded {
			t.Errorf("webhook %s on Pods: namespaceSelector %v does not leave out kube-system, kube-public and kube-node-lease", w.name, w.selector)
		}
		// The handler itself, called for a kube-system Pod that a
		// workload of a user's would own.
		pod := map[string]interface{}{
			"apiVersion": "v1", "kind": "Pod",
			"metadata": map[string]interface{}{
				"name": "system-pod", "namespace": "kube-system", "labels": map[string]string{"app": "web"},
				"ownerReferences": []interface{}{map[string]interface{}{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-1", "uid": "d6f4d2a4-0000-0000-0000-000000000001", "controller": true}},
			},
			"spec": map[string]interface{}{"containers": []interface{}{map[string]interface{}{"name": "c", "image": "example.invalid/c:v1"}}},
		}
		review := admissionv1.AdmissionReview{
			TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
			Request: &admissionv1.AdmissionRequest{
				UID: "kube-system-pod", Operation: admissionv1.Create, Name: "system-pod", Namespace: "kube-system",
				Kind:     metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
				Resource: metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
				Object:   rawJSON(t, pod),
			},
		}
		code, body := anonymousPost(t, cluster.KruiseReplicas()[0].Port, w.path, rawJSON(t, review).Raw)
		out := admissionv1.AdmissionReview{}
		if err := json.Unmarshal(body, &out); code != http.StatusOK || err != nil || out.Response == nil {
			t.Fatalf("%s: got %d %s (%v)", w.path, code, body, err)
		}
		if !out.Response.Allowed || len(out.Response.Patch) != 0 {
			t.Errorf("%s: a kube-system Pod got %+v, want admitted untouched", w.path, out.Response)
		}
	}
	if len(podWebhooks) == 0 {
		t.Log("no webhook of ours acts on Pods yet: only the Pod below is checked")
	}

	// Never scheduled (no node has that label), so it never runs.
	name := fmt.Sprintf("e2e-untouched-%d", namespaces.Add(1))
	manifest := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %s
  labels: {app: web, e2e: untouched}
  annotations: {e2e: untouched}
spec:
  nodeSelector: {e2e.kruise.io/no-such-node: "true"}
  containers:
  - name: c
    image: example.invalid/c:v1
`, name)
	kubectlIn(t, manifest, "-n", "kube-system", "apply", "-f", "-")
	t.Cleanup(func() { runKubectl("", "-n", "kube-system", "delete", "pod", name, "--wait=false") })
	got := kubectl(t, "-n", "kube-system", "get", "pod", name, "-o", `jsonpath={.metadata.labels}{"\n"}{.metadata.annotations}{"\n"}{.spec.containers[*].name}{"\n"}{.spec.initContainers}{"\n"}{.spec.affinity}`)
	want := `{"app":"web","e2e":"untouched"}` + "\n" + `{"e2e":"untouched","kubectl.kubernetes.io/last-applied-configuration":`
	if !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "\nc\n\n") {
		t.Errorf("the kube-system Pod was changed on admission:\n%s", got)
	}
}

func rawJSON(t *testing.T, v interface{}) (raw runtime.RawExtension) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	raw.Raw = data
	return raw
}

// TestWebhooksWhileKruiseIsDown stops every kruise-apiserver replica (not
// in parallel with other tests): unlabelled objects are deleted as ever,
// Pods are still created, and a labelled object is refused (failurePolicy
// Fail) rather than let go unchecked.
func TestWebhooksWhileKruiseIsDown(t *testing.T) {
	ns := namespace(t)
	kubectl(t, "-n", ns, "create", "service", "clusterip", "guarded", "--tcp=80:8080")
	kubectl(t, "-n", ns, "label", "svc", "guarded", protectionLabel+"=Always")
	kubectl(t, "-n", ns, "create", "service", "clusterip", "plain", "--tcp=80:8080")
	waitForDefaultServiceAccount(t, ns)

	cluster.StopKruise()
	restarted := false
	defer func() {
		if !restarted {
			_ = cluster.StartKruise(context.Background())
		}
	}()

	kubectl(t, "-n", ns, "delete", "svc", "plain")
	stderr := kubectlFails(t, "-n", ns, "delete", "svc", "guarded")
	expectContains(t, "delete of a protected Service while kruise-apiserver is down", stderr, `failed calling webhook "`+protectionWebhook+`"`)
	image := "example.invalid/testapp:v1"
	if withNode {
		image = cluster.Images.TestAppV1
	}
	kubectlIn(t, testAppPod("created-while-down", image), "-n", ns, "apply", "-f", "-")
	kubectl(t, "-n", ns, "get", "pod", "created-while-down")

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := cluster.StartKruise(ctx); err != nil {
		t.Fatal(err)
	}
	restarted = true
	waitFor(t, "the webhook to answer again", func() error {
		r := runKubectl("", "-n", ns, "delete", "svc", "guarded", "--dry-run=server")
		if !strings.Contains(r.stderr, deniedAlways) {
			return fmt.Errorf("%s", r)
		}
		return nil
	})
	kubectl(t, "-n", ns, "label", "svc", "guarded", protectionLabel+"-")
	kubectl(t, "-n", ns, "delete", "svc", "guarded")
	kubectl(t, "-n", ns, "delete", "pod", "created-while-down", "--wait=false")
}
