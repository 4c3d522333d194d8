// Package controllers defines what the controllers embedded in
// kruise-apiserver are built from; pkg/controllers/host runs them.
package controllers

import (
	"context"

	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/record"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned"
	kruiseinformers "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/informers/externalversions"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/workloadspread"
)

// Context is what a controller is built from.
type Context struct {
	// KruiseClient talks to this server (the loopback connection).
	KruiseClient versioned.Interface
	// KubeClient talks to the cluster's kube-apiserver: Pods, PVCs,
	// ControllerRevisions, Events.
	KubeClient      kubernetes.Interface
	KruiseInformers kruiseinformers.SharedInformerFactory
	KubeInformers   kubeinformers.SharedInformerFactory
	// Recorder records Events on Kruise objects (and the Pods they own).
	Recorder record.EventRecorder
	// KruiseDaemonNamespace is the namespace kruise-daemon runs in
	// (--kruise-daemon-namespace): the only one whose Secrets it may read,
	// so the ImagePullJob controller copies the jobs' pull secrets there.
	KruiseDaemonNamespace string
	// KruiseDaemonInformers are informers of KruiseDaemonNamespace only.
	KruiseDaemonInformers kubeinformers.SharedInformerFactory
	// WorkloadSpreadVersioning says which workloads' Pods WorkloadSpreads
	// count per template version (--ws-enabled-versioned-status).
	WorkloadSpreadVersioning workloadspread.Versioning
}

// Controller is one control loop.
type Controller interface {
	// Run runs workers until ctx ends. The informers are started and
	// synced by the host before Run is called.
	Run(ctx context.Context, workers int)
}

// InitFunc builds a controller; it registers its informers' event handlers.
type InitFunc func(ctx *Context) (Controller, error)
