package localup

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	remote "k8s.io/cri-client/pkg"
	"k8s.io/utils/ptr"
)

// kruise-daemon on the node, and nodes without a kubelet (AddNode).
//
// Every node runs a kruise-daemon in the node's namespaces, with the
// identity of artifacts/' kruise-daemon ServiceAccount (a client
// certificate), reaching kube-apiserver through the relay as the kubelet
// does, and the node's containerd through its socket.
//
// A node AddNode adds is only what image pulling needs: a containerd of its
// own (own root, state and socket, in the first node's namespaces, so it
// reaches the same registry with the same mirror configuration), a Node
// object and a kruise-daemon. There is no kubelet: local-up keeps the Node
// Ready itself, by posting a Ready condition and renewing the node's Lease
// in kube-node-lease as a kubelet would. Without that, kube-controller-
// manager's node lifecycle controller would mark the node Unknown and taint
// it node.kubernetes.io/unreachable (NoSchedule and NoExecute) after the
// grace period: a node that looks broken, which is not what the tests
// mean (OpenKruise's NodeImage controller even waits for Ready; ours does
// not, a node needs no kubelet to pull). Pods must never land there, since nothing would run them: the Node carries the
// taint NoKubeletTaint (NoSchedule) from its creation, which no pod of the
// tests tolerates.

// ContainerdVersion is the containerd hack/build-kube-binaries.sh builds,
// as added nodes report it.
const ContainerdVersion = "2.4.2"

// NoKubeletTaint is the taint key of nodes without a kubelet (AddNode).
const NoKubeletTaint = "kruise-apiserver.io/no-kubelet"

// extraNode is a node AddNode added.
type extraNode struct {
	name string
	dir  string
	// index numbers the node's ports (its daemon's healthz).
	index         int
	stopHeartbeat context.CancelFunc
	heartbeatDone chan struct{}
}

// startDaemon starts the kruise-daemon of node nodeName against the
// containerd at socket, with /healthz on the node IP at port, and waits
// until it has synced its NodeImage informer.
func (c *Cluster) startDaemon(ctx context.Context, name, nodeName, socket string, port int) error {
	st := c.node.state
	dir := filepath.Join(st.Dir, "kruise-daemon", nodeName)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := c.writeKubeconfigFor(kubeconfig, c.certs.daemon, fmt.Sprintf("https://%s", net.JoinHostPort(st.HostIP, strconv.Itoa(c.apiserverPort))), "localhost"); err != nil {
		return err
	}
	healthz := net.JoinHostPort(st.NodeIP, strconv.Itoa(port))
	p, err := c.startInNode(name, c.opts.DaemonBinary,
		"--node-name="+nodeName, "--kubeconfig="+kubeconfig, "--runtime-endpoint=unix://"+socket,
		"--healthz-bind-address="+healthz, "--v=2")
	if err != nil {
		return err
	}
	return waitFor(ctx, p, name, time.Minute, func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+healthz+"/healthz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/healthz: %s", resp.Status)
		}
		return nil
	})
}

// AddNode adds a node named name that has no kubelet: a containerd of its
// own, a Ready Node object tainted NoKubeletTaint, and a kruise-daemon
// (see above). It returns once the daemon runs. The node goes away with
// the cluster (Down, hack/local-up.sh down and check know it); on error,
// what AddNode started and created is gone again.
func (c *Cluster) AddNode(ctx context.Context, name string) (err error) {
	if c.node == nil {
		return errors.New("AddNode needs the cluster's node (Options.Node)")
	}
	if name == NodeName {
		return fmt.Errorf("node %s is the kubelet's", name)
	}
	hbCtx, stopHeartbeat := context.WithCancel(context.Background())
	extra := &extraNode{name: name, dir: filepath.Join(c.node.state.Dir, "nodes", name),
		stopHeartbeat: stopHeartbeat, heartbeatDone: make(chan struct{})}
	// Listed before anything starts: a concurrent AddNode can take neither
	// the name nor the ports, and Down knows what to stop.
	c.mu.Lock()
	for _, n := range c.extraNodes {
		if n.name == name {
			c.mu.Unlock()
			stopHeartbeat()
			return fmt.Errorf("node %s was added already", name)
		}
		extra.index = max(extra.index, n.index)
	}
	extra.index++
	c.extraNodes = append(c.extraNodes, extra)
	c.mu.Unlock()

	var client kubernetes.Interface
	heartbeating, createdNode := false, false
	defer func() {
		if err == nil {
			return
		}
		if !heartbeating {
			close(extra.heartbeatDone)
		}
		c.removeExtraNode(extra, client, createdNode)
	}()

	c.step("node %s: containerd in %s", name, extra.dir)
	if err := c.startContainerdIn(ctx, Containerd+"-"+name, extra.dir); err != nil {
		return err
	}
	clientset, err := kubernetes.NewForConfig(c.AdminConfig)
	if err != nil {
		return err
	}
	client = clientset
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
			"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", NoKubeletTaint: "true",
		}},
		Spec: corev1.NodeSpec{Taints: []corev1.Taint{{Key: NoKubeletTaint, Value: "true", Effect: corev1.TaintEffectNoSchedule}}},
	}
	if _, err := client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("node %s: %w", name, err)
	}
	createdNode = true
	if err := postNodeReady(ctx, client, name); err != nil {
		return err
	}
	if err := renewNodeLease(ctx, client, name); err != nil {
		return err
	}
	heartbeating = true
	go extra.heartbeat(hbCtx, client)

	c.step("node %s: kruise-daemon", name)
	return c.startDaemon(ctx, KruiseDaemon+"-"+name, name, filepath.Join(extra.dir, "containerd.sock"), DaemonHealthzPort+extra.index)
}

// removeExtraNode undoes an AddNode that failed: it stops the node's
// heartbeat and processes, deletes its Node and Lease when AddNode created
// them (client is nil when it got no client), and forgets the node.
func (c *Cluster) removeExtraNode(n *extraNode, client kubernetes.Interface, deleteNode bool) {
	n.stopHeartbeat()
	<-n.heartbeatDone
	for _, name := range []string{KruiseDaemon + "-" + n.name, Containerd + "-" + n.name} {
		c.mu.Lock()
		p := c.procs[name]
		delete(c.procs, name)
		c.mu.Unlock()
		if p != nil {
			p.stop(10 * time.Second)
		}
	}
	if deleteNode && client != nil {
		// The caller's context may be what ended AddNode.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := client.CoreV1().Nodes().Delete(ctx, n.name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			c.step("node %s: deleting the Node after a failed AddNode: %v", n.name, err)
		}
		if err := client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Delete(ctx, n.name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			c.step("node %s: deleting the Lease after a failed AddNode: %v", n.name, err)
		}
	}
	c.mu.Lock()
	c.extraNodes = slices.DeleteFunc(c.extraNodes, func(e *extraNode) bool { return e == n })
	c.mu.Unlock()
}

// heartbeat renews the node's Lease every 10 s, and its Ready condition
// every minute, as a kubelet does.
func (n *extraNode) heartbeat(ctx context.Context, client kubernetes.Interface) {
	defer close(n.heartbeatDone)
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for i := 1; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		callCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_ = renewNodeLease(callCtx, client, n.name)
		if i%6 == 0 {
			_ = postNodeReady(callCtx, client, n.name)
		}
		cancel()
	}
}

// postNodeReady sets the node's Ready condition (and the runtime it
// reports), keeping the transition time while it stays Ready.
func postNodeReady(ctx context.Context, client kubernetes.Interface, name string) error {
	// kube-controller-manager annotates new nodes meanwhile (ttl, node
	// lifecycle).
	return retry.RetryOnConflict(retry.DefaultRetry, func() error { return tryPostNodeReady(ctx, client, name) })
}

func tryPostNodeReady(ctx context.Context, client kubernetes.Interface, name string) error {
	node, err := client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	now := metav1.Now()
	ready := corev1.NodeCondition{
		Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KruiseLocalUpNoKubelet",
		Message: "local-up keeps this node without a kubelet Ready; it runs kruise-daemon only", LastHeartbeatTime: now, LastTransitionTime: now,
	}
	var conditions []corev1.NodeCondition
	for _, cond := range node.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			if cond.Status == corev1.ConditionTrue {
				ready.LastTransitionTime = cond.LastTransitionTime
			}
			continue
		}
		conditions = append(conditions, cond)
	}
	node.Status.Conditions = append(conditions, ready)
	node.Status.NodeInfo.ContainerRuntimeVersion = "containerd://" + ContainerdVersion
	node.Status.NodeInfo.OperatingSystem, node.Status.NodeInfo.Architecture = "linux", "amd64"
	_, err = client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
	return err
}

// renewNodeLease creates or renews the node's Lease in kube-node-lease.
func renewNodeLease(ctx context.Context, client kubernetes.Interface, name string) error {
	leases := client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	now := metav1.NewMicroTime(time.Now())
	lease, err := leases.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = leases.Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity: ptr.To(name), LeaseDurationSeconds: ptr.To[int32](40), RenewTime: &now,
			},
		}, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	lease.Spec.RenewTime = &now
	_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
	return err
}

// stopExtraNodes stops the heartbeats of the added nodes; their processes
// go with the node's cgroup tree.
func (c *Cluster) stopExtraNodes() {
	c.mu.Lock()
	extras := c.extraNodes
	c.mu.Unlock()
	for _, n := range extras {
		n.stopHeartbeat()
		<-n.heartbeatDone
	}
}

// NodeImage returns what the containerd of node (NodeName or a node
// AddNode added) holds under ref, asked through its CRI image service: nil
// when it has no such image.
func (c *Cluster) NodeImage(ctx context.Context, node, ref string) (*runtimeapi.Image, error) {
	if c.node == nil {
		return nil, errors.New("no node")
	}
	socket := c.containerdSocket()
	if node != NodeName {
		socket = filepath.Join(c.node.state.Dir, "nodes", node, "containerd.sock")
	}
	images, err := remote.NewRemoteImageService(ctx, "unix://"+socket, 30*time.Second, nil, false)
	if err != nil {
		return nil, err
	}
	defer images.Close(context.Background())
	resp, err := images.ImageStatus(ctx, &runtimeapi.ImageSpec{Image: ref}, false)
	if err != nil {
		return nil, err
	}
	return resp.GetImage(), nil
}
