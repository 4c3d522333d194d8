// Command kruise-apiserver serves the OpenKruise API (apps.kruise.io,
// policy.kruise.io) from its own etcd, as a Kubernetes aggregated API server
// or, with --standalone, on its own.
package main

import (
	"fmt"
	"os"

	genericapiserver "k8s.io/apiserver/pkg/server"

	"github.com/kruise-apiserver/kruise-apiserver/cmd/apiserver/app"
)

func main() {
	ctx := genericapiserver.SetupSignalContext()
	cmd := app.NewCommand(ctx)
	if err := cmd.Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "kruise-apiserver: %v\n", err)
		os.Exit(1)
	}
}
