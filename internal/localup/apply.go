package localup

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
)

// bootstrapKinds are the objects of artifacts/base that make sense without
// Pods: local-up runs kruise-apiserver as a process, so the Deployment, the
// etcd StatefulSet, their Services and Secrets are left out; the APIServices
// and the admission webhooks point at an ExternalName Service for localhost
// instead.
var bootstrapKinds = map[string]bool{
	"Namespace": true, "ServiceAccount": true,
	"ClusterRole": true, "ClusterRoleBinding": true, "Role": true, "RoleBinding": true,
	"APIService":                     true,
	"MutatingWebhookConfiguration":   true,
	"ValidatingWebhookConfiguration": true,
}

// applyArtifacts applies, with server-side apply, the bootstrap objects of
// artifacts/base, the APIServices with our CA bundle and port, and a
// Service that resolves to localhost.
func (c *Cluster) applyArtifacts(ctx context.Context) error {
	objects, err := readManifests(filepath.Join(c.opts.ArtifactsDir, "base"))
	if err != nil {
		return err
	}
	caBundle, err := os.ReadFile(c.certs.certPath(c.certs.kruiseCA))
	if err != nil {
		return err
	}
	var apply []*unstructured.Unstructured
	apiServices := 0
	for _, obj := range objects {
		if !bootstrapKinds[obj.GetKind()] {
			continue
		}
		if obj.GetKind() == "APIService" {
			apiServices++
			if err := unstructured.SetNestedField(obj.Object, base64.StdEncoding.EncodeToString(caBundle), "spec", "caBundle"); err != nil {
				return err
			}
			if err := unstructured.SetNestedField(obj.Object, int64(c.kruisePort), "spec", "service", "port"); err != nil {
				return err
			}
		}
		if kind := obj.GetKind(); kind == "MutatingWebhookConfiguration" || kind == "ValidatingWebhookConfiguration" {
			if err := c.pointWebhooksHere(obj, caBundle); err != nil {
				return err
			}
		}
		apply = append(apply, obj)
	}
	if apiServices != len(OurAPIServices) {
		return fmt.Errorf("found %d APIServices in %s, want %d", apiServices, filepath.Join(c.opts.ArtifactsDir, "base"), len(OurAPIServices))
	}
	apply = append(apply, &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]interface{}{"name": KruiseServiceName, "namespace": KruiseNamespace},
		"spec": map[string]interface{}{
			// The aggregator resolves an ExternalName Service to
			// <externalName>:<APIService port> and still checks the serving
			// certificate for the Service's DNS name; kube-apiserver's
			// webhook client resolves it the same way (to
			// <externalName>:<clientConfig.service.port>).
			"type": "ExternalName", "externalName": "localhost",
		},
	}})
	// Namespaces first, APIServices and webhooks last, so everything they
	// refer to exists.
	sort.SliceStable(apply, func(i, j int) bool { return applyOrder(apply[i]) < applyOrder(apply[j]) })
	return c.serverSideApply(ctx, apply)
}

// pointWebhooksHere sets the CA bundle and the balancer's port in every
// webhook of a webhook configuration.
func (c *Cluster) pointWebhooksHere(obj *unstructured.Unstructured, caBundle []byte) error {
	webhooks, _, err := unstructured.NestedSlice(obj.Object, "webhooks")
	if err != nil {
		return fmt.Errorf("%s %s: %w", obj.GetKind(), obj.GetName(), err)
	}
	for i, w := range webhooks {
		webhook, ok := w.(map[string]interface{})
		if !ok {
			return fmt.Errorf("%s %s: webhook %d is not an object", obj.GetKind(), obj.GetName(), i)
		}
		if err := unstructured.SetNestedField(webhook, base64.StdEncoding.EncodeToString(caBundle), "clientConfig", "caBundle"); err != nil {
			return err
		}
		if err := unstructured.SetNestedField(webhook, int64(c.kruisePort), "clientConfig", "service", "port"); err != nil {
			return err
		}
		webhooks[i] = webhook
	}
	return unstructured.SetNestedSlice(obj.Object, webhooks, "webhooks")
}

func applyOrder(obj *unstructured.Unstructured) int {
	switch obj.GetKind() {
	case "Namespace":
		return 0
	case "APIService", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration":
		return 2
	}
	return 1
}

// serverSideApply applies objects as the field manager local-up.
func (c *Cluster) serverSideApply(ctx context.Context, objects []*unstructured.Unstructured) error {
	disco, err := discovery.NewDiscoveryClientForConfig(c.AdminConfig)
	if err != nil {
		return err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disco))
	client, err := dynamic.NewForConfig(c.AdminConfig)
	if err != nil {
		return err
	}
	for _, obj := range objects {
		gvk := obj.GroupVersionKind()
		mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return fmt.Errorf("%s %s: %w", gvk.Kind, obj.GetName(), err)
		}
		data, err := obj.MarshalJSON()
		if err != nil {
			return err
		}
		resource := client.Resource(mapping.Resource)
		var r dynamic.ResourceInterface = resource
		if ns := obj.GetNamespace(); ns != "" {
			r = resource.Namespace(ns)
		}
		force := true
		if _, err := r.Patch(ctx, obj.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: "kruise-local-up", Force: &force}); err != nil {
			return fmt.Errorf("applying %s %s: %w", gvk.Kind, obj.GetName(), err)
		}
	}
	return nil
}

// readManifests reads every object of every YAML file in dir except
// kustomization.yaml.
func readManifests(dir string) ([]*unstructured.Unstructured, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var objects []*unstructured.Unstructured
	for _, file := range files {
		if filepath.Base(file) == "kustomization.yaml" {
			continue
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		decoder := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			obj := &unstructured.Unstructured{}
			if err := decoder.Decode(&obj.Object); err != nil {
				if err == io.EOF {
					break
				}
				return nil, fmt.Errorf("%s: %w", file, err)
			}
			if len(obj.Object) == 0 || strings.TrimSpace(obj.GetKind()) == "" {
				continue
			}
			objects = append(objects, obj)
		}
	}
	return objects, nil
}

// unstructuredCodecs decodes the plain answers of /readyz and friends.
func unstructuredCodecs() runtime.NegotiatedSerializer {
	scheme := runtime.NewScheme()
	metav1.AddToGroupVersion(scheme, metav1.SchemeGroupVersion)
	return serializer.NewCodecFactory(scheme).WithoutConversion()
}
