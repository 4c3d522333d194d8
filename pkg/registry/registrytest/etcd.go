// Package registrytest gives storage tests a real etcd: the embedded one
// the server itself runs, in a temporary directory.
package registrytest

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/storage/storagebackend"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/embeddedetcd"
)

// RESTOptionsGetter starts an embedded etcd for the test and returns REST
// options on it that store every resource under its own prefix, encoded
// with codec (at the storage version). etcd stops when the test ends.
func RESTOptionsGetter(t testing.TB, codec runtime.Codec) generic.RESTOptionsGetter {
	t.Helper()
	etcd, err := embeddedetcd.Start(context.Background(), embeddedetcd.Config{DataDir: t.TempDir(), LogLevel: "error"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(etcd.Stop)
	tls := etcd.ClientTLS()
	config := storagebackend.NewDefaultConfig("/registry", codec)
	config.Transport = storagebackend.TransportConfig{
		ServerList:    etcd.Endpoints(),
		TrustedCAFile: tls.CAFile,
		CertFile:      tls.CertFile,
		KeyFile:       tls.KeyFile,
	}
	return optionsGetter{config: config}
}

type optionsGetter struct {
	config *storagebackend.Config
}

func (g optionsGetter) GetRESTOptions(resource schema.GroupResource, _ runtime.Object) (generic.RESTOptions, error) {
	return generic.RESTOptions{
		StorageConfig:           g.config.ForResource(resource),
		Decorator:               generic.UndecoratedStorage,
		DeleteCollectionWorkers: 1,
		ResourcePrefix:          resource.Group + "/" + resource.Resource,
	}, nil
}
