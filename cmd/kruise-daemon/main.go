// Command kruise-daemon runs on every node (artifacts/: a DaemonSet) and
// pulls the images its node's NodeImage asks for through the node's CRI
// image service, reporting each pull in the NodeImage's status
// (pkg/daemon/imagepuller). It needs no kubelet: a Node, its NodeImage and
// a CRI endpoint are enough.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/record"
	"k8s.io/component-base/logs"
	logsapi "k8s.io/component-base/logs/api/v1"
	remote "k8s.io/cri-client/pkg"
	"k8s.io/klog/v2"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/daemon/imagepuller"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned"
	kruisescheme "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned/scheme"
)

// Component is the name in Events and the client's user agent.
const Component = "kruise-daemon"

type options struct {
	nodeName           string
	kubeconfig         string
	runtimeEndpoint    string
	connectionTimeout  time.Duration
	maxConcurrentPulls int
	healthzAddress     string
	qps                float32
	burst              int
}

func main() {
	o := options{nodeName: os.Getenv("NODE_NAME")}
	flags := pflag.NewFlagSet(Component, pflag.ExitOnError)
	flags.StringVar(&o.nodeName, "node-name", o.nodeName, "the node this daemon runs on (its NodeImage has the same name); default $NODE_NAME")
	flags.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig of the cluster's kube-apiserver; empty: in-cluster configuration")
	flags.StringVar(&o.runtimeEndpoint, "runtime-endpoint", "unix:///run/containerd/containerd.sock", "the CRI image service of the node's container runtime")
	flags.DurationVar(&o.connectionTimeout, "runtime-request-timeout", 2*time.Minute, "timeout of connecting to the runtime and of its requests other than pulls (pulls are bounded by each tag's pullPolicy.timeoutSeconds)")
	flags.IntVar(&o.maxConcurrentPulls, "max-concurrent-pulls", 5, "pulls in flight at once on the node; more tags wait")
	flags.StringVar(&o.healthzAddress, "healthz-bind-address", ":10221", "address of /healthz (ok once the NodeImage informer has synced); empty: none")
	flags.Float32Var(&o.qps, "kube-api-qps", 5, "queries per second to kube-apiserver")
	flags.IntVar(&o.burst, "kube-api-burst", 10, "burst of queries to kube-apiserver")
	logOptions := logs.NewOptions()
	logsapi.AddFlags(logOptions, flags)
	_ = flags.Parse(os.Args[1:])
	if err := logsapi.ValidateAndApply(logOptions, nil); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", Component, err)
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", Component, err)
		os.Exit(1)
	}
}

func run(o options) error {
	if o.nodeName == "" {
		return errors.New("--node-name (or $NODE_NAME) is required")
	}
	if o.maxConcurrentPulls < 1 {
		return fmt.Errorf("--max-concurrent-pulls must be at least 1, not %d", o.maxConcurrentPulls)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	var config *rest.Config
	var err error
	if o.kubeconfig != "" {
		config, err = clientcmd.BuildConfigFromFlags("", o.kubeconfig)
	} else {
		config, err = rest.InClusterConfig()
	}
	if err != nil {
		return fmt.Errorf("kube-apiserver client configuration: %w", err)
	}
	config.QPS, config.Burst = o.qps, o.burst
	config = rest.AddUserAgent(config, Component)
	kubeClient, err := kubernetes.NewForConfig(config)
	if err != nil {
		return err
	}
	kruiseClient, err := versioned.NewForConfig(config)
	if err != nil {
		return err
	}

	images, err := remote.NewRemoteImageService(ctx, o.runtimeEndpoint, o.connectionTimeout, nil, false)
	if err != nil {
		return fmt.Errorf("CRI image service at %s: %w", o.runtimeEndpoint, err)
	}
	defer images.Close(context.Background())
	// Fail early, with the runtime's error, when the endpoint is not a CRI.
	if _, err := images.ImageFsInfo(ctx); err != nil {
		return fmt.Errorf("CRI image service at %s: %w", o.runtimeEndpoint, err)
	}

	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: kubeClient.CoreV1().Events("")})
	defer broadcaster.Shutdown()
	recorder := broadcaster.NewRecorder(eventScheme, corev1.EventSource{Component: Component, Host: o.nodeName})

	controller := imagepuller.NewController(o.nodeName, kruiseClient, kubeClient.CoreV1(), images, recorder,
		imagepuller.Options{MaxConcurrentPulls: o.maxConcurrentPulls})

	if o.healthzAddress != "" {
		listener, err := net.Listen("tcp", o.healthzAddress)
		if err != nil {
			return fmt.Errorf("--healthz-bind-address: %w", err)
		}
		mux := http.NewServeMux()
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
			if !controller.HasSynced() {
				http.Error(w, "the NodeImage informer has not synced", http.StatusServiceUnavailable)
				return
			}
			_, _ = w.Write([]byte("ok"))
		})
		server := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = server.Serve(listener) }()
		defer server.Close()
	}

	klog.InfoS("Starting", "node", o.nodeName, "runtimeEndpoint", o.runtimeEndpoint)
	controller.Run(ctx)
	klog.InfoS("Stopped", "node", o.nodeName)
	return nil
}

// eventScheme knows the core types and ours, so that Events can refer to
// NodeImages and ImagePullJobs.
var eventScheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(kruisescheme.AddToScheme(s))
	return s
}()
