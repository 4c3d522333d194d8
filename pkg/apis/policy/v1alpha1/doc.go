// +k8s:deepcopy-gen=package
// +k8s:conversion-gen=github.com/kruise-apiserver/kruise-apiserver/pkg/apis/policy
// +k8s:defaulter-gen=TypeMeta
// +k8s:openapi-gen=true
// +k8s:openapi-model-package=io.kruise.policy.v1alpha1
// +groupName=policy.kruise.io

// Package v1alpha1 is the v1alpha1 version of policy.kruise.io. Field names
// and JSON tags follow OpenKruise's, so OpenKruise's own manifests are
// accepted unchanged. What the hub holds and v1alpha1 cannot express is kept
// in an annotation on v1alpha1 objects (see pkg/apis/annotationstash), so
// reading and writing through v1alpha1 never loses what a v1beta1 client
// wrote.
package v1alpha1
