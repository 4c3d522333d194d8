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

// Package standalone provides what kruise-apiserver needs to run without a
// kube-apiserver: its own certificate authority, serving certificate and
// admin client certificate, and a kubeconfig that uses them.
package standalone

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/fileutil"
	certutil "k8s.io/client-go/util/cert"
)

const (
	// CACommonName is the subject CN of the generated CA.
	CACommonName = "kruise-apiserver-ca"
	// ServingCommonName is the subject CN of the generated serving certificate.
	ServingCommonName = "kruise-apiserver"
	// AdminUser is the user name (subject CN) of the admin client certificate.
	AdminUser = "kruise-admin"
	// AdminGroup is the group (subject O) of the admin client certificate.
	// k8s.io/apiserver's authorizer allows this group everything (it is in
	// DelegatingAuthorizationOptions.AlwaysAllowGroups and bound to
	// cluster-admin by RBAC bootstrapping), so the admin has full access
	// before any RBAC object exists.
	AdminGroup = "system:masters"

	// Certificates are renewed this long before they expire so that a server
	// restarted shortly before expiry does not hand out a certificate that
	// stops working while it runs.
	renewBefore = 30 * 24 * time.Hour
	// leafValidity is short enough to limit the use of a leaked key and long
	// enough that restarting once a year renews everything.
	leafValidity = 365 * 24 * time.Hour
	// backdate tolerates clients whose clocks run slightly behind ours.
	backdate = 5 * time.Minute
)

// File names under the PKI directory.
const (
	CACertFileName      = "ca.crt"
	CAKeyFileName       = "ca.key"
	ServingCertFileName = "serving.crt"
	ServingKeyFileName  = "serving.key"
	AdminCertFileName   = "admin.crt"
	AdminKeyFileName    = "admin.key"
	lockFileName        = ".lock"
)

// Names reported in PKI.Generated.
const (
	GeneratedCA      = "ca"
	GeneratedServing = "serving"
	GeneratedAdmin   = "admin"
)

// PKI describes the certificates EnsurePKI keeps under a directory.
type PKI struct {
	Dir string

	CACertFile      string
	CAKeyFile       string
	ServingCertFile string
	ServingKeyFile  string
	AdminCertFile   string
	AdminKeyFile    string

	// CACert is the certificate that signs the serving and admin
	// certificates; CAPool contains it, for verifying either of them.
	CACert *x509.Certificate
	CAPool *x509.CertPool

	// Generated lists what this call created or replaced (GeneratedCA,
	// GeneratedServing, GeneratedAdmin), so the caller can log it. A new CA
	// in particular invalidates every kubeconfig written before.
	Generated []string
}

// EnsurePKI makes sure dir holds a CA, a serving certificate valid for hosts
// and ips (plus localhost, 127.0.0.1 and ::1), and an admin client
// certificate in the system:masters group, all signed by that CA.
//
// Existing files are reused when they parse, belong to their key, chain to
// the CA and are not within 30 days of expiry; the serving certificate must
// also cover every requested name. Only what fails those checks is replaced.
// A valid CA is never replaced, since that would invalidate every kubeconfig
// already handed out; this also means an operator may put their own CA into
// ca.crt/ca.key and have the leaves signed by it.
//
// Concurrent callers on the same dir, in this or another process, are
// serialized with a lock file.
func EnsurePKI(dir string, hosts []string, ips []net.IP) (*PKI, error) {
	if dir == "" {
		return nil, errors.New("PKI directory must not be empty")
	}
	if err := ensurePrivateDir(dir); err != nil {
		return nil, fmt.Errorf("creating PKI directory: %w", err)
	}
	lock, err := fileutil.LockFile(filepath.Join(dir, lockFileName), os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("locking PKI directory %s: %w", dir, err)
	}
	defer func() { _ = lock.Close() }()

	p := &PKI{
		Dir:             dir,
		CACertFile:      filepath.Join(dir, CACertFileName),
		CAKeyFile:       filepath.Join(dir, CAKeyFileName),
		ServingCertFile: filepath.Join(dir, ServingCertFileName),
		ServingKeyFile:  filepath.Join(dir, ServingKeyFileName),
		AdminCertFile:   filepath.Join(dir, AdminCertFileName),
		AdminKeyFile:    filepath.Join(dir, AdminKeyFileName),
	}
	now := time.Now()

	ca, err := loadKeyPair(p.CACertFile, p.CAKeyFile)
	if err == nil {
		err = checkCA(ca.cert, now)
	}
	if err != nil {
		if ca, err = newCA(now); err != nil {
			return nil, fmt.Errorf("generating CA: %w", err)
		}
		if err := writeKeyPair(p.CACertFile, p.CAKeyFile, ca); err != nil {
			return nil, fmt.Errorf("writing CA: %w", err)
		}
		p.Generated = append(p.Generated, GeneratedCA)
	}
	p.CACert = ca.cert
	p.CAPool = x509.NewCertPool()
	p.CAPool.AddCert(ca.cert)

	serving := servingSpec(hosts, ips)
	admin := adminSpec()
	for _, l := range []struct {
		name              string
		spec              leafSpec
		certFile, keyFile string
	}{
		{GeneratedServing, serving, p.ServingCertFile, p.ServingKeyFile},
		{GeneratedAdmin, admin, p.AdminCertFile, p.AdminKeyFile},
	} {
		kp, err := loadKeyPair(l.certFile, l.keyFile)
		if err == nil {
			err = l.spec.check(kp.cert, p.CAPool, now)
		}
		if err == nil {
			// Older releases or umasks may have left the key readable by others.
			if err := os.Chmod(l.keyFile, 0o600); err != nil {
				return nil, err
			}
			continue
		}
		if kp, err = l.spec.sign(ca, now); err != nil {
			return nil, fmt.Errorf("generating %s certificate: %w", l.name, err)
		}
		if err := writeKeyPair(l.certFile, l.keyFile, kp); err != nil {
			return nil, fmt.Errorf("writing %s certificate: %w", l.name, err)
		}
		p.Generated = append(p.Generated, l.name)
	}
	if err := os.Chmod(p.CAKeyFile, 0o600); err != nil {
		return nil, err
	}
	return p, nil
}

func checkCA(c *x509.Certificate, now time.Time) error {
	if !c.IsCA || !c.BasicConstraintsValid {
		return errors.New("not a CA certificate")
	}
	if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageCertSign == 0 {
		return errors.New("CA certificate may not sign certificates")
	}
	return checkValidity(c, now)
}

func checkValidity(c *x509.Certificate, now time.Time) error {
	if now.Before(c.NotBefore) {
		return fmt.Errorf("certificate not valid before %s", c.NotBefore)
	}
	if now.Add(renewBefore).After(c.NotAfter) {
		return fmt.Errorf("certificate expires at %s", c.NotAfter)
	}
	return nil
}

func newCA(now time.Time) (*keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	cert, err := certutil.NewSelfSignedCACert(certutil.Config{
		CommonName: CACommonName,
		NotBefore:  now.Add(-backdate),
	}, key)
	if err != nil {
		return nil, err
	}
	return &keyPair{cert: cert, key: key}, nil
}

// leafSpec is what a leaf certificate must contain; it both signs new
// certificates and decides whether an existing one can be kept.
type leafSpec struct {
	subject  pkix.Name
	usage    x509.ExtKeyUsage
	dnsNames []string
	ips      []net.IP
}

func servingSpec(hosts []string, ips []net.IP) leafSpec {
	s := leafSpec{
		subject:  pkix.Name{CommonName: ServingCommonName},
		usage:    x509.ExtKeyUsageServerAuth,
		dnsNames: []string{"localhost"},
		ips:      []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	addIP := func(ip net.IP) {
		if !slices.ContainsFunc(s.ips, ip.Equal) {
			s.ips = append(s.ips, ip)
		}
	}
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		// An address given as a host name would otherwise end up as a DNS
		// SAN, which clients do not match against IP addresses.
		if ip := net.ParseIP(h); ip != nil {
			addIP(ip)
			continue
		}
		if !slices.ContainsFunc(s.dnsNames, func(n string) bool { return strings.EqualFold(n, h) }) {
			s.dnsNames = append(s.dnsNames, h)
		}
	}
	for _, ip := range ips {
		if ip != nil {
			addIP(ip)
		}
	}
	return s
}

func adminSpec() leafSpec {
	return leafSpec{
		subject: pkix.Name{CommonName: AdminUser, Organization: []string{AdminGroup}},
		usage:   x509.ExtKeyUsageClientAuth,
	}
}

func (s leafSpec) check(c *x509.Certificate, roots *x509.CertPool, now time.Time) error {
	if _, err := c.Verify(x509.VerifyOptions{
		Roots:       roots,
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{s.usage},
	}); err != nil {
		return err
	}
	if err := checkValidity(c, now); err != nil {
		return err
	}
	if c.Subject.CommonName != s.subject.CommonName || !slices.Equal(c.Subject.Organization, s.subject.Organization) {
		return fmt.Errorf("unexpected subject %q", c.Subject)
	}
	for _, n := range s.dnsNames {
		if !slices.ContainsFunc(c.DNSNames, func(have string) bool { return strings.EqualFold(have, n) }) {
			return fmt.Errorf("certificate does not cover DNS name %q", n)
		}
	}
	for _, ip := range s.ips {
		if !slices.ContainsFunc(c.IPAddresses, ip.Equal) {
			return fmt.Errorf("certificate does not cover IP address %s", ip)
		}
	}
	return nil
}

// sign issues a certificate for s from ca. client-go only has helpers for
// self-signed certificates, so the signing is done here.
func (s leafSpec) sign(ca *keyPair, now time.Time) (*keyPair, error) {
	return signLeaf(ca, s, now.Add(-backdate), now.Add(leafValidity))
}

func signLeaf(ca *keyPair, s leafSpec, notBefore, notAfter time.Time) (*keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, err
	}
	// A leaf outliving its CA would only be rejected later by clients.
	if notAfter.After(ca.cert.NotAfter) {
		notAfter = ca.cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          new(big.Int).Add(serial, big.NewInt(1)),
		Subject:               s.subject,
		DNSNames:              s.dnsNames,
		IPAddresses:           s.ips,
		NotBefore:             notBefore.UTC(),
		NotAfter:              notAfter.UTC(),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{s.usage},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &keyPair{cert: cert, key: key}, nil
}
