package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"

	"github.com/kruise-apiserver/kruise-apiserver/internal/localup"
	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned"
	corev1 "k8s.io/api/core/v1"
)

// TestTypedClientThroughKubeAPIServer uses the generated clientset against
// kube-apiserver's address: create, get at both versions, list, watch,
// scale.
func TestTypedClientThroughKubeAPIServer(t *testing.T) {
	ns := namespace(t)
	client, err := versioned.NewForConfig(cluster.AdminConfig)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	clonesets := client.AppsV1beta1().CloneSets(ns)
	w, err := clonesets.Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	cs := &appsv1beta1.CloneSet{
		ObjectMeta: metav1.ObjectMeta{Name: "typed"},
		Spec: appsv1beta1.CloneSetSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "typed"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "typed"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "nginx:1.25"}}},
			},
		},
	}
	if _, err := clonesets.Create(ctx, cs, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-w.ResultChan():
		if ev.Type != watch.Added {
			t.Fatalf("first watch event %s", ev.Type)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no watch event through kube-apiserver")
	}
	alpha, err := client.AppsV1alpha1().CloneSets(ns).Get(ctx, "typed", metav1.GetOptions{})
	if err != nil || alpha.Spec.UpdateStrategy.Type != "ReCreate" {
		t.Fatalf("v1alpha1 get: %v %+v", err, alpha)
	}
	scale, err := clonesets.GetScale(ctx, "typed", metav1.GetOptions{})
	if err != nil || scale.Spec.Replicas != 2 || scale.Status.Selector != "app=typed" {
		t.Fatalf("scale: %v %+v", err, scale)
	}
	list, err := client.PolicyV1beta1().PodUnavailableBudgets(ns).List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 0 {
		t.Fatalf("policy list: %v", err)
	}
}

// TestRBAC: a user without a Role is refused; with a Role allowing get on
// clonesets, get works and delete is still refused.
func TestRBAC(t *testing.T) {
	ns := namespace(t)
	kubectlIn(t, cloneSetManifest("guarded", 1), "apply", "-n", ns, "-f", "-")

	stderr := kubectlFails(t, "--as=someone", "get", "clonesets", "-n", ns)
	expectContains(t, "get without a Role", stderr, `User "someone" cannot list resource "clonesets" in API group "apps.kruise.io"`)

	kubectl(t, "create", "role", "cloneset-reader", "-n", ns, "--verb=get", "--resource=clonesets.apps.kruise.io")
	kubectl(t, "create", "rolebinding", "someone-reads", "-n", ns, "--role=cloneset-reader", "--user=someone")
	waitFor(t, "the Role to apply", func() error {
		r := runKubectl("", "--as=someone", "get", "clone", "guarded", "-n", ns)
		if r.err != nil {
			return fmt.Errorf("%s", r)
		}
		return nil
	})
	stderr = kubectlFails(t, "--as=someone", "delete", "clone", "guarded", "-n", ns)
	expectContains(t, "delete with a get-only Role", stderr, `User "someone" cannot delete resource "clonesets"`)
}

// TestDelegatedAuthorization calls kruise-apiserver directly the way the
// aggregator does (front-proxy client certificate, user in headers), to
// show that it authorizes every request itself with SubjectAccessReviews
// against the cluster, not only kube-apiserver in front of it.
func TestDelegatedAuthorization(t *testing.T) {
	ns := namespace(t)
	client := aggregatorClient(t)
	get := func(user string, groups ...string) int {
		url := fmt.Sprintf("https://127.0.0.1:%d/apis/apps.kruise.io/v1beta1/namespaces/%s/clonesets", cluster.Ports()[localup.KruiseAPIServer], ns)
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("X-Remote-User", user)
		for _, g := range groups {
			req.Header.Add("X-Remote-Group", g)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("someone-else"); code != http.StatusForbidden {
		t.Fatalf("kruise-apiserver answered %d to an unauthorized user, want 403", code)
	}
	if code := get("an-admin", "system:masters"); code != http.StatusOK {
		t.Fatalf("kruise-apiserver answered %d to system:masters, want 200", code)
	}
}

// TestDeletionProtectionThroughKubeAPIServer: kubectl delete of a protected
// CloneSet shows our message unchanged.
func TestDeletionProtectionThroughKubeAPIServer(t *testing.T) {
	ns := namespace(t)
	kubectlIn(t, cloneSetManifest("precious", 2), "apply", "-n", ns, "-f", "-")
	kubectl(t, "label", "clone", "precious", "-n", ns, "policy.kruise.io/delete-protection=Always")
	stderr := kubectlFails(t, "delete", "clone", "precious", "-n", ns)
	expectContains(t, "delete of a protected CloneSet", stderr,
		`clonesets.apps.kruise.io "precious" is forbidden: forbidden by ResourcesProtectionDeletion for policy.kruise.io/delete-protection=Always`)

	kubectl(t, "label", "clone", "precious", "-n", ns, "policy.kruise.io/delete-protection=Cascading", "--overwrite")
	stderr = kubectlFails(t, "delete", "clone", "precious", "-n", ns)
	expectContains(t, "delete of a Cascading CloneSet with replicas", stderr, "policy.kruise.io/delete-protection=Cascading and replicas 2>0")
	kubectl(t, "scale", "clone", "precious", "-n", ns, "--replicas=0")
	kubectl(t, "delete", "clone", "precious", "-n", ns)
}

// TestBackendOutage stops kruise-apiserver: requests through kube-apiserver
// fail with 503, and work again once it is back, with the data intact.
func TestBackendOutage(t *testing.T) {
	ns := namespace(t)
	kubectlIn(t, cloneSetManifest("survivor", 1), "apply", "-n", ns, "-f", "-")

	cluster.StopKruise()
	restarted := false
	defer func() {
		if !restarted {
			_ = cluster.StartKruise(context.Background())
		}
	}()
	r := runKubectl("", "get", "--raw", "/apis/apps.kruise.io/v1beta1/namespaces/"+ns+"/clonesets")
	if r.err == nil || !(strings.Contains(r.stderr, "503") || strings.Contains(r.stderr, "ServiceUnavailable") || strings.Contains(r.stderr, "unable to handle the request")) {
		failWith(t, r, "expected 503 Service Unavailable while kruise-apiserver is down")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := cluster.StartKruise(ctx); err != nil {
		t.Fatal(err)
	}
	restarted = true
	waitFor(t, "clonesets to be served again", func() error {
		r := runKubectl("", "get", "clone", "survivor", "-n", ns, "-o", "name")
		if r.err != nil || strings.TrimSpace(r.stdout) != "cloneset.apps.kruise.io/survivor" {
			return fmt.Errorf("%s", r)
		}
		return nil
	})
}

// waitFor polls check for up to three minutes.
func waitFor(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v\n--- kruise-apiserver log (tail):\n%s", what, err, cluster.LogTail(localup.KruiseAPIServer, 30))
		}
		time.Sleep(time.Second)
	}
}
