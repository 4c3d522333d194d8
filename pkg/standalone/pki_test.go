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
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	certutil "k8s.io/client-go/util/cert"
)

func readFiles(t *testing.T, p *PKI) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, f := range []string{p.CACertFile, p.CAKeyFile, p.ServingCertFile, p.ServingKeyFile, p.AdminCertFile, p.AdminKeyFile} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

func mustEnsure(t *testing.T, dir string, hosts []string, ips []net.IP) *PKI {
	t.Helper()
	p, err := EnsurePKI(dir, hosts, ips)
	if err != nil {
		t.Fatalf("EnsurePKI: %v", err)
	}
	return p
}

func loadCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	kp, err := loadKeyPair(path, path[:len(path)-len(".crt")]+".key")
	if err != nil {
		t.Fatal(err)
	}
	return kp.cert
}

func TestEnsurePKICreatesFilesWithPrivateModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	p := mustEnsure(t, dir, []string{"kruise.example"}, []net.IP{net.ParseIP("10.0.0.7")})

	if want := []string{GeneratedCA, GeneratedServing, GeneratedAdmin}; !slices.Equal(p.Generated, want) {
		t.Errorf("Generated = %v, want %v", p.Generated, want)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("dir mode = %v, want 0700", fi.Mode().Perm())
	}
	for _, f := range []string{p.CAKeyFile, p.ServingKeyFile, p.AdminKeyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, want 0600", f, fi.Mode().Perm())
		}
	}

	ca := loadCert(t, p.CACertFile)
	if ca.Subject.CommonName != CACommonName || !ca.IsCA {
		t.Errorf("CA subject %q IsCA=%v", ca.Subject, ca.IsCA)
	}
	if d := ca.NotAfter.Sub(time.Now()); d < 9*365*24*time.Hour {
		t.Errorf("CA valid for only %v", d)
	}
	if !ca.Equal(p.CACert) {
		t.Error("PKI.CACert differs from ca.crt")
	}

	serving := loadCert(t, p.ServingCertFile)
	if _, err := serving.Verify(x509.VerifyOptions{Roots: p.CAPool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Errorf("serving cert does not verify: %v", err)
	}
	for _, h := range []string{"localhost", "kruise.example", "127.0.0.1", "::1", "10.0.0.7"} {
		if err := serving.VerifyHostname(h); err != nil {
			t.Errorf("serving cert: %v", err)
		}
	}
	if d := serving.NotAfter.Sub(time.Now()); d < 360*24*time.Hour || d > 366*24*time.Hour {
		t.Errorf("serving cert valid for %v, want about a year", d)
	}
}

func TestEnsurePKIReusesValidFiles(t *testing.T) {
	dir := t.TempDir()
	hosts, ips := []string{"kruise.example"}, []net.IP{net.ParseIP("192.0.2.1")}
	first := readFiles(t, mustEnsure(t, dir, hosts, ips))

	// A subset of the names already covered, in another spelling, must not
	// cause a new serving certificate either.
	p := mustEnsure(t, dir, []string{"KRUISE.example", "192.0.2.1"}, nil)
	if len(p.Generated) != 0 {
		t.Errorf("Generated = %v, want nothing", p.Generated)
	}
	second := readFiles(t, p)
	for name, b := range first {
		if !bytes.Equal(b, second[name]) {
			t.Errorf("%s changed on reuse", name)
		}
	}
}

func TestEnsurePKIAddsSANWithoutNewCA(t *testing.T) {
	dir := t.TempDir()
	before := readFiles(t, mustEnsure(t, dir, nil, nil))

	p := mustEnsure(t, dir, []string{"new.example"}, []net.IP{net.ParseIP("2001:db8::1")})
	if want := []string{GeneratedServing}; !slices.Equal(p.Generated, want) {
		t.Errorf("Generated = %v, want %v", p.Generated, want)
	}
	after := readFiles(t, p)
	for _, name := range []string{CACertFileName, CAKeyFileName, AdminCertFileName, AdminKeyFileName} {
		if !bytes.Equal(before[name], after[name]) {
			t.Errorf("%s changed although only a SAN was added", name)
		}
	}
	if bytes.Equal(before[ServingCertFileName], after[ServingCertFileName]) {
		t.Fatal("serving cert was not regenerated")
	}
	serving := loadCert(t, p.ServingCertFile)
	for _, h := range []string{"new.example", "2001:db8::1", "localhost", "127.0.0.1"} {
		if err := serving.VerifyHostname(h); err != nil {
			t.Errorf("regenerated serving cert: %v", err)
		}
	}
}

// replaceLeaf overwrites a leaf with one signed by the same CA but valid
// only until notAfter.
func replaceLeaf(t *testing.T, p *PKI, certFile, keyFile string, spec leafSpec, notAfter time.Time) {
	t.Helper()
	ca, err := loadKeyPair(p.CACertFile, p.CAKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := signLeaf(ca, spec, notAfter.Add(-365*24*time.Hour), notAfter)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeKeyPair(certFile, keyFile, kp); err != nil {
		t.Fatal(err)
	}
}

func TestEnsurePKIRenewsExpiringAndExpiredLeaves(t *testing.T) {
	dir := t.TempDir()
	p := mustEnsure(t, dir, nil, nil)
	caBefore := readFiles(t, p)[CACertFileName]

	replaceLeaf(t, p, p.ServingCertFile, p.ServingKeyFile, servingSpec(nil, nil), time.Now().Add(10*24*time.Hour))
	replaceLeaf(t, p, p.AdminCertFile, p.AdminKeyFile, adminSpec(), time.Now().Add(-time.Hour))

	p = mustEnsure(t, dir, nil, nil)
	if want := []string{GeneratedServing, GeneratedAdmin}; !slices.Equal(p.Generated, want) {
		t.Errorf("Generated = %v, want %v", p.Generated, want)
	}
	if !bytes.Equal(caBefore, readFiles(t, p)[CACertFileName]) {
		t.Error("CA changed although it was valid")
	}
	for _, f := range []string{p.ServingCertFile, p.AdminCertFile} {
		if c := loadCert(t, f); time.Until(c.NotAfter) < 300*24*time.Hour {
			t.Errorf("%s not renewed, expires %v", f, c.NotAfter)
		}
	}
}

func TestEnsurePKIRegeneratesBrokenFiles(t *testing.T) {
	dir := t.TempDir()
	p := mustEnsure(t, dir, nil, nil)
	before := readFiles(t, p)

	// A key that does not belong to the certificate, as left by a crash
	// between writing the two files.
	other := mustEnsure(t, t.TempDir(), nil, nil)
	key, err := os.ReadFile(other.AdminKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.AdminKeyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.ServingCertFile, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}

	p = mustEnsure(t, dir, nil, nil)
	if want := []string{GeneratedServing, GeneratedAdmin}; !slices.Equal(p.Generated, want) {
		t.Errorf("Generated = %v, want %v", p.Generated, want)
	}
	if !bytes.Equal(before[CAKeyFileName], readFiles(t, p)[CAKeyFileName]) {
		t.Error("CA changed")
	}
}

func TestEnsurePKIReplacesLeavesOfAnotherCA(t *testing.T) {
	dir := t.TempDir()
	p := mustEnsure(t, dir, nil, nil)
	other := mustEnsure(t, t.TempDir(), nil, nil)
	for _, f := range [][2]string{{other.ServingCertFile, p.ServingCertFile}, {other.ServingKeyFile, p.ServingKeyFile}} {
		b, err := os.ReadFile(f[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f[1], b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p = mustEnsure(t, dir, nil, nil)
	if want := []string{GeneratedServing}; !slices.Equal(p.Generated, want) {
		t.Errorf("Generated = %v, want %v", p.Generated, want)
	}
}

func TestEnsurePKIReplacesExpiringCA(t *testing.T) {
	dir := t.TempDir()
	p := mustEnsure(t, dir, nil, nil)
	ca, err := loadKeyPair(p.CACertFile, p.CAKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	// Re-sign the CA so it expires in a week.
	tmpl := *ca.cert
	tmpl.NotAfter = time.Now().Add(7 * 24 * time.Hour)
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, ca.key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	if ca.cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	if err := writeKeyPair(p.CACertFile, p.CAKeyFile, ca); err != nil {
		t.Fatal(err)
	}

	p = mustEnsure(t, dir, nil, nil)
	if want := []string{GeneratedCA, GeneratedServing, GeneratedAdmin}; !slices.Equal(p.Generated, want) {
		t.Errorf("Generated = %v, want %v", p.Generated, want)
	}
}

func TestEnsurePKIKeepsOperatorCA(t *testing.T) {
	// An operator-provided CA with another name must be used, not replaced.
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := certutil.NewSelfSignedCACert(certutil.Config{CommonName: "corp-ca", Organization: []string{"Corp"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	ca := &keyPair{cert: cert, key: key}
	if err := writeKeyPair(filepath.Join(dir, CACertFileName), filepath.Join(dir, CAKeyFileName), ca); err != nil {
		t.Fatal(err)
	}
	p := mustEnsure(t, dir, nil, nil)
	if slices.Contains(p.Generated, GeneratedCA) {
		t.Errorf("Generated = %v, CA must be kept", p.Generated)
	}
	if !bytes.Equal(p.CACert.Raw, ca.cert.Raw) {
		t.Error("CA was replaced")
	}
}

func TestAdminCert(t *testing.T) {
	p := mustEnsure(t, t.TempDir(), nil, nil)
	admin := loadCert(t, p.AdminCertFile)
	if _, err := admin.Verify(x509.VerifyOptions{Roots: p.CAPool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("admin cert does not verify for client auth: %v", err)
	}
	if _, err := admin.Verify(x509.VerifyOptions{Roots: p.CAPool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err == nil {
		t.Error("admin cert must not be usable as a server certificate")
	}
	if admin.Subject.CommonName != "kruise-admin" || !slices.Equal(admin.Subject.Organization, []string{"system:masters"}) {
		t.Errorf("admin subject = %q", admin.Subject)
	}
}

func TestEnsurePKIConcurrent(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	results := make([]*PKI, 4)
	for i := range results {
		wg.Go(func() {
			p, err := EnsurePKI(dir, nil, nil)
			if err != nil {
				t.Error(err)
			}
			results[i] = p
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	generatedCA := 0
	for _, p := range results {
		if slices.Contains(p.Generated, GeneratedCA) {
			generatedCA++
		}
		if !p.CACert.Equal(results[0].CACert) {
			t.Error("callers saw different CAs")
		}
	}
	if generatedCA != 1 {
		t.Errorf("CA generated %d times, want once", generatedCA)
	}
	if _, err := loadKeyPair(results[0].CACertFile, results[0].CAKeyFile); err != nil {
		t.Error(err)
	}
}
