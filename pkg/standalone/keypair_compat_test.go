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
	"time"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/pki"
)

// The EnsurePKI tests were written against this package's own key pair
// helpers before they moved to pkg/pki; these adapters let them stay as they
// are.

type keyPair struct {
	cert *x509.Certificate
	key  crypto.Signer
}

type leafSpec = pki.LeafSpec

func loadKeyPair(certFile, keyFile string) (*keyPair, error) {
	kp, err := pki.LoadKeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	return &keyPair{cert: kp.Cert, key: kp.Key}, nil
}

func writeKeyPair(certFile, keyFile string, kp *keyPair) error {
	return (&pki.KeyPair{Cert: kp.cert, Key: kp.key}).Write(certFile, keyFile)
}

func signLeaf(ca *keyPair, s leafSpec, notBefore, notAfter time.Time) (*keyPair, error) {
	kp, err := s.Sign(&pki.CA{KeyPair: pki.KeyPair{Cert: ca.cert, Key: ca.key}}, notBefore, notAfter)
	if err != nil {
		return nil, err
	}
	return &keyPair{cert: kp.Cert, key: kp.Key}, nil
}
