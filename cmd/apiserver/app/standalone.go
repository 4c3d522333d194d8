package app

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"k8s.io/apiserver/pkg/authentication/request/anonymous"
	"k8s.io/apiserver/pkg/authentication/request/union"
	"k8s.io/apiserver/pkg/authentication/request/x509"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	"k8s.io/apiserver/pkg/authorization/path"
	authzunion "k8s.io/apiserver/pkg/authorization/union"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/standalone"
)

// standalonePKI is the security setup of --standalone.
type standalonePKI struct {
	pki            *standalone.PKI
	kubeconfigPath string
}

// ensureStandalonePKI creates or reuses the CA and certificates in
// <data-dir>/pki and serves with its serving certificate.
func (o *Options) ensureStandalonePKI() (*standalonePKI, error) {
	hosts := []string{"localhost"}
	if name, err := os.Hostname(); err == nil && name != "" {
		hosts = append(hosts, name)
	}
	var ips []net.IP
	if bind := o.Recommended.SecureServing.BindAddress; bind != nil && !bind.IsUnspecified() {
		ips = append(ips, bind)
	}
	pki, err := standalone.EnsurePKI(filepath.Join(o.DataDir, "pki"), hosts, ips)
	if err != nil {
		return nil, fmt.Errorf("standalone PKI: %w", err)
	}
	o.Recommended.SecureServing.ServerCert.CertKey.CertFile = pki.ServingCertFile
	o.Recommended.SecureServing.ServerCert.CertKey.KeyFile = pki.ServingKeyFile
	return &standalonePKI{pki: pki, kubeconfigPath: filepath.Join(o.DataDir, "kubeconfig")}, nil
}

// apply authenticates client certificates of the standalone CA (user = CN,
// groups = O) and, as kube-apiserver does, treats requests without one as
// anonymous while refusing (401) a certificate that does not verify; lets anyone read the health endpoints
// and version, lets system:masters do everything, and forbids everything
// else. It then writes the admin kubeconfig and says how to use it.
func (p *standalonePKI) apply(config *genericapiserver.RecommendedConfig, out io.Writer) error {
	caBundle, err := os.ReadFile(p.pki.CACertFile)
	if err != nil {
		return err
	}
	clientCA, err := dynamiccertificates.NewStaticCAContent("standalone-client-ca", caBundle)
	if err != nil {
		return err
	}
	if err := config.Authentication.ApplyClientCert(clientCA, config.SecureServing); err != nil {
		return err
	}
	config.Authentication.Authenticator = union.NewFailOnError(
		x509.NewDynamic(clientCA.VerifyOptions, x509.CommonNameUserConversion),
		anonymous.NewAuthenticator(nil),
	)

	publicPaths, err := path.NewAuthorizer([]string{"/healthz", "/healthz/*", "/livez", "/livez/*", "/readyz", "/readyz/*", "/version", "/version/"})
	if err != nil {
		return err
	}
	authorizer, err := authzunion.New(
		authzunion.NamedAuthorizer{AuthorizerName: "public-paths", Authorizer: publicPaths},
		authzunion.NamedAuthorizer{AuthorizerName: "system-masters", Authorizer: authorizerfactory.NewPrivilegedGroups(user.SystemPrivilegedGroup)},
	)
	if err != nil {
		return err
	}
	config.Authorization.Authorizer = authorizer

	serverURL, err := localURL(config.SecureServing.Listener.Addr())
	if err != nil {
		return err
	}
	if err := standalone.WriteKubeconfig(p.kubeconfigPath, serverURL, p.pki); err != nil {
		return fmt.Errorf("writing %s: %w", p.kubeconfigPath, err)
	}
	kubeconfig := p.kubeconfigPath
	return config.AddPostStartHook("print-kubeconfig", func(genericapiserver.PostStartHookContext) error {
		fmt.Fprintf(out, "kruise-apiserver is serving at %s\nUse it with:\n  kubectl --kubeconfig %s api-resources --api-group=apps.kruise.io\n", serverURL, kubeconfig)
		return nil
	})
}

// localURL is the address clients on this machine reach the listener at.
func localURL(addr net.Addr) (string, error) {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "", err
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	if _, err := strconv.Atoi(port); err != nil {
		return "", fmt.Errorf("listener port %q: %w", port, err)
	}
	return "https://" + net.JoinHostPort(host, port), nil
}
