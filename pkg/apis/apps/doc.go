// +k8s:deepcopy-gen=package
// +groupName=apps.kruise.io

// Package apps holds the internal (hub) types of the apps.kruise.io group.
// Every served version converts to and from these types; they are never
// serialized, so they are free to be a superset of what any one version can
// say. Conversions must be lossless: see pkg/apis/annotationstash.
package apps
