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
	"crypto"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"

	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"
)

// keyPair is a certificate together with the private key of its public key.
type keyPair struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// loadKeyPair reads a PEM certificate and key and checks that they belong
// together. The check matters because the two files are written one after the
// other: a crash in between leaves a new key next to an old certificate, and
// that pair must be treated as stale rather than served.
func loadKeyPair(certFile, keyFile string) (*keyPair, error) {
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
	return &keyPair{cert: certs[0], key: key}, nil
}

// writeKeyPair writes the key before the certificate so that a reader never
// sees a new certificate paired with an old key for longer than the window
// that loadKeyPair already detects.
func writeKeyPair(certFile, keyFile string, kp *keyPair) error {
	keyPEM, err := keyutil.MarshalPrivateKeyToPEM(kp.key)
	if err != nil {
		return fmt.Errorf("encoding private key for %s: %w", keyFile, err)
	}
	certPEM, err := certutil.EncodeCertificates(kp.cert)
	if err != nil {
		return fmt.Errorf("encoding certificate for %s: %w", certFile, err)
	}
	if err := writeFileAtomic(keyFile, keyPEM, 0o600); err != nil {
		return err
	}
	return writeFileAtomic(certFile, certPEM, 0o644)
}

// writeFileAtomic replaces path with data so that concurrent readers (and the
// next start after a crash) see either the old or the new content, never a
// truncated file. certutil.WriteCert and keyutil.WriteKey are not used because
// they write in place and keep the mode of an existing file.
func writeFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
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
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// syncDir makes a preceding rename durable. It is best effort: directories
// cannot be fsynced on every platform, and losing the rename on power failure
// only means the file is regenerated on the next start.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// ensurePrivateDir creates dir with mode 0700 and tightens it if it already
// exists, because it holds private keys.
func ensurePrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700)
}
