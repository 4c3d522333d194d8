// Package localup runs the whole aggregated setup on one machine, loopback
// only: etcd, kube-apiserver, kube-controller-manager and kruise-apiserver
// in delegated mode behind APIServices — several replicas sharing their own
// etcd behind a balancer, as in a cluster (see kruise.go) — with their PKI;
// and, with
// Options.Node, a real node (containerd, kubelet, kruise-daemon, a registry
// with images built here) in its own namespaces, and kube-scheduler (see
// node.go), to which tests can add nodes without kubelet (daemon.go).
// hack/local-up.sh and the e2e suite use it.
package localup

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Options says where things are.
type Options struct {
	// Dir holds the state: pki/, etcd/ (the cluster's), kruise-etcd/ (the
	// one the kruise-apiserver replicas share), kruise/<replica>/ (their
	// data dirs), logs/ and the admin kubeconfig.
	Dir string
	// KubeBinDir has kube-apiserver, kube-controller-manager and etcd
	// (hack/build-kube-binaries.sh).
	KubeBinDir string
	// KruiseBinary is the kruise-apiserver binary.
	KruiseBinary string
	// ArtifactsDir is the repository's artifacts/, whose RBAC and APIService
	// manifests are applied as a cluster operator would.
	ArtifactsDir string
	// Progress receives one line per step; nil discards them.
	Progress io.Writer

	// Node adds a real node, so that Pods run: containerd, kubelet and a
	// registry in a private network and mount namespace joined to the host
	// by a veth pair, and kube-scheduler. It needs root, the Debian
	// packages of hack/install-node-deps.sh, and kubelet, kube-scheduler
	// and containerd (containerd, containerd-shim-runc-v2) in KubeBinDir.
	Node bool
	// ImagesDir is the repository's hack/images (pause, testapp), built
	// into the node's images; required with Node.
	ImagesDir string
	// DaemonBinary is the kruise-daemon binary (cmd/kruise-daemon), run
	// beside the kubelet on the node and on every node AddNode adds;
	// required with Node.
	DaemonBinary string

	// KruiseReplicas is how many kruise-apiserver processes run, sharing
	// one etcd of their own and reached by kube-apiserver through a
	// balancer; their embedded controllers run on the one holding the
	// Lease. 0 means DefaultKruiseReplicas.
	KruiseReplicas int
	// KruiseArgs are more flags for every kruise-apiserver replica, after
	// local-up's own (the bench turns the embedded controllers off).
	KruiseArgs []string
}

// DefaultKruiseReplicas is as many replicas as artifacts/'s Deployment.
const DefaultKruiseReplicas = 2

// Cluster is a running local control plane.
type Cluster struct {
	opts  Options
	certs *certs

	etcdPort, apiserverPort int
	// kruisePort is the balancer's, the APIServices' port; kruiseEtcdPort
	// the replicas' etcd's.
	kruisePort, kruiseEtcdPort int
	kruise                     []*kruiseReplica
	kruiseBalancer             *forwarder

	// Kubeconfig is the admin kubeconfig (system:masters).
	Kubeconfig string
	// AdminConfig is the admin client configuration.
	AdminConfig *rest.Config

	// Images are the images in the node's registry (Options.Node).
	Images Images

	mu    sync.Mutex
	procs map[string]*process

	node            *node
	extraNodes      []*extraNode      // AddNode's
	nodeLink        string            // kept after Down, for Leaks
	nodeSysctls     map[string]string // the host's, from before any node
	nodeCgroupProcs string
}

// Component names, also the names of their log files.
const (
	Etcd                  = "etcd"
	KubeAPIServer         = "kube-apiserver"
	KubeControllerManager = "kube-controller-manager"
	// KruiseAPIServer names the replicas together: LogTail gives the tail
	// of each one's log, LogPath replica 0's, Ports the balancer's port.
	// The replicas are kruise-apiserver-0, -1, ... (KruiseReplicaName).
	KruiseAPIServer = "kruise-apiserver"
	// KruiseEtcd is the etcd the kruise-apiserver replicas share.
	KruiseEtcd = "kruise-etcd"
)

// Up starts everything and returns once every APIService of ours is
// Available. On error, whatever was started is stopped again.
func Up(ctx context.Context, opts Options) (_ *Cluster, err error) {
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	if opts.KruiseReplicas == 0 {
		opts.KruiseReplicas = DefaultKruiseReplicas
	}
	if opts.KruiseReplicas < 0 {
		return nil, fmt.Errorf("KruiseReplicas is %d", opts.KruiseReplicas)
	}
	c := &Cluster{opts: opts, procs: map[string]*process{}, Kubeconfig: filepath.Join(opts.Dir, "kubeconfig")}
	defer func() {
		if err != nil {
			c.Down()
		}
	}()
	for _, sub := range []string{"logs", "etcd", "kruise-etcd", "kruise"} {
		if err := os.MkdirAll(filepath.Join(opts.Dir, sub), 0o700); err != nil {
			return nil, err
		}
	}
	c.step("certificates in %s", filepath.Join(opts.Dir, "pki"))
	if c.certs, err = ensureCerts(filepath.Join(opts.Dir, "pki")); err != nil {
		return nil, err
	}
	ports, err := freePorts(6 + opts.KruiseReplicas)
	if err != nil {
		return nil, err
	}
	c.etcdPort, c.apiserverPort, c.kruisePort, c.kruiseEtcdPort = ports[0], ports[1], ports[2], ports[3]
	etcdPeerPort, kruiseEtcdPeerPort := ports[4], ports[5]
	for i, port := range ports[6:] {
		c.kruise = append(c.kruise, &kruiseReplica{index: i, name: KruiseReplicaName(i), port: port})
	}

	c.step("etcd on 127.0.0.1:%d", c.etcdPort)
	if err := c.startEtcd(ctx, Etcd, filepath.Join(opts.Dir, "etcd"), c.etcdPort, etcdPeerPort); err != nil {
		return nil, err
	}
	c.step("kruise-etcd (kruise-apiserver's own) on 127.0.0.1:%d", c.kruiseEtcdPort)
	if err := c.startEtcd(ctx, KruiseEtcd, filepath.Join(opts.Dir, "kruise-etcd"), c.kruiseEtcdPort, kruiseEtcdPeerPort); err != nil {
		return nil, err
	}
	c.step("kube-apiserver on https://127.0.0.1:%d", c.apiserverPort)
	if err := c.startKubeAPIServer(ctx); err != nil {
		return nil, err
	}
	c.step("kube-controller-manager (namespace, garbage collector%s controllers)", map[bool]string{true: ", node lifecycle, taint eviction, pod GC, resource quota, volume binder, Deployment, ReplicaSet", false: ""}[opts.Node])
	if err := c.startControllerManager(); err != nil {
		return nil, err
	}
	c.step("kruise-system: RBAC and APIServices from %s", opts.ArtifactsDir)
	if err := c.applyArtifacts(ctx); err != nil {
		return nil, err
	}
	var replicaPorts []string
	for _, r := range c.kruise {
		replicaPorts = append(replicaPorts, strconv.Itoa(r.port))
	}
	c.step("kruise-apiserver: %d replicas on 127.0.0.1 ports %s, balanced at https://127.0.0.1:%d", len(c.kruise), strings.Join(replicaPorts, ", "), c.kruisePort)
	if err := c.startKruiseBalancer(); err != nil {
		return nil, err
	}
	if err := c.StartKruise(ctx); err != nil {
		return nil, err
	}
	if opts.Node {
		if err := c.applyNodeRBAC(ctx); err != nil {
			return nil, err
		}
		if err := c.startNode(ctx); err != nil {
			return nil, fmt.Errorf("node: %w", err)
		}
	}
	return c, nil
}

func (c *Cluster) step(format string, args ...interface{}) {
	fmt.Fprintf(c.opts.Progress, "local-up: "+format+"\n", args...)
}

func (c *Cluster) logDir() string { return filepath.Join(c.opts.Dir, "logs") }

func (c *Cluster) start(name, binary string, args ...string) (*process, error) {
	p, err := startProcess(name, c.logDir(), binary, args...)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.procs[name] = p
	c.mu.Unlock()
	return p, nil
}

// waitFor polls check until it succeeds, p exits or the timeout passes.
func waitFor(ctx context.Context, p *process, what string, timeout time.Duration, check func(context.Context) error) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if !p.running() {
			return false, p.exitError()
		}
		last = check(ctx)
		return last == nil, nil
	})
	if err != nil && last != nil && p.running() {
		return fmt.Errorf("%s not ready within %s: %v; last lines of %s:\n%s", what, timeout, last, p.logPath, tailFile(p.logPath, 20))
	}
	return err
}

// startEtcd starts a single-member etcd (plain HTTP on loopback) named
// name with its data in dataDir.
func (c *Cluster) startEtcd(ctx context.Context, name, dataDir string, clientPort, peerPort int) error {
	client := fmt.Sprintf("http://127.0.0.1:%d", clientPort)
	peer := fmt.Sprintf("http://127.0.0.1:%d", peerPort)
	p, err := c.start(name, filepath.Join(c.opts.KubeBinDir, "etcd"),
		"--name=local", "--data-dir="+dataDir,
		"--listen-client-urls="+client, "--advertise-client-urls="+client,
		"--listen-peer-urls="+peer, "--initial-advertise-peer-urls="+peer,
		"--initial-cluster=local="+peer, "--log-level=warn",
		"--auto-compaction-mode=periodic", "--auto-compaction-retention=1h")
	if err != nil {
		return err
	}
	return waitFor(ctx, p, name, time.Minute, func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, client+"/health", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/health: %s", resp.Status)
		}
		return nil
	})
}

func (c *Cluster) startKubeAPIServer(ctx context.Context) error {
	cert, key := c.certs.certPath, c.certs.keyPath
	p, err := c.start(KubeAPIServer, filepath.Join(c.opts.KubeBinDir, "kube-apiserver"),
		fmt.Sprintf("--etcd-servers=http://127.0.0.1:%d", c.etcdPort),
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		// The kubernetes Service's endpoints may not be a loopback address,
		// and nothing here needs them.
		"--endpoint-reconciler-type=none",
		fmt.Sprintf("--secure-port=%d", c.apiserverPort),
		"--tls-cert-file="+cert(c.certs.apiserverServing), "--tls-private-key-file="+key(c.certs.apiserverServing),
		"--client-ca-file="+cert(c.certs.clusterCA),
		"--authorization-mode=Node,RBAC",
		"--enable-admission-plugins=NodeRestriction",
		"--service-cluster-ip-range=10.0.0.0/24",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+c.certs.serviceAccountKey,
		"--service-account-signing-key-file="+c.certs.serviceAccountKey,
		"--allow-privileged=true",
		// The aggregation layer: kube-apiserver proxies to kruise-apiserver
		// with this client certificate and the user in request headers,
		// which kruise-apiserver trusts through the front-proxy CA.
		"--requestheader-client-ca-file="+cert(c.certs.frontProxyCA),
		"--requestheader-allowed-names=front-proxy-client",
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file="+cert(c.certs.frontProxyClient), "--proxy-client-key-file="+key(c.certs.frontProxyClient),
		"--enable-aggregator-routing=false",
		"--cert-dir="+filepath.Join(c.opts.Dir, "kube-apiserver-certs"),
		// logs, exec, port-forward: kube-apiserver dials the kubelet at the
		// node's InternalIP (the node IP on the veth pair), never its
		// hostname, with a client certificate the kubelet authorizes.
		"--kubelet-preferred-address-types=InternalIP",
		"--kubelet-client-certificate="+cert(c.certs.kubeletClient), "--kubelet-client-key="+key(c.certs.kubeletClient),
	)
	if err != nil {
		return err
	}
	if err := c.writeKubeconfig(c.Kubeconfig, c.certs.admin, true); err != nil {
		return err
	}
	config, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		return err
	}
	config.QPS, config.Burst = 100, 200
	c.AdminConfig = config
	return waitFor(ctx, p, "kube-apiserver", 2*time.Minute, func(ctx context.Context) error {
		return c.readyz(ctx)
	})
}

func (c *Cluster) readyz(ctx context.Context) error {
	rc, err := rest.RESTClientFor(withNegotiation(rest.CopyConfig(c.AdminConfig)))
	if err != nil {
		return err
	}
	body, err := rc.Get().AbsPath("/readyz").DoRaw(ctx)
	if err != nil {
		return fmt.Errorf("%v: %s", err, body)
	}
	return nil
}

func (c *Cluster) startControllerManager() error {
	kubeconfig := filepath.Join(c.opts.Dir, "kube-controller-manager.kubeconfig")
	if err := c.writeKubeconfig(kubeconfig, c.certs.controllerManager, false); err != nil {
		return err
	}
	// The namespace controller deletes the Kruise objects of a deleted
	// namespace, found through discovery; the garbage collector follows
	// owner references to them. With a node: the node lifecycle controller
	// takes the not-ready taint off a Ready node (and marks a silent one
	// unreachable), the taint eviction controller evicts from tainted nodes,
	// pod GC removes pods of deleted nodes and terminated pods; the
	// resource quota controller computes quota usage (tests keep pods out of
	// a namespace with pods: 0); the persistent volume binder binds claims
	// to pre-created volumes (there is no provisioner) and the protection
	// controllers release volumes and claims no longer in use; the
	// Deployment and ReplicaSet controllers run the built-in workloads
	// that WorkloadSpreads spread.
	// Each controller acts as its own ServiceAccount with its bootstrap
	// role (system:controller:namespace-controller, ...), as in kubeadm.
	controllers := []string{"namespace-controller", "garbage-collector-controller", "serviceaccount-controller",
		"serviceaccount-token-controller", "root-ca-certificate-publisher-controller"}
	if c.opts.Node {
		controllers = append(controllers, "node-lifecycle-controller", "taint-eviction-controller", "pod-garbage-collector-controller", "ttl-controller",
			"resourcequota-controller", "persistentvolume-binder-controller", "persistentvolume-protection-controller", "persistentvolumeclaim-protection-controller",
			"deployment-controller", "replicaset-controller")
	}
	_, err := c.start(KubeControllerManager, filepath.Join(c.opts.KubeBinDir, "kube-controller-manager"),
		"--kubeconfig="+kubeconfig,
		"--authentication-kubeconfig="+kubeconfig, "--authorization-kubeconfig="+kubeconfig,
		"--controllers="+strings.Join(controllers, ","),
		"--root-ca-file="+c.certs.certPath(c.certs.clusterCA),
		"--service-account-private-key-file="+c.certs.serviceAccountKey,
		"--use-service-account-credentials=true",
		"--leader-elect=false",
		"--bind-address=127.0.0.1", "--secure-port=0",
	)
	return err
}

// Down stops everything: the node first (undoing what it changed on the
// host), then kube-controller-manager, the kruise-apiserver replicas, their
// balancer and etcd, and the rest of the control plane. The error says
// what of the node could not be undone.
//
// kube-controller-manager goes before the replicas: its watches of our
// resources, proxied by kube-apiserver, would keep a stopping replica
// busy for its whole shutdown timeout (a minute).
func (c *Cluster) Down() error {
	err := c.stopNode()
	c.mu.Lock()
	kcm := c.procs[KubeControllerManager]
	c.mu.Unlock()
	if kcm != nil {
		kcm.stop(time.Minute)
	}
	c.StopKruise()
	if c.kruiseBalancer != nil {
		c.kruiseBalancer.Close()
	}
	for _, name := range []string{KruiseEtcd, KubeAPIServer, Etcd} {
		c.mu.Lock()
		p := c.procs[name]
		c.mu.Unlock()
		if p != nil {
			p.stop(time.Minute)
		}
	}
	return err
}

// Exited returns an error describing the first component that died, or
// nil while all run or were stopped on purpose (like a kruise-apiserver
// replica a test stopped). A kruise-apiserver replica that died counts only
// once none runs: the others serve, as in a cluster.
func (c *Cluster) Exited() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	replicas := map[string]bool{}
	kruiseRunning := false
	for _, r := range c.kruise {
		replicas[r.name] = true
		if p := c.procs[r.name]; p != nil && p.running() {
			kruiseRunning = true
		}
	}
	for name, p := range c.procs {
		if p.running() || p.stopped.Load() || (replicas[name] && kruiseRunning) {
			continue
		}
		return p.exitError()
	}
	return nil
}

// LogTail returns the last lines of a component's log; for
// KruiseAPIServer, the last lines of each replica's log, each under a
// header naming the replica.
func (c *Cluster) LogTail(component string, lines int) string {
	if component == KruiseAPIServer {
		var parts []string
		for _, r := range c.kruise {
			parts = append(parts, fmt.Sprintf("--- %s.log:\n%s", r.name, tailFile(c.LogPath(r.name), lines)))
		}
		return strings.Join(parts, "\n")
	}
	return tailFile(c.LogPath(component), lines)
}

// LogPath is the log file of a component (of replica 0 for
// KruiseAPIServer).
func (c *Cluster) LogPath(component string) string {
	if component == KruiseAPIServer {
		component = KruiseReplicaName(0)
	}
	return filepath.Join(c.logDir(), component+".log")
}

var apiServiceGVR = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

// OurAPIServices are the APIServices artifacts/ registers.
var OurAPIServices = []string{"v1alpha1.apps.kruise.io", "v1beta1.apps.kruise.io", "v1alpha1.policy.kruise.io", "v1beta1.policy.kruise.io"}

func (c *Cluster) apiServicesAvailable(ctx context.Context) error {
	client, err := dynamic.NewForConfig(c.AdminConfig)
	if err != nil {
		return err
	}
	for _, name := range OurAPIServices {
		obj, err := client.Resource(apiServiceGVR).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		conditions, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
		available := false
		var message string
		for _, cond := range conditions {
			m, _ := cond.(map[string]interface{})
			if m["type"] == "Available" {
				available = m["status"] == "True"
				message, _ = m["message"].(string)
			}
		}
		if !available {
			return fmt.Errorf("APIService %s is not Available: %s", name, message)
		}
	}
	// Available is set by a controller that polls; the proxy serving the
	// group may lag behind it. Only a request through kube-apiserver says
	// the group is really reachable.
	rc, err := rest.RESTClientFor(withNegotiation(rest.CopyConfig(c.AdminConfig)))
	if err != nil {
		return err
	}
	for _, name := range OurAPIServices {
		version, group, _ := strings.Cut(name, ".")
		if body, err := rc.Get().AbsPath("/apis", group, version).DoRaw(ctx); err != nil {
			return fmt.Errorf("GET /apis/%s/%s through kube-apiserver: %v: %s", group, version, err, body)
		}
	}
	return nil
}

// writeKubeconfig writes a kubeconfig for the local kube-apiserver with the
// client certificate name; embedded makes it self-contained (the admin
// kubeconfig users copy around), otherwise it points at the files.
func (c *Cluster) writeKubeconfig(path, name string, embedded bool) error {
	cluster := &clientcmdapi.Cluster{Server: fmt.Sprintf("https://127.0.0.1:%d", c.apiserverPort)}
	user := &clientcmdapi.AuthInfo{}
	if embedded {
		var err error
		if cluster.CertificateAuthorityData, err = os.ReadFile(c.certs.certPath(c.certs.clusterCA)); err != nil {
			return err
		}
		if user.ClientCertificateData, err = os.ReadFile(c.certs.certPath(name)); err != nil {
			return err
		}
		if user.ClientKeyData, err = os.ReadFile(c.certs.keyPath(name)); err != nil {
			return err
		}
	} else {
		cluster.CertificateAuthority = c.certs.certPath(c.certs.clusterCA)
		user.ClientCertificate, user.ClientKey = c.certs.certPath(name), c.certs.keyPath(name)
	}
	config := clientcmdapi.NewConfig()
	config.Clusters["local"] = cluster
	config.AuthInfos[name] = user
	config.Contexts["local"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: name}
	config.CurrentContext = "local"
	return clientcmd.WriteToFile(*config, path)
}

func withNegotiation(config *rest.Config) *rest.Config {
	config.GroupVersion = &metav1.SchemeGroupVersion
	config.NegotiatedSerializer = unstructuredCodecs()
	return config
}

// freePorts asks the kernel for n distinct free loopback ports.
func freePorts(n int) ([]int, error) {
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Ports are the ports the components listen on: KruiseAPIServer is the
// balancer in front of the replicas (the APIServices' port), each replica
// (KruiseReplicaName) has its own.
func (c *Cluster) Ports() map[string]int {
	ports := map[string]int{Etcd: c.etcdPort, KubeAPIServer: c.apiserverPort, KruiseAPIServer: c.kruisePort, KruiseEtcd: c.kruiseEtcdPort}
	for _, r := range c.kruise {
		ports[r.name] = r.port
	}
	return ports
}

// NodeIP is the node's IP (the kubelet's InternalIP), empty without a node.
func (c *Cluster) NodeIP() string {
	if c.node == nil {
		return ""
	}
	return c.node.state.NodeIP
}

// PodCIDR is the node's pod network, routed from the host to the node.
func (c *Cluster) PodCIDR() string {
	if c.node == nil {
		return ""
	}
	return c.node.state.PodCIDR
}
