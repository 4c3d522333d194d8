// Package handlers lists the admission handlers of kruise-apiserver (Known)
// and installs them on its secure port. It is apart from pkg/webhook so
// that handlers in packages of their own (pkg/webhook/<function>) can be
// built from a *webhook.Context and still be listed here.
package handlers

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apiserver/pkg/server/mux"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/webhook"
)

// AuthorizationAlwaysAllowPath is what the server's delegated authorizer
// must let through without asking kube-apiserver: kube-apiserver calls
// webhooks without credentials of its own unless it is configured with an
// admission kubeconfig, so the calls arrive as system:anonymous, which may
// do nothing else.
const AuthorizationAlwaysAllowPath = webhook.PathPrefix + "*"

// Install builds every Known handler from c and serves it on mux. Paths
// under webhook.PathPrefix that no handler serves answer 404.
func Install(mux *mux.PathRecorderMux, c *webhook.Context) error {
	paths := make([]string, 0, len(Known))
	for path := range Known {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	for _, path := range paths {
		if !strings.HasPrefix(path, webhook.PathPrefix) {
			return fmt.Errorf("admission handler %s is not under %s", path, webhook.PathPrefix)
		}
		admit, err := Known[path](c)
		if err != nil {
			return fmt.Errorf("admission handler %s: %w", path, err)
		}
		mux.Handle(path, webhook.Serve(path, admit))
	}
	return nil
}
