// Package bench measures kruise-apiserver against OpenKruise's CloneSet CRD
// on one local control plane (internal/localup, without a node): the same
// operations on CloneSets served by kruise-apiserver through kube-apiserver,
// on the CRD (its group renamed to apps.kruise-crd.io) served by that same
// kube-apiserver, and on kruise-apiserver directly. cmd/kruise-bench and
// hack/bench.sh run it; docs/performance.md has the results.
package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kruise-apiserver/kruise-apiserver/internal/localup"
	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

// CRDGroup is the group of the checked-in CRD (OpenKruise's, renamed).
const CRDGroup = "apps.kruise-crd.io"

// Config says what to run.
type Config struct {
	// Objects is how many CloneSets each of ours and the CRD hold for the
	// big LIST and the memory figures; a tenth more are in the small LIST's
	// namespace.
	Objects int
	// Duration of each timed phase (GET, update, watch).
	Duration time.Duration
	// SmallListRepeats and BigListRepeats: LISTs per format, the median counts.
	SmallListRepeats, BigListRepeats int
	// KruiseReplicas is how many kruise-apiserver replicas local-up runs
	// (0: one). One by default: kube-apiserver is one process too, and a
	// second replica's watch cache decodes every write again, on the same
	// two cores, which the CRD does not pay for.
	KruiseReplicas int

	// Dir is the local-up state directory (removed first).
	Dir                                    string
	KubeBinDir, KruiseBinary, ArtifactsDir string
	// CRDManifest is testdata/apps.kruise-crd.io_clonesets.yaml.
	CRDManifest string

	// ProfilePhases name phases ("create-32", "get-8", "list-10000-protobuf",
	// "update-32", "watch-32", ...) during which, on ours through
	// kube-apiserver, CPU profiles of kruise-apiserver and kube-apiserver
	// are written to ProfileDir; "heap" writes their heap profiles once
	// the CloneSets are stored.
	ProfilePhases []string
	ProfileDir    string

	// Out receives the table, Progress one line per step.
	Out, Progress io.Writer
}

// Quick is the small configuration CI runs.
func Quick() Config {
	return Config{Objects: 1000, Duration: time.Second, SmallListRepeats: 5, BigListRepeats: 3}
}

// Full is the configuration of docs/performance.md.
func Full() Config {
	return Config{Objects: 10000, Duration: 10 * time.Second, SmallListRepeats: 20, BigListRepeats: 5}
}

type bench struct {
	cfg     Config
	cluster *localup.Cluster
	// agg is ours through kube-apiserver, crd the CRD, direct ours on
	// kruise-apiserver's own port.
	agg, crd, direct *Target
	targets          []*Target
	procs            processes
	table            *Table

	mu       sync.Mutex
	objects  map[string]map[string]object // target/namespace -> name -> object
	versions sync.Map                     // target/namespace/name -> resourceVersion
	names    map[string][]string          // target/namespace -> names
}

// Run brings up the control plane, runs every phase and prints the table.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	b := &bench{cfg: cfg, table: NewTable(), objects: map[string]map[string]object{}, names: map[string][]string{}}
	if err := os.RemoveAll(cfg.Dir); err != nil {
		return err
	}
	start := time.Now()
	cluster, err := localup.Up(ctx, localup.Options{
		Dir: filepath.Join(cfg.Dir, "local"), KubeBinDir: cfg.KubeBinDir, KruiseBinary: cfg.KruiseBinary,
		ArtifactsDir: cfg.ArtifactsDir, Progress: cfg.Progress,
		// The embedded controllers are off (an empty list enables none):
		// the CRD has none, and the bench compares API servers.
		KruiseArgs:     []string{"--controllers="},
		KruiseReplicas: max(cfg.KruiseReplicas, 1),
	})
	if err != nil {
		return fmt.Errorf("local-up: %w", err)
	}
	defer func() {
		start := time.Now()
		_ = cluster.Down()
		b.step("local-up down in %.1fs", time.Since(start).Seconds())
	}()
	b.cluster = cluster
	b.step("local-up ready in %.1fs", time.Since(start).Seconds())
	if err := b.setup(ctx); err != nil {
		return err
	}
	if err := b.run(ctx); err != nil {
		if exited := cluster.Exited(); exited != nil {
			return fmt.Errorf("%w (%v)", err, exited)
		}
		return err
	}
	b.table.Print(cfg.Out, b.agg.Name, b.crd.Name, b.direct.Name)
	return nil
}

func (b *bench) step(format string, args ...interface{}) {
	fmt.Fprintf(b.cfg.Progress, "bench %s: "+format+"\n", append([]interface{}{time.Now().Format("15:04:05")}, args...)...)
}

// setup builds the targets, finds the processes, installs the CRD and
// creates the namespaces.
func (b *bench) setup(ctx context.Context) error {
	admin := rest.CopyConfig(b.cluster.AdminConfig)
	admin.QPS, admin.Burst = -1, 0
	var err error
	if b.agg, err = NewTarget("ours via kube-apiserver", admin, appsv1beta1.SchemeGroupVersion, true, nil); err != nil {
		return err
	}
	if b.crd, err = NewTarget("CRD", admin, schema.GroupVersion{Group: CRDGroup, Version: "v1alpha1"}, false, nil); err != nil {
		return err
	}
	ports := b.cluster.Ports()
	port, ok := ports[localup.KruiseAPIServer+"-0"] // replica 0, when local-up runs several
	if !ok {
		port = ports[localup.KruiseAPIServer]
	}
	pki := filepath.Join(b.cfg.Dir, "local", "pki")
	direct := &rest.Config{
		Host: fmt.Sprintf("https://127.0.0.1:%d", port),
		TLSClientConfig: rest.TLSClientConfig{
			CertFile: filepath.Join(pki, "front-proxy-client.crt"), KeyFile: filepath.Join(pki, "front-proxy-client.key"),
			CAFile: filepath.Join(pki, "kruise-ca.crt"), ServerName: "localhost",
		},
	}
	// The aggregator's identity: its front-proxy client certificate, the
	// user in request headers.
	header := http.Header{"X-Remote-User": {"bench-admin"}, "X-Remote-Group": {"system:masters"}}
	if b.direct, err = NewTarget("ours direct", direct, appsv1beta1.SchemeGroupVersion, true, header); err != nil {
		return err
	}
	b.targets = []*Target{b.agg, b.crd, b.direct}
	if b.procs, err = findProcesses(b.cfg, ports, port); err != nil {
		return err
	}
	b.step("processes: kube-apiserver %d, kruise-apiserver %v (direct %d), etcd %v", b.procs.kube, b.procs.kruise, b.procs.kruiseDirect, b.procs.etcd)

	if err := b.installCRD(ctx, admin); err != nil {
		return err
	}
	kube, err := kubernetes.NewForConfig(admin)
	if err != nil {
		return err
	}
	for _, t := range []string{"agg", "crd", "direct"} {
		for _, suffix := range []string{"a", "b"} {
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: t + "-" + suffix}}
			if _, err := kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				return err
			}
		}
	}
	return nil
}

// namespace of target's objects: "a" holds the small LIST's, "b" the big one's.
func (b *bench) namespace(t *Target, which string) string {
	switch t {
	case b.agg:
		return "agg-" + which
	case b.crd:
		return "crd-" + which
	}
	return "direct-" + which
}

func (b *bench) installCRD(ctx context.Context, config *rest.Config) error {
	data, err := os.ReadFile(b.cfg.CRDManifest)
	if err != nil {
		return err
	}
	obj := &unstructured.Unstructured{}
	if err := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(string(data)), 4096).Decode(&obj.Object); err != nil {
		return fmt.Errorf("%s: %w", b.cfg.CRDManifest, err)
	}
	client, err := dynamic.NewForConfig(config)
	if err != nil {
		return err
	}
	crds := client.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	if _, err := crds.Create(ctx, obj, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating the CRD: %w", err)
	}
	// Established, and its endpoint answers.
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, _, err := b.crd.do(ctx, http.MethodGet, b.crd.path("default", "")+"?limit=1", nil, "", mediaJSON, true)
		return err == nil, nil
	})
}

func (b *bench) run(ctx context.Context) error {
	n := b.cfg.Objects
	small := n / 10
	before, err := b.memory(ctx)
	if err != nil {
		return err
	}

	// Writes that fill ours and the CRD: the small LIST's namespace at 8
	// clients, the big one's at 32.
	for _, t := range []*Target{b.agg, b.crd} {
		if err := b.createPhase(ctx, t, "a", small, 8); err != nil {
			return err
		}
		if err := b.createPhase(ctx, t, "b", n, 32); err != nil {
			return err
		}
	}
	after, err := b.memory(ctx)
	if err != nil {
		return err
	}
	b.recordMemory(before, after, n+small)

	// Ours directly: its own, smaller, namespaces (after the memory figures).
	if err := b.createPhase(ctx, b.direct, "a", small, 8); err != nil {
		return err
	}
	if err := b.createPhase(ctx, b.direct, "b", max(small, n/5), 32); err != nil {
		return err
	}

	for _, clients := range []int{8, 32} {
		for _, t := range b.targets {
			if err := b.getPhase(ctx, t, clients); err != nil {
				return err
			}
		}
	}

	for _, size := range []int{small, n} {
		for _, format := range []string{"json", "protobuf", "table"} {
			for _, t := range b.targets {
				if err := b.listPhase(ctx, t, size, format); err != nil {
					return err
				}
			}
		}
	}
	for _, format := range []string{"json", "protobuf"} {
		for _, t := range b.targets {
			if err := b.pagedListPhase(ctx, t, n, format, 500); err != nil {
				return err
			}
		}
	}

	for _, clients := range []int{8, 32} {
		for _, t := range b.targets {
			if err := b.updatePhase(ctx, t, clients); err != nil {
				return err
			}
		}
	}

	for _, watchers := range []int{8, 32} {
		for _, t := range b.targets {
			if err := b.watchPhase(ctx, t, watchers, 8); err != nil {
				return err
			}
		}
	}

	for _, t := range b.targets {
		if err := b.deletePhase(ctx, t, "a", 8); err != nil {
			return err
		}
		if err := b.deletePhase(ctx, t, "b", 32); err != nil {
			return err
		}
	}
	return nil
}

// listTarget is the target whose namespace a LIST of size reads: ours
// directly lists what was created through kube-apiserver, so that both
// read the same objects.
func (b *bench) listNamespace(t *Target, size int) string {
	which := "b"
	if size < b.cfg.Objects {
		which = "a"
	}
	if t == b.direct {
		return b.namespace(b.agg, which)
	}
	return b.namespace(t, which)
}

// measure runs f, the phase's ops operations, and records its CPU figures
// and, if profiled, writes CPU profiles while it runs.
func (b *bench) measure(ctx context.Context, t *Target, phase string, f func() (ops int, err error)) (sample, error) {
	var profiles sync.WaitGroup
	if b.profiled(phase) && t == b.agg {
		seconds := int(b.cfg.Duration.Seconds())
		if seconds < 5 {
			seconds = 5
		}
		for _, p := range []struct {
			name   string
			target *Target
		}{{"kruise-apiserver", b.direct}, {"kube-apiserver", b.agg}} {
			profiles.Add(1)
			go func() {
				defer profiles.Done()
				path := filepath.Join(b.cfg.ProfileDir, fmt.Sprintf("%s-%s.pprof", p.name, phase))
				data, _, err := p.target.do(ctx, http.MethodGet, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", p.target.Base, seconds), nil, "", "*/*", false)
				if err == nil {
					err = os.WriteFile(path, data, 0o644)
				}
				if err != nil {
					b.step("profile %s: %v", path, err)
				} else {
					b.step("wrote %s", path)
				}
			}()
		}
		time.Sleep(100 * time.Millisecond) // the profiles start first
	}
	startCPU := b.procs.cpu()
	start := time.Now()
	ops, err := f()
	elapsed := time.Since(start)
	s := b.procs.cpu().minus(startCPU)
	s.ops, s.elapsed = ops, elapsed
	profiles.Wait()
	return s, err
}

func (b *bench) profiled(phase string) bool {
	return b.cfg.ProfileDir != "" && slices.Contains(b.cfg.ProfilePhases, phase)
}

func (b *bench) key(t *Target, ns string) string { return t.Name + "/" + ns }

func (b *bench) createPhase(ctx context.Context, t *Target, which string, count, clients int) error {
	ns := b.namespace(t, which)
	key := b.key(t, ns)
	names := make([]string, count)
	bodies := make([][]byte, count)
	objects := map[string]object{}
	for i := range names {
		names[i] = fmt.Sprintf("cs-%s-%05d", which, i)
		obj, err := t.newObject(CloneSet(names[i], i))
		if err != nil {
			return err
		}
		objects[names[i]] = obj
		if bodies[i], err = obj.encode("", nil); err != nil {
			return err
		}
	}
	b.mu.Lock()
	b.objects[key], b.names[key] = objects, names
	b.mu.Unlock()
	phase := fmt.Sprintf("create-%d", clients)
	var lat latencies
	s, err := b.measure(ctx, t, phase, func() (int, error) {
		return count, parallel(clients, count, func(i int) error {
			begin := time.Now()
			data, _, err := t.do(ctx, http.MethodPost, t.path(ns, ""), bodies[i], t.writeType(), t.writeType(), false)
			if err != nil {
				return fmt.Errorf("create %s/%s on %s: %w", ns, names[i], t.Name, err)
			}
			lat.add(time.Since(begin))
			meta, err := metadataOf(data)
			if err != nil {
				return err
			}
			b.versions.Store(key+"/"+names[i], meta.ResourceVersion)
			return nil
		})
	})
	if err != nil {
		return err
	}
	b.step("%s %s: %d in %.1fs", t.Name, phase, count, s.elapsed.Seconds())
	b.recordOps(t, fmt.Sprintf("create, %d clients", clients), s, &lat)
	return nil
}

func (b *bench) deletePhase(ctx context.Context, t *Target, which string, clients int) error {
	ns := b.namespace(t, which)
	names := b.names[b.key(t, ns)]
	phase := fmt.Sprintf("delete-%d", clients)
	var lat latencies
	s, err := b.measure(ctx, t, phase, func() (int, error) {
		return len(names), parallel(clients, len(names), func(i int) error {
			begin := time.Now()
			if _, _, err := t.do(ctx, http.MethodDelete, t.path(ns, names[i]), nil, "", t.writeType(), true); err != nil {
				return fmt.Errorf("delete %s/%s on %s: %w", ns, names[i], t.Name, err)
			}
			lat.add(time.Since(begin))
			return nil
		})
	})
	if err != nil {
		return err
	}
	b.step("%s %s: %d in %.1fs", t.Name, phase, len(names), s.elapsed.Seconds())
	b.recordOps(t, fmt.Sprintf("delete, %d clients", clients), s, &lat)
	return nil
}

// getPhase: clients GET random CloneSets of the small namespace for the
// phase's duration.
func (b *bench) getPhase(ctx context.Context, t *Target, clients int) error {
	ns := b.namespace(t, "a")
	names := b.names[b.key(t, ns)]
	phase := fmt.Sprintf("get-%d", clients)
	var lat latencies
	s, err := b.measure(ctx, t, phase, func() (int, error) {
		return timed(clients, b.cfg.Duration, func(worker int, rng *rand.Rand) error {
			begin := time.Now()
			name := names[rng.Intn(len(names))]
			if _, _, err := t.do(ctx, http.MethodGet, t.path(ns, name), nil, "", t.writeType(), true); err != nil {
				return fmt.Errorf("get %s/%s on %s: %w", ns, name, t.Name, err)
			}
			lat.add(time.Since(begin))
			return nil
		})
	})
	if err != nil {
		return err
	}
	b.step("%s %s: %.0f/s", t.Name, phase, s.rate())
	b.recordOps(t, fmt.Sprintf("get, %d clients", clients), s, &lat)
	return nil
}

// update sends one update of name in ns with the annotations, refreshing the
// resourceVersion on a conflict. It returns the new resourceVersion.
func (b *bench) update(ctx context.Context, t *Target, ns, name string, annotations map[string]string) (string, error) {
	key := b.key(t, ns)
	b.mu.Lock()
	obj := b.objects[key][name]
	b.mu.Unlock()
	for attempt := 0; ; attempt++ {
		rv, _ := b.versions.Load(key + "/" + name)
		body, err := obj.encode(rv.(string), annotations)
		if err != nil {
			return "", err
		}
		data, _, err := t.do(ctx, http.MethodPut, t.path(ns, name), body, t.writeType(), t.writeType(), false)
		if isConflict(err) && attempt < 5 {
			data, _, err := t.do(ctx, http.MethodGet, t.path(ns, name), nil, "", t.writeType(), false)
			if err != nil {
				return "", err
			}
			meta, err := metadataOf(data)
			if err != nil {
				return "", err
			}
			b.versions.Store(key+"/"+name, meta.ResourceVersion)
			continue
		}
		if err != nil {
			return "", fmt.Errorf("update %s/%s on %s: %w", ns, name, t.Name, err)
		}
		meta, err := metadataOf(data)
		if err != nil {
			return "", err
		}
		b.versions.Store(key+"/"+name, meta.ResourceVersion)
		return meta.ResourceVersion, nil
	}
}

// updatePhase: clients update CloneSets of the big namespace, each its own
// share of them in turn, for the phase's duration.
func (b *bench) updatePhase(ctx context.Context, t *Target, clients int) error {
	ns := b.namespace(t, "b")
	names := b.names[b.key(t, ns)]
	phase := fmt.Sprintf("update-%d", clients)
	var lat latencies
	next := make([]int, clients)
	var seq atomic.Int64
	s, err := b.measure(ctx, t, phase, func() (int, error) {
		return timed(clients, b.cfg.Duration, func(worker int, rng *rand.Rand) error {
			i := worker + next[worker]*clients
			if i >= len(names) {
				next[worker], i = 0, worker
			}
			next[worker]++
			begin := time.Now()
			_, err := b.update(ctx, t, ns, names[i], map[string]string{"bench.kruise.io/seq": strconv.FormatInt(seq.Add(1), 10)})
			lat.add(time.Since(begin))
			return err
		})
	})
	if err != nil {
		return err
	}
	b.step("%s %s: %.0f/s", t.Name, phase, s.rate())
	b.recordOps(t, fmt.Sprintf("update, %d clients", clients), s, &lat)
	return nil
}

func listAccept(t *Target, format string) string {
	switch format {
	case "protobuf":
		return mediaProtobuf + ", " + mediaJSON // a CRD answers in JSON
	case "table":
		return mediaTable
	}
	return mediaJSON
}

// listPhase: LISTs of size objects, one at a time, repeated.
func (b *bench) listPhase(ctx context.Context, t *Target, size int, format string) error {
	ns := b.listNamespace(t, size)
	repeats := b.cfg.SmallListRepeats
	if size >= b.cfg.Objects {
		repeats = b.cfg.BigListRepeats
	}
	phase := fmt.Sprintf("list-%d-%s", size, format)
	var lat latencies
	var bytes int64
	s, err := b.measure(ctx, t, phase, func() (int, error) {
		for i := 0; i < repeats; i++ {
			begin := time.Now()
			_, n, err := t.do(ctx, http.MethodGet, t.path(ns, ""), nil, "", listAccept(t, format), true)
			if err != nil {
				return i, fmt.Errorf("list %s on %s: %w", ns, t.Name, err)
			}
			lat.add(time.Since(begin))
			bytes = n
		}
		return repeats, nil
	})
	if err != nil {
		return err
	}
	row := fmt.Sprintf("LIST %d, %s", size, format)
	b.step("%s %s: median %.1f ms, %d bytes", t.Name, phase, ms(lat.percentile(50)), bytes)
	b.table.Add(row, "ms", false, t.Name, ms(lat.percentile(50)))
	b.recordCPU(row, "ms/LIST", t, s)
	b.table.Add(row+": size", "MB", false, t.Name, float64(bytes)/1e6)
	return nil
}

// pagedListPhase: one LIST of size objects in pages of limit.
func (b *bench) pagedListPhase(ctx context.Context, t *Target, size int, format string, limit int) error {
	ns := b.listNamespace(t, size)
	var total time.Duration
	items := 0
	_, err := b.measure(ctx, t, "paged", func() (int, error) {
		for i := 0; i < b.cfg.BigListRepeats; i++ {
			begin := time.Now()
			cont := ""
			for {
				url := fmt.Sprintf("%s?limit=%d", t.path(ns, ""), limit)
				if cont != "" {
					url += "&continue=" + cont
				}
				data, _, err := t.do(ctx, http.MethodGet, url, nil, "", listAccept(t, format), false)
				if err != nil {
					return i, fmt.Errorf("paged list %s on %s: %w", ns, t.Name, err)
				}
				next, n, err := listContinue(data)
				if err != nil {
					return i, err
				}
				items += n
				if next == "" {
					break
				}
				cont = next
			}
			total += time.Since(begin)
		}
		return b.cfg.BigListRepeats, nil
	})
	if err != nil {
		return err
	}
	avg := total / time.Duration(b.cfg.BigListRepeats)
	b.step("%s paged LIST %s: %.1f ms for %d items", t.Name, format, ms(avg), items/b.cfg.BigListRepeats)
	b.table.Add(fmt.Sprintf("LIST %d in pages of %d, %s", size, limit, format), "ms", false, t.Name, ms(avg))
	return nil
}

// watchPhase: watchers watch the small namespace while writers update its
// CloneSets for the phase's duration. Events/s counts every watcher's
// events; the lag is from the writer's answer to the watcher's event.
func (b *bench) watchPhase(ctx context.Context, t *Target, watchers, writers int) error {
	ns := b.namespace(t, "a")
	names := b.names[b.key(t, ns)]
	data, _, err := t.do(ctx, http.MethodGet, t.path(ns, "")+"?limit=1", nil, "", mediaJSON, false)
	if err != nil {
		return err
	}
	rv, err := listResourceVersion(data)
	if err != nil {
		return err
	}
	watchCtx, stopWatching := context.WithCancel(ctx)
	defer stopWatching()
	type seen struct {
		rv string
		at time.Time
	}
	received := make([][]seen, watchers)
	var ready, done sync.WaitGroup
	var watchErr atomic.Value
	for w := 0; w < watchers; w++ {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			req, _ := http.NewRequestWithContext(watchCtx, http.MethodGet, t.path(ns, "")+"?watch=true&resourceVersion="+rv, nil)
			req.Header.Set("Accept", t.writeType())
			resp, err := t.client.Do(req)
			ready.Done()
			if err != nil {
				watchErr.Store(err)
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				watchErr.Store(fmt.Errorf("watch on %s: %s", t.Name, resp.Status))
				return
			}
			dec := newWatchDecoder(resp.Body, resp.Header.Get("Content-Type"))
			for {
				ev, err := dec.next()
				if err != nil {
					if watchCtx.Err() == nil {
						watchErr.Store(fmt.Errorf("watch on %s: %w", t.Name, err))
					}
					return
				}
				if ev.Type == "MODIFIED" {
					received[w] = append(received[w], seen{ev.Meta.ResourceVersion, time.Now()})
				}
			}
		}()
	}
	ready.Wait()
	if err, ok := watchErr.Load().(error); ok {
		return err
	}
	answered := make([]map[string][2]time.Time, writers) // rv -> sent, answered
	for i := range answered {
		answered[i] = map[string][2]time.Time{}
	}
	next := make([]int, writers)
	var watchSeq atomic.Int64
	phase := fmt.Sprintf("watch-%d", watchers)
	s, err := b.measure(ctx, t, phase, func() (int, error) {
		ops, err := timed(writers, b.cfg.Duration, func(worker int, rng *rand.Rand) error {
			i := worker + next[worker]*writers
			if i >= len(names) {
				next[worker], i = 0, worker
			}
			next[worker]++
			// Every write changes the object (a write that changes nothing
			// is no write, and no event).
			sent := time.Now()
			rv, err := b.update(ctx, t, ns, names[i], map[string]string{"bench.kruise.io/watch": fmt.Sprintf("%d-%d", watchers, watchSeq.Add(1))})
			if err == nil {
				answered[worker][rv] = [2]time.Time{sent, time.Now()}
			}
			return err
		})
		// Let the last events arrive.
		time.Sleep(500 * time.Millisecond)
		return ops, err
	})
	stopWatching()
	done.Wait()
	if err != nil {
		return err
	}
	if err, ok := watchErr.Load().(error); ok {
		return err
	}
	written := map[string][2]time.Time{}
	for _, m := range answered {
		for rv, at := range m {
			written[rv] = at
		}
	}
	// lag: from the writer's answer to the event (0 when the event came
	// first); sinceSent: from the write's request, so with the write's
	// own latency.
	var lag, sinceSent latencies
	events := 0
	for _, list := range received {
		for _, e := range list {
			at, ok := written[e.rv]
			if !ok {
				continue // not a write of this phase
			}
			events++
			sinceSent.add(e.at.Sub(at[0]))
			d := e.at.Sub(at[1])
			if d < 0 {
				d = 0
			}
			lag.add(d)
		}
	}
	expected := len(written) * watchers
	rate := float64(events) / s.elapsed.Seconds()
	b.step("%s %s: %d writes, %d/%d events, %.0f events/s, lag p50 %.2f ms p99 %.2f ms, from the write sent p50 %.2f ms", t.Name, phase, len(written), events, expected, rate, ms(lag.percentile(50)), ms(lag.percentile(99)), ms(sinceSent.percentile(50)))
	row := fmt.Sprintf("watch, %d watchers (%d writers)", watchers, writers)
	b.table.Add(row, "events/s", true, t.Name, rate)
	b.table.Add(row+": lag p50", "ms", false, t.Name, ms(lag.percentile(50)))
	b.table.Add(row+": lag p99", "ms", false, t.Name, ms(lag.percentile(99)))
	b.table.Add(row+": write sent to event p50", "ms", false, t.Name, ms(sinceSent.percentile(50)))
	if events < expected {
		b.table.Add(row+": events missed", "", false, t.Name, float64(expected-events))
	}
	s.ops = events
	b.recordCPU(row, "ms/event", t, s)
	return nil
}

func (b *bench) recordOps(t *Target, row string, s sample, lat *latencies) {
	b.table.Add(row, "ops/s", true, t.Name, s.rate())
	b.table.Add(row+": latency p50", "ms", false, t.Name, ms(lat.percentile(50)))
	b.recordCPU(row, "ms/op", t, s)
}

func (b *bench) recordCPU(row, unit string, t *Target, s sample) {
	if s.ops == 0 {
		return
	}
	per := func(seconds float64) float64 { return seconds * 1000 / float64(s.ops) }
	b.table.Add(row+": CPU kruise-apiserver", unit, false, t.Name, per(s.kruise))
	b.table.Add(row+": CPU kube-apiserver", unit, false, t.Name, per(s.kube))
	b.table.Add(row+": CPU etcd", unit, false, t.Name, per(s.etcd))
	b.table.Add(row+": CPU all servers", unit, false, t.Name, per(s.kruise+s.kube+s.etcd))
	b.table.Note(row+": CPU kruise-apiserver", row+": CPU kube-apiserver", row+": CPU etcd")
}

// parallel runs f(0..n-1) on clients goroutines; the first error stops it.
func parallel(clients, n int, f func(i int) error) error {
	var next atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for firstErr.Load() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return err
	}
	return nil
}

// timed runs f on clients goroutines for d and returns how many calls succeeded.
func timed(clients int, d time.Duration, f func(worker int, rng *rand.Rand) error) (int, error) {
	deadline := time.Now().Add(d)
	var ops atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(c)))
			for time.Now().Before(deadline) && firstErr.Load() == nil {
				if err := f(c, rng); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				ops.Add(1)
			}
		}()
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return int(ops.Load()), err
	}
	return int(ops.Load()), nil
}

type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

func (l *latencies) percentile(p float64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0
	}
	sort.Slice(l.d, func(i, j int) bool { return l.d[i] < l.d[j] })
	i := int(float64(len(l.d)-1) * p / 100)
	return l.d[i]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
