package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kruise-apiserver/kruise-apiserver/internal/localup"
)

// processes are the servers whose CPU and memory the bench reads.
type processes struct {
	kube int
	// kruise are every kruise-apiserver replica; kruiseDirect the one the
	// direct target talks to.
	kruise       []int
	kruiseDirect int
	// etcd are kube-apiserver's etcd and, when local-up runs one apart,
	// kruise-apiserver's (otherwise it is embedded in kruise-apiserver and
	// counted there).
	etcd []int
}

func findProcesses(cfg Config, ports map[string]int, directPort int) (processes, error) {
	var p processes
	var err error
	if p.kube, err = findPID(filepath.Join(cfg.KubeBinDir, "kube-apiserver"), fmt.Sprintf("--secure-port=%d", ports[localup.KubeAPIServer])); err != nil {
		return p, fmt.Errorf("kube-apiserver: %w", err)
	}
	if p.kruiseDirect, err = findPID(cfg.KruiseBinary, fmt.Sprintf("--secure-port=%d", directPort)); err != nil {
		return p, fmt.Errorf("kruise-apiserver: %w", err)
	}
	p.kruise = findPIDs(func(args []string) bool {
		return args[0] == cfg.KruiseBinary && hasPrefixArg(args, "--data-dir="+cfg.Dir+"/")
	})
	p.etcd = findPIDs(func(args []string) bool {
		return args[0] == filepath.Join(cfg.KubeBinDir, "etcd") && hasPrefixArg(args, "--data-dir="+cfg.Dir+"/")
	})
	if len(p.etcd) == 0 {
		return p, fmt.Errorf("no etcd with its data in %s", cfg.Dir)
	}
	return p, nil
}

func hasPrefixArg(args []string, prefix string) bool {
	for _, a := range args {
		if strings.HasPrefix(a, prefix) {
			return true
		}
	}
	return false
}

// sample is the CPU seconds each kind of server used during a phase.
type sample struct {
	kube, kruise, etcd float64
	ops                int
	elapsed            time.Duration
}

func (s sample) rate() float64 { return float64(s.ops) / s.elapsed.Seconds() }

func (s sample) minus(o sample) sample {
	return sample{kube: s.kube - o.kube, kruise: s.kruise - o.kruise, etcd: s.etcd - o.etcd}
}

func (p processes) cpu() sample {
	sum := func(pids ...int) float64 {
		total := 0.0
		for _, pid := range pids {
			if s, err := cpuSeconds(pid); err == nil {
				total += s
			}
		}
		return total
	}
	return sample{kube: sum(p.kube), kruise: sum(p.kruise...), etcd: sum(p.etcd...)}
}

// memSample is one server's memory: RSS and the live heap (after a GC).
type memSample struct{ rss, heap int64 }

// memory reads RSS and, after forcing a GC through /debug/pprof/heap?gc=1,
// the live heap (go_memstats_heap_alloc_bytes of /metrics) of
// kube-apiserver and the directly reached kruise-apiserver.
func (b *bench) memory(ctx context.Context) (map[string]memSample, error) {
	out := map[string]memSample{}
	for _, s := range []struct {
		name   string
		pid    int
		target *Target
	}{{"kube-apiserver", b.procs.kube, b.agg}, {"kruise-apiserver", b.procs.kruiseDirect, b.direct}} {
		var heap int64
		if b.profiled("heap") {
			path := filepath.Join(b.cfg.ProfileDir, fmt.Sprintf("%s-heap.pprof", s.name))
			data, _, err := s.target.do(ctx, http.MethodGet, s.target.Base+"/debug/pprof/heap?gc=1", nil, "", "*/*", false)
			if err == nil {
				err = os.WriteFile(path, data, 0o644)
			}
			if err != nil {
				return nil, err
			}
		}
		for i := 0; i < 2; i++ { // twice: the second GC frees what finalizers kept
			if _, _, err := s.target.do(ctx, http.MethodGet, s.target.Base+"/debug/pprof/heap?gc=1", nil, "", "*/*", true); err != nil {
				return nil, fmt.Errorf("%s /debug/pprof/heap: %w", s.name, err)
			}
		}
		data, _, err := s.target.do(ctx, http.MethodGet, s.target.Base+"/metrics", nil, "", "text/plain", false)
		if err != nil {
			return nil, fmt.Errorf("%s /metrics: %w", s.name, err)
		}
		if heap, err = metricValue(data, "go_memstats_heap_alloc_bytes"); err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		rss, err := rssBytes(s.pid)
		if err != nil {
			return nil, err
		}
		out[s.name] = memSample{rss: rss, heap: heap}
	}
	return out, nil
}

func metricValue(data []byte, name string) (int64, error) {
	scanner := bufio.NewScanner(bytes.NewReader(data))
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		line := scanner.Text()
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return int64(v), err
		}
	}
	return 0, fmt.Errorf("no metric %s", name)
}

func (b *bench) recordMemory(before, after map[string]memSample, objects int) {
	const mb = 1 << 20
	kube, kruise := "kube-apiserver", "kruise-apiserver"
	b.table.AddMemory(fmt.Sprintf("%s RSS, before → with %d CloneSets", kube, objects), float64(before[kube].rss)/mb, float64(after[kube].rss)/mb, "MB")
	b.table.AddMemory(fmt.Sprintf("%s live heap", kube), float64(before[kube].heap)/mb, float64(after[kube].heap)/mb, "MB")
	b.table.AddMemory(fmt.Sprintf("%s RSS, before → with %d CloneSets", kruise, objects), float64(before[kruise].rss)/mb, float64(after[kruise].rss)/mb, "MB")
	b.table.AddMemory(fmt.Sprintf("%s live heap", kruise), float64(before[kruise].heap)/mb, float64(after[kruise].heap)/mb, "MB")
	kubeAdded := float64(after[kube].rss - before[kube].rss)
	b.table.AddSummary(fmt.Sprintf("kruise-apiserver RSS / RSS the CRD's objects added to kube-apiserver: %.2f (and %.2f of what they added, %.0f MB / %.0f MB)",
		float64(after[kruise].rss)/kubeAdded, float64(after[kruise].rss-before[kruise].rss)/kubeAdded,
		float64(after[kruise].rss-before[kruise].rss)/mb, kubeAdded/mb))
	b.table.AddSummary(fmt.Sprintf("live heap per object: kruise-apiserver %.1f KB, kube-apiserver (CRD, and the proxying of ours) %.1f KB",
		float64(after[kruise].heap-before[kruise].heap)/1024/float64(objects), float64(after[kube].heap-before[kube].heap)/1024/float64(objects)))
}

// listResourceVersion is a list's metadata.resourceVersion (JSON).
func listResourceVersion(data []byte) (string, error) {
	var list struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return "", err
	}
	return list.Metadata.ResourceVersion, nil
}

// listContinue reads a list's continue token and item count, in JSON or
// protobuf, decoding the items only as far as counting them.
func listContinue(data []byte) (string, int, error) {
	if bytes.HasPrefix(data, protobufMagic) {
		return protobufListContinue(data)
	}
	var list struct {
		Metadata struct {
			Continue string `json:"continue"`
		} `json:"metadata"`
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return "", 0, err
	}
	return list.Metadata.Continue, len(list.Items), nil
}

// protobufListContinue walks a protobuf list's fields: 1 is the ListMeta,
// 2 each item.
func protobufListContinue(data []byte) (string, int, error) {
	unknown := &runtime.Unknown{}
	if err := unknown.Unmarshal(data[len(protobufMagic):]); err != nil {
		return "", 0, err
	}
	msg := unknown.Raw
	cont, items := "", 0
	for len(msg) > 0 {
		tag, n := binary.Uvarint(msg)
		if n <= 0 {
			return "", 0, fmt.Errorf("bad protobuf tag")
		}
		msg = msg[n:]
		if tag&7 != 2 {
			return "", 0, fmt.Errorf("unexpected wire type %d in a list", tag&7)
		}
		size, n := binary.Uvarint(msg)
		if n <= 0 || uint64(len(msg)-n) < size {
			return "", 0, fmt.Errorf("bad protobuf length")
		}
		field := msg[n : n+int(size)]
		msg = msg[n+int(size):]
		switch tag >> 3 {
		case 1:
			meta := &metav1.ListMeta{}
			if err := meta.Unmarshal(field); err != nil {
				return "", 0, err
			}
			cont = meta.Continue
		case 2:
			items++
		}
	}
	return cont, items, nil
}
