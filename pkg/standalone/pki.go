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
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/fileutil"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/pki"
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
	if err := pki.EnsurePrivateDir(dir); err != nil {
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

	ca, created, err := pki.LoadOrCreateCA(p.CACertFile, p.CAKeyFile, CACommonName, now)
	if err != nil {
		return nil, err
	}
	if created {
		p.Generated = append(p.Generated, GeneratedCA)
	}
	p.CACert = ca.Cert
	p.CAPool = ca.Pool()

	for _, l := range []struct {
		name              string
		spec              pki.LeafSpec
		certFile, keyFile string
	}{
		{GeneratedServing, servingSpec(hosts, ips), p.ServingCertFile, p.ServingKeyFile},
		{GeneratedAdmin, adminSpec(), p.AdminCertFile, p.AdminKeyFile},
	} {
		generated, err := l.spec.Ensure(ca, l.certFile, l.keyFile, now)
		if err != nil {
			return nil, err
		}
		if generated {
			p.Generated = append(p.Generated, l.name)
		}
	}
	return p, nil
}

func servingSpec(hosts []string, ips []net.IP) pki.LeafSpec {
	s := pki.LeafSpec{
		Subject:  pkix.Name{CommonName: ServingCommonName},
		Usages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost"},
		IPs:      []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	addIP := func(ip net.IP) {
		if !slices.ContainsFunc(s.IPs, ip.Equal) {
			s.IPs = append(s.IPs, ip)
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
		if !slices.ContainsFunc(s.DNSNames, func(n string) bool { return strings.EqualFold(n, h) }) {
			s.DNSNames = append(s.DNSNames, h)
		}
	}
	for _, ip := range ips {
		if ip != nil {
			addIP(ip)
		}
	}
	return s
}

func adminSpec() pki.LeafSpec {
	return pki.LeafSpec{
		Subject: pkix.Name{CommonName: AdminUser, Organization: []string{AdminGroup}},
		Usages:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
}
