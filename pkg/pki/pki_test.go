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

package pki

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var serverSpec = LeafSpec{
	Subject:  pkix.Name{CommonName: "server", Organization: []string{"org"}},
	Usages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	DNSNames: []string{"localhost", "server.example"},
	IPs:      []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
}

type files struct{ dir, caCert, caKey, cert, key string }

func newFiles(t *testing.T) files {
	dir := t.TempDir()
	return files{
		dir:    dir,
		caCert: filepath.Join(dir, "ca.crt"),
		caKey:  filepath.Join(dir, "ca.key"),
		cert:   filepath.Join(dir, "leaf.crt"),
		key:    filepath.Join(dir, "leaf.key"),
	}
}

func mustCA(t *testing.T, f files, now time.Time) *CA {
	t.Helper()
	ca, _, err := LoadOrCreateCA(f.caCert, f.caKey, "test-ca", now)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func mustSign(t *testing.T, s LeafSpec, ca *CA, notBefore, notAfter time.Time) *KeyPair {
	t.Helper()
	kp, err := s.Sign(ca, notBefore, notAfter)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestLoadOrCreateCA(t *testing.T) {
	f := newFiles(t)
	now := time.Now()
	ca, created, err := LoadOrCreateCA(f.caCert, f.caKey, "test-ca", now)
	if err != nil || !created {
		t.Fatalf("first call: created=%v err=%v", created, err)
	}
	if !ca.Cert.IsCA || ca.Cert.Subject.CommonName != "test-ca" || ca.Cert.NotBefore.After(now) {
		t.Errorf("CA %q IsCA=%v NotBefore=%v", ca.Cert.Subject, ca.Cert.IsCA, ca.Cert.NotBefore)
	}
	if m := mode(t, f.caKey); m != 0o600 {
		t.Errorf("key mode %v, want 0600", m)
	}
	certPEM := readFile(t, f.caCert)

	// A loosened key mode is tightened, the CA itself kept, whatever its CN.
	if err := os.Chmod(f.caKey, 0o644); err != nil {
		t.Fatal(err)
	}
	again, created, err := LoadOrCreateCA(f.caCert, f.caKey, "other-name", now)
	if err != nil || created {
		t.Fatalf("second call: created=%v err=%v", created, err)
	}
	if !again.Cert.Equal(ca.Cert) || !bytes.Equal(certPEM, readFile(t, f.caCert)) {
		t.Error("valid CA was replaced")
	}
	if m := mode(t, f.caKey); m != 0o600 {
		t.Errorf("key mode %v after reuse, want 0600", m)
	}

	// Within RenewBefore of its expiry the CA is replaced.
	late := ca.Cert.NotAfter.Add(-RenewBefore + time.Hour)
	if _, created, err := LoadOrCreateCA(f.caCert, f.caKey, "test-ca", late); err != nil || !created {
		t.Fatalf("expiring CA: created=%v err=%v", created, err)
	}
}

func TestLoadOrCreateCAReplacesUnusableFiles(t *testing.T) {
	now := time.Now()
	for name, corrupt := range map[string]func(t *testing.T, f files){
		"garbage certificate": func(t *testing.T, f files) {
			if err := os.WriteFile(f.caCert, []byte("garbage"), 0o644); err != nil {
				t.Fatal(err)
			}
		},
		"key of another CA": func(t *testing.T, f files) {
			other := newFiles(t)
			mustCA(t, other, now)
			if err := os.WriteFile(f.caKey, readFile(t, other.caKey), 0o600); err != nil {
				t.Fatal(err)
			}
		},
		"leaf instead of CA": func(t *testing.T, f files) {
			leaf := mustSign(t, serverSpec, mustCA(t, f, now), now, now.Add(LeafValidity))
			if err := leaf.Write(f.caCert, f.caKey); err != nil {
				t.Fatal(err)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFiles(t)
			mustCA(t, f, now)
			corrupt(t, f)
			ca, created, err := LoadOrCreateCA(f.caCert, f.caKey, "test-ca", now)
			if err != nil || !created {
				t.Fatalf("created=%v err=%v", created, err)
			}
			if _, err := LoadKeyPair(f.caCert, f.caKey); err != nil || !ca.Cert.IsCA {
				t.Errorf("replacement CA unusable: %v", err)
			}
		})
	}
}

func TestLoadKeyPairRejectsForeignKey(t *testing.T) {
	f, other := newFiles(t), newFiles(t)
	now := time.Now()
	mustCA(t, f, now)
	mustCA(t, other, now)
	_, err := LoadKeyPair(f.caCert, other.caKey)
	if err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("err = %v, want a mismatch", err)
	}
}

func TestSign(t *testing.T) {
	f := newFiles(t)
	now := time.Now()
	ca := mustCA(t, f, now)
	kp := mustSign(t, serverSpec, ca, now, now.Add(LeafValidity))
	c := kp.Cert
	if c.IsCA || c.Subject.CommonName != "server" || c.Subject.Organization[0] != "org" {
		t.Errorf("leaf %q IsCA=%v", c.Subject, c.IsCA)
	}
	for _, h := range []string{"localhost", "server.example", "127.0.0.1", "::1"} {
		if err := c.VerifyHostname(h); err != nil {
			t.Error(err)
		}
	}
	if err := serverSpec.Check(c, ca, now); err != nil {
		t.Errorf("fresh leaf fails Check: %v", err)
	}

	// A leaf is never valid beyond its CA.
	long := mustSign(t, serverSpec, ca, now, ca.Cert.NotAfter.Add(time.Hour))
	if !long.Cert.NotAfter.Equal(ca.Cert.NotAfter) {
		t.Errorf("leaf NotAfter %v, CA NotAfter %v", long.Cert.NotAfter, ca.Cert.NotAfter)
	}
}

func TestCheck(t *testing.T) {
	f := newFiles(t)
	now := time.Now()
	ca := mustCA(t, f, now)
	otherCA := mustCA(t, newFiles(t), now)
	valid := func(s LeafSpec) *x509.Certificate {
		return mustSign(t, s, ca, now.Add(-time.Hour), now.Add(LeafValidity)).Cert
	}
	with := func(change func(s *LeafSpec)) LeafSpec {
		s := serverSpec
		change(&s)
		return s
	}

	for name, tc := range map[string]struct {
		spec LeafSpec
		cert *x509.Certificate
		now  time.Time
		ok   bool
	}{
		"valid": {serverSpec, valid(serverSpec), now, true},
		"names in other case, extra names": {
			with(func(s *LeafSpec) { s.DNSNames = []string{"SERVER.example"}; s.IPs = nil }),
			valid(serverSpec), now, true,
		},
		"expires within RenewBefore": {
			serverSpec, mustSign(t, serverSpec, ca, now.Add(-time.Hour), now.Add(RenewBefore-time.Hour)).Cert, now, false,
		},
		"expired": {
			serverSpec, mustSign(t, serverSpec, ca, now.Add(-2*time.Hour), now.Add(-time.Hour)).Cert, now, false,
		},
		"not yet valid": {
			serverSpec, mustSign(t, serverSpec, ca, now.Add(time.Hour), now.Add(LeafValidity)).Cert, now, false,
		},
		"clock past renewal": {serverSpec, valid(serverSpec), now.Add(LeafValidity - RenewBefore + time.Hour), false},
		"other CA": {
			serverSpec, mustSign(t, serverSpec, otherCA, now.Add(-time.Hour), now.Add(LeafValidity)).Cert, now, false,
		},
		"missing usage": {
			serverSpec, valid(with(func(s *LeafSpec) { s.Usages = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth} })), now, false,
		},
		"other CN": {
			serverSpec, valid(with(func(s *LeafSpec) { s.Subject = pkix.Name{CommonName: "x", Organization: []string{"org"}} })), now, false,
		},
		"other organization": {
			serverSpec, valid(with(func(s *LeafSpec) { s.Subject = pkix.Name{CommonName: "server"} })), now, false,
		},
		"missing DNS name": {
			with(func(s *LeafSpec) { s.DNSNames = append(s.DNSNames[:2:2], "new.example") }), valid(serverSpec), now, false,
		},
		"missing IP": {
			with(func(s *LeafSpec) { s.IPs = append(s.IPs[:2:2], net.ParseIP("192.0.2.1")) }), valid(serverSpec), now, false,
		},
	} {
		t.Run(name, func(t *testing.T) {
			err := tc.spec.Check(tc.cert, ca, tc.now)
			if (err == nil) != tc.ok {
				t.Errorf("Check = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestEnsure(t *testing.T) {
	f := newFiles(t)
	now := time.Now()
	ca := mustCA(t, f, now)

	created, err := serverSpec.Ensure(ca, f.cert, f.key, now)
	if err != nil || !created {
		t.Fatalf("first Ensure: created=%v err=%v", created, err)
	}
	kp, err := LoadKeyPair(f.cert, f.key)
	if err != nil {
		t.Fatal(err)
	}
	if d := kp.Cert.NotAfter.Sub(now); d < LeafValidity-time.Minute || d > LeafValidity+time.Minute {
		t.Errorf("leaf valid for %v, want %v", d, LeafValidity)
	}
	if m := mode(t, f.key); m != 0o600 {
		t.Errorf("key mode %v, want 0600", m)
	}
	before := readFile(t, f.cert)

	if err := os.Chmod(f.key, 0o644); err != nil {
		t.Fatal(err)
	}
	if created, err := serverSpec.Ensure(ca, f.cert, f.key, now); err != nil || created {
		t.Fatalf("second Ensure: created=%v err=%v", created, err)
	}
	if !bytes.Equal(before, readFile(t, f.cert)) {
		t.Error("valid leaf was replaced")
	}
	if m := mode(t, f.key); m != 0o600 {
		t.Errorf("key mode %v after reuse, want 0600", m)
	}

	// Once a new CA is in place the leaf no longer chains and is replaced.
	newCA := mustCA(t, newFiles(t), now)
	if created, err := serverSpec.Ensure(newCA, f.cert, f.key, now); err != nil || !created {
		t.Fatalf("Ensure with new CA: created=%v err=%v", created, err)
	}
	kp, err = LoadKeyPair(f.cert, f.key)
	if err != nil {
		t.Fatal(err)
	}
	if err := serverSpec.Check(kp.Cert, newCA, now); err != nil {
		t.Errorf("replaced leaf fails Check: %v", err)
	}
}
