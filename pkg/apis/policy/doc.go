// +k8s:deepcopy-gen=package
// +groupName=policy.kruise.io

// Package policy holds the internal (hub) types of the policy.kruise.io
// group. Every served version converts to and from these types; they are
// never serialized, so they may hold more than any one version can say.
// Conversions must be lossless: see pkg/apis/annotationstash.
package policy
