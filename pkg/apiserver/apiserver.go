// Package apiserver wires the kruise-apiserver: its scheme, its API groups
// and their storage, on top of k8s.io/apiserver's generic server.
package apiserver

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/policy"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/apps/cloneset"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/apps/imagelistpulljob"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/apps/imagepulljob"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/apps/nodeimage"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/apps/statefulset"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/apps/workloadspread"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/cachedget"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/policy/podunavailablebudget"
)

// Config is the configuration of a kruise-apiserver.
type Config struct {
	GenericConfig *genericapiserver.RecommendedConfig
}

type completedConfig struct {
	GenericConfig genericapiserver.CompletedConfig
}

// CompletedConfig is a Config that Complete filled in.
type CompletedConfig struct {
	*completedConfig
}

// Server is a running kruise-apiserver.
type Server struct {
	GenericAPIServer *genericapiserver.GenericAPIServer
}

// Complete fills in what the generic server needs defaulted.
func (c *Config) Complete() CompletedConfig {
	return CompletedConfig{&completedConfig{GenericConfig: c.GenericConfig.Complete()}}
}

// New builds the server and installs its API groups.
func (c CompletedConfig) New() (*Server, error) {
	generic, err := c.GenericConfig.New("kruise-apiserver", genericapiserver.NewEmptyDelegate())
	if err != nil {
		return nil, err
	}
	s := &Server{GenericAPIServer: generic}

	// Consistent GETs from the watch cache, as LISTs already are.
	optsGetter := cachedget.Getter{RESTOptionsGetter: c.GenericConfig.RESTOptionsGetter}
	appsStorage, err := appsResources(optsGetter)
	if err != nil {
		return nil, err
	}
	if err := installGroup(generic, apps.GroupName, appsStorage); err != nil {
		return nil, err
	}

	policyStorage, err := policyResources(optsGetter)
	if err != nil {
		return nil, err
	}
	if err := installGroup(generic, policy.GroupName, policyStorage); err != nil {
		return nil, err
	}
	return s, nil
}

// installGroup serves the same storage at every version of group.
func installGroup(server *genericapiserver.GenericAPIServer, group string, storage map[string]rest.Storage) error {
	info := genericapiserver.NewDefaultAPIGroupInfo(group, Scheme, metav1.ParameterCodec, Codecs)
	for _, gv := range Scheme.PrioritizedVersionsForGroup(group) {
		info.VersionedResourcesStorageMap[gv.Version] = storage
	}
	if err := server.InstallAPIGroup(&info); err != nil {
		return fmt.Errorf("installing API group %s: %w", group, err)
	}
	return nil
}

func appsResources(optsGetter generic.RESTOptionsGetter) (map[string]rest.Storage, error) {
	storage := map[string]rest.Storage{}

	clonesets, err := cloneset.NewStorage(Scheme, optsGetter)
	if err != nil {
		return nil, fmt.Errorf("clonesets: %w", err)
	}
	storage["clonesets"] = clonesets.CloneSet
	storage["clonesets/status"] = clonesets.Status
	storage["clonesets/scale"] = clonesets.Scale

	imagePullJobs, err := imagepulljob.NewStorage(Scheme, optsGetter)
	if err != nil {
		return nil, fmt.Errorf("imagepulljobs: %w", err)
	}
	storage["imagepulljobs"] = imagePullJobs.ImagePullJob
	storage["imagepulljobs/status"] = imagePullJobs.Status

	imageListPullJobs, err := imagelistpulljob.NewStorage(Scheme, optsGetter)
	if err != nil {
		return nil, fmt.Errorf("imagelistpulljobs: %w", err)
	}
	storage["imagelistpulljobs"] = imageListPullJobs.ImageListPullJob
	storage["imagelistpulljobs/status"] = imageListPullJobs.Status

	nodeImages, err := nodeimage.NewStorage(Scheme, optsGetter)
	if err != nil {
		return nil, fmt.Errorf("nodeimages: %w", err)
	}
	storage["nodeimages"] = nodeImages.NodeImage
	storage["nodeimages/status"] = nodeImages.Status

	// Subset patches are checked against the Pod template of a target
	// CloneSet, read from this server's own CloneSet storage.
	workloadspreads, err := workloadspread.NewStorage(Scheme, optsGetter, clonesets.CloneSet)
	if err != nil {
		return nil, fmt.Errorf("workloadspreads: %w", err)
	}
	storage["workloadspreads"] = workloadspreads.WorkloadSpread
	storage["workloadspreads/status"] = workloadspreads.Status

	statefulsets, err := statefulset.NewStorage(Scheme, optsGetter)
	if err != nil {
		return nil, fmt.Errorf("statefulsets: %w", err)
	}
	storage["statefulsets"] = statefulsets.StatefulSet
	storage["statefulsets/status"] = statefulsets.Status
	storage["statefulsets/scale"] = statefulsets.Scale

	return storage, nil
}

func policyResources(optsGetter generic.RESTOptionsGetter) (map[string]rest.Storage, error) {
	storage := map[string]rest.Storage{}

	pubs, err := podunavailablebudget.NewStorage(Scheme, optsGetter)
	if err != nil {
		return nil, fmt.Errorf("podunavailablebudgets: %w", err)
	}
	storage["podunavailablebudgets"] = pubs.PodUnavailableBudget
	storage["podunavailablebudgets/status"] = pubs.Status

	return storage, nil
}
