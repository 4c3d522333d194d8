package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var namespaces atomic.Int32

// namespace creates a namespace for one test and deletes it (without
// waiting) when the test ends.
func namespace(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("e2e-%s-%d", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), namespaces.Add(1))
	if len(name) > 63 {
		name = name[:63]
	}
	name = strings.Trim(name, "-")
	kubectl(t, "create", "namespace", name)
	t.Cleanup(func() { runKubectl("", "delete", "namespace", name, "--wait=false") })
	return name
}

// withoutPods keeps Pods out of ns with a ResourceQuota of zero pods, for
// tests of the API whose workloads need not run, and waits until the quota
// is in force (kube-controller-manager's resource quota controller has
// computed its status; until then kube-apiserver admits every pod).
// Without the node there is no quota controller, and pods do not run.
func withoutPods(t *testing.T, ns string) {
	t.Helper()
	if !withNode {
		return
	}
	kubectl(t, "-n", ns, "create", "quota", "no-pods", "--hard=pods=0")
	kubectl(t, "-n", ns, "wait", "resourcequota/no-pods", "--for=jsonpath={.status.used.pods}=0", "--timeout=1m")
}

// cloneSetManifest is a minimal v1beta1 CloneSet.
func cloneSetManifest(name string, replicas int) string {
	return fmt.Sprintf(`apiVersion: apps.kruise.io/v1beta1
kind: CloneSet
metadata:
  name: %s
spec:
  replicas: %d
  selector:
    matchLabels: {app: %s}
  template:
    metadata:
      labels: {app: %s}
    spec:
      containers:
      - name: main
        image: nginx:1.25
      - name: sidecar
        image: busybox:1.36
`, name, replicas, name, name)
}

// aggregatorClient is an HTTP client that reaches kruise-apiserver directly
// the way kube-apiserver's aggregator does: with the front-proxy client
// certificate, trusting the kruise serving CA. Requests name the user in
// X-Remote-User and X-Remote-Group.
func aggregatorClient(t *testing.T) *http.Client {
	t.Helper()
	pkiDir := filepath.Join(filepath.Dir(cluster.Kubeconfig), "pki")
	clientCert, err := tls.LoadX509KeyPair(filepath.Join(pkiDir, "front-proxy-client.crt"), filepath.Join(pkiDir, "front-proxy-client.key"))
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(filepath.Join(pkiDir, "kruise-ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	transport := &http.Transport{TLSClientConfig: &tls.Config{Certificates: []tls.Certificate{clientCert}, RootCAs: roots, ServerName: "localhost"}}
	t.Cleanup(transport.CloseIdleConnections)
	return &http.Client{Timeout: 30 * time.Second, Transport: transport}
}
