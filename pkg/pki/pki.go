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

// Package pki keeps a small private certificate authority and the leaf
// certificates it signs in PEM files, reusing what is still valid across
// restarts and replacing what is not.
package pki

import (
	"crypto"
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
	"slices"
	"strings"
	"time"

	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"
)

const (
	// RenewBefore makes a restart renew certificates well before they
	// expire, so that they cannot expire under a long-running server.
	RenewBefore = 30 * 24 * time.Hour
	// LeafValidity is short enough to limit the use of a leaked key and long
	// enough that restarting once a year renews everything.
	LeafValidity = 365 * 24 * time.Hour
	// backdate tolerates clients whose clocks run slightly behind ours.
	backdate = 5 * time.Minute
)

// KeyPair is a certificate together with the private key of its public key.
type KeyPair struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// LoadKeyPair reads a PEM certificate and key and checks that they belong
// together. The check matters because the two files are written one after the
// other: a crash in between leaves a new key next to an old certificate, and
// that pair must be treated as stale rather than served.
func LoadKeyPair(certFile, keyFile string) (*KeyPair, error) {
	certs, err := certutil.CertsFromFile(certFile)
	if err != nil {
		return nil, err
	}
	rawKey, err := keyutil.PrivateKeyFromFile(keyFile)
	if err != nil {
		return nil, err
	}
	key, ok := rawKey.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: unsupported private key type %T", keyFile, rawKey)
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(certs[0].PublicKey) {
		return nil, fmt.Errorf("%s does not match the public key of %s", keyFile, certFile)
	}
	return &KeyPair{Cert: certs[0], Key: key}, nil
}

// Write writes the key before the certificate so that a reader never sees a
// new certificate paired with an old key for longer than the window that
// LoadKeyPair already detects.
func (kp *KeyPair) Write(certFile, keyFile string) error {
	keyPEM, err := keyutil.MarshalPrivateKeyToPEM(kp.Key)
	if err != nil {
		return fmt.Errorf("encoding private key for %s: %w", keyFile, err)
	}
	certPEM, err := certutil.EncodeCertificates(kp.Cert)
	if err != nil {
		return fmt.Errorf("encoding certificate for %s: %w", certFile, err)
	}
	if err := WriteFileAtomic(keyFile, keyPEM, 0o600); err != nil {
		return err
	}
	return WriteFileAtomic(certFile, certPEM, 0o644)
}

// CA is a key pair that signs leaf certificates.
type CA struct {
	KeyPair
}

// LoadOrCreateCA returns the CA in certFile and keyFile, or a new self-signed
// one named commonName, written there, if those files do not hold a CA that
// can sign and is valid for at least RenewBefore; created tells which.
//
// A CA that is still usable is never replaced, since that would invalidate
// everything handed out with it; the CN is deliberately not checked, so an
// operator may put their own CA in place.
func LoadOrCreateCA(certFile, keyFile, commonName string, now time.Time) (ca *CA, created bool, err error) {
	if kp, err := LoadKeyPair(certFile, keyFile); err == nil && checkCA(kp.Cert, now) == nil {
		// Older releases or umasks may have left the key readable by others.
		if err := os.Chmod(keyFile, 0o600); err != nil {
			return nil, false, err
		}
		return &CA{KeyPair: *kp}, false, nil
	}
	key, err := newKey()
	if err != nil {
		return nil, false, fmt.Errorf("generating CA: %w", err)
	}
	cert, err := certutil.NewSelfSignedCACert(certutil.Config{CommonName: commonName, NotBefore: now.Add(-backdate)}, key)
	if err != nil {
		return nil, false, fmt.Errorf("generating CA: %w", err)
	}
	ca = &CA{KeyPair: KeyPair{Cert: cert, Key: key}}
	if err := ca.Write(certFile, keyFile); err != nil {
		return nil, false, fmt.Errorf("writing CA: %w", err)
	}
	return ca, true, nil
}

// Pool returns a pool holding only the CA, for verifying what it signed.
func (ca *CA) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return pool
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
	if now.Add(RenewBefore).After(c.NotAfter) {
		return fmt.Errorf("certificate expires at %s", c.NotAfter)
	}
	return nil
}

// LeafSpec is what a leaf certificate must contain; it both signs new
// certificates and decides whether an existing one can be kept.
type LeafSpec struct {
	Subject pkix.Name
	// Usages must all be allowed by a certificate, not just one of them as
	// in x509.VerifyOptions.
	Usages   []x509.ExtKeyUsage
	DNSNames []string
	IPs      []net.IP
}

// Check reports why c cannot be kept: it does not chain to ca for every
// usage, it expires within RenewBefore, its subject differs, or it misses one
// of the names. Extra names are accepted, so that asking for fewer names
// than before does not replace a certificate.
func (s LeafSpec) Check(c *x509.Certificate, ca *CA, now time.Time) error {
	roots := ca.Pool()
	for _, u := range s.Usages {
		if _, err := c.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{u}}); err != nil {
			return err
		}
	}
	if err := checkValidity(c, now); err != nil {
		return err
	}
	if c.Subject.CommonName != s.Subject.CommonName || !slices.Equal(c.Subject.Organization, s.Subject.Organization) {
		return fmt.Errorf("unexpected subject %q", c.Subject)
	}
	for _, n := range s.DNSNames {
		if !slices.ContainsFunc(c.DNSNames, func(have string) bool { return strings.EqualFold(have, n) }) {
			return fmt.Errorf("certificate does not cover DNS name %q", n)
		}
	}
	for _, ip := range s.IPs {
		if !slices.ContainsFunc(c.IPAddresses, ip.Equal) {
			return fmt.Errorf("certificate does not cover IP address %s", ip)
		}
	}
	return nil
}

// Sign issues a certificate for s with a new key. client-go only has helpers
// for self-signed certificates, so the signing is done here.
func (s LeafSpec) Sign(ca *CA, notBefore, notAfter time.Time) (*KeyPair, error) {
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, err
	}
	// A leaf outliving its CA would only be rejected later by clients.
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          new(big.Int).Add(serial, big.NewInt(1)),
		Subject:               s.Subject,
		DNSNames:              s.DNSNames,
		IPAddresses:           s.IPs,
		NotBefore:             notBefore.UTC(),
		NotAfter:              notAfter.UTC(),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           s.Usages,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &KeyPair{Cert: cert, Key: key}, nil
}

// Ensure keeps the key pair in certFile and keyFile if it passes Check, and
// otherwise replaces it with one signed by ca for LeafValidity; created
// tells which.
func (s LeafSpec) Ensure(ca *CA, certFile, keyFile string, now time.Time) (created bool, err error) {
	if kp, err := LoadKeyPair(certFile, keyFile); err == nil && s.Check(kp.Cert, ca, now) == nil {
		// Older releases or umasks may have left the key readable by others.
		return false, os.Chmod(keyFile, 0o600)
	}
	kp, err := s.Sign(ca, now.Add(-backdate), now.Add(LeafValidity))
	if err != nil {
		return false, fmt.Errorf("generating %s certificate: %w", s.Subject.CommonName, err)
	}
	if err := kp.Write(certFile, keyFile); err != nil {
		return false, fmt.Errorf("writing %s certificate: %w", s.Subject.CommonName, err)
	}
	return true, nil
}

func newKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}
