package app

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	genericoptions "k8s.io/apiserver/pkg/server/options"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apiserver"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/host"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/webhook/handlers"
)

const (
	// etcdPathPrefix is where our objects live in etcd, apart from
	// kube-apiserver's /registry should both share one etcd cluster.
	etcdPathPrefix = "/registry/kruise.io"
	defaultPort    = 8443
)

// Options are the flags of kruise-apiserver.
type Options struct {
	Recommended *genericoptions.RecommendedOptions

	// DataDir holds the embedded etcd's data, generated certificates and,
	// in standalone mode, the admin kubeconfig.
	DataDir string
	// Standalone runs without a kube-apiserver: a self-made CA and admin
	// client certificate, authorization for system:masters only.
	Standalone bool
	// EtcdConnectTimeout bounds the wait for an external etcd at start.
	EtcdConnectTimeout time.Duration
	// Out receives the standalone "how to use me" lines; os.Stdout by default.
	Out io.Writer
	// Controllers configures the embedded controllers (never run with --standalone).
	Controllers *host.Options
	// ShutdownWatchTerminationGracePeriod bounds how long a stopping server
	// waits for its watches to end once it has told them to.
	ShutdownWatchTerminationGracePeriod time.Duration

	bindAddressSet bool
}

// NewOptions returns the default options.
func NewOptions() *Options {
	o := &Options{
		Recommended:        genericoptions.NewRecommendedOptions(etcdPathPrefix, nil),
		DataDir:            defaultDataDir(),
		EtcdConnectTimeout: 20 * time.Second,
		Out:                os.Stdout,
		Controllers:        host.NewOptions(),
		// Positive, unlike k8s.io/apiserver's default: a replica's watches
		// (kube-apiserver proxies everyone's, the garbage collector's among
		// them) then end when it stops and their clients re-watch through
		// another replica, instead of holding the HTTP server for its whole
		// 60 s shutdown timeout.
		ShutdownWatchTerminationGracePeriod: 10 * time.Second,
	}
	o.Recommended.Etcd.StorageConfig.EncodeVersioner = apiserver.StorageVersions()
	// Objects are stored in protobuf, as kube-apiserver stores its own;
	// --storage-media-type chooses another encoding (Config builds the
	// storage codec from it). Any of them is read back.
	o.Recommended.Etcd.DefaultStorageMediaType = runtime.ContentTypeProtobuf
	o.Recommended.SecureServing.BindPort = defaultPort
	return o
}

// defaultDataDir follows the XDG base directory convention on a laptop, and
// falls back to /var/lib in a container without a home directory.
func defaultDataDir() string {
	if dir := os.Getenv("XDG_DATA_HOME"); dir != "" {
		return filepath.Join(dir, "kruise-apiserver")
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" && home != "/" {
		return filepath.Join(home, ".local", "share", "kruise-apiserver")
	}
	return "/var/lib/kruise-apiserver"
}

// AddFlags registers the flags.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.DataDir, "data-dir", o.DataDir,
		"Directory for the embedded etcd's data (when --etcd-servers is not set), generated certificates and, with --standalone, the admin kubeconfig.")
	fs.BoolVar(&o.Standalone, "standalone", o.Standalone,
		"Run without a kube-apiserver: create (once) a CA, a serving certificate and an admin client certificate in the data dir, "+
			"write <data-dir>/kubeconfig, accept client certificates of that CA and allow only the system:masters group. "+
			"Binds to 127.0.0.1 unless --bind-address is given. Without it the server delegates authentication and authorization to the cluster's kube-apiserver.")
	fs.DurationVar(&o.EtcdConnectTimeout, "etcd-connect-timeout", o.EtcdConnectTimeout,
		"How long to wait at start for the etcd given by --etcd-servers before giving up.")
	fs.DurationVar(&o.ShutdownWatchTerminationGracePeriod, "shutdown-watch-termination-grace-period", o.ShutdownWatchTerminationGracePeriod,
		"On SIGTERM, active watches are ended and the server waits at most this long for them to drain before it stops. "+
			"0 leaves watches open until the HTTP server's shutdown timeout (60s) cuts them.")
	o.Controllers.AddFlags(fs)
	o.Recommended.AddFlags(fs)
}

// Complete fills in what depends on other flags. flags are the parsed flags.
func (o *Options) Complete(flags *pflag.FlagSet) error {
	if f := flags.Lookup("bind-address"); f != nil {
		o.bindAddressSet = f.Changed
	}
	if o.DataDir == "" {
		return errors.New("--data-dir must not be empty")
	}
	dataDir, err := filepath.Abs(o.DataDir)
	if err != nil {
		return fmt.Errorf("--data-dir: %w", err)
	}
	o.DataDir = dataDir

	if o.Standalone {
		if !o.bindAddressSet {
			o.Recommended.SecureServing.BindAddress = net.ParseIP("127.0.0.1")
		}
		// Nothing to delegate to: authentication and authorization are set
		// up from the data dir's PKI, and the admission plugins and
		// priority-and-fairness that need kube-apiserver's informers are off.
		o.Recommended.Authentication = nil
		o.Recommended.Authorization = nil
		o.Recommended.CoreAPI = nil
		o.Recommended.Admission = nil
		o.Recommended.Features.EnablePriorityAndFairness = false
	} else {
		o.allowWebhookCalls()
	}
	if !o.Standalone && o.Recommended.SecureServing.ServerCert.CertKey.CertFile == "" {
		// Self-signed serving certificates for a cluster that has not
		// provided any; an APIService then needs insecureSkipTLSVerify or
		// this CA in caBundle.
		o.Recommended.SecureServing.ServerCert.CertDirectory = filepath.Join(o.DataDir, "serving-certs")
	}
	return nil
}

// allowWebhookCalls lets kube-apiserver's calls to the admission handlers
// through authorization, whatever --authorization-always-allow-paths says.
// kube-apiserver calls webhooks without credentials (unless it is given an
// admission kubeconfig), so they arrive as system:anonymous, which
// k8s.io/apiserver's delegated authentication admits by default. The
// handlers only answer AdmissionReviews: anyone who can reach the port
// learns how a given object would be admitted (for deletion protection, how
// many active pods or Bound claims hold a namespace, or the objects of a
// CRD whose uid they know), and can make the WorkloadSpread handler add
// records to a WorkloadSpread's creatingPods/deletingPods, which skews its
// placement until they expire or the controller recounts (README,
// "Admission webhooks"). OpenKruise's own webhook server takes no
// credentials at all.
func (o *Options) allowWebhookCalls() {
	if o.Recommended.Authorization == nil || slices.Contains(o.Recommended.Authorization.AlwaysAllowPaths, handlers.AuthorizationAlwaysAllowPath) {
		return
	}
	o.Recommended.Authorization.AlwaysAllowPaths = append(o.Recommended.Authorization.AlwaysAllowPaths, handlers.AuthorizationAlwaysAllowPath)
}

// Validate checks the flags for errors.
func (o *Options) Validate() error {
	var errs []error
	if o.EtcdConnectTimeout <= 0 {
		errs = append(errs, errors.New("--etcd-connect-timeout must be positive"))
	}
	if o.ShutdownWatchTerminationGracePeriod < 0 {
		errs = append(errs, errors.New("--shutdown-watch-termination-grace-period must not be negative"))
	}
	r := o.Recommended
	if !o.Standalone && r.CoreAPI != nil && r.CoreAPI.CoreAPIKubeconfigPath == "" &&
		r.Authentication.RemoteKubeConfigFile == "" && os.Getenv("KUBERNETES_SERVICE_HOST") == "" {
		errs = append(errs, errors.New("no kube-apiserver to delegate authentication and authorization to: "+
			"give --kubeconfig, run in a cluster, or use --standalone"))
	}
	if o.embeddedEtcd() {
		// The embedded etcd's address is only known once it runs; validate
		// the other etcd flags against a stand-in.
		etcd := *r.Etcd
		etcd.StorageConfig.Transport.ServerList = []string{"https://127.0.0.1:2379"}
		errs = append(errs, etcd.Validate()...)
	} else {
		errs = append(errs, r.Etcd.Validate()...)
	}
	errs = append(errs, r.SecureServing.Validate()...)
	errs = append(errs, r.Authentication.Validate()...)
	errs = append(errs, r.Authorization.Validate()...)
	errs = append(errs, r.Audit.Validate()...)
	errs = append(errs, r.Features.Validate()...)
	errs = append(errs, r.CoreAPI.Validate()...)
	errs = append(errs, r.Admission.Validate()...)
	errs = append(errs, r.EgressSelector.Validate()...)
	errs = append(errs, r.Traces.Validate()...)
	errs = append(errs, o.Controllers.Validate()...)
	return utilerrors.NewAggregate(errs)
}

func (o *Options) embeddedEtcd() bool {
	return len(o.Recommended.Etcd.StorageConfig.Transport.ServerList) == 0
}
