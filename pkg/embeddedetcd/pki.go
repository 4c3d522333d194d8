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
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"path/filepath"
	"time"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/pki"
)

const (
	caCommonName     = "kruise-apiserver-etcd-ca"
	serverCommonName = "kruise-apiserver-etcd"
	clientCommonName = "kruise-apiserver-etcd-client"
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

var (
	// The server certificate serves both listeners; on the peer listener
	// etcd would also present it as a client, hence ClientAuth.
	serverSpec = pki.LeafSpec{
		Subject:  pkix.Name{CommonName: serverCommonName},
		Usages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames: []string{"localhost"},
		IPs:      []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	clientSpec = pki.LeafSpec{
		Subject: pkix.Name{CommonName: clientCommonName},
		Usages:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
)

// ensurePKI creates, or reuses when still valid, the CA and certificates
// under dir. The PKI is private to this process (clients get the paths from
// Server.ClientTLS on every start), so unlike a CA handed out to users it is
// simply replaced with everything it signed when it is no longer usable.
// The caller holds the data dir lock, so no other writer exists.
func ensurePKI(dir string) (pkiFiles, error) {
	files := newPKIFiles(dir)
	if err := pki.EnsurePrivateDir(dir); err != nil {
		return files, err
	}
	now := time.Now()
	ca, _, err := pki.LoadOrCreateCA(files.caCert, files.caKey, caCommonName, now)
	if err != nil {
		return files, err
	}
	// Leaves of a replaced CA no longer chain to it, so Ensure renews them.
	for _, l := range []struct {
		spec              pki.LeafSpec
		certFile, keyFile string
	}{
		{serverSpec, files.serverCert, files.serverKey},
		{clientSpec, files.client.CertFile, files.client.KeyFile},
	} {
		if _, err := l.spec.Ensure(ca, l.certFile, l.keyFile, now); err != nil {
			return files, err
		}
	}
	return files, nil
}
