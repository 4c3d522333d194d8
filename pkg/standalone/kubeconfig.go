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
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	pkiutil "github.com/kruise-apiserver/kruise-apiserver/pkg/pki"
)

// Names used inside the generated kubeconfig.
const (
	KubeconfigClusterName = "kruise-apiserver"
	KubeconfigUserName    = AdminUser
	KubeconfigContextName = "kruise-apiserver"
)

// WriteKubeconfig writes a kubeconfig at path that reaches serverURL as the
// admin user of pki, with the CA, certificate and key embedded so the file
// keeps working when copied elsewhere.
//
// The file is replaced atomically with mode 0600, so a kubectl reading it
// while the server restarts sees either the old or the new one. It is meant
// to be rewritten on every start, since the port may have changed; write it
// only once the serving port is bound, so a second server instance that then
// fails cannot overwrite the kubeconfig of the one that is running.
func WriteKubeconfig(path, serverURL string, pki *PKI) error {
	if pki == nil {
		return errors.New("PKI must not be nil")
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		return fmt.Errorf("invalid server URL %q: %w", serverURL, err)
	}
	if u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("invalid server URL %q: must be https://host[:port]", serverURL)
	}
	caData, err := os.ReadFile(pki.CACertFile)
	if err != nil {
		return err
	}
	certData, err := os.ReadFile(pki.AdminCertFile)
	if err != nil {
		return err
	}
	keyData, err := os.ReadFile(pki.AdminKeyFile)
	if err != nil {
		return err
	}

	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[KubeconfigClusterName] = &clientcmdapi.Cluster{
		Server:                   serverURL,
		CertificateAuthorityData: caData,
	}
	cfg.AuthInfos[KubeconfigUserName] = &clientcmdapi.AuthInfo{
		ClientCertificateData: certData,
		ClientKeyData:         keyData,
	}
	cfg.Contexts[KubeconfigContextName] = &clientcmdapi.Context{
		Cluster:  KubeconfigClusterName,
		AuthInfo: KubeconfigUserName,
	}
	cfg.CurrentContext = KubeconfigContextName

	// clientcmd.WriteToFile writes in place, so its serializer is used
	// together with an atomic replace instead.
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return fmt.Errorf("encoding kubeconfig: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if err := pkiutil.WriteFileAtomic(path, data, 0o600); err != nil {
		return fmt.Errorf("writing kubeconfig %s: %w", path, err)
	}
	return nil
}
