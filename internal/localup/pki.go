package localup

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"k8s.io/client-go/util/keyutil"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/pki"
)

const (
	// KruiseNamespace and KruiseServiceName are where the APIServices point;
	// the serving certificate is issued for that Service's DNS name because
	// the aggregator verifies it.
	KruiseNamespace   = "kruise-system"
	KruiseServiceName = "kruise-apiserver"
	// KruiseUser is the identity kruise-apiserver uses towards
	// kube-apiserver: that of the ServiceAccount artifacts/ binds its RBAC
	// to, so local-up exercises the same rules as a cluster install.
	KruiseUser = "system:serviceaccount:" + KruiseNamespace + ":" + KruiseServiceName
	// DaemonNamespace and DaemonServiceAccount are kruise-daemon's in
	// artifacts/; DaemonUser is its identity (every node's daemon), so that
	// local-up exercises the ClusterRole artifacts/ gives it.
	DaemonNamespace      = "kruise-daemon"
	DaemonServiceAccount = "kruise-daemon"
	DaemonUser           = "system:serviceaccount:" + DaemonNamespace + ":" + DaemonServiceAccount
	// KubeletClientUser is kube-apiserver's identity towards kubelets (logs,
	// exec, port-forward), bound to system:kubelet-api-admin as in kubeadm.
	KubeletClientUser = "kube-apiserver-kubelet-client"
)

// certs are the PKI files of a local control plane.
type certs struct {
	dir string

	clusterCA, frontProxyCA, kruiseCA string

	apiserverServing, admin, controllerManager, frontProxyClient, kruiseClient, kruiseServing string
	serviceAccountKey                                                                         string

	// The node's: kube-apiserver's client certificate towards kubelets,
	// kube-scheduler's and the kubelet's (system:node:<NodeName> in
	// system:nodes, as the Node authorizer and NodeRestriction expect), and
	// kruise-daemon's.
	kubeletClient, scheduler, node, daemon string
}

// certPath and keyPath name the files of one key pair.
func (c *certs) certPath(name string) string { return filepath.Join(c.dir, name+".crt") }
func (c *certs) keyPath(name string) string  { return filepath.Join(c.dir, name+".key") }

// ensureCerts creates, or reuses when still valid, everything the control
// plane needs: a cluster CA with kube-apiserver's serving certificate and
// the client certificates of the admin, kube-controller-manager and
// kruise-apiserver; a front-proxy CA with the client certificate the
// aggregator presents to kruise-apiserver; kruise-apiserver's own serving CA
// (the APIServices' caBundle) and certificate; the ServiceAccount token key.
func ensureCerts(dir string) (*certs, error) {
	if err := pki.EnsurePrivateDir(dir); err != nil {
		return nil, err
	}
	c := &certs{
		dir:               dir,
		clusterCA:         "cluster-ca",
		frontProxyCA:      "front-proxy-ca",
		kruiseCA:          "kruise-ca",
		apiserverServing:  "kube-apiserver",
		admin:             "admin",
		controllerManager: "kube-controller-manager",
		frontProxyClient:  "front-proxy-client",
		kruiseClient:      "kruise-apiserver-client",
		kruiseServing:     "kruise-apiserver-serving",
		serviceAccountKey: filepath.Join(dir, "service-account.key"),
		kubeletClient:     "kube-apiserver-kubelet-client",
		scheduler:         "kube-scheduler",
		node:              "node-" + NodeName,
		daemon:            "kruise-daemon",
	}
	now := time.Now()
	loopback := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}
	client := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	server := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}

	leaves := []struct {
		ca, name string
		spec     pki.LeafSpec
	}{
		{c.clusterCA, c.apiserverServing, pki.LeafSpec{
			Subject: pkix.Name{CommonName: "kube-apiserver"}, Usages: server,
			DNSNames: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
			IPs:      append([]net.IP{net.ParseIP("10.0.0.1")}, loopback...),
		}},
		{c.clusterCA, c.admin, pki.LeafSpec{Subject: pkix.Name{CommonName: "kubernetes-admin", Organization: []string{"system:masters"}}, Usages: client}},
		{c.clusterCA, c.controllerManager, pki.LeafSpec{Subject: pkix.Name{CommonName: "system:kube-controller-manager"}, Usages: client}},
		{c.clusterCA, c.kruiseClient, pki.LeafSpec{
			Subject: pkix.Name{CommonName: KruiseUser, Organization: []string{"system:serviceaccounts", "system:serviceaccounts:" + KruiseNamespace}},
			Usages:  client,
		}},
		{c.clusterCA, c.kubeletClient, pki.LeafSpec{Subject: pkix.Name{CommonName: KubeletClientUser}, Usages: client}},
		{c.clusterCA, c.scheduler, pki.LeafSpec{Subject: pkix.Name{CommonName: "system:kube-scheduler"}, Usages: client}},
		{c.clusterCA, c.node, pki.LeafSpec{Subject: pkix.Name{CommonName: "system:node:" + NodeName, Organization: []string{"system:nodes"}}, Usages: client}},
		{c.clusterCA, c.daemon, pki.LeafSpec{
			Subject: pkix.Name{CommonName: DaemonUser, Organization: []string{"system:serviceaccounts", "system:serviceaccounts:" + DaemonNamespace}},
			Usages:  client,
		}},
		{c.frontProxyCA, c.frontProxyClient, pki.LeafSpec{Subject: pkix.Name{CommonName: "front-proxy-client"}, Usages: client}},
		{c.kruiseCA, c.kruiseServing, pki.LeafSpec{
			Subject: pkix.Name{CommonName: KruiseServiceName}, Usages: server,
			DNSNames: []string{KruiseServiceName + "." + KruiseNamespace + ".svc", KruiseServiceName + "." + KruiseNamespace + ".svc.cluster.local", "localhost"},
			IPs:      loopback,
		}},
	}
	cas := map[string]*pki.CA{}
	for _, name := range []string{c.clusterCA, c.frontProxyCA, c.kruiseCA} {
		ca, _, err := pki.LoadOrCreateCA(c.certPath(name), c.keyPath(name), "kruise-local-"+name, now)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		cas[name] = ca
	}
	for _, leaf := range leaves {
		if _, err := leaf.spec.Ensure(cas[leaf.ca], c.certPath(leaf.name), c.keyPath(leaf.name), now); err != nil {
			return nil, err
		}
	}
	if err := ensureServiceAccountKey(c.serviceAccountKey); err != nil {
		return nil, err
	}
	return c, nil
}

// ensureServiceAccountKey keeps the key that signs ServiceAccount tokens
// across restarts, so tokens issued before a restart stay valid.
func ensureServiceAccountKey(path string) error {
	if _, err := keyutil.PrivateKeyFromFile(path); err == nil {
		return nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	data, err := keyutil.MarshalPrivateKeyToPEM(key)
	if err != nil {
		return fmt.Errorf("encoding the service account key: %w", err)
	}
	return pki.WriteFileAtomic(path, data, 0o600)
}
