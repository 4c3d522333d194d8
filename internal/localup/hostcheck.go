package localup

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Proof that a node leaves nothing behind: SnapshotHost before Up,
// Cluster.Leaks after Down. HostTraces (hack/local-up.sh check) looks for
// the kinds of traces a node could leave, without a snapshot.

// HostSnapshot is what a node could change on the host, by category: the
// network links, routes, mounts, top-level cgroups, firewall rules,
// sysctls, and the paths kubelet, containerd and the CNI plugins use by
// default. Each category is a sorted list of lines.
type HostSnapshot map[string][]string

// hostPaths are where kubelet, containerd, CNI plugins, iptables and
// skopeo write when left to their defaults; the node's overlays keep them
// in its mount namespace.
var hostPaths = []string{
	"/var/lib/kubelet", "/var/lib/cni", "/var/lib/containerd", "/var/lib/containers", "/var/lib/nri",
	"/run/containerd", "/run/netns", "/run/nri", "/run/runc", "/run/xtables.lock", "/run/flannel",
	"/var/log/pods", "/var/log/containers",
	"/etc/cni", "/etc/containerd", "/etc/kubernetes", "/opt/cni", "/opt/containerd", "/opt/nri",
	"/usr/libexec/kubernetes",
}

// hostSysctls are the global sysctls kubelet sets, and IPv4 forwarding
// (the bridge plugin turns it on, in the node's network namespace only).
var hostSysctls = append([]string{"net/ipv4/ip_forward"}, kubeletSysctls...)

// SnapshotHost records the host's state.
func SnapshotHost() HostSnapshot {
	s := HostSnapshot{}
	entries, _ := os.ReadDir("/sys/class/net")
	for _, e := range entries {
		s["links"] = append(s["links"], e.Name())
	}
	for _, cmd := range [][]string{{"ip", "-4", "route", "show", "table", "all"}, {"ip", "-6", "route", "show", "table", "all"}, {"ip", "-o", "addr", "show"}} {
		out, err := exec.Command(cmd[0], cmd[1:]...).Output()
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(out), "\n") {
			line = strings.TrimSpace(line)
			// Addresses: drop the lifetimes, which count down.
			if i := strings.Index(line, "valid_lft"); i >= 0 {
				line = strings.TrimSpace(line[:i])
			}
			if line != "" {
				s["routes"] = append(s["routes"], line)
			}
		}
	}
	if f, err := os.Open("/proc/self/mountinfo"); err == nil {
		scanner := bufio.NewScanner(f)
		for scanner.Scan() {
			fields := strings.Fields(scanner.Text())
			for i, field := range fields {
				if field == "-" && i+2 < len(fields) && len(fields) > 4 {
					s["mounts"] = append(s["mounts"], fmt.Sprintf("%s on %s type %s", fields[i+2], fields[4], fields[i+1]))
					break
				}
			}
		}
		f.Close()
	}
	if hs, err := cgroupHierarchies(); err == nil {
		for _, h := range hs {
			entries, _ := os.ReadDir(h.path)
			for _, e := range entries {
				if e.IsDir() {
					s["cgroups"] = append(s["cgroups"], filepath.Join(h.path, e.Name()))
				}
			}
		}
	}
	for _, name := range hostSysctls {
		data, err := os.ReadFile(filepath.Join("/proc/sys", name))
		if err == nil {
			s["sysctls"] = append(s["sysctls"], name+"="+strings.TrimSpace(string(data)))
		}
	}
	for _, file := range []string{"/proc/net/ip_tables_names", "/proc/net/ip6_tables_names"} {
		if data, err := os.ReadFile(file); err == nil {
			for _, table := range strings.Fields(string(data)) {
				s["firewall"] = append(s["firewall"], filepath.Base(file)+": "+table)
			}
		}
	}
	for _, cmd := range [][]string{{"iptables-save"}, {"ip6tables-save"}, {"nft", "list", "ruleset"}} {
		if _, err := exec.LookPath(cmd[0]); err != nil {
			continue
		}
		out, err := exec.Command(cmd[0], cmd[1:]...).Output()
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(out), "\n") {
			line = strings.TrimSpace(line)
			// Comments carry dates; counters change.
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if i := strings.Index(line, " ["); strings.HasPrefix(line, ":") && i > 0 {
				line = line[:i]
			}
			s["firewall"] = append(s["firewall"], cmd[0]+": "+line)
		}
	}
	// What the node's overlays cover, and the usual places of
	// configuration and add-ons, one level deep.
	for _, dir := range []string{"/run", "/var/lib", "/var/log", "/var/run", "/etc", "/opt", "/usr/libexec"} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			s["paths"] = append(s["paths"], filepath.Join(dir, e.Name()))
		}
	}
	for _, path := range hostPaths {
		info, err := os.Lstat(path)
		if err != nil {
			continue
		}
		s["paths"] = append(s["paths"], path)
		if info.IsDir() {
			entries, _ := os.ReadDir(path)
			for _, e := range entries {
				s["paths"] = append(s["paths"], filepath.Join(path, e.Name()))
			}
		}
	}
	s["processes"] = nodeProcesses()
	for k := range s {
		sort.Strings(s[k])
	}
	return s
}

var nodeBinaries = map[string]bool{
	"containerd": true, "containerd-shim-runc-v2": true, "kubelet": true, "kube-scheduler": true,
	"docker-registry": true, "runc": true, "pause": true, "testapp": true,
}

// nodeProcesses lists processes that could belong to a node: those in a
// node's cgroup tree, and those running the node's binaries, as
// "<pid> <exe> <cgroup> <command line>".
func nodeProcesses() []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	self := fmt.Sprint(os.Getpid())
	for _, e := range entries {
		pid := e.Name()
		if pid == self || pid[0] < '0' || pid[0] > '9' {
			continue
		}
		exe, _ := os.Readlink(filepath.Join("/proc", pid, "exe"))
		cgroup, _ := os.ReadFile(filepath.Join("/proc", pid, "cgroup"))
		inNode := ""
		for _, line := range strings.Split(string(cgroup), "\n") {
			if i := strings.Index(line, "/"+nodeLinkPrefix); i >= 0 {
				inNode = line[i:]
				break
			}
		}
		if inNode == "" && !nodeBinaries[filepath.Base(strings.TrimSuffix(exe, " (deleted)"))] {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", pid, "cmdline"))
		out = append(out, fmt.Sprintf("%s %s %s %s", pid, exe, inNode, strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))))
	}
	return out
}

var nodeLinkName = regexp.MustCompile(nodeLinkPrefix + `[0-9]+`)

// Leaks compares the host now, after Down, with a snapshot taken before Up
// and returns what differs. Other nodes running meanwhile (other slots) are
// ignored: their links, routes, cgroups and processes, and the sysctls
// while any runs.
func (c *Cluster) Leaks(before HostSnapshot) []string {
	after := SnapshotHost()
	otherNode := func(line string) bool {
		for _, name := range nodeLinkName.FindAllString(line, -1) {
			if name != c.nodeLink {
				return true
			}
		}
		return false
	}
	othersRunning := len(nodeLinks()) > 0
	var leaks []string
	categories := map[string]bool{}
	for k := range before {
		categories[k] = true
	}
	for k := range after {
		categories[k] = true
	}
	for category := range categories {
		if category == "sysctls" {
			// kubelet's sysctls are restored by the last node to stop, to
			// the values from before any node ran (which the snapshot
			// does not have if another node was running then).
			if othersRunning {
				continue
			}
			want := map[string]string{}
			for _, line := range before[category] {
				k, v, _ := strings.Cut(line, "=")
				want[k] = v
			}
			for k, v := range c.nodeSysctls {
				want[k] = v
			}
			for _, line := range after[category] {
				k, v, _ := strings.Cut(line, "=")
				if want[k] != v {
					leaks = append(leaks, fmt.Sprintf("sysctl %s is %s, was %s", k, v, want[k]))
				}
			}
			continue
		}
		if category == "processes" {
			// Only ours: in our cgroup tree or naming our directory.
			for _, line := range after[category] {
				if (c.nodeLink != "" && strings.Contains(line, "/"+c.nodeLink+"/")) || strings.Contains(line, c.opts.Dir) {
					leaks = append(leaks, "process left: "+line)
				}
			}
			continue
		}
		was := map[string]bool{}
		for _, line := range before[category] {
			was[line] = true
		}
		is := map[string]bool{}
		for _, line := range after[category] {
			is[line] = true
			if !was[line] && !otherNode(line) {
				leaks = append(leaks, category+" added: "+line)
			}
		}
		for _, line := range before[category] {
			if !is[line] && !otherNode(line) {
				leaks = append(leaks, category+" removed or changed: "+line)
			}
		}
	}
	if _, err := os.Stat(nodeStatePath(c.opts.Dir)); err == nil {
		leaks = append(leaks, "state of a node not torn down: "+nodeStatePath(c.opts.Dir))
	}
	sort.Strings(leaks)
	return leaks
}

// HostTraces lists what looks like the traces of a node on this host,
// running or left behind: veth pairs and cgroup trees named kruise-node*,
// routes through them, their processes, kubelet's iptables chains, and the
// default paths of kubelet, containerd and the CNI plugins (which the
// host may also have for reasons of its own).
func HostTraces() []string {
	s := SnapshotHost()
	var traces []string
	for _, category := range []string{"links", "routes", "cgroups", "mounts"} {
		for _, line := range s[category] {
			if strings.Contains(line, nodeLinkPrefix) || (category == "mounts" && strings.Contains(line, "/node/ov/")) {
				traces = append(traces, category+": "+line)
			}
		}
	}
	for _, line := range s["firewall"] {
		if strings.Contains(line, "KUBE-") || strings.Contains(line, "CNI-") {
			traces = append(traces, "firewall: "+line)
		}
	}
	for _, line := range s["paths"] {
		for _, path := range hostPaths {
			if line == path || strings.HasPrefix(line, path+"/") {
				traces = append(traces, "path: "+line)
				break
			}
		}
	}
	for _, line := range s["processes"] {
		fields := strings.Fields(line)
		if strings.Contains(line, "/"+nodeLinkPrefix) || (len(fields) > 1 && strings.Contains(fields[1], "/kruise-apiserver/kube-")) {
			traces = append(traces, "process: "+line)
		}
	}
	return traces
}
