package e2e

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kruise-apiserver/kruise-apiserver/internal/localup"
)

// requireNode skips tests that need Pods to run when the suite runs
// without the node (KRUISE_E2E_NODE=0).
func requireNode(t *testing.T) {
	t.Helper()
	if !withNode {
		t.Skip("no node (KRUISE_E2E_NODE=0)")
	}
}

// waitForDefaultServiceAccount waits for the ServiceAccount controller to
// create "default" in ns: Pods are refused until it exists.
func waitForDefaultServiceAccount(t *testing.T, ns string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		r := runKubectl("", "-n", ns, "get", "serviceaccount", "default", "-o", "name")
		if r.err == nil {
			return
		}
		if time.Now().After(deadline) {
			failWith(t, r, "no default ServiceAccount")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func testAppPod(name, image string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %s
  labels: {app: testapp}
spec:
  terminationGracePeriodSeconds: 5
  containers:
  - name: app
    image: %s
    ports: [{containerPort: 8080}]
    readinessProbe:
      httpGet: {path: /healthz, port: 8080}
      periodSeconds: 1
`, name, image)
}

// waitPodReady waits for a Pod's Ready condition; on timeout it shows the
// Pod, its events and the kubelet's log.
func waitPodReady(t *testing.T, ns, name string) {
	t.Helper()
	r := runKubectl("", "-n", ns, "wait", "--for=condition=Ready", "pod/"+name, "--timeout=2m")
	if r.err != nil {
		describe := runKubectl("", "-n", ns, "describe", "pod", name)
		t.Fatalf("%s\n%s\n--- kubelet log (tail):\n%s\n--- containerd log (tail):\n%s", r, describe.stdout,
			cluster.LogTail(localup.Kubelet, 30), cluster.LogTail(localup.Containerd, 15))
	}
}

// TestNodeRunsPods: Pods scheduled by kube-scheduler onto the real node
// pull the locally built images from the node's registry and run; logs
// and exec go through kube-apiserver to the kubelet; the two versions of
// the test image have different image IDs.
func TestNodeRunsPods(t *testing.T) {
	requireNode(t)
	ns := namespace(t)
	waitForDefaultServiceAccount(t, ns)
	images := cluster.Images

	start := time.Now()
	kubectlIn(t, testAppPod("testapp-v1", images.TestAppV1), "-n", ns, "apply", "-f", "-")
	waitPodReady(t, ns, "testapp-v1")
	t.Logf("testapp:v1 pod Ready %.1fs after kubectl apply (scheduling and image pull included)", time.Since(start).Seconds())

	status := kubectl(t, "-n", ns, "get", "pod", "testapp-v1", "-o",
		`jsonpath={.status.phase} {.spec.nodeName} {.status.containerStatuses[0].ready} {.status.podIP}`)
	fields := strings.Fields(status)
	if len(fields) != 4 || fields[0] != "Running" || fields[1] != localup.NodeName || fields[2] != "true" {
		t.Fatalf("pod testapp-v1: phase, node, ready, IP = %q; want Running %s true <ip>", status, localup.NodeName)
	}
	podIP := fields[3]

	t.Run("logs", func(t *testing.T) {
		// The start line, then one line per readiness probe.
		logs := kubectl(t, "-n", ns, "logs", "testapp-v1")
		expectContains(t, "kubectl logs", logs, "testapp v1 listening on :8080")
		expectContains(t, "kubectl logs", logs, "GET /healthz")
	})
	t.Run("exec", func(t *testing.T) {
		if got := strings.TrimSpace(kubectl(t, "-n", ns, "exec", "testapp-v1", "--", "/testapp", "version")); got != "v1" {
			t.Fatalf("kubectl exec testapp-v1 -- /testapp version = %q, want v1", got)
		}
		// busybox's sh and wget are in the image too; stdin goes through.
		got := kubectlIn(t, "wget -qO- http://127.0.0.1:8080/version\n", "-n", ns, "exec", "-i", "testapp-v1", "--", "sh")
		if strings.TrimSpace(got) != "v1" {
			t.Fatalf("kubectl exec -i testapp-v1 -- sh (wget /version) = %q, want v1", got)
		}
		r := runKubectl("", "-n", ns, "exec", "testapp-v1", "--", "sh", "-c", "exit 3")
		if r.err == nil || !strings.Contains(r.stderr, "exit code 3") {
			failWith(t, r, "expected exit code 3 from kubectl exec")
		}
	})
	t.Run("pod network from the host", func(t *testing.T) {
		// The host routes the pod CIDR to the node.
		client := &http.Client{Timeout: 10 * time.Second}
		resp, err := client.Get("http://" + podIP + ":8080/version")
		if err != nil {
			t.Fatalf("GET http://%s:8080/version from the host: %v", podIP, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.TrimSpace(string(body)) != "v1" {
			t.Fatalf("GET /version of pod testapp-v1 = %q, want v1", body)
		}
	})

	t.Run("image v2 has another image ID", func(t *testing.T) {
		kubectlIn(t, testAppPod("testapp-v2", images.TestAppV2), "-n", ns, "apply", "-f", "-")
		waitPodReady(t, ns, "testapp-v2")
		imageID := func(pod string) string {
			return kubectl(t, "-n", ns, "get", "pod", pod, "-o", "jsonpath={.status.containerStatuses[0].imageID}")
		}
		v1, v2 := imageID("testapp-v1"), imageID("testapp-v2")
		prefix := images.Registry + "/" + localup.ImageRepository + "/testapp@sha256:"
		if !strings.HasPrefix(v1, prefix) || !strings.HasPrefix(v2, prefix) {
			t.Fatalf("imageIDs %q and %q do not start with %q", v1, v2, prefix)
		}
		if v1 == v2 {
			t.Fatalf("testapp:v1 and testapp:v2 have the same imageID %s", v1)
		}
		if got := strings.TrimSpace(kubectl(t, "-n", ns, "exec", "testapp-v2", "--", "/testapp", "version")); got != "v2" {
			t.Fatalf("testapp-v2 runs version %q, want v2", got)
		}
	})

	t.Run("busybox pod runs to completion", func(t *testing.T) {
		kubectlIn(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: once}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: %s
    command: [sh, -c, 'echo hello from $(hostname); exit 0']
`, images.Busybox), "-n", ns, "apply", "-f", "-")
		r := runKubectl("", "-n", ns, "wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/once", "--timeout=2m")
		if r.err != nil {
			failWith(t, r)
		}
		expectContains(t, "kubectl logs once", kubectl(t, "-n", ns, "logs", "once"), "hello from once")
	})

	t.Run("deleted pods go away", func(t *testing.T) {
		start := time.Now()
		kubectl(t, "-n", ns, "delete", "pod", "testapp-v1", "testapp-v2", "once", "--wait=true", "--timeout=1m")
		t.Logf("three pods deleted in %.1fs", time.Since(start).Seconds())
	})
}
