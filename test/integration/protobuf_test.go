package integration

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	appsv1alpha1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1alpha1"
	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	policyv1alpha1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/policy/v1alpha1"
	policyv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/policy/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned"
	"github.com/kruise-apiserver/kruise-apiserver/test/integration/framework"
)

const (
	protobufType = "application/vnd.kubernetes.protobuf"
	jsonType     = "application/json"
)

// wire records the media types a client sends and receives.
type wire struct {
	mu        sync.Mutex
	exchanges []exchange
}

type exchange struct {
	method, path, query string
	sent, received      string // Content-Type of the request and of the answer
	code                int
}

func (w *wire) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(req)
		if err == nil {
			w.mu.Lock()
			w.exchanges = append(w.exchanges, exchange{
				method: req.Method, path: req.URL.Path, query: req.URL.RawQuery,
				sent: req.Header.Get("Content-Type"), received: resp.Header.Get("Content-Type"), code: resp.StatusCode,
			})
			w.mu.Unlock()
		}
		return resp, err
	})
}

// take returns what was recorded since the last call.
func (w *wire) take() []exchange {
	w.mu.Lock()
	defer w.mu.Unlock()
	seen := w.exchanges
	w.exchanges = nil
	return seen
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// recordingConfig is the admin configuration with the given ContentType
// ("" leaves the clientset's default) and a wire recording every exchange.
func recordingConfig(s *framework.Server, contentType string) (*rest.Config, *wire) {
	config := rest.CopyConfig(s.Config)
	config.ContentType = contentType
	w := &wire{}
	config.Wrap(w.wrap)
	return config, w
}

// expectMediaType requires every exchange to have sent (when it had a body)
// and received mediaType, and one of them to be a watch (a protobuf watch is
// answered as ";stream=watch": length-prefixed frames).
func expectMediaType(t *testing.T, seen []exchange, mediaType string) {
	t.Helper()
	if len(seen) == 0 {
		t.Fatal("no requests were recorded")
	}
	watches := 0
	for _, e := range seen {
		if e.sent != "" && !strings.HasPrefix(e.sent, mediaType) {
			t.Errorf("%s %s sent %q, want %s", e.method, e.path, e.sent, mediaType)
		}
		if !strings.HasPrefix(e.received, mediaType) {
			t.Errorf("%s %s?%s answered %d in %q, want %s", e.method, e.path, e.query, e.code, e.received, mediaType)
		}
		if strings.Contains(e.query, "watch=true") {
			watches++
			if mediaType == protobufType && !strings.Contains(e.received, "stream=watch") {
				t.Errorf("watch %s answered in %q, not a watch stream", e.path, e.received)
			}
		}
	}
	if watches == 0 {
		t.Errorf("no watch among the %d requests", len(seen))
	}
}

type kruiseObject interface {
	runtime.Object
	metav1.Object
}

// typedClient is what every generated typed client of ours offers.
type typedClient[T kruiseObject, L runtime.Object] interface {
	Create(context.Context, T, metav1.CreateOptions) (T, error)
	Update(context.Context, T, metav1.UpdateOptions) (T, error)
	Get(context.Context, string, metav1.GetOptions) (T, error)
	List(context.Context, metav1.ListOptions) (L, error)
	Watch(context.Context, metav1.ListOptions) (watch.Interface, error)
	Delete(context.Context, string, metav1.DeleteOptions) error
}

// typed converts a manifest to the versioned Go type.
func typed[T any, PT interface {
	*T
	kruiseObject
}](t *testing.T, u *unstructured.Unstructured) PT {
	t.Helper()
	obj := PT(new(T))
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, obj, true); err != nil {
		t.Fatalf("%s manifest: %v", u.GetKind(), err)
	}
	return obj
}

// exercise watches, creates, gets, lists, updates and deletes obj with c,
// and reads it back with other (a client speaking another media type): both
// must decode the same object.
func exercise[T kruiseObject, L runtime.Object](t *testing.T, c, other typedClient[T, L], obj T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := obj.GetName()

	list, err := c.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	listMeta, err := meta.ListAccessor(list)
	if err != nil {
		t.Fatal(err)
	}
	w, err := c.Watch(ctx, metav1.ListOptions{ResourceVersion: listMeta.GetResourceVersion()})
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	defer w.Stop()

	created, err := c.Create(ctx, obj, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	expectTypedEvent(t, w, watch.Added, created)

	got, err := c.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if !apiequality.Semantic.DeepEqual(got, created) {
		t.Fatalf("get returned another object than create:\n%v\n%v", got, created)
	}
	viaOther, err := other.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get with the other media type: %v", err)
	}
	if !apiequality.Semantic.DeepEqual(got, viaOther) {
		t.Fatalf("the two media types decode different objects:\n%v\n%v", got, viaOther)
	}

	list, err = c.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, item := range items {
		if m, _ := meta.Accessor(item); m != nil && m.GetName() == name && apiequality.Semantic.DeepEqual(item, got) {
			found = true
		}
	}
	if !found {
		t.Fatalf("list (%d items) lacks %s as created", len(items), name)
	}

	got.SetLabels(map[string]string{"encoding": "updated"})
	updated, err := c.Update(ctx, got, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	expectTypedEvent(t, w, watch.Modified, updated)

	// A 404 is a Status in the same media type.
	if _, err := c.Get(ctx, name+"-missing", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("get of a missing object: %v, want NotFound", err)
	}

	uid := updated.GetUID()
	if err := c.Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	expectTypedEvent(t, w, watch.Deleted, updated)
}

func expectTypedEvent[T kruiseObject](t *testing.T, w watch.Interface, want watch.EventType, obj T) {
	t.Helper()
	select {
	case ev, ok := <-w.ResultChan():
		if !ok {
			t.Fatalf("watch closed waiting for %s", want)
		}
		got, isT := ev.Object.(T)
		if ev.Type != want || !isT {
			t.Fatalf("watch: got %s %T, want %s %T", ev.Type, ev.Object, want, obj)
		}
		if want != watch.Deleted && !apiequality.Semantic.DeepEqual(got, obj) {
			t.Fatalf("watch %s carries another object:\n%v\n%v", want, got, obj)
		}
		if got.GetName() != obj.GetName() || got.GetUID() != obj.GetUID() {
			t.Fatalf("watch %s for %s/%s, want %s/%s", want, got.GetName(), got.GetUID(), obj.GetName(), obj.GetUID())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no %s event for %s", want, obj.GetName())
	}
}

// exerciseKind runs exercise with the typed clients of k at version.
func exerciseKind(t *testing.T, c, other versioned.Interface, k kind, version string, u *unstructured.Unstructured) {
	ns := testNamespace
	switch k.name + "/" + version {
	case "CloneSet/v1alpha1":
		exercise(t, c.AppsV1alpha1().CloneSets(ns), other.AppsV1alpha1().CloneSets(ns), typed[appsv1alpha1.CloneSet](t, u))
	case "CloneSet/v1beta1":
		exercise(t, c.AppsV1beta1().CloneSets(ns), other.AppsV1beta1().CloneSets(ns), typed[appsv1beta1.CloneSet](t, u))
	case "StatefulSet/v1alpha1":
		exercise(t, c.AppsV1alpha1().StatefulSets(ns), other.AppsV1alpha1().StatefulSets(ns), typed[appsv1alpha1.StatefulSet](t, u))
	case "StatefulSet/v1beta1":
		exercise(t, c.AppsV1beta1().StatefulSets(ns), other.AppsV1beta1().StatefulSets(ns), typed[appsv1beta1.StatefulSet](t, u))
	case "WorkloadSpread/v1alpha1":
		exercise(t, c.AppsV1alpha1().WorkloadSpreads(ns), other.AppsV1alpha1().WorkloadSpreads(ns), typed[appsv1alpha1.WorkloadSpread](t, u))
	case "WorkloadSpread/v1beta1":
		exercise(t, c.AppsV1beta1().WorkloadSpreads(ns), other.AppsV1beta1().WorkloadSpreads(ns), typed[appsv1beta1.WorkloadSpread](t, u))
	case "ImagePullJob/v1alpha1":
		exercise(t, c.AppsV1alpha1().ImagePullJobs(ns), other.AppsV1alpha1().ImagePullJobs(ns), typed[appsv1alpha1.ImagePullJob](t, u))
	case "ImagePullJob/v1beta1":
		exercise(t, c.AppsV1beta1().ImagePullJobs(ns), other.AppsV1beta1().ImagePullJobs(ns), typed[appsv1beta1.ImagePullJob](t, u))
	case "ImageListPullJob/v1alpha1":
		exercise(t, c.AppsV1alpha1().ImageListPullJobs(ns), other.AppsV1alpha1().ImageListPullJobs(ns), typed[appsv1alpha1.ImageListPullJob](t, u))
	case "ImageListPullJob/v1beta1":
		exercise(t, c.AppsV1beta1().ImageListPullJobs(ns), other.AppsV1beta1().ImageListPullJobs(ns), typed[appsv1beta1.ImageListPullJob](t, u))
	case "NodeImage/v1alpha1":
		exercise(t, c.AppsV1alpha1().NodeImages(), other.AppsV1alpha1().NodeImages(), typed[appsv1alpha1.NodeImage](t, u))
	case "NodeImage/v1beta1":
		exercise(t, c.AppsV1beta1().NodeImages(), other.AppsV1beta1().NodeImages(), typed[appsv1beta1.NodeImage](t, u))
	case "PodUnavailableBudget/v1alpha1":
		exercise(t, c.PolicyV1alpha1().PodUnavailableBudgets(ns), other.PolicyV1alpha1().PodUnavailableBudgets(ns), typed[policyv1alpha1.PodUnavailableBudget](t, u))
	case "PodUnavailableBudget/v1beta1":
		exercise(t, c.PolicyV1beta1().PodUnavailableBudgets(ns), other.PolicyV1beta1().PodUnavailableBudgets(ns), typed[policyv1beta1.PodUnavailableBudget](t, u))
	default:
		t.Fatalf("no typed client for %s %s", k.name, version)
	}
}

// TestProtobufAndJSONClients drives every kind at every version through the
// generated clientset twice: as generated (protobuf, the default) and with
// ContentType set to JSON. Every request and answer, watch streams and error
// Statuses included, must be in the chosen media type, and both media types
// must decode the same objects.
func TestProtobufAndJSONClients(t *testing.T) {
	s := framework.Start(t, "")
	for _, mode := range []struct {
		name        string
		contentType string // of the rest.Config: "" is the clientset's default
		mediaType   string // expected on the wire
		other       string
	}{
		{"protobuf", "", protobufType, jsonType},
		{"json", jsonType, jsonType, protobufType},
	} {
		t.Run(mode.name, func(t *testing.T) {
			config, w := recordingConfig(s, mode.contentType)
			c, err := versioned.NewForConfig(config)
			if err != nil {
				t.Fatal(err)
			}
			otherConfig := rest.CopyConfig(s.Config)
			otherConfig.ContentType = mode.other
			other, err := versioned.NewForConfig(otherConfig)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range kinds {
				for _, version := range versions {
					t.Run(k.name+"/"+version, func(t *testing.T) {
						w.take()
						u := k.object(t, version, fmt.Sprintf("%s-%s", mode.name, version))
						exerciseKind(t, c, other, k, version, u)
						expectMediaType(t, w.take(), mode.mediaType)
					})
				}
			}
		})
	}
}

// TestProtobufScaleAndMetadata covers what a protobuf client gets besides
// our own types: autoscaling/v1 Scale from /scale, PartialObjectMetadata
// for the metadata client (kube-controller-manager's namespace controller
// and garbage collector), and Tables, which kube-apiserver serves in JSON
// and YAML only (metav1.Table has no protobuf encoding): so does this server.
func TestProtobufScaleAndMetadata(t *testing.T) {
	s := framework.Start(t, "")
	ctx := context.Background()
	config, w := recordingConfig(s, "")
	c, err := versioned.NewForConfig(config)
	if err != nil {
		t.Fatal(err)
	}

	clonesets := c.AppsV1beta1().CloneSets(testNamespace)
	if _, err := clonesets.Create(ctx, typedCloneSet("pb-scale"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	scale, err := clonesets.GetScale(ctx, "pb-scale", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	scale.Spec.Replicas = 5
	if scale, err = clonesets.UpdateScale(ctx, "pb-scale", scale, metav1.UpdateOptions{}); err != nil || scale.Spec.Replicas != 5 {
		t.Fatalf("update scale: %v %v", scale, err)
	}
	for _, e := range w.take() {
		if !strings.HasPrefix(e.received, protobufType) || (e.sent != "" && !strings.HasPrefix(e.sent, protobufType)) {
			t.Errorf("%s %s: sent %q, received %q", e.method, e.path, e.sent, e.received)
		}
	}

	mc, err := metadata.NewForConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	gvr := kindNamed(t, "CloneSet").gvr("v1beta1")
	list, err := mc.Resource(gvr).Namespace(testNamespace).List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 1 || list.Items[0].Name != "pb-scale" {
		t.Fatalf("metadata list: %v %v", list, err)
	}
	if _, err := mc.Resource(gvr).Namespace(testNamespace).Get(ctx, "pb-scale", metav1.GetOptions{}); err != nil {
		t.Fatalf("metadata get: %v", err)
	}
	for _, e := range w.take() {
		if !strings.HasPrefix(e.received, protobufType) {
			t.Errorf("metadata %s %s: received %q", e.method, e.path, e.received)
		}
	}

	raw, err := rest.RESTClientFor(withDefaults(rest.CopyConfig(config)))
	if err != nil {
		t.Fatal(err)
	}
	path := "/apis/apps.kruise.io/v1beta1/namespaces/" + testNamespace + "/clonesets"
	result := raw.Get().AbsPath(path).SetHeader("Accept", protobufType+";as=Table;v=v1;g=meta.k8s.io").Do(ctx)
	var code int
	result.StatusCode(&code)
	if code != http.StatusNotAcceptable {
		t.Fatalf("a Table in protobuf: %d %v, want 406 as from kube-apiserver", code, result.Error())
	}
	body, err := raw.Get().AbsPath(path).
		SetHeader("Accept", protobufType+";as=Table;v=v1;g=meta.k8s.io,"+jsonType+";as=Table;v=v1;g=meta.k8s.io").DoRaw(ctx)
	if err != nil || !strings.Contains(string(body), `"kind":"Table"`) {
		t.Fatalf("a Table with a JSON fallback: %v %.200s", err, body)
	}
}
