// Package host runs the controllers embedded in kruise-apiserver: it elects
// one leader among the replicas with a coordination.k8s.io Lease, and on the
// leader starts the informers and the enabled controllers. Every replica
// keeps serving the API whether it leads or not.
package host

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/validation"
	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned"
	kruisescheme "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned/scheme"
	kruiseinformers "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/informers/externalversions"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/workloadspread"
	"github.com/spf13/pflag"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
)

// Options configure the host.
type Options struct {
	// Controllers names the controllers to run: "*" for all, "name" to
	// enable one, "-name" to disable one ("*,-statefulset").
	Controllers []string
	// Workers is the number of concurrent reconciles per controller.
	Workers int
	// QPS and Burst limit the controllers' requests (client-side), as
	// OpenKruise's manager does with 30 and 50; client-go's own default of 5
	// holds a busy controller back by seconds.
	QPS   float32
	Burst int
	// LeaderElect turns leader election on; off, this replica always runs
	// the controllers (for a single replica).
	LeaderElect bool
	// LeaseNamespace and LeaseName identify the Lease.
	LeaseNamespace, LeaseName                 string
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// Identity names this replica in the Lease; empty means
	// <hostname>_<random UUID>. It must differ between replicas running at
	// the same time.
	Identity string
	// WorkloadSpreadVersionedKinds are the workload kinds whose Pods
	// WorkloadSpreads count per template version.
	WorkloadSpreadVersionedKinds []string
	// KruiseDaemonNamespace is where kruise-daemon runs and reads the pull
	// secrets the ImagePullJob controller copies there.
	KruiseDaemonNamespace string
}

// NewOptions returns OpenKruise's defaults: Lease kruise-system/kruise-manager,
// 15s lease, 10s renew deadline.
func NewOptions() *Options {
	return &Options{
		Controllers:    []string{"*"},
		Workers:        3,
		QPS:            30,
		Burst:          50,
		LeaderElect:    true,
		LeaseNamespace: "kruise-system",
		LeaseName:      "kruise-manager",
		LeaseDuration:  15 * time.Second,
		RenewDeadline:  10 * time.Second,
		RetryPeriod:    2 * time.Second,

		WorkloadSpreadVersionedKinds: slices.Clone(workloadspread.DefaultVersionedKinds),
		KruiseDaemonNamespace:        "kruise-daemon",
	}
}

// AddFlags registers the flags.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	names := make([]string, 0, len(Known))
	for name := range Known {
		names = append(names, name)
	}
	sort.Strings(names)
	fs.StringSliceVar(&o.Controllers, "controllers", o.Controllers, fmt.Sprintf(
		"Embedded controllers to run: '*' for all, 'foo' to enable foo, '-foo' to disable it. Known: %s. "+
			"Controllers only run against a cluster, never with --standalone.", strings.Join(names, ", ")))
	fs.IntVar(&o.Workers, "controller-workers", o.Workers, "Concurrent reconciles per controller.")
	fs.Float32Var(&o.QPS, "controller-kube-api-qps", o.QPS, "Queries per second the embedded controllers may send, to kube-apiserver and to this server each.")
	fs.IntVar(&o.Burst, "controller-kube-api-burst", o.Burst, "Burst of the embedded controllers' requests over --controller-kube-api-qps.")
	fs.BoolVar(&o.LeaderElect, "leader-elect", o.LeaderElect, "Run the controllers only on the replica holding the Lease.")
	fs.StringVar(&o.LeaseNamespace, "leader-election-namespace", o.LeaseNamespace, "Namespace of the leader election Lease.")
	fs.StringVar(&o.LeaseName, "leader-election-id", o.LeaseName, "Name of the leader election Lease.")
	fs.DurationVar(&o.LeaseDuration, "leader-election-lease-duration", o.LeaseDuration, "How long a Lease is held without renewal before another replica takes over.")
	fs.DurationVar(&o.RenewDeadline, "leader-election-renew-deadline", o.RenewDeadline, "How long the leader keeps trying to renew before it gives up leading.")
	fs.DurationVar(&o.RetryPeriod, "leader-election-retry-period", o.RetryPeriod, "How often replicas try to acquire or renew the Lease.")
	fs.StringVar(&o.Identity, "leader-election-identity", o.Identity,
		"This replica's name in the Lease (holderIdentity). Default: <hostname>_<random UUID>. "+
			"Replicas running at the same time must have different identities.")
	fs.StringSliceVar(&o.WorkloadSpreadVersionedKinds, "ws-enabled-versioned-status", o.WorkloadSpreadVersionedKinds,
		"Workload kinds (lower case: deployment, replicaset, cloneset, statefulset) whose Pods WorkloadSpreads count per "+
			"template version, so that a rolling update keeps the spread; deployment implies replicaset. "+
			"The WorkloadSpread controller and the Pod webhook both follow it. Empty counts all Pods together.")
	fs.StringVar(&o.KruiseDaemonNamespace, "kruise-daemon-namespace", o.KruiseDaemonNamespace,
		"Namespace of kruise-daemon. The ImagePullJob controller copies the jobs' pull secrets into it, "+
			"the only namespace whose Secrets kruise-daemon may read.")
}

// Validate checks the options.
func (o *Options) Validate() []error {
	var errs []error
	for _, c := range o.Controllers {
		name := strings.TrimPrefix(c, "-")
		if name == "*" {
			continue
		}
		if _, ok := Known[name]; !ok {
			errs = append(errs, fmt.Errorf("--controllers: unknown controller %q", name))
		}
	}
	if o.Workers < 1 {
		errs = append(errs, fmt.Errorf("--controller-workers must be at least 1"))
	}
	if o.QPS <= 0 || o.Burst < 1 {
		errs = append(errs, fmt.Errorf("--controller-kube-api-qps must be positive and --controller-kube-api-burst at least 1"))
	}
	for _, msg := range validation.IsDNS1123Label(o.KruiseDaemonNamespace) {
		errs = append(errs, fmt.Errorf("--kruise-daemon-namespace %q: %s", o.KruiseDaemonNamespace, msg))
	}
	if o.LeaderElect && o.LeaseDuration <= o.RenewDeadline {
		errs = append(errs, fmt.Errorf("--leader-election-lease-duration must be greater than --leader-election-renew-deadline"))
	}
	return errs
}

// Enabled returns the controllers the options select, sorted.
func (o *Options) Enabled() []string {
	enabled := sets.New[string]()
	for _, c := range o.Controllers {
		switch {
		case c == "*":
			for name := range Known {
				enabled.Insert(name)
			}
		case strings.HasPrefix(c, "-"):
		default:
			enabled.Insert(c)
		}
	}
	for _, c := range o.Controllers {
		if name, ok := strings.CutPrefix(c, "-"); ok {
			enabled.Delete(name)
		}
	}
	out := enabled.UnsortedList()
	slices.Sort(out)
	return out
}

// Run runs the host until ctx ends: it campaigns for the Lease and, while
// leading, runs the enabled controllers. A replica that loses the Lease stops
// its controllers (they must not run on two replicas at once), keeps serving
// the API and campaigns again.
func Run(ctx context.Context, o *Options, kruiseConfig, kubeConfig *rest.Config) error {
	enabled := o.Enabled()
	if len(enabled) == 0 {
		klog.InfoS("No embedded controllers enabled")
		return nil
	}
	kubeClient, err := kubernetes.NewForConfig(o.controllerConfig(kubeConfig))
	if err != nil {
		return err
	}
	if !o.LeaderElect {
		return runControllers(ctx, o, enabled, kruiseConfig, kubeClient)
	}

	identity := o.Identity
	if identity == "" {
		hostname, _ := os.Hostname()
		identity = hostname + "_" + string(uuid.NewUUID())
	}
	// The Lease has a client of its own, as in kube-controller-manager:
	// sharing the controllers' client-side rate limiter, a renewal would
	// queue behind their requests when they are busy, and a leader could
	// miss its renew deadline because of its own controllers.
	electionClient, err := kubernetes.NewForConfig(rest.AddUserAgent(rest.CopyConfig(kubeConfig), "kruise-apiserver-leader-election"))
	if err != nil {
		return err
	}
	return elect(ctx, o, electionClient, identity, func(ctx context.Context) error {
		klog.InfoS("Leading: starting the embedded controllers", "identity", identity, "controllers", enabled)
		return runControllers(ctx, o, enabled, kruiseConfig, kubeClient)
	})
}

// elect campaigns for the Lease as identity until ctx ends and calls lead
// while this replica holds it; lead must return once its context ends.
//
// The elector runs on a context of its own, which ends only after lead has
// returned: with ReleaseOnCancel the elector gives the Lease up as soon as
// its context ends, and if that were ctx, another replica could take the
// Lease and start its controllers while this one's were still finishing
// their reconciles (client-go asks for "all code guarded by this lease"
// to have completed before the context is cancelled).
func elect(ctx context.Context, o *Options, kubeClient kubernetes.Interface, identity string, lead func(context.Context) error) error {
	// The elector records "stopped leading" after ctx has ended.
	recorderCtx, stopRecorder := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRecorder()
	lock, err := resourcelock.New(resourcelock.LeasesResourceLock, o.LeaseNamespace, o.LeaseName,
		kubeClient.CoreV1(), kubeClient.CoordinationV1(), resourcelock.ResourceLockConfig{
			Identity:      identity,
			EventRecorder: newRecorder(recorderCtx, kubeClient, "kruise-apiserver-leader-election"),
		})
	if err != nil {
		return err
	}
	for ctx.Err() == nil {
		electorCtx, stopElector := context.WithCancel(context.WithoutCancel(ctx))
		led := make(chan struct{})
		stopped := make(chan struct{})
		var leadErr error
		elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock:          lock,
			LeaseDuration: o.LeaseDuration,
			RenewDeadline: o.RenewDeadline,
			RetryPeriod:   o.RetryPeriod,
			// On SIGTERM the leader gives the Lease up once its controllers
			// have stopped, so another replica takes over without waiting
			// for it to expire.
			ReleaseOnCancel: true,
			Name:            o.LeaseNamespace + "/" + o.LeaseName,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(leadingCtx context.Context) {
					defer close(stopped)
					close(led)
					// The controllers stop when leading ends (the Lease
					// could not be renewed) or when ctx ends.
					runCtx, cancel := context.WithCancel(leadingCtx)
					defer cancel()
					defer context.AfterFunc(ctx, cancel)()
					// led is closed: from here on, the goroutine below waits
					// for stopped before it stops the elector. If ctx ended
					// before, it may not have: do not start.
					if ctx.Err() != nil || runCtx.Err() != nil {
						return
					}
					leadErr = lead(runCtx)
				},
				OnStoppedLeading: func() {
					klog.InfoS("Stopped leading the embedded controllers", "identity", identity)
				},
				OnNewLeader: func(leader string) {
					if leader != identity {
						klog.InfoS("Another replica leads the embedded controllers", "leader", leader)
					}
				},
			},
		})
		if err != nil {
			stopElector()
			return err
		}
		// When ctx ends, stop the elector (which then releases the Lease)
		// once the controllers, if this replica leads, have returned.
		go func() {
			select {
			case <-electorCtx.Done():
				return
			case <-ctx.Done():
			}
			select {
			case <-led:
				<-stopped
			default:
			}
			stopElector()
		}()
		elector.Run(electorCtx)
		stopElector()
		// Run returns once leading ended (or ctx ended before this replica
		// led); wait for the controllers to stop before campaigning again.
		select {
		case <-led:
			<-stopped
			if leadErr != nil {
				klog.ErrorS(leadErr, "Embedded controllers failed")
			}
		default:
		}
	}
	return nil
}

// controllerConfig is config for the controllers' clients: their user agent
// and rate limits.
func (o *Options) controllerConfig(config *rest.Config) *rest.Config {
	config = rest.AddUserAgent(rest.CopyConfig(config), "kruise-apiserver-controllers")
	config.QPS, config.Burst = o.QPS, o.Burst
	return config
}

func runControllers(ctx context.Context, o *Options, enabled []string, kruiseConfig *rest.Config, kubeClient kubernetes.Interface) error {
	kruiseClient, err := versioned.NewForConfig(o.controllerConfig(kruiseConfig))
	if err != nil {
		return err
	}
	c := &controllers.Context{
		KruiseClient:    kruiseClient,
		KubeClient:      kubeClient,
		KruiseInformers: kruiseinformers.NewSharedInformerFactory(kruiseClient, 0),
		KubeInformers:   kubeinformers.NewSharedInformerFactory(kubeClient, 0),
		Recorder:        newRecorder(ctx, kubeClient, "kruise-apiserver"),

		KruiseDaemonNamespace: o.KruiseDaemonNamespace,
		KruiseDaemonInformers: kubeinformers.NewSharedInformerFactoryWithOptions(kubeClient, 0,
			kubeinformers.WithNamespace(o.KruiseDaemonNamespace)),

		WorkloadSpreadVersioning: workloadspread.NewVersioning(o.WorkloadSpreadVersionedKinds),
	}
	var running []controllers.Controller
	for _, name := range enabled {
		controller, err := Known[name](c)
		if err != nil {
			return fmt.Errorf("controller %s: %w", name, err)
		}
		running = append(running, controller)
	}
	c.KruiseInformers.Start(ctx.Done())
	c.KubeInformers.Start(ctx.Done())
	c.KruiseDaemonInformers.Start(ctx.Done())
	for typ, ok := range c.KruiseInformers.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("informer for %v did not sync", typ)
		}
	}
	for typ, ok := range c.KubeInformers.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("informer for %v did not sync", typ)
		}
	}
	for typ, ok := range c.KruiseDaemonInformers.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("informer for %v in namespace %s did not sync", typ, o.KruiseDaemonNamespace)
		}
	}
	done := make(chan struct{}, len(running))
	for i, controller := range running {
		klog.InfoS("Starting controller", "controller", enabled[i], "workers", o.Workers)
		go func() {
			controller.Run(ctx, o.Workers)
			done <- struct{}{}
		}()
	}
	for range running {
		<-done
	}
	c.KruiseInformers.Shutdown()
	c.KubeInformers.Shutdown()
	c.KruiseDaemonInformers.Shutdown()
	return nil
}

// newRecorder records Events through kube-apiserver, with the Kruise types
// known so that Events can refer to them.
func newRecorder(ctx context.Context, client kubernetes.Interface, component string) record.EventRecorder {
	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	go func() {
		<-ctx.Done()
		broadcaster.Shutdown()
	}()
	return broadcaster.NewRecorder(eventScheme, corev1.EventSource{Component: component})
}

// eventScheme knows the core types and ours, so that Events can refer to
// either.
var eventScheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(kruisescheme.AddToScheme(s))
	return s
}()
