package localup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// The node (Options.Node): a real kubelet on containerd, with the bridge
// CNI plugin and a registry holding images built here.
//
// Shape, so that nothing leaks onto the host:
//
//   - containerd, kubelet, the registry and every pod live in a private
//     network and mount namespace, held by a "sleep infinity" started with
//     unshare (the node-namespace process). /var/lib, /var/log and /run are
//     overlays in it whose upper layers are under <Dir>/node, so the paths
//     kubelet, containerd and the CNI plugins hard-code (/var/lib/kubelet/
//     device-plugins, /var/lib/cni, /run/containerd, /var/log/containers,
//     /run/xtables.lock...) never reach the host's. kubelet's iptables
//     chains, the CNI bridge and the pods' network namespaces are in the
//     node's network namespace.
//   - A veth pair joins it to the host: kruise-node<slot> on the host with
//     10.200.<slot>.1/30, eth0 in the namespace with 10.200.<slot>.2 (the
//     node IP, kubelet's --node-ip), and a host route to the pod CIDR
//     10.244.<slot>.0/24 through it. kube-apiserver keeps listening on
//     loopback; local-up relays 10.200.<slot>.1:<its port> to it, and
//     reaches the kubelet at the node IP (--kubelet-preferred-address-types
//     InternalIP). kubectl and tests on the host need nothing special.
//   - Every process of the node is in the cgroup tree /kruise-node<slot>
//     (in every hierarchy): the daemons in /kruise-node<slot>/node, the pods
//     under /kruise-node<slot>/kubepods (kubelet's cgroupRoot). Stopping
//     kills the whole tree, which ends the namespaces (and the veth pair
//     with them), then removes the tree and restores the sysctls kubelet
//     changed (vm.overcommit_memory, kernel.panic, ...).
//
// What is left to undo is recorded in <Dir>/node.json, so that
// CleanupNode (hack/local-up.sh down) also cleans up after a local-up that
// was killed. Several nodes (local-ups) can run at once: each takes the
// first free slot.

// NodeName is the name of the node.
const NodeName = "local-node"

// Component names of the node, also the names of their log files.
const (
	NodeNamespace = "node-namespace"
	Registry      = "registry"
	Containerd    = "containerd"
	Kubelet       = "kubelet"
	KubeScheduler = "kube-scheduler"
	// KruiseDaemon is the node's kruise-daemon; those of nodes AddNode
	// adds are KruiseDaemon-<node name>, their containerds
	// Containerd-<node name>.
	KruiseDaemon = "kruise-daemon"
)

// DaemonHealthzPort is the port of the node's kruise-daemon's /healthz on
// the node IP; the daemons of added nodes take the next ones.
const DaemonHealthzPort = 10221

// RegistryPort is the registry's port on the node IP.
const RegistryPort = 5000

// nodeState is what CleanupNode needs to undo a node; <Dir>/node.json.
type nodeState struct {
	Slot    int               `json:"slot"`
	Link    string            `json:"link"` // host end of the veth pair; also the cgroup tree's name
	HostIP  string            `json:"hostIP"`
	NodeIP  string            `json:"nodeIP"`
	PodCIDR string            `json:"podCIDR"`
	Sysctls map[string]string `json:"sysctls"` // the host's values before any node started
	Dir     string            `json:"dir"`     // <Dir>/node
	// OwnerPID is the process that runs the node (local-up, the e2e
	// suite): when it is gone, the node is stale.
	OwnerPID int `json:"ownerPID"`
}

func nodeStatePath(dir string) string { return filepath.Join(dir, "node.json") }

// node is a running node.
type node struct {
	state     nodeState
	holderPID int
	forwarder *forwarder
}

// requiredNodeTools are the host's commands the node needs
// (hack/install-node-deps.sh installs them).
var requiredNodeTools = []string{"runc", "docker-registry", "skopeo", "busybox", "ip", "unshare", "nsenter", "mount", "sh", "sleep"}

// CNIBinDir is where Debian's containernetworking-plugins are.
const CNIBinDir = "/usr/lib/cni"

func (c *Cluster) checkNodePrerequisites() error {
	var problems []string
	if os.Geteuid() != 0 {
		problems = append(problems, "the node needs root (namespaces, cgroups, containers)")
	}
	for _, tool := range requiredNodeTools {
		if _, err := exec.LookPath(tool); err != nil {
			problems = append(problems, tool+" not found in PATH")
		}
	}
	for _, plugin := range []string{"bridge", "host-local", "loopback"} {
		if _, err := os.Stat(filepath.Join(CNIBinDir, plugin)); err != nil {
			problems = append(problems, "CNI plugin "+filepath.Join(CNIBinDir, plugin)+" is missing")
		}
	}
	for _, bin := range []string{"containerd", "containerd-shim-runc-v2", "ctr", "kubelet", "kube-scheduler"} {
		if _, err := os.Stat(filepath.Join(c.opts.KubeBinDir, bin)); err != nil {
			problems = append(problems, fmt.Sprintf("%s is missing in %s (hack/build-kube-binaries.sh kubelet kube-scheduler containerd)", bin, c.opts.KubeBinDir))
		}
	}
	if c.opts.ImagesDir == "" {
		problems = append(problems, "Options.ImagesDir (the repository's hack/images) is not set")
	}
	if c.opts.DaemonBinary == "" {
		problems = append(problems, "Options.DaemonBinary (kruise-daemon, go build ./cmd/kruise-daemon) is not set")
	} else if _, err := os.Stat(c.opts.DaemonBinary); err != nil {
		problems = append(problems, "kruise-daemon: "+err.Error())
	}
	// The overlays would hide the state directory from the host.
	for _, hidden := range []string{"/var/lib", "/var/log", "/run", "/var/run"} {
		if c.opts.Dir == hidden || strings.HasPrefix(c.opts.Dir, hidden+"/") {
			problems = append(problems, fmt.Sprintf("the state directory %s may not be under %s (the node overlays it)", c.opts.Dir, hidden))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("cannot run the node: %s (hack/install-node-deps.sh installs the Debian packages)", strings.Join(problems, "; "))
	}
	return nil
}

// startNode starts the node and waits until it is Ready and schedulable.
func (c *Cluster) startNode(ctx context.Context) error {
	start := time.Now()
	if err := c.checkNodePrerequisites(); err != nil {
		return err
	}
	// A previous local-up on this directory that was killed.
	if err := CleanupNode(c.opts.Dir); err != nil {
		return fmt.Errorf("cleaning up the node of a previous run: %w", err)
	}
	nodeDir := filepath.Join(c.opts.Dir, "node")
	if err := os.RemoveAll(nodeDir); err != nil {
		return err
	}
	for _, sub := range []string{"ov", "containerd", "kubelet", "registry", "cni/net.d", "cni/ipam", "pod-logs", "volume-plugins", "tmp"} {
		if err := os.MkdirAll(filepath.Join(nodeDir, sub), 0o700); err != nil {
			return err
		}
	}

	c.step("node: namespaces, veth pair and cgroups")
	if err := c.createNode(nodeDir); err != nil {
		return err
	}
	st := c.node.state
	c.Images = imagesFor(net.JoinHostPort(st.NodeIP, strconv.Itoa(RegistryPort)))

	var err error
	if c.node.forwarder, err = startForwarder(net.JoinHostPort(st.HostIP, strconv.Itoa(c.apiserverPort)), net.JoinHostPort("127.0.0.1", strconv.Itoa(c.apiserverPort))); err != nil {
		return fmt.Errorf("relaying %s to kube-apiserver: %w", st.HostIP, err)
	}

	c.step("node: registry on %s", c.Images.Registry)
	if err := c.startRegistry(ctx); err != nil {
		return err
	}
	c.step("node: images %s, and stand-ins for the samples' %s", strings.Join(c.Images.All(), " "), strings.Join(c.Images.StandInNames(), " "))
	if err := c.pushImages(ctx); err != nil {
		return err
	}
	c.step("node: containerd")
	if err := c.startContainerd(ctx); err != nil {
		return err
	}
	c.step("node: kubelet %s on %s", NodeName, st.NodeIP)
	if err := c.startKubelet(ctx); err != nil {
		return err
	}
	c.step("kube-scheduler")
	if err := c.startScheduler(); err != nil {
		return err
	}
	if err := c.waitNodeReady(ctx); err != nil {
		return err
	}
	c.step("node: kruise-daemon for %s", NodeName)
	if err := c.startDaemon(ctx, KruiseDaemon, NodeName, c.containerdSocket(), DaemonHealthzPort); err != nil {
		return err
	}
	c.step("node: %s Ready (%.1fs)", NodeName, time.Since(start).Seconds())
	return nil
}

// createNode takes a slot, creates the cgroup tree, starts the namespace
// holder, joins it to the host with the veth pair and mounts the overlays.
func (c *Cluster) createNode(nodeDir string) error {
	unlock, err := lockHost()
	if err != nil {
		return err
	}
	locked := true
	defer func() {
		if locked {
			unlock()
		}
	}()
	links := nodeLinks()
	slot := -1
	for i := 0; i < maxNodeSlots; i++ {
		name := nodeLinkPrefix + strconv.Itoa(i)
		if _, used := links[name]; used || cgroupExists(name) || subnetUsed(fmt.Sprintf("10.200.%d.", i)) {
			continue
		}
		slot = i
		break
	}
	if slot < 0 {
		return fmt.Errorf("no free node slot: %d nodes (veth pairs %s*, or their cgroups) exist; stop some with hack/local-up.sh down", maxNodeSlots, nodeLinkPrefix)
	}
	// The host's sysctls as they were before any node: from a running
	// node's record, else as they are now.
	var sysctls map[string]string
	for _, alias := range links {
		if values, ok := decodeSysctls(alias); ok {
			sysctls = values
			break
		}
	}
	if sysctls == nil {
		if sysctls, err = readSysctls(); err != nil {
			return err
		}
	}
	st := nodeState{
		Slot:     slot,
		Link:     nodeLinkPrefix + strconv.Itoa(slot),
		HostIP:   fmt.Sprintf("10.200.%d.1", slot),
		NodeIP:   fmt.Sprintf("10.200.%d.2", slot),
		PodCIDR:  fmt.Sprintf("10.244.%d.0/24", slot),
		Sysctls:  sysctls,
		Dir:      nodeDir,
		OwnerPID: os.Getpid(),
	}
	c.node = &node{state: st}
	c.nodeLink, c.nodeSysctls = st.Link, st.Sysctls
	if err := writeJSON(nodeStatePath(c.opts.Dir), st); err != nil {
		return err
	}
	procs, err := createNodeCgroups(st.Link)
	if err != nil {
		return err
	}
	c.nodeCgroupProcs = strings.Join(procs, " ")

	// The holder: unshare execs sleep once the namespaces are made.
	p, err := c.startInCgroup(NodeNamespace, "unshare", "--net", "--mount", "--propagation", "private", "--", "sleep", "infinity")
	if err != nil {
		return err
	}
	c.node.holderPID = p.cmd.Process.Pid
	if err := waitFor(context.Background(), p, "the node's namespaces", 30*time.Second, func(context.Context) error {
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", c.node.holderPID))
		if err != nil || strings.TrimSpace(string(comm)) != "sleep" {
			return fmt.Errorf("unshare has not exec'd sleep yet")
		}
		return nil
	}); err != nil {
		return err
	}
	pid := strconv.Itoa(c.node.holderPID)
	if err := run("ip", "link", "add", st.Link, "type", "veth", "peer", "name", "eth0", "netns", pid); err != nil {
		return err
	}
	hostSteps := [][]string{
		{"ip", "link", "set", st.Link, "alias", encodeSysctls(sysctls)},
		{"ip", "addr", "add", st.HostIP + "/30", "dev", st.Link},
		{"ip", "link", "set", st.Link, "up"},
	}
	for _, args := range hostSteps {
		if err := run(args[0], args[1:]...); err != nil {
			return err
		}
	}
	// The slot is taken (the link exists); other local-ups may go on.
	unlock()
	locked = false

	ns := []string{"nsenter", "--target", pid, "--net", "--mount", "--"}
	nodeSteps := [][]string{
		{"ip", "link", "set", "lo", "up"},
		{"ip", "addr", "add", st.NodeIP + "/30", "dev", "eth0"},
		{"ip", "link", "set", "eth0", "up"},
	}
	// /run first: mount(8) keeps its state in /run/mount, which must not
	// be the host's (and -n asks it not to write any).
	for _, dir := range []string{"/run", "/var/lib", "/var/log"} {
		name := strings.ReplaceAll(strings.TrimPrefix(dir, "/"), "/", "-")
		upper, work := filepath.Join(nodeDir, "ov", name+"-upper"), filepath.Join(nodeDir, "ov", name+"-work")
		for _, d := range []string{upper, work} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
		}
		nodeSteps = append(nodeSteps, []string{"mount", "-n", "-t", "overlay", "overlay", "-o",
			"lowerdir=" + dir + ",upperdir=" + upper + ",workdir=" + work, dir})
	}
	for _, args := range nodeSteps {
		if err := run(ns[0], append(ns[1:], args...)...); err != nil {
			return err
		}
	}
	if err := run("ip", "route", "add", st.PodCIDR, "via", st.NodeIP, "dev", st.Link); err != nil {
		return err
	}
	return nil
}

// subnetUsed reports whether a host interface has an address starting
// with prefix.
func subnetUsed(prefix string) bool {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if ipnet, ok := a.(*net.IPNet); ok && strings.HasPrefix(ipnet.IP.String(), prefix) {
			return true
		}
	}
	return false
}

// startInCgroup starts a process in the node's cgroup tree: a shell moves
// itself there, then execs the command (so the process is the command).
func (c *Cluster) startInCgroup(name string, command ...string) (*process, error) {
	args := append([]string{"-c", `for f in $KRUISE_NODE_CGROUP_PROCS; do echo $$ > "$f" || exit 1; done; exec "$@"`, name}, command...)
	p, err := startProcessEnv(name, c.logDir(), c.nodeEnv(), "/bin/sh", args...)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.procs[name] = p
	c.mu.Unlock()
	return p, nil
}

// startInNode starts a process in the node's cgroup tree and namespaces.
func (c *Cluster) startInNode(name string, command ...string) (*process, error) {
	return c.startInCgroup(name, append([]string{"nsenter", "--target", strconv.Itoa(c.node.holderPID), "--net", "--mount", "--"}, command...)...)
}

func (c *Cluster) nodeEnv() []string {
	// containerd finds its shim, and every node process finds runc and the
	// tools, in PATH.
	return []string{
		"KRUISE_NODE_CGROUP_PROCS=" + c.nodeCgroupProcs,
		"PATH=" + c.opts.KubeBinDir + ":" + os.Getenv("PATH"),
		"TMPDIR=" + filepath.Join(c.node.state.Dir, "tmp"),
	}
}

func (c *Cluster) startRegistry(ctx context.Context) error {
	st := c.node.state
	config := filepath.Join(st.Dir, "registry", "config.yml")
	if err := os.WriteFile(config, []byte(fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog: {disabled: true}
storage:
  filesystem: {rootdirectory: %s}
  delete: {enabled: true}
http:
  addr: %s
`, filepath.Join(st.Dir, "registry", "data"), c.Images.Registry)), 0o600); err != nil {
		return err
	}
	p, err := c.startInNode(Registry, "docker-registry", "serve", config)
	if err != nil {
		return err
	}
	return waitFor(ctx, p, "the registry", time.Minute, func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.Images.Registry+"/v2/", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/v2/: %s", resp.Status)
		}
		return nil
	})
}

// pushImages builds the images and pushes them with skopeo, run in the
// node's namespaces so that its caches (/var/lib/containers) stay there.
func (c *Cluster) pushImages(ctx context.Context) error {
	st := c.node.state
	layouts, err := buildImages(ctx, filepath.Join(st.Dir, "images"), c.opts.ImagesDir, c.Images)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(layouts))
	i := 0
	for ref, layout := range layouts {
		wg.Add(1)
		go func(i int, ref, layout string) {
			defer wg.Done()
			errs[i] = c.skopeoPush(ctx, layout, ref)
		}(i, ref, layout)
		i++
	}
	wg.Wait()
	return errors.Join(errs...)
}

// skopeoPush pushes the OCI layout image layout (dir:tag) to the
// registry as ref, from the node's namespaces.
func (c *Cluster) skopeoPush(ctx context.Context, layout, ref string) error {
	cmd := exec.CommandContext(ctx, "nsenter", "--target", strconv.Itoa(c.node.holderPID), "--net", "--mount", "--",
		"skopeo", "--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false", "oci:"+layout, "docker://"+ref)
	cmd.Env = append(os.Environ(), "TMPDIR="+filepath.Join(c.node.state.Dir, "tmp"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pushing %s: %v: %s", ref, err, out)
	}
	return nil
}

func (c *Cluster) containerdSocket() string {
	return filepath.Join(c.node.state.Dir, "containerd", "containerd.sock")
}

// registryHostsDir is the containerd registry configuration every
// containerd of the node uses (config_path).
func (c *Cluster) registryHostsDir() string {
	return filepath.Join(c.node.state.Dir, "containerd", "certs.d")
}

func (c *Cluster) startContainerd(ctx context.Context) error {
	st := c.node.state
	certsDir := c.registryHostsDir()
	// The registry serves itself and docker.io: server is where a host
	// falls back to when its hosts fail, so docker.io never reaches the
	// internet (images of OpenKruise's samples are served by stand-ins,
	// Images.StandIns).
	hostsTOML := []byte(fmt.Sprintf(`server = "http://%[1]s"

[host."http://%[1]s"]
  capabilities = ["pull", "resolve"]
`, c.Images.Registry))
	for _, host := range []string{c.Images.Registry, "docker.io"} {
		hostDir := filepath.Join(certsDir, host)
		if err := os.MkdirAll(hostDir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(hostDir, "hosts.toml"), hostsTOML, 0o644); err != nil {
			return err
		}
	}
	cni := map[string]interface{}{
		"cniVersion": "1.0.0",
		"name":       "kruise-local",
		"plugins": []interface{}{map[string]interface{}{
			"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
			"ipam": map[string]interface{}{
				"type":    "host-local",
				"ranges":  [][]map[string]string{{{"subnet": st.PodCIDR}}},
				"routes":  []map[string]string{{"dst": "0.0.0.0/0"}},
				"dataDir": filepath.Join(st.Dir, "cni", "ipam"),
			},
		}},
	}
	if err := writeJSON(filepath.Join(st.Dir, "cni", "net.d", "10-kruise-local.conflist"), cni); err != nil {
		return err
	}
	return c.startContainerdIn(ctx, Containerd, filepath.Join(st.Dir, "containerd"))
}

// startContainerdIn starts a containerd in the node's namespaces whose
// state, configuration and socket (containerd.sock) are in dir, and waits
// for its CRI plugin. Every containerd of the node resolves images through
// the node's registry (registryHostsDir).
func (c *Cluster) startContainerdIn(ctx context.Context, name, dir string) error {
	st := c.node.state
	socket := filepath.Join(dir, "containerd.sock")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	// containerd 2 configuration (version 3): every path under the node's
	// directory, no host configuration imported, NRI off. The shims'
	// sockets stay in /run/containerd/s (the path may not be longer than
	// 42 bytes), which is in the node's /run overlay.
	config := fmt.Sprintf(`version = 3
root = %[1]q
state = %[2]q
imports = []

[grpc]
  address = %[3]q

[ttrpc]
  address = %[4]q

[plugins]
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = 'overlayfs'
    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = %[5]q
    [plugins.'io.containerd.cri.v1.images'.registry]
      config_path = %[6]q

  [plugins.'io.containerd.cri.v1.runtime']
    # This machine's root lacks CAP_SYS_RESOURCE: runc cannot lower
    # oom_score_adj, so every sandbox would fail (docs: real-node.md).
    restrict_oom_score_adj = true
    netns_mounts_under_state_dir = true
    enable_criu = false
    cdi_spec_dirs = []
    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = 'runc'
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
        runtime_type = 'io.containerd.runc.v2'
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
          SystemdCgroup = false
    [plugins.'io.containerd.cri.v1.runtime'.cni]
      bin_dirs = [%[7]q]
      conf_dir = %[8]q

  [plugins.'io.containerd.grpc.v1.cri']
    stream_server_address = '127.0.0.1'
    stream_server_port = '0'

  [plugins.'io.containerd.internal.v1.opt']
    path = %[9]q

  [plugins.'io.containerd.nri.v1.nri']
    disable = true

  [plugins.'io.containerd.image-verifier.v1.bindir']
    bin_dir = %[10]q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), socket, socket+".ttrpc",
		c.Images.Pause, c.registryHostsDir(), CNIBinDir, filepath.Join(st.Dir, "cni", "net.d"), filepath.Join(dir, "opt"),
		filepath.Join(dir, "image-verifier"))
	configPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		return err
	}
	p, err := c.startInNode(name, filepath.Join(c.opts.KubeBinDir, "containerd"), "--config", configPath, "--log-level", "warn")
	if err != nil {
		return err
	}
	// The socket comes before the CRI services: wait for the CRI plugin.
	return waitFor(ctx, p, name, time.Minute, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, filepath.Join(c.opts.KubeBinDir, "ctr"), "--address", socket, "plugins", "ls").CombinedOutput()
		if err != nil {
			return fmt.Errorf("ctr plugins ls: %v: %s", err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) >= 3 && f[0] == "io.containerd.grpc.v1" && f[1] == "cri" {
				if f[len(f)-1] != "ok" {
					return fmt.Errorf("containerd's CRI plugin: %s", line)
				}
				return nil
			}
		}
		return fmt.Errorf("containerd has no CRI plugin yet")
	})
}

func (c *Cluster) startKubelet(ctx context.Context) error {
	st := c.node.state
	dir := filepath.Join(st.Dir, "kubelet")
	// The kubelet reaches kube-apiserver through the relay on the host end
	// of the veth pair; the serving certificate is checked for localhost.
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := c.writeKubeconfigFor(kubeconfig, c.certs.node, fmt.Sprintf("https://%s", net.JoinHostPort(st.HostIP, strconv.Itoa(c.apiserverPort))), "localhost"); err != nil {
		return err
	}
	socket := "unix://" + c.containerdSocket()
	config := map[string]interface{}{
		"apiVersion":               "kubelet.config.k8s.io/v1beta1",
		"kind":                     "KubeletConfiguration",
		"containerRuntimeEndpoint": socket,
		"imageServiceEndpoint":     socket,
		"cgroupDriver":             "cgroupfs",
		// This machine has cgroup v1 (hybrid); kubelet 1.37 refuses it
		// unless told otherwise.
		"failCgroupV1": false,
		"failSwapOn":   false,
		"cgroupRoot":   "/" + st.Link,
		"address":      st.NodeIP,
		"port":         10250,
		"readOnlyPort": 0,
		// Within the node's network namespace.
		"healthzBindAddress": "127.0.0.1",
		"healthzPort":        10248,
		"authentication": map[string]interface{}{
			"anonymous": map[string]interface{}{"enabled": false},
			"webhook":   map[string]interface{}{"enabled": true},
			"x509":      map[string]interface{}{"clientCAFile": c.certs.certPath(c.certs.clusterCA)},
		},
		"authorization":   map[string]interface{}{"mode": "Webhook"},
		"podLogsDir":      filepath.Join(st.Dir, "pod-logs"),
		"volumePluginDir": filepath.Join(st.Dir, "volume-plugins"),
		"evictionHard": map[string]string{
			"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%", "nodefs.inodesFree": "1%",
		},
		"imageGCHighThresholdPercent":  100,
		"imageGCLowThresholdPercent":   99,
		"serializeImagePulls":          false,
		"clusterDomain":                "cluster.local",
		"resolvConf":                   "/etc/resolv.conf",
		"rotateCertificates":           false,
		"serverTLSBootstrap":           false,
		"registerNode":                 true,
		"protectKernelDefaults":        false,
		"enableControllerAttachDetach": true,
		// Pods report their status promptly.
		"nodeStatusUpdateFrequency": "5s",
		"syncFrequency":             "10s",
	}
	configPath := filepath.Join(dir, "config.json")
	if err := writeJSON(configPath, config); err != nil {
		return err
	}
	p, err := c.startInNode(Kubelet, filepath.Join(c.opts.KubeBinDir, "kubelet"),
		"--config="+configPath, "--kubeconfig="+kubeconfig,
		"--root-dir="+filepath.Join(dir, "root"), "--cert-dir="+filepath.Join(dir, "pki"),
		"--hostname-override="+NodeName, "--node-ip="+st.NodeIP, "--v=1")
	if err != nil {
		return err
	}
	return waitFor(ctx, p, "kubelet", time.Minute, func(ctx context.Context) error {
		_, err := c.nodeObject(ctx)
		return err
	})
}

func (c *Cluster) startScheduler() error {
	kubeconfig := filepath.Join(c.opts.Dir, "kube-scheduler.kubeconfig")
	if err := c.writeKubeconfig(kubeconfig, c.certs.scheduler, false); err != nil {
		return err
	}
	_, err := c.start(KubeScheduler, filepath.Join(c.opts.KubeBinDir, "kube-scheduler"),
		"--kubeconfig="+kubeconfig, "--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port=0")
	return err
}

var nodeGVR = schema.GroupVersionResource{Version: "v1", Resource: "nodes"}

func (c *Cluster) nodeObject(ctx context.Context) (*unstructured.Unstructured, error) {
	client, err := dynamic.NewForConfig(c.AdminConfig)
	if err != nil {
		return nil, err
	}
	return client.Resource(nodeGVR).Get(ctx, NodeName, metav1.GetOptions{})
}

// waitNodeReady waits for the Node to be Ready and for the node lifecycle
// controller to have removed the not-ready taint kubelet registers it
// with, so that the scheduler places pods on it.
func (c *Cluster) waitNodeReady(ctx context.Context) error {
	c.mu.Lock()
	kubelet := c.procs[Kubelet]
	c.mu.Unlock()
	return waitFor(ctx, kubelet, "node "+NodeName, 2*time.Minute, func(ctx context.Context) error {
		if err := c.Exited(); err != nil {
			return err
		}
		obj, err := c.nodeObject(ctx)
		if err != nil {
			return err
		}
		conditions, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
		ready := false
		for _, cond := range conditions {
			if m, _ := cond.(map[string]interface{}); m["type"] == "Ready" {
				ready = m["status"] == "True"
				if !ready {
					return fmt.Errorf("not Ready: %v", m["message"])
				}
			}
		}
		if !ready {
			return errors.New("no Ready condition yet")
		}
		taints, _, _ := unstructured.NestedSlice(obj.Object, "spec", "taints")
		for _, t := range taints {
			if m, _ := t.(map[string]interface{}); m["key"] == "node.kubernetes.io/not-ready" || m["key"] == "node.kubernetes.io/unreachable" {
				return fmt.Errorf("still tainted %v", m["key"])
			}
		}
		return nil
	})
}

// stopNode stops the scheduler and the kubelet, then everything else of
// the node at once, and undoes what it changed on the host.
func (c *Cluster) stopNode() error {
	c.stopExtraNodes()
	for _, name := range []string{KubeScheduler, Kubelet} {
		c.mu.Lock()
		p := c.procs[name]
		c.mu.Unlock()
		if p != nil {
			p.stop(20 * time.Second)
		}
	}
	if c.node == nil {
		return nil
	}
	err := teardownNode(c.opts.Dir, c.node.state)
	// Reap what was killed.
	reap := []string{KruiseDaemon, Containerd, Registry, NodeNamespace}
	c.mu.Lock()
	for _, n := range c.extraNodes {
		reap = append(reap, KruiseDaemon+"-"+n.name, Containerd+"-"+n.name)
	}
	c.extraNodes = nil
	c.mu.Unlock()
	for _, name := range reap {
		c.mu.Lock()
		p := c.procs[name]
		c.mu.Unlock()
		if p != nil {
			p.stop(10 * time.Second)
		}
	}
	if c.node.forwarder != nil {
		c.node.forwarder.Close()
	}
	c.node = nil
	return err
}

// CleanupNode undoes what the node of the local-up with state directory
// dir left on the host, if anything: hack/local-up.sh down runs it after
// stopping local-up, for a local-up that was killed before it could.
func CleanupNode(dir string) error {
	data, err := os.ReadFile(nodeStatePath(dir))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var st nodeState
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("%s: %w", nodeStatePath(dir), err)
	}
	return teardownNode(dir, st)
}

// CleanupStaleNodes runs CleanupNode on every state directory that
// matches pattern (filepath.Glob) and whose node's owner is gone: the e2e
// suite's nodes when the suite was killed (say, by go test -timeout).
func CleanupStaleNodes(pattern string) error {
	files, err := filepath.Glob(filepath.Join(pattern, "node.json"))
	if err != nil {
		return err
	}
	var errs []error
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		var st nodeState
		if json.Unmarshal(data, &st) != nil || (st.OwnerPID > 0 && syscall.Kill(st.OwnerPID, 0) == nil) {
			continue
		}
		if err := CleanupNode(filepath.Dir(file)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func teardownNode(dir string, st nodeState) error {
	var errs []error
	if st.Link == "" || !strings.HasPrefix(st.Link, nodeLinkPrefix) {
		return fmt.Errorf("%s: no node link recorded", nodeStatePath(dir))
	}
	// Held until the sysctls are settled: a node starting meanwhile must
	// either see this one's link (and its record of the sysctls) or find
	// the sysctls restored.
	unlock, lockErr := lockHost()
	if lockErr != nil {
		errs = append(errs, lockErr)
	}
	// Everything in the cgroup tree: containerd, shims, containers, the
	// registry and the holder. The namespaces end with their last process,
	// and the veth pair with the network namespace.
	if err := killCgroup(st.Link, 30*time.Second); err != nil {
		errs = append(errs, err)
	}
	for i := 0; i < 100 && linkExists(st.Link); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if linkExists(st.Link) {
		if err := run("ip", "link", "del", st.Link); err != nil {
			errs = append(errs, err)
		}
	}
	if err := removeCgroups(st.Link, 10*time.Second); err != nil {
		errs = append(errs, err)
	}
	// The last node to go restores the sysctls.
	if lockErr == nil {
		if len(nodeLinks()) == 0 && st.Sysctls != nil {
			if err := restoreSysctls(st.Sysctls); err != nil {
				errs = append(errs, err)
			}
		}
		unlock()
	}
	if len(errs) > 0 {
		return fmt.Errorf("tearing down the node: %w", errors.Join(errs...))
	}
	if st.Dir != "" {
		if err := os.RemoveAll(st.Dir); err != nil {
			return err
		}
	}
	return os.Remove(nodeStatePath(dir))
}

// applyNodeRBAC lets kube-apiserver use the kubelet API (logs, exec,
// port-forward), which the kubelet authorizes with SubjectAccessReviews.
func (c *Cluster) applyNodeRBAC(ctx context.Context) error {
	return c.serverSideApply(ctx, []*unstructured.Unstructured{{Object: map[string]interface{}{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
		"metadata": map[string]interface{}{"name": "kruise-local-up:kube-apiserver-kubelet-client"},
		"roleRef":  map[string]interface{}{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:kubelet-api-admin"},
		"subjects": []interface{}{map[string]interface{}{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": KubeletClientUser}},
	}}})
}

// writeKubeconfigFor writes a kubeconfig for server with the client
// certificate name, checking the serving certificate for tlsServerName.
func (c *Cluster) writeKubeconfigFor(path, name, server, tlsServerName string) error {
	config := clientcmdapi.NewConfig()
	config.Clusters["local"] = &clientcmdapi.Cluster{
		Server: server, TLSServerName: tlsServerName, CertificateAuthority: c.certs.certPath(c.certs.clusterCA),
	}
	config.AuthInfos[name] = &clientcmdapi.AuthInfo{ClientCertificate: c.certs.certPath(name), ClientKey: c.certs.keyPath(name)}
	config.Contexts["local"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: name}
	config.CurrentContext = "local"
	return clientcmd.WriteToFile(*config, path)
}

func writeJSON(path string, v interface{}) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o600)
}
