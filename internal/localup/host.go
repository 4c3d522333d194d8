package localup

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// What the node changes on the host, outside its namespaces, and how it is
// undone: cgroups (one tree per node, /<link> in every hierarchy), the host
// end of the veth pair (with a route to the pod CIDR through it), and the
// global sysctls kubelet sets at start.

// nodeLinkPrefix names the host end of a node's veth pair and its cgroup
// tree: kruise-node<slot>.
const nodeLinkPrefix = "kruise-node"

// maxNodeSlots bounds the nodes (local-ups with a node) on one machine.
const maxNodeSlots = 64

// linkAliasPrefix starts the alias of the host end of the veth pair, which
// carries the host's sysctl values from before any node started, so that
// the last node to stop can restore them even when several ran at once.
const linkAliasPrefix = "kruise-local-up sysctls:"

// kubeletSysctls are what kubelet sets at start (setupKernelTunables in
// pkg/kubelet/cm/container_manager_linux.go): none of them is per network
// namespace.
var kubeletSysctls = []string{
	"vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops",
	"kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes",
}

func readSysctls() (map[string]string, error) {
	values := map[string]string{}
	for _, name := range kubeletSysctls {
		data, err := os.ReadFile(filepath.Join("/proc/sys", name))
		if err != nil {
			return nil, err
		}
		values[name] = strings.TrimSpace(string(data))
	}
	return values, nil
}

// restoreSysctls writes back the values that differ.
func restoreSysctls(values map[string]string) error {
	current, err := readSysctls()
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range kubeletSysctls {
		want, ok := values[name]
		if !ok || current[name] == want {
			continue
		}
		if err := os.WriteFile(filepath.Join("/proc/sys", name), []byte(want+"\n"), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("restoring %s=%s: %w", name, want, err))
		}
	}
	return errors.Join(errs...)
}

func encodeSysctls(values map[string]string) string {
	parts := []string{linkAliasPrefix}
	for _, name := range kubeletSysctls {
		parts = append(parts, name+"="+values[name])
	}
	return strings.Join(parts, " ")
}

func decodeSysctls(alias string) (map[string]string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(alias), linkAliasPrefix)
	if !ok {
		return nil, false
	}
	values := map[string]string{}
	for _, kv := range strings.Fields(rest) {
		k, v, _ := strings.Cut(kv, "=")
		values[k] = v
	}
	for _, name := range kubeletSysctls {
		if _, ok := values[name]; !ok {
			return nil, false
		}
	}
	return values, true
}

// nodeLinks returns the host ends of the veth pairs of every node on this
// machine, with their aliases.
func nodeLinks() map[string]string {
	links := map[string]string{}
	entries, _ := os.ReadDir("/sys/class/net")
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), nodeLinkPrefix) {
			alias, _ := os.ReadFile(filepath.Join("/sys/class/net", e.Name(), "ifalias"))
			links[e.Name()] = strings.TrimSpace(string(alias))
		}
	}
	return links
}

func linkExists(name string) bool {
	_, err := os.Stat(filepath.Join("/sys/class/net", name))
	return err == nil
}

// lockHost serialises the host-wide steps of starting and stopping nodes
// (choosing a slot, recording and restoring sysctls) between processes.
func lockHost() (unlock func(), err error) {
	f, err := os.Open("/sys/fs/cgroup")
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking /sys/fs/cgroup: %w", err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// cgroupHierarchy is one mounted cgroup hierarchy.
type cgroupHierarchy struct {
	path    string
	v2      bool
	options string // v1: the controllers (or name=...)
}

// cgroupHierarchies returns the mounted cgroup hierarchies, from
// /proc/self/mountinfo.
func cgroupHierarchies() ([]cgroupHierarchy, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var hs []cgroupHierarchy
	seen := map[string]bool{}
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		// 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
		fields := strings.Fields(scanner.Text())
		sep := -1
		for i, f := range fields {
			if f == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+3 > len(fields) || len(fields) < 5 {
			continue
		}
		fstype, mountPoint := fields[sep+1], unescapeMountPath(fields[4])
		if (fstype != "cgroup" && fstype != "cgroup2") || fields[3] != "/" || seen[mountPoint] {
			continue
		}
		seen[mountPoint] = true
		hs = append(hs, cgroupHierarchy{path: mountPoint, v2: fstype == "cgroup2", options: fields[sep+3]})
	}
	if len(hs) == 0 {
		return nil, errors.New("no cgroup hierarchy is mounted")
	}
	return hs, scanner.Err()
}

func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// cgroupExists reports whether /<name> exists in any hierarchy.
func cgroupExists(name string) bool {
	hs, _ := cgroupHierarchies()
	for _, h := range hs {
		if _, err := os.Stat(filepath.Join(h.path, name)); err == nil {
			return true
		}
	}
	return false
}

// createNodeCgroups creates /<name> and /<name>/node (the node's daemons)
// in every hierarchy and returns the cgroup.procs files of /<name>/node. A
// new cpuset cgroup starts with no CPUs and memory nodes, so they are
// copied from the root; on cgroup v2 the controllers the root delegates
// are delegated further.
func createNodeCgroups(name string) ([]string, error) {
	hs, err := cgroupHierarchies()
	if err != nil {
		return nil, err
	}
	var procs []string
	for _, h := range hs {
		top := filepath.Join(h.path, name)
		daemons := filepath.Join(top, "node")
		for _, dir := range []string{top, daemons} {
			if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return nil, fmt.Errorf("creating cgroup %s: %w", dir, err)
			}
			if strings.Contains(","+h.options+",", ",cpuset,") {
				for _, file := range []string{"cpuset.cpus", "cpuset.mems"} {
					value, err := os.ReadFile(filepath.Join(h.path, file))
					if err != nil {
						return nil, err
					}
					if err := os.WriteFile(filepath.Join(dir, file), value, 0o644); err != nil {
						return nil, fmt.Errorf("cgroup %s: %w", filepath.Join(dir, file), err)
					}
				}
			}
		}
		if h.v2 {
			// What the root delegates (the root's own subtree_control is
			// the host's business).
			controllers, _ := os.ReadFile(filepath.Join(top, "cgroup.controllers"))
			var enable []string
			for _, ctrl := range strings.Fields(string(controllers)) {
				enable = append(enable, "+"+ctrl)
			}
			if len(enable) > 0 {
				if err := os.WriteFile(filepath.Join(top, "cgroup.subtree_control"), []byte(strings.Join(enable, " ")), 0o644); err != nil {
					return nil, fmt.Errorf("delegating controllers to cgroup %s: %w", top, err)
				}
			}
		}
		procs = append(procs, filepath.Join(daemons, "cgroup.procs"))
	}
	return procs, nil
}

// cgroupPIDs returns the processes in /<name> and below, in any hierarchy.
func cgroupPIDs(name string) []int {
	hs, _ := cgroupHierarchies()
	pids := map[int]bool{}
	for _, h := range hs {
		_ = filepath.WalkDir(filepath.Join(h.path, name), func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			data, err := os.ReadFile(filepath.Join(path, "cgroup.procs"))
			if err != nil {
				return nil
			}
			for _, f := range strings.Fields(string(data)) {
				if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
					pids[pid] = true
				}
			}
			return nil
		})
	}
	out := make([]int, 0, len(pids))
	for pid := range pids {
		out = append(out, pid)
	}
	sort.Ints(out)
	return out
}

// killCgroup kills every process in /<name> and below (containerd, its
// shims, the containers, the registry and the namespace holder) until none
// is left. The freezer, when there is one, stops them from forking while
// they are being killed.
func killCgroup(name string, timeout time.Duration) error {
	hs, _ := cgroupHierarchies()
	var freezer string
	for _, h := range hs {
		if strings.Contains(","+h.options+",", ",freezer,") {
			freezer = filepath.Join(h.path, name, "freezer.state")
		}
	}
	deadline := time.Now().Add(timeout)
	killed := map[int]bool{}
	for {
		pids := cgroupPIDs(name)
		if len(pids) == 0 {
			// Dead processes leave their cgroups at once but stay zombies
			// until their parents (init, for orphaned shims) reap them:
			// give them a moment to be gone.
			reaped := time.Now().Add(5 * time.Second)
			for pid := range killed {
				for time.Now().Before(reaped) {
					if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
						break
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v are still in cgroup /%s after %s", pids, name, timeout)
		}
		frozen := freezer != "" && os.WriteFile(freezer, []byte("FROZEN"), 0o644) == nil
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			killed[pid] = true
		}
		if frozen {
			_ = os.WriteFile(freezer, []byte("THAWED"), 0o644)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// removeCgroups removes /<name> and everything below it in every
// hierarchy, deepest first. Cgroups of processes that just died can stay
// busy for a moment, hence the retries.
func removeCgroups(name string, timeout time.Duration) error {
	hs, err := cgroupHierarchies()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for {
		var left []string
		for _, h := range hs {
			top := filepath.Join(h.path, name)
			var dirs []string
			_ = filepath.WalkDir(top, func(path string, d fs.DirEntry, err error) error {
				if err == nil && d.IsDir() {
					dirs = append(dirs, path)
				}
				return nil
			})
			for i := len(dirs) - 1; i >= 0; i-- {
				if err := syscall.Rmdir(dirs[i]); err != nil && !errors.Is(err, syscall.ENOENT) {
					left = append(left, fmt.Sprintf("%s: %v", dirs[i], err))
				}
			}
		}
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cannot remove cgroups: %s", strings.Join(left, "; "))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// run runs a command and returns an error with its output when it fails.
func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
