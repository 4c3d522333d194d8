/*
Copyright The kruise-apiserver Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package standalone

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

func TestWriteKubeconfig(t *testing.T) {
	dataDir := t.TempDir()
	p := mustEnsure(t, filepath.Join(dataDir, "pki"), nil, nil)
	path := filepath.Join(dataDir, "kubeconfig")

	if err := WriteKubeconfig(path, "https://127.0.0.1:1111", p); err != nil {
		t.Fatal(err)
	}
	// Rewriting with a new port replaces the file, mode included.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteKubeconfig(path, "https://127.0.0.1:2222", p); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("kubeconfig mode = %v, want 0600", fi.Mode().Perm())
	}
	entries, err := os.ReadDir(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}

	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CurrentContext != "kruise-apiserver" {
		t.Errorf("current-context = %q", cfg.CurrentContext)
	}
	ctx := cfg.Contexts["kruise-apiserver"]
	if ctx == nil || ctx.Cluster != "kruise-apiserver" || ctx.AuthInfo != "kruise-admin" {
		t.Fatalf("context = %+v", ctx)
	}
	cluster := cfg.Clusters["kruise-apiserver"]
	if cluster == nil || cluster.Server != "https://127.0.0.1:2222" {
		t.Fatalf("cluster = %+v", cluster)
	}
	caPEM, err := os.ReadFile(p.CACertFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cluster.CertificateAuthorityData, caPEM) {
		t.Error("CA data is not ca.crt")
	}
	user := cfg.AuthInfos["kruise-admin"]
	if user == nil || len(user.ClientCertificateData) == 0 || len(user.ClientKeyData) == 0 {
		t.Fatalf("user = %+v", user)
	}

	rc, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	if rc.Host != "https://127.0.0.1:2222" || len(rc.TLSClientConfig.CAData) == 0 || len(rc.TLSClientConfig.CertData) == 0 || len(rc.TLSClientConfig.KeyData) == 0 {
		t.Errorf("rest config = %+v", rc)
	}
}

func TestWriteKubeconfigRejectsBadInput(t *testing.T) {
	p := mustEnsure(t, t.TempDir(), nil, nil)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	for _, u := range []string{"http://127.0.0.1:1", "127.0.0.1:6443", "https://", "://x"} {
		if err := WriteKubeconfig(path, u, p); err == nil {
			t.Errorf("server URL %q accepted", u)
		}
	}
	if err := WriteKubeconfig(path, "https://127.0.0.1:1", nil); err == nil {
		t.Error("nil PKI accepted")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("kubeconfig written for bad input: %v", err)
	}
}

// TestKubeconfigTLSHandshake serves with the serving certificate and
// requires client certificates from the CA, as the API server does, and
// checks that a client built only from the kubeconfig gets through as the
// admin.
func TestKubeconfigTLSHandshake(t *testing.T) {
	dataDir := t.TempDir()
	p := mustEnsure(t, filepath.Join(dataDir, "pki"), nil, nil)

	servingCert, err := tls.LoadX509KeyPair(p.ServingCertFile, p.ServingKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
			http.Error(w, "no verified client certificate", http.StatusUnauthorized)
			return
		}
		subj := r.TLS.VerifiedChains[0][0].Subject
		_ = json.NewEncoder(w).Encode(map[string]any{"user": subj.CommonName, "groups": subj.Organization})
	}))
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{servingCert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    p.CAPool,
		MinVersion:   tls.VersionTLS12,
	}
	// The last check below fails a handshake on purpose; keep it out of the log.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()

	path := filepath.Join(dataDir, "kubeconfig")
	if err := WriteKubeconfig(path, srv.URL, p); err != nil {
		t.Fatal(err)
	}
	rc, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	hc, err := rest.HTTPClientFor(rc)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, rc.Host+"/whoami", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("request with kubeconfig credentials failed: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %s", resp.Status)
	}
	var who struct {
		User   string
		Groups []string
	}
	if err := json.NewDecoder(resp.Body).Decode(&who); err != nil {
		t.Fatal(err)
	}
	if who.User != "kruise-admin" || !slices.Equal(who.Groups, []string{"system:masters"}) {
		t.Errorf("server saw user %q groups %v", who.User, who.Groups)
	}

	// The kubeconfig's CA must be what makes the server trusted: a client
	// trusting only another CA fails the handshake.
	other := mustEnsure(t, t.TempDir(), nil, nil)
	rc2 := rest.CopyConfig(rc)
	if rc2.TLSClientConfig.CAData, err = os.ReadFile(other.CACertFile); err != nil {
		t.Fatal(err)
	}
	hc2, err := rest.HTTPClientFor(rc2)
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := hc2.Get(rc.Host + "/whoami"); err == nil {
		_ = resp.Body.Close()
		t.Error("server certificate accepted by a client trusting another CA")
	}
}
