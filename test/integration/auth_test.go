package integration

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned"
	clientscheme "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned/scheme"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/pki"
	"github.com/kruise-apiserver/kruise-apiserver/test/integration/framework"
)

// clientWithCert returns a config for the server presenting a client
// certificate for user/groups signed by ca (nil: no certificate).
func clientWithCert(t *testing.T, s *framework.Server, ca *pki.CA, user string, groups ...string) *rest.Config {
	t.Helper()
	config := rest.AnonymousClientConfig(s.Config)
	if ca == nil {
		return config
	}
	spec := pki.LeafSpec{Subject: pkix.Name{CommonName: user, Organization: groups}, Usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	now := time.Now()
	kp, err := spec.Sign(ca, now.Add(-time.Minute), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "c.crt"), filepath.Join(dir, "c.key")
	if err := kp.Write(certFile, keyFile); err != nil {
		t.Fatal(err)
	}
	config.CertFile, config.KeyFile = certFile, keyFile
	return config
}

// TestStandaloneAuthorization checks --standalone's security: client
// certificates of its CA authenticate, system:masters may do everything,
// everyone else is forbidden, unknown certificates are unauthorized, and
// only the health endpoints are public.
func TestStandaloneAuthorization(t *testing.T) {
	s := framework.Start(t, "")
	ctx := context.Background()
	ca, _, err := pki.LoadOrCreateCA(filepath.Join(s.DataDir, "pki", "ca.crt"), filepath.Join(s.DataDir, "pki", "ca.key"), "unused", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	list := func(config *rest.Config) error {
		c, err := versioned.NewForConfig(config)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.AppsV1beta1().CloneSets(testNamespace).List(ctx, metav1.ListOptions{})
		return err
	}

	if err := list(clientWithCert(t, s, ca, "ops", "system:masters")); err != nil {
		t.Fatalf("system:masters: %v", err)
	}
	if err := list(clientWithCert(t, s, ca, "alice", "developers")); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `User "alice"`) {
		t.Fatalf("alice: got %v, want 403 naming the user", err)
	}
	if err := list(clientWithCert(t, s, nil, "")); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "system:anonymous") {
		t.Fatalf("anonymous: got %v, want 403", err)
	}
	stranger, _, err := pki.LoadOrCreateCA(filepath.Join(t.TempDir(), "ca.crt"), filepath.Join(t.TempDir(), "ca.key"), "stranger", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := list(clientWithCert(t, s, stranger, "mallory", "system:masters")); !apierrors.IsUnauthorized(err) {
		t.Fatalf("certificate of another CA: got %v, want 401", err)
	}

	anonymous, err := rest.RESTClientFor(withDefaults(rest.AnonymousClientConfig(s.Config)))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/readyz", "/livez", "/healthz"} {
		if body, err := anonymous.Get().AbsPath(path).DoRaw(ctx); err != nil || string(body) != "ok" {
			t.Fatalf("anonymous %s: %q %v", path, body, err)
		}
	}
	if _, err := anonymous.Get().AbsPath("/metrics").DoRaw(ctx); !apierrors.IsForbidden(err) {
		t.Fatalf("anonymous /metrics: got %v, want 403", err)
	}
}

func withDefaults(config *rest.Config) *rest.Config {
	config.GroupVersion = &metav1.SchemeGroupVersion
	config.NegotiatedSerializer = clientscheme.Codecs.WithoutConversion()
	return config
}
