package localup

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/host"
)

// The kruise-apiserver replicas run as in a cluster (artifacts/'s
// Deployment): each serves the whole API from the etcd they share (the
// kruise-etcd process), and kube-apiserver reaches them like a Service with
// several endpoints, through a balancer on the APIServices' port that skips
// replicas that are down. Their embedded controllers run on the replica
// holding the Lease (pkg/controllers/host); each replica's leader-election
// identity is its name.

// kruiseReplica is one kruise-apiserver replica; its process, while it
// has one, is c.procs[name].
type kruiseReplica struct {
	index int
	name  string
	port  int
}

// KruiseReplicaName names replica i: its log file (LogPath), its key in
// Ports and its identity in the Lease.
func KruiseReplicaName(i int) string { return KruiseAPIServer + "-" + strconv.Itoa(i) }

// KruiseReplica describes a kruise-apiserver replica.
type KruiseReplica struct {
	Index int
	// Name is also its leader-election identity (the Lease's
	// holderIdentity while it leads).
	Name string
	// Port is where it serves (https://127.0.0.1:<port>, with the
	// certificate the APIServices' caBundle verifies for "localhost").
	Port    int
	LogPath string
	Running bool
}

// KruiseReplicas lists the replicas.
func (c *Cluster) KruiseReplicas() []KruiseReplica {
	out := make([]KruiseReplica, 0, len(c.kruise))
	for _, r := range c.kruise {
		p := c.kruiseProcess(r)
		out = append(out, KruiseReplica{Index: r.index, Name: r.name, Port: r.port, LogPath: c.LogPath(r.name), Running: p != nil && p.running()})
	}
	return out
}

func (c *Cluster) kruiseProcess(r *kruiseReplica) *process {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.procs[r.name]
}

func (c *Cluster) kruiseReplica(i int) (*kruiseReplica, error) {
	if i < 0 || i >= len(c.kruise) {
		return nil, fmt.Errorf("no kruise-apiserver replica %d (there are %d)", i, len(c.kruise))
	}
	return c.kruise[i], nil
}

// startKruiseBalancer listens on the APIServices' port and relays each
// connection to a replica that accepts it.
func (c *Cluster) startKruiseBalancer() error {
	var targets []string
	for _, r := range c.kruise {
		targets = append(targets, net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)))
	}
	f, err := startForwarder(net.JoinHostPort("127.0.0.1", strconv.Itoa(c.kruisePort)), targets...)
	if err != nil {
		return fmt.Errorf("balancer for kruise-apiserver: %w", err)
	}
	c.kruiseBalancer = f
	return nil
}

// startKruiseProcess starts a replica in delegated mode on the shared etcd.
func (c *Cluster) startKruiseProcess(r *kruiseReplica) (*process, error) {
	kubeconfig := filepath.Join(c.opts.Dir, "kruise-apiserver.kubeconfig")
	if err := c.writeKubeconfig(kubeconfig, c.certs.kruiseClient, false); err != nil {
		return nil, err
	}
	dataDir := filepath.Join(c.opts.Dir, "kruise", strconv.Itoa(r.index))
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	args := []string{
		"--kubeconfig=" + kubeconfig,
		"--authentication-kubeconfig=" + kubeconfig, "--authorization-kubeconfig=" + kubeconfig,
		"--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", r.port),
		"--tls-cert-file=" + c.certs.certPath(c.certs.kruiseServing), "--tls-private-key-file=" + c.certs.keyPath(c.certs.kruiseServing),
		fmt.Sprintf("--etcd-servers=http://127.0.0.1:%d", c.kruiseEtcdPort),
		"--data-dir=" + dataDir,
		"--leader-election-identity=" + r.name,
		// The controllers' status updates ("Updating CloneSet status")
		// show which replica reconciles.
		"-v=2",
	}
	return c.start(r.name, c.opts.KruiseBinary, append(args, c.opts.KruiseArgs...)...)
}

// StartKruise starts every kruise-apiserver replica that is not running and
// waits until each is ready and kube-apiserver reports every APIService of
// ours Available.
func (c *Cluster) StartKruise(ctx context.Context) error {
	var started []*kruiseReplica
	for _, r := range c.kruise {
		if p := c.kruiseProcess(r); p != nil && p.running() {
			continue
		}
		if _, err := c.startKruiseProcess(r); err != nil {
			return err
		}
		started = append(started, r)
	}
	for _, r := range started {
		if err := c.waitKruiseReady(ctx, r); err != nil {
			return err
		}
	}
	return c.waitAPIServicesAvailable(ctx)
}

// StartKruiseReplica starts replica i (if it is not running) and waits
// until it is ready and every APIService of ours is Available.
func (c *Cluster) StartKruiseReplica(ctx context.Context, i int) error {
	r, err := c.kruiseReplica(i)
	if err != nil {
		return err
	}
	if p := c.kruiseProcess(r); p == nil || !p.running() {
		if _, err := c.startKruiseProcess(r); err != nil {
			return err
		}
	}
	if err := c.waitKruiseReady(ctx, r); err != nil {
		return err
	}
	return c.waitAPIServicesAvailable(ctx)
}

// StopKruise stops every replica (SIGTERM, at once), leaving the rest
// running, their etcd included: the APIServices then become unavailable.
func (c *Cluster) StopKruise() {
	var wg sync.WaitGroup
	for _, r := range c.kruise {
		if p := c.kruiseProcess(r); p != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.stop(time.Minute)
			}()
		}
	}
	wg.Wait()
}

// StopKruiseReplica stops replica i gracefully, as the kubelet stops a pod:
// SIGTERM, then SIGKILL after a minute. It returns once the process has
// exited.
func (c *Cluster) StopKruiseReplica(i int) error {
	r, err := c.kruiseReplica(i)
	if err != nil {
		return err
	}
	if p := c.kruiseProcess(r); p != nil {
		p.stop(time.Minute)
	}
	return nil
}

// KillKruiseReplica kills replica i (SIGKILL), as a crash or a lost node
// would, and returns once it has exited.
func (c *Cluster) KillKruiseReplica(i int) error {
	r, err := c.kruiseReplica(i)
	if err != nil {
		return err
	}
	if p := c.kruiseProcess(r); p != nil {
		p.kill()
	}
	return nil
}

// KruiseLease is the state of the embedded controllers' Lease.
type KruiseLease struct {
	// Holder is the holderIdentity, empty when nobody holds it (also
	// after the leader released it).
	Holder string
	// Replica is the index of the replica named by Holder, -1 if none.
	Replica int
	// Transitions counts the changes of leader.
	Transitions int32
	// Duration is the lease duration written by the holder (1s once
	// released).
	Duration time.Duration
	// RenewTime is when the holder last renewed it.
	RenewTime time.Time
}

// KruiseLease reads the Lease the replicas elect their leader with
// (kruise-system/kruise-manager) through kube-apiserver.
func (c *Cluster) KruiseLease(ctx context.Context) (KruiseLease, error) {
	client, err := kubernetes.NewForConfig(c.AdminConfig)
	if err != nil {
		return KruiseLease{}, err
	}
	o := host.NewOptions()
	lease, err := client.CoordinationV1().Leases(o.LeaseNamespace).Get(ctx, o.LeaseName, metav1.GetOptions{})
	if err != nil {
		return KruiseLease{}, err
	}
	out := KruiseLease{Replica: -1}
	if lease.Spec.HolderIdentity != nil {
		out.Holder = *lease.Spec.HolderIdentity
	}
	if lease.Spec.LeaseTransitions != nil {
		out.Transitions = *lease.Spec.LeaseTransitions
	}
	if lease.Spec.LeaseDurationSeconds != nil {
		out.Duration = time.Duration(*lease.Spec.LeaseDurationSeconds) * time.Second
	}
	if lease.Spec.RenewTime != nil {
		out.RenewTime = lease.Spec.RenewTime.Time
	}
	for _, r := range c.kruise {
		if out.Holder != "" && out.Holder == r.name {
			out.Replica = r.index
		}
	}
	return out, nil
}

// waitKruiseReady waits for a replica's /readyz (etcd reachable, informers
// synced), asked directly rather than through the balancer.
func (c *Cluster) waitKruiseReady(ctx context.Context, r *kruiseReplica) error {
	p := c.kruiseProcess(r)
	if p == nil {
		return fmt.Errorf("%s is not running", r.name)
	}
	client, err := c.kruiseHTTPClient()
	if err != nil {
		return err
	}
	defer client.CloseIdleConnections()
	url := fmt.Sprintf("https://127.0.0.1:%d/readyz", r.port)
	return waitFor(ctx, p, r.name, 2*time.Minute, func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/readyz: %s: %s", resp.Status, body)
		}
		return nil
	})
}

// kruiseHTTPClient trusts the replicas' serving certificate (as the
// APIServices' caBundle does), without client credentials.
func (c *Cluster) kruiseHTTPClient() (*http.Client, error) {
	caPEM, err := os.ReadFile(c.certs.certPath(c.certs.kruiseCA))
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("no certificate in " + c.certs.certPath(c.certs.kruiseCA))
	}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS12,
	}}}, nil
}

// waitAPIServicesAvailable waits until kube-apiserver reports every
// APIService of ours Available and serves our groups, failing early when
// no replica runs any more.
func (c *Cluster) waitAPIServicesAvailable(ctx context.Context) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		running := false
		var exited error
		for _, r := range c.kruise {
			if p := c.kruiseProcess(r); p != nil {
				if p.running() {
					running = true
				} else if exited == nil && !p.stopped.Load() {
					exited = p.exitError()
				}
			}
		}
		if !running {
			if exited == nil {
				exited = errors.New("no kruise-apiserver replica is running")
			}
			return false, exited
		}
		last = c.apiServicesAvailable(ctx)
		return last == nil, nil
	})
	if err != nil && last != nil {
		return fmt.Errorf("kruise-apiserver APIServices not available within 2m: %v\n%s", last, c.LogTail(KruiseAPIServer, 20))
	}
	return err
}
