package integration

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	corev1apply "k8s.io/client-go/applyconfigurations/core/v1"
	metav1apply "k8s.io/client-go/applyconfigurations/meta/v1"
	"k8s.io/client-go/metadata"

	appsv1beta1apply "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/applyconfiguration/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/test/integration/framework"
)

// TestDataSurvivesRestart stops the server (and its embedded etcd) and
// starts a new one on the same data dir.
func TestDataSurvivesRestart(t *testing.T) {
	first := framework.Start(t, "")
	ctx := context.Background()
	created, err := first.Clientset(t).AppsV1beta1().CloneSets(testNamespace).Create(ctx, typedCloneSet("durable"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	first.Stop(t)

	second := framework.Start(t, first.DataDir)
	got, err := second.Clientset(t).AppsV1alpha1().CloneSets(testNamespace).Get(ctx, "durable", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if got.UID != created.UID || *got.Spec.Replicas != 3 {
		t.Fatalf("after restart: uid %s replicas %d", got.UID, *got.Spec.Replicas)
	}
}

// TestStrategicMergePatchMergesContainersByName is what a CRD cannot do:
// a strategic merge patch of one container leaves the others alone.
func TestStrategicMergePatchMergesContainersByName(t *testing.T) {
	s := framework.Start(t, "")
	ctx := context.Background()
	clonesets := s.Clientset(t).AppsV1beta1().CloneSets(testNamespace)
	cs := typedCloneSet("smp")
	sidecar := cs.Spec.Template.Spec.Containers[0]
	sidecar.Name, sidecar.Image = "sidecar", "busybox:1.36"
	cs.Spec.Template.Spec.Containers = append(cs.Spec.Template.Spec.Containers, sidecar)
	if _, err := clonesets.Create(ctx, cs, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	patch := `{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox:1.37"}]}}}}`
	got, err := clonesets.Patch(ctx, "smp", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	containers := got.Spec.Template.Spec.Containers
	if len(containers) != 2 || containers[0].Image != "nginx:1.25" || containers[1].Image != "busybox:1.37" {
		t.Fatalf("containers after strategic merge patch: %+v", containers)
	}
}

// TestServerSideApply checks per-field ownership: two managers own
// different containers (merged by name), a conflicting apply is refused with
// 409, and a forced one takes the field over.
func TestServerSideApply(t *testing.T) {
	s := framework.Start(t, "")
	ctx := context.Background()
	clonesets := s.Clientset(t).AppsV1beta1().CloneSets(testNamespace)

	base := func(container, image string) *appsv1beta1apply.CloneSetApplyConfiguration {
		return appsv1beta1apply.CloneSet("ssa", testNamespace).WithSpec(appsv1beta1apply.CloneSetSpec().
			WithReplicas(2).
			WithSelector(metav1apply.LabelSelector().WithMatchLabels(map[string]string{"app": "ssa"})).
			WithTemplate(corev1apply.PodTemplateSpec().
				WithLabels(map[string]string{"app": "ssa"}).
				WithSpec(corev1apply.PodSpec().WithContainers(corev1apply.Container().WithName(container).WithImage(image)))))
	}
	if _, err := clonesets.Apply(ctx, base("main", "nginx:1.25"), metav1.ApplyOptions{FieldManager: "team-a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := clonesets.Apply(ctx, base("logger", "fluentbit:3"), metav1.ApplyOptions{FieldManager: "team-b"}); err != nil {
		t.Fatalf("a second manager adding its own container: %v", err)
	}
	got, err := clonesets.Get(ctx, "ssa", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if names := containerNames(got.Spec.Template.Spec.Containers); names != "main,logger" {
		t.Fatalf("containers after two applies: %s", names)
	}

	_, err = clonesets.Apply(ctx, base("main", "nginx:1.26").WithSpec(base("main", "nginx:1.26").Spec.WithReplicas(5)), metav1.ApplyOptions{FieldManager: "team-b"})
	if !apierrors.IsConflict(err) || !strings.Contains(err.Error(), "team-a") {
		t.Fatalf("conflicting apply: got %v, want a 409 naming team-a", err)
	}
	if _, err := clonesets.Apply(ctx, base("main", "nginx:1.26"), metav1.ApplyOptions{FieldManager: "team-b", Force: true}); err != nil {
		t.Fatalf("forced apply: %v", err)
	}
	got, _ = clonesets.Get(ctx, "ssa", metav1.GetOptions{})
	if got.Spec.Template.Spec.Containers[0].Image != "nginx:1.26" {
		t.Fatalf("forced apply did not take effect: %+v", got.Spec.Template.Spec.Containers)
	}
}

// TestTableColumns checks `kubectl get` columns, computed by the server.
func TestTableColumns(t *testing.T) {
	s := framework.Start(t, "")
	ctx := context.Background()
	cs := typedCloneSet("table")
	if _, err := s.Clientset(t).AppsV1beta1().CloneSets(testNamespace).Create(ctx, cs, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	body, err := s.Discovery(t).RESTClient().Get().
		AbsPath("/apis/apps.kruise.io/v1alpha1/namespaces/default/clonesets").
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").
		DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var table metav1.Table
	if err := json.Unmarshal(body, &table); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range table.ColumnDefinitions {
		names = append(names, c.Name)
	}
	want := "Name,DESIRED,UPDATED,UPDATED_READY,UPDATED_AVAILABLE,READY,TOTAL,AGE,CONTAINERS,IMAGES,SELECTOR"
	if strings.Join(names, ",") != want {
		t.Fatalf("columns %s, want %s", strings.Join(names, ","), want)
	}
	if len(table.Rows) != 1 || table.Rows[0].Cells[0] != "table" || table.Rows[0].Cells[1] != float64(3) || table.Rows[0].Cells[8] != "main" {
		t.Fatalf("rows: %+v", table.Rows)
	}
}

// TestDiscovery checks what kubectl learns from discovery: the preferred
// version, short names, categories, verbs and subresources.
func TestDiscovery(t *testing.T) {
	s := framework.Start(t, "")
	d := s.Discovery(t)
	groups, err := d.ServerGroups()
	if err != nil {
		t.Fatal(err)
	}
	preferred := map[string]string{}
	for _, g := range groups.Groups {
		preferred[g.Name] = g.PreferredVersion.Version
	}
	if preferred["apps.kruise.io"] != "v1beta1" {
		t.Fatalf("preferred versions: %v", preferred)
	}
	for _, version := range versions {
		list, err := d.ServerResourcesForGroupVersion("apps.kruise.io/" + version)
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]metav1.APIResource{}
		for _, r := range list.APIResources {
			byName[r.Name] = r
		}
		cs := byName["clonesets"]
		if strings.Join(cs.ShortNames, ",") != "clone" || strings.Join(cs.Categories, ",") != "kruise" || !cs.Namespaced {
			t.Fatalf("%s clonesets: %+v", version, cs)
		}
		if !strings.Contains(strings.Join(cs.Verbs, ","), "deletecollection") || !strings.Contains(strings.Join(cs.Verbs, ","), "patch") {
			t.Fatalf("%s clonesets verbs: %v", version, cs.Verbs)
		}
		if _, ok := byName["clonesets/status"]; !ok {
			t.Fatalf("%s: no clonesets/status", version)
		}
		if scale := byName["clonesets/scale"]; scale.Group != "autoscaling" || scale.Version != "v1" || scale.Kind != "Scale" {
			t.Fatalf("%s clonesets/scale: %+v", version, scale)
		}
	}
}

// TestOpenAPI checks that OpenAPI v2 and v3 are served with the schemas
// kubectl explain and server-side apply use.
func TestOpenAPI(t *testing.T) {
	s := framework.Start(t, "")
	ctx := context.Background()
	rc := s.Discovery(t).RESTClient()
	v2, err := rc.Get().AbsPath("/openapi/v2").SetHeader("Accept", "application/json").DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var swagger struct {
		Definitions map[string]struct {
			GVK []map[string]string `json:"x-kubernetes-group-version-kind"`
		} `json:"definitions"`
	}
	if err := json.Unmarshal(v2, &swagger); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"io.kruise.apps.v1beta1.CloneSet", "io.kruise.apps.v1alpha1.CloneSet"} {
		def, ok := swagger.Definitions[name]
		if !ok || len(def.GVK) == 0 || def.GVK[0]["kind"] != "CloneSet" {
			t.Fatalf("openapi v2 definition %s: %+v", name, def)
		}
	}
	v3, err := rc.Get().AbsPath("/openapi/v3/apis/apps.kruise.io/v1beta1").DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(v3), `"x-kubernetes-list-map-keys"`) || !strings.Contains(string(v3), "io.kruise.apps.v1beta1.CloneSet") {
		t.Fatalf("openapi v3 for apps.kruise.io/v1beta1 lacks CloneSet or list-map keys")
	}
}

func containerNames(containers []corev1.Container) string {
	names := make([]string, 0, len(containers))
	for _, c := range containers {
		names = append(names, c.Name)
	}
	return strings.Join(names, ",")
}

// TestMetadataClient lists and watches through the metadata client, which
// asks for protobuf first, as kube-controller-manager's namespace controller
// and garbage collector do.
func TestMetadataClient(t *testing.T) {
	s := framework.Start(t, "")
	ctx := context.Background()
	if _, err := s.Clientset(t).AppsV1beta1().CloneSets(testNamespace).Create(ctx, typedCloneSet("meta"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	client, err := metadata.NewForConfig(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	gvr := schema.GroupVersionResource{Group: "apps.kruise.io", Version: "v1beta1", Resource: "clonesets"}
	list, err := client.Resource(gvr).Namespace(testNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("metadata list: %v", err)
	}
	if len(list.Items) != 1 || list.Items[0].Name != "meta" {
		t.Fatalf("metadata list: %+v", list.Items)
	}
	w, err := client.Resource(gvr).Namespace(testNamespace).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("metadata watch: %v", err)
	}
	defer w.Stop()
	ev := <-w.ResultChan()
	if ev.Type != watch.Added {
		t.Fatalf("metadata watch event: %s %v", ev.Type, ev.Object)
	}
	if err := client.Resource(gvr).Namespace(testNamespace).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
		t.Fatalf("metadata deletecollection: %v", err)
	}
}
