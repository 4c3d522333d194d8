//go:build tools

// Package tools pins the Kubernetes commands hack/build-kube-binaries.sh
// builds, so that `go mod tidy` keeps every module they need in go.mod and
// go.sum. The etcd command is ./cmd/etcd, in this module.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
