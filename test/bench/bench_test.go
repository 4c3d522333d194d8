package bench

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/client-go/rest"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	kruisescheme "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned/scheme"
)

func targets(t *testing.T) (ours, crd *Target) {
	t.Helper()
	config := &rest.Config{Host: "https://127.0.0.1:1"}
	ours, err := NewTarget("ours", config, appsv1beta1.SchemeGroupVersion, true, http.Header{"X-Remote-User": {"u"}})
	if err != nil {
		t.Fatal(err)
	}
	crd, err = NewTarget("crd", config, schema.GroupVersion{Group: CRDGroup, Version: "v1alpha1"}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ours, crd
}

// The benchmark's CloneSet is a realistic 3–4 KB, and both encodings carry it.
func TestCloneSetSizeAndEncodings(t *testing.T) {
	ours, crd := targets(t)
	cs := CloneSet("cs-a-00001", 1)
	data, err := json.Marshal(cs)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 3000 || len(data) > 4096 {
		t.Errorf("CloneSet is %d bytes of JSON, want 3–4 KB", len(data))
	}

	obj, err := crd.newObject(cs)
	if err != nil {
		t.Fatal(err)
	}
	body, err := obj.encode("42", map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	meta, err := metadataOf(body)
	if err != nil || meta.Name != "cs-a-00001" || meta.ResourceVersion != "42" || meta.Annotations["k"] != "v" {
		t.Fatalf("JSON body: %v %+v", err, meta)
	}
	if !strings.Contains(string(body), `"apiVersion":"apps.kruise-crd.io/v1alpha1"`) {
		t.Errorf("JSON body without the CRD's apiVersion: %.200s", body)
	}

	obj, err = ours.newObject(cs)
	if err != nil {
		t.Fatal(err)
	}
	body, err = obj.encode("7", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(body, protobufMagic) {
		t.Fatalf("ours is not protobuf")
	}
	meta, err = metadataOf(body)
	if err != nil || meta.Name != "cs-a-00001" || meta.ResourceVersion != "7" || meta.Labels["team"] != "team-1" {
		t.Fatalf("protobuf body: %v %+v", err, meta)
	}
	if obj.beta.Spec.Template.Spec.Containers[0].LivenessProbe == nil {
		t.Errorf("conversion to v1beta1 lost the template")
	}
}

// A protobuf watch stream: length-prefixed raw WatchEvents whose objects
// are enveloped.
func TestWatchDecoderProtobuf(t *testing.T) {
	ours, _ := targets(t)
	var stream bytes.Buffer
	for i, rv := range []string{"10", "11"} {
		obj, err := ours.newObject(CloneSet("w", i))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := obj.encode(rv, nil)
		if err != nil {
			t.Fatal(err)
		}
		ev := &metav1.WatchEvent{Type: "MODIFIED", Object: runtime.RawExtension{Raw: raw}}
		frame, err := ev.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		var size [4]byte
		binary.BigEndian.PutUint32(size[:], uint32(len(frame)))
		stream.Write(size[:])
		stream.Write(frame)
	}
	dec := newWatchDecoder(&stream, mediaProtobuf+";stream=watch")
	for _, want := range []string{"10", "11"} {
		ev, err := dec.next()
		if err != nil || ev.Type != "MODIFIED" || ev.Meta.ResourceVersion != want {
			t.Fatalf("event: %v %+v", err, ev)
		}
	}
}

func TestWatchDecoderJSON(t *testing.T) {
	stream := strings.NewReader(`{"type":"ADDED","object":{"kind":"CloneSet","metadata":{"name":"a","resourceVersion":"5"},"spec":{}}}
{"type":"MODIFIED","object":{"metadata":{"name":"a","resourceVersion":"6"}}}`)
	dec := newWatchDecoder(stream, mediaJSON)
	for _, want := range []string{"ADDED/5", "MODIFIED/6"} {
		ev, err := dec.next()
		if err != nil || ev.Type+"/"+ev.Meta.ResourceVersion != want {
			t.Fatalf("event: %v %+v", err, ev)
		}
	}
}

func TestListContinue(t *testing.T) {
	list := &appsv1beta1.CloneSetList{ListMeta: metav1.ListMeta{Continue: "next", ResourceVersion: "9"}, Items: make([]appsv1beta1.CloneSet, 3)}
	list.APIVersion, list.Kind = appsv1beta1.SchemeGroupVersion.String(), "CloneSetList"
	var buf bytes.Buffer
	if err := protobuf.NewSerializer(kruisescheme.Scheme, kruisescheme.Scheme).Encode(list, &buf); err != nil {
		t.Fatal(err)
	}
	cont, n, err := listContinue(buf.Bytes())
	if err != nil || cont != "next" || n != 3 {
		t.Fatalf("protobuf: %q %d %v", cont, n, err)
	}
	data, _ := json.Marshal(list)
	cont, n, err = listContinue(data)
	if err != nil || cont != "next" || n != 3 {
		t.Fatalf("JSON: %q %d %v", cont, n, err)
	}
	if rv, err := listResourceVersion(data); err != nil || rv != "9" {
		t.Fatalf("resourceVersion %q %v", rv, err)
	}
}

func TestProcParsing(t *testing.T) {
	stat := "4422 (kube apiserver) S 1 4422 4422 0 -1 4194560 100 0 0 0 1234 566 0 0 20 0 12 0 100 0 0"
	cpu, err := parseStatCPU([]byte(stat))
	if err != nil || cpu != 18.0 {
		t.Fatalf("cpu %v %v", cpu, err)
	}
	rss, err := parseVmRSS([]byte("Name:\tx\nVmRSS:\t  2048 kB\nVmData: 1 kB\n"))
	if err != nil || rss != 2<<20 {
		t.Fatalf("rss %v %v", rss, err)
	}
	if v, err := metricValue([]byte("# HELP x\ngo_memstats_heap_alloc_bytes 1.5e+06\n"), "go_memstats_heap_alloc_bytes"); err != nil || v != 1500000 {
		t.Fatalf("metric %v %v", v, err)
	}
}

func TestTable(t *testing.T) {
	tb := NewTable()
	tb.Add("create", "ops/s", true, "ours", 300)
	tb.Add("create", "ops/s", true, "crd", 100)
	tb.Add("LIST", "ms", false, "ours", 20)
	tb.Add("LIST", "ms", false, "crd", 100)
	tb.Add("CPU kruise", "ms/op", false, "ours", 1)
	tb.Add("CPU kruise", "ms/op", false, "crd", 0)
	tb.Note("CPU kruise")
	var out bytes.Buffer
	tb.Print(&out, "ours", "crd", "direct")
	text := out.String()
	for _, want := range []string{"3.00x", "5.00x"} {
		if !strings.Contains(text, want) {
			t.Errorf("table lacks %s:\n%s", want, text)
		}
	}
	if strings.Contains(strings.Split(text, "CPU kruise")[1], "x") && strings.Contains(strings.SplitN(strings.Split(text, "CPU kruise")[1], "\n", 2)[0], "x |") {
		t.Errorf("CPU row of one server has a ratio:\n%s", text)
	}
}
