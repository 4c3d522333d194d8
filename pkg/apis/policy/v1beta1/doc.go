// +k8s:deepcopy-gen=package
// +k8s:conversion-gen=github.com/kruise-apiserver/kruise-apiserver/pkg/apis/policy
// +k8s:defaulter-gen=TypeMeta
// +k8s:openapi-gen=true
// +k8s:openapi-model-package=io.kruise.policy.v1beta1
// +groupName=policy.kruise.io

// Package v1beta1 is the v1beta1 version of policy.kruise.io, the preferred
// and storage version. Field names and JSON tags follow OpenKruise's, so
// OpenKruise's own manifests are accepted unchanged.
package v1beta1
