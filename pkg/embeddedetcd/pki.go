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

package embeddedetcd

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
	"path/filepath"
	"slices"
	"time"

	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"
)

const (
	caCommonName     = "kruise-apiserver-etcd-ca"
	serverCommonName = "kruise-apiserver-etcd"
	clientCommonName = "kruise-apiserver-etcd-client"

	// renewBefore makes a restart renew certificates well before they
	// expire, so they cannot expire under a long-running server.
	renewBefore  = 30 * 24 * time.Hour
	leafValidity = 365 * 24 * time.Hour
	backdate     = 5 * time.Minute
)

// TLSFiles are the PEM files a client of the embedded etcd needs: the CA that
// signed the server certificate and a client certificate with its key.
type TLSFiles struct {
	CAFile   string
	CertFile string
	KeyFile  string
}

type pkiFiles struct {
	caCert, caKey         string
	serverCert, serverKey string
	client                TLSFiles
}

func newPKIFiles(dir string) pkiFiles {
	caCert := filepath.Join(dir, "ca.crt")
	return pkiFiles{
		caCert:     caCert,
		caKey:      filepath.Join(dir, "ca.key"),
		serverCert: filepath.Join(dir, "server.crt"),
		serverKey:  filepath.Join(dir, "server.key"),
		client: TLSFiles{
			CAFile:   caCert,
			CertFile: filepath.Join(dir, "client.crt"),
			KeyFile:  filepath.Join(dir, "client.key"),
		},
	}
}

type keyPair struct {
	cert *x509.Certificate
	key  crypto.Signer
}

type leafSpec struct {
	commonName string
	usages     []x509.ExtKeyUsage
	dnsNames   []string
	ips        []net.IP
}

var (
	// The server certificate serves both listeners; on the peer listener
	// etcd would also present it as a client, hence ClientAuth.
	serverSpec = leafSpec{
		commonName: serverCommonName,
		usages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		dnsNames:   []string{"localhost"},
		ips:        []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	clientSpec = leafSpec{
		commonName: clientCommonName,
		usages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
)

// ensurePKI creates, or reuses when still valid, the CA and certificates
// under dir. The PKI is private to this process (clients get the paths from
// Server.ClientTLS on every start), so unlike a CA handed out to users it is
// simply replaced with everything it signed when it is no longer usable.
// The caller holds the data dir lock, so no other writer exists.
func ensurePKI(dir string) (pkiFiles, error) {
	files := newPKIFiles(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return files, err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return files, err
	}
	now := time.Now()

	ca, err := loadKeyPair(files.caCert, files.caKey)
	if err == nil {
		err = checkCA(ca.cert, now)
	}
	caRenewed := err != nil
	if caRenewed {
		if ca, err = newCA(now); err != nil {
			return files, fmt.Errorf("generating etcd CA: %w", err)
		}
		if err := writeKeyPair(files.caCert, files.caKey, ca); err != nil {
			return files, err
		}
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)

	for _, l := range []struct {
		spec              leafSpec
		certFile, keyFile string
	}{
		{serverSpec, files.serverCert, files.serverKey},
		{clientSpec, files.client.CertFile, files.client.KeyFile},
	} {
		if !caRenewed {
			kp, err := loadKeyPair(l.certFile, l.keyFile)
			if err == nil && l.spec.check(kp.cert, roots, now) == nil {
				continue
			}
		}
		kp, err := l.spec.sign(ca, now)
		if err != nil {
			return files, fmt.Errorf("generating etcd %s certificate: %w", l.spec.commonName, err)
		}
		if err := writeKeyPair(l.certFile, l.keyFile, kp); err != nil {
			return files, err
		}
	}
	return files, nil
}

func checkCA(c *x509.Certificate, now time.Time) error {
	if !c.IsCA || !c.BasicConstraintsValid {
		return errors.New("not a CA certificate")
	}
	return checkValidity(c, now)
}

func checkValidity(c *x509.Certificate, now time.Time) error {
	if now.Before(c.NotBefore) || now.Add(renewBefore).After(c.NotAfter) {
		return fmt.Errorf("certificate valid only from %s to %s", c.NotBefore, c.NotAfter)
	}
	return nil
}

func (s leafSpec) check(c *x509.Certificate, roots *x509.CertPool, now time.Time) error {
	for _, u := range s.usages {
		if _, err := c.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{u}}); err != nil {
			return err
		}
	}
	if err := checkValidity(c, now); err != nil {
		return err
	}
	if c.Subject.CommonName != s.commonName || !slices.Equal(c.DNSNames, s.dnsNames) ||
		!slices.EqualFunc(c.IPAddresses, s.ips, net.IP.Equal) {
		return errors.New("certificate names differ from what is required")
	}
	return nil
}

func newCA(now time.Time) (*keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	cert, err := certutil.NewSelfSignedCACert(certutil.Config{CommonName: caCommonName, NotBefore: now.Add(-backdate)}, key)
	if err != nil {
		return nil, err
	}
	return &keyPair{cert: cert, key: key}, nil
}

func (s leafSpec) sign(ca *keyPair, now time.Time) (*keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, err
	}
	notAfter := now.Add(leafValidity)
	if notAfter.After(ca.cert.NotAfter) {
		notAfter = ca.cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial.Add(serial, big.NewInt(1)),
		Subject:               pkix.Name{CommonName: s.commonName},
		DNSNames:              s.dnsNames,
		IPAddresses:           s.ips,
		NotBefore:             now.Add(-backdate).UTC(),
		NotAfter:              notAfter.UTC(),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           s.usages,
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

// loadKeyPair also checks that the key belongs to the certificate: the two
// are written one after the other, and a crash in between must read as stale.
func loadKeyPair(certFile, keyFile string) (*keyPair, error) {
	certs, err := certutil.CertsFromFile(certFile)
	if err != nil {
		return nil, err
	}
	raw, err := keyutil.PrivateKeyFromFile(keyFile)
	if err != nil {
		return nil, err
	}
	key, ok := raw.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: unsupported key type %T", keyFile, raw)
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(certs[0].PublicKey) {
		return nil, fmt.Errorf("%s does not match %s", keyFile, certFile)
	}
	return &keyPair{cert: certs[0], key: key}, nil
}

func writeKeyPair(certFile, keyFile string, kp *keyPair) error {
	keyPEM, err := keyutil.MarshalPrivateKeyToPEM(kp.key)
	if err != nil {
		return err
	}
	certPEM, err := certutil.EncodeCertificates(kp.cert)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(keyFile, keyPEM, 0o600); err != nil {
		return err
	}
	return writeFileAtomic(certFile, certPEM, 0o644)
}

// writeFileAtomic is used instead of certutil.WriteCert/keyutil.WriteKey,
// which write in place (a crash leaves a truncated file) and keep the mode of
// an existing file.
func writeFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	// Best effort: not every platform can fsync a directory, and a lost
	// rename only means regenerating the file on the next start.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
