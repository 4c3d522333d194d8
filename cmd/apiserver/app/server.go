// Package app is the kruise-apiserver command: flags, the embedded or
// external etcd, the standalone or delegated security setup, and the run.
package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/util/compatibility"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/component-base/logs"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/klog/v2"
	netutils "k8s.io/utils/net"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apiserver"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/certauthcache"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/host"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/embeddedetcd"
	generatedopenapi "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/openapi"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/responsecompression"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/webhook"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/webhook/handlers"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/workloadspread"
)

func init() {
	// The logging flags consult feature gates of their own.
	utilruntime.Must(logsapi.AddFeatureGates(utilfeature.DefaultMutableFeatureGate))
}

// NewCommand returns the kruise-apiserver command; ctx ends on SIGTERM/SIGINT.
func NewCommand(ctx context.Context) *cobra.Command {
	o := NewOptions()
	logOptions := logs.NewOptions()
	cmd := &cobra.Command{
		Use:   "kruise-apiserver",
		Short: "Serve the OpenKruise API from an aggregated API server with its own etcd",
		Long: "kruise-apiserver serves apps.kruise.io and policy.kruise.io (CloneSet, Advanced StatefulSet, WorkloadSpread, " +
			"ImagePullJob, ImageListPullJob, NodeImage, PodUnavailableBudget) from its own etcd: embedded in the data dir " +
			"unless --etcd-servers is given. Behind a kube-apiserver it is reached through APIServices; with --standalone it " +
			"runs on its own and writes an admin kubeconfig.",
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unexpected arguments %q: kruise-apiserver takes only flags", args)
			}
			if err := logsapi.ValidateAndApply(logOptions, utilfeature.DefaultFeatureGate); err != nil {
				return err
			}
			if err := o.Complete(cmd.Flags()); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return Run(cmd.Context(), o)
		},
	}
	cmd.SetContext(ctx)
	o.AddFlags(cmd.Flags())
	logsapi.AddFlags(logOptions, cmd.Flags())
	utilfeature.DefaultMutableFeatureGate.AddFlag(cmd.Flags())
	return cmd
}

// Run runs the server until ctx ends, then shuts it down and, after it, the
// embedded etcd.
func Run(ctx context.Context, o *Options) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	warnIfJSONv1()

	if o.embeddedEtcd() {
		etcd, err := embeddedetcd.Start(ctx, embeddedetcd.Config{DataDir: filepath.Join(o.DataDir, "etcd")})
		if err != nil {
			return fmt.Errorf("starting embedded etcd in %s: %w", filepath.Join(o.DataDir, "etcd"), err)
		}
		// Stopped after the API server has drained its requests: the
		// deferred call runs once RunWithContext has returned.
		defer etcd.Stop()
		go func() {
			if err, ok := <-etcd.Err(); ok && err != nil {
				cancel(fmt.Errorf("embedded etcd stopped: %w", err))
			}
		}()
		transport := &o.Recommended.Etcd.StorageConfig.Transport
		tls := etcd.ClientTLS()
		transport.ServerList = etcd.Endpoints()
		transport.CertFile, transport.KeyFile, transport.TrustedCAFile = tls.CertFile, tls.KeyFile, tls.CAFile
		klog.InfoS("Embedded etcd is serving", "dataDir", filepath.Join(o.DataDir, "etcd"), "endpoints", transport.ServerList)
	} else if err := waitForEtcd(ctx, o.Recommended.Etcd.StorageConfig, o.EtcdConnectTimeout); err != nil {
		return err
	}

	config, err := o.Config()
	if err != nil {
		return err
	}
	server, err := config.Complete().New()
	if err != nil {
		return err
	}
	// The controller host stops when the server starts shutting down; the
	// process waits for it, so that a leader releases its Lease (and says so)
	// before exiting.
	var hostRunning sync.WaitGroup
	defer waitForHost(&hostRunning)
	if !o.Standalone {
		// The controllers reach this server over the loopback connection and
		// the cluster through the delegation kubeconfig.
		kruiseConfig, kubeConfig := config.GenericConfig.LoopbackClientConfig, config.GenericConfig.ClientConfig
		if err := server.GenericAPIServer.AddPostStartHook("start-embedded-controllers", func(hook genericapiserver.PostStartHookContext) error {
			hostRunning.Add(1)
			go func() {
				defer hostRunning.Done()
				if err := host.Run(hook.Context, o.Controllers, kruiseConfig, kubeConfig); err != nil {
					cancel(fmt.Errorf("embedded controllers: %w", err))
				}
			}()
			return nil
		}); err != nil {
			return err
		}
		// Admission webhooks run on every replica (kube-apiserver calls
		// whichever the Service picks). The hook holds /readyz back until
		// the handlers' informers have synced.
		webhooks, err := webhook.NewContext(kruiseConfig, kubeConfig)
		if err != nil {
			return err
		}
		webhooks.WorkloadSpreadVersioning = workloadspread.NewVersioning(o.Controllers.WorkloadSpreadVersionedKinds)
		if err := handlers.Install(server.GenericAPIServer.Handler.NonGoRestfulMux, webhooks); err != nil {
			return err
		}
		if err := server.GenericAPIServer.AddPostStartHook("start-webhook-informers", func(hook genericapiserver.PostStartHookContext) error {
			return webhooks.StartInformers(hook.Context)
		}); err != nil {
			return err
		}
	}
	if err := server.GenericAPIServer.PrepareRun().RunWithContext(ctx); err != nil {
		return err
	}
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return nil
}

// hostStopTimeout bounds the wait for the controller host at exit: its
// controllers have stopped by then, and releasing the Lease is one request.
const hostStopTimeout = 10 * time.Second

func waitForHost(running *sync.WaitGroup) {
	done := make(chan struct{})
	go func() {
		running.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(hostStopTimeout):
		klog.InfoS("Exiting before the embedded controller host stopped", "waited", hostStopTimeout)
	}
}

// Config builds the server configuration from the options.
func (o *Options) Config() (*apiserver.Config, error) {
	serverConfig := genericapiserver.NewRecommendedConfig(apiserver.Codecs)
	serverConfig.EffectiveVersion = compatibility.DefaultBuildEffectiveVersion()
	serverConfig.FeatureGate = utilfeature.DefaultFeatureGate
	serverConfig.ShutdownWatchTerminationGracePeriod = o.ShutdownWatchTerminationGracePeriod

	namer := openapi.NewDefinitionNamer(apiserver.Scheme)
	serverConfig.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(generatedopenapi.GetOpenAPIDefinitions, namer)
	serverConfig.OpenAPIConfig.Info.Title = "kruise-apiserver"
	serverConfig.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(generatedopenapi.GetOpenAPIDefinitions, namer)
	serverConfig.OpenAPIV3Config.Info.Title = "kruise-apiserver"

	var pki *standalonePKI
	if o.Standalone {
		var err error
		if pki, err = o.ensureStandalonePKI(); err != nil {
			return nil, err
		}
	} else if err := o.Recommended.SecureServing.MaybeDefaultWithSelfSignedCerts("localhost", nil, []net.IP{netutils.ParseIPSloppy("127.0.0.1")}); err != nil {
		return nil, fmt.Errorf("creating self-signed serving certificate: %w", err)
	}

	codec, err := apiserver.StorageCodec(o.Recommended.Etcd.DefaultStorageMediaType)
	if err != nil {
		return nil, fmt.Errorf("--storage-media-type: %w", err)
	}
	o.Recommended.Etcd.StorageConfig.Codec = codec

	if err := o.Recommended.ApplyTo(serverConfig); err != nil {
		if !o.Standalone {
			return nil, fmt.Errorf("setting up delegation to the cluster's kube-apiserver (give --kubeconfig, run in a cluster, or use --standalone): %w", err)
		}
		return nil, err
	}
	if o.Standalone {
		if err := pki.apply(serverConfig, o.Out); err != nil {
			return nil, err
		}
	}
	// GET and LIST answers are gzipped by klauspost/compress, not by the
	// response writers' compress/gzip (pkg/responsecompression).
	buildChain := serverConfig.BuildHandlerChainFunc
	serverConfig.BuildHandlerChainFunc = func(handler http.Handler, c *genericapiserver.Config) http.Handler {
		return buildChain(responsecompression.WithGzip(handler), c)
	}
	if authn := &serverConfig.Authentication; authn.Authenticator != nil {
		authn.Authenticator = certauthcache.New(authn.Authenticator, authn.RequestHeaderConfig, certauthcache.DefaultTTL)
	}
	return &apiserver.Config{GenericConfig: serverConfig}, nil
}
