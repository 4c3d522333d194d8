package apiserver

import (
	"fmt"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"

	appsinstall "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/install"
	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	policyinstall "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/policy/install"
	policyv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/policy/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/storageintern"
)

var (
	// Scheme knows every type the server serves, in all their versions.
	Scheme = runtime.NewScheme()
	// Codecs encodes and decodes them.
	Codecs = serializer.NewCodecFactory(Scheme)
)

func init() {
	appsinstall.Install(Scheme)
	policyinstall.Install(Scheme)

	// The /scale subresources speak autoscaling/v1 Scale. There is no
	// internal Scale type outside Kubernetes itself, so the v1 type also
	// stands as the internal one: decoding a Scale then needs no conversion.
	utilruntime.Must(autoscalingv1.AddToScheme(Scheme))
	Scheme.AddKnownTypeWithName(schema.GroupVersionKind{Group: autoscalingv1.GroupName, Version: runtime.APIVersionInternal, Kind: "Scale"}, &autoscalingv1.Scale{})

	// Options (ListOptions, DeleteOptions, ...) and the unversioned types
	// every API server answers with.
	metav1.AddToGroupVersion(Scheme, schema.GroupVersion{Version: "v1"})
	Scheme.AddUnversionedTypes(schema.GroupVersion{Group: "", Version: "v1"},
		&metav1.Status{},
		&metav1.APIVersions{},
		&metav1.APIGroupList{},
		&metav1.APIGroup{},
		&metav1.APIResourceList{},
	)
}

// storageVersions are the versions objects are stored at in etcd, one per group.
var storageVersions = schema.GroupVersions{appsv1beta1.SchemeGroupVersion, policyv1beta1.SchemeGroupVersion}

// StorageVersions says which version each group is stored at.
func StorageVersions() runtime.GroupVersioner { return storageVersions }

// StorageCodec encodes objects for etcd at their storage versions in
// mediaType (protobuf, JSON or YAML; --storage-media-type). It decodes any of
// the three, whichever an object was written in: objects an earlier version
// stored as JSON stay readable and are rewritten in mediaType when updated.
// Objects it decodes (those the watch cache holds) share identical managed
// field sets and resource lists (pkg/storageintern).
func StorageCodec(mediaType string) (runtime.Codec, error) {
	info, ok := runtime.SerializerInfoForMediaType(Codecs.SupportedMediaTypes(), mediaType)
	if !ok {
		return nil, fmt.Errorf("no serializer for storage media type %q", mediaType)
	}
	codec := Codecs.CodecForVersions(info.Serializer, Codecs.UniversalDeserializer(), storageVersions, runtime.InternalGroupVersioner)
	return storageintern.Codec(codec, storageInternTables), nil
}

// storageInternTables are shared by every storage codec, as one field set
// or resource list can be stored under several resources.
var storageInternTables = storageintern.NewTables()
