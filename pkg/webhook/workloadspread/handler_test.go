package workloadspread

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	kubefake "k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	testingclock "k8s.io/utils/clock/testing"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	kruisefake "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned/fake"
	kruiseinformers "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/informers/externalversions"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/webhook"
	wsutil "github.com/kruise-apiserver/kruise-apiserver/pkg/workloadspread"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	t      *testing.T
	kruise *kruisefake.Clientset
	h      *handler
	// admit is h.admit as New serves it.
	admit webhook.AdmitFunc
	uids  int
}

func newFixture(t *testing.T, objects ...runtime.Object) *fixture {
	var kubeObjects, kruiseObjects []runtime.Object
	for _, o := range objects {
		if _, ok := o.(*appsv1beta1.WorkloadSpread); ok {
			kruiseObjects = append(kruiseObjects, o)
		} else {
			kubeObjects = append(kubeObjects, o)
		}
	}
	kube := kubefake.NewClientset(kubeObjects...)
	f := &fixture{t: t, kruise: kruisefake.NewSimpleClientset(kruiseObjects...)}
	// The fake server does not check resourceVersions; kube-apiserver and
	// ours do, and the handler relies on it.
	f.kruise.PrependReactor("update", "workloadspreads", func(action clienttesting.Action) (bool, runtime.Object, error) {
		ws := action.(clienttesting.UpdateAction).GetObject().(*appsv1beta1.WorkloadSpread).DeepCopy()
		stored, err := f.kruise.Tracker().Get(action.GetResource(), ws.Namespace, ws.Name)
		if err != nil {
			return true, nil, err
		}
		current := stored.(*appsv1beta1.WorkloadSpread).ResourceVersion
		if ws.ResourceVersion != current {
			return true, nil, apierrors.NewConflict(action.GetResource().GroupResource(), ws.Name, fmt.Errorf("resourceVersion %s, stored %s", ws.ResourceVersion, current))
		}
		n, _ := strconv.Atoi(current)
		ws.ResourceVersion = strconv.Itoa(n + 1)
		return true, ws, f.kruise.Tracker().Update(action.GetResource(), ws, ws.Namespace)
	})
	kruiseInf := kruiseinformers.NewSharedInformerFactory(f.kruise, 0)
	for _, o := range objects {
		var err error
		switch o.(type) {
		case *appsv1beta1.WorkloadSpread:
			err = kruiseInf.Apps().V1beta1().WorkloadSpreads().Informer().GetIndexer().Add(o)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	f.h = &handler{
		kruise:     f.kruise,
		wsLister:   kruiseInf.Apps().V1beta1().WorkloadSpreads().Lister(),
		kube:       kube,
		workloads:  wsutil.Workloads{Reader: wsutil.APIReader{Kube: kube, Kruise: f.kruise}},
		versioning: wsutil.NewVersioning(wsutil.DefaultVersionedKinds),
		clock:      testingclock.NewFakeClock(t0),
		newUID: func() string {
			f.uids++
			return "uid-" + string(rune('0'+f.uids))
		},
	}
	f.admit = webhook.SkipSystemNamespaces(f.h.admit)
	return f
}

func workload(namespace string) (*appsv1.Deployment, *appsv1.ReplicaSet) {
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "web", UID: "d-uid"}}
	d.Spec.Replicas = new(int32(3))
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{
		Namespace: namespace, Name: "web-h1", UID: "rs-uid",
		Labels:          map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: "h1"},
		OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(d, appsv1.SchemeGroupVersion.WithKind("Deployment"))},
	}}
	return d, rs
}

func spread(namespace string) *appsv1beta1.WorkloadSpread {
	one := intstr.FromInt32(1)
	return &appsv1beta1.WorkloadSpread{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "ws", ResourceVersion: "1"},
		Spec: appsv1beta1.WorkloadSpreadSpec{
			TargetReference: &appsv1beta1.TargetReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			Subsets: []appsv1beta1.WorkloadSpreadSubset{
				{Name: "x86", MaxReplicas: &one, RequiredNodeSelector: &corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{
					{Key: "pool", Operator: corev1.NodeSelectorOpIn, Values: []string{"x86"}},
				}}},
				{Name: "arm", Tolerations: []corev1.Toleration{{Key: "arm", Operator: corev1.TolerationOpExists}}},
			},
		},
	}
}

func newPod(rs *appsv1.ReplicaSet) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: rs.Namespace, GenerateName: "web-h1-",
			Labels:          map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: "h1"},
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(rs, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}},
	}
}

func createRequest(t *testing.T, pod *corev1.Pod) *admissionv1.AdmissionRequest {
	raw, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	return &admissionv1.AdmissionRequest{
		UID: "r", Operation: admissionv1.Create, Namespace: pod.Namespace,
		Resource: metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
		Object:   runtime.RawExtension{Raw: raw},
	}
}

// admitPod sends a Pod's creation and returns the Pod as patched.
func (f *fixture) admitPod(pod *corev1.Pod, req *admissionv1.AdmissionRequest) (*corev1.Pod, *admissionv1.AdmissionResponse) {
	f.t.Helper()
	if req == nil {
		req = createRequest(f.t, pod)
	}
	resp := f.admit(context.Background(), req)
	if !resp.Allowed {
		f.t.Fatalf("denied: %+v", resp.Result)
	}
	if resp.Patch == nil {
		return pod, resp
	}
	p, err := jsonpatch.DecodePatch(resp.Patch)
	if err != nil {
		f.t.Fatalf("patch %s: %v", resp.Patch, err)
	}
	out, err := p.Apply(req.Object.Raw)
	if err != nil {
		f.t.Fatalf("patch %s: %v", resp.Patch, err)
	}
	patched := &corev1.Pod{}
	if err := json.Unmarshal(out, patched); err != nil {
		f.t.Fatal(err)
	}
	return patched, resp
}

func (f *fixture) status() appsv1beta1.WorkloadSpreadStatus {
	ws, err := f.kruise.AppsV1beta1().WorkloadSpreads(metav1.NamespaceDefault).Get(context.Background(), "ws", metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return ws.Status
}

func TestCreatePlacesAndRecords(t *testing.T) {
	d, rs := workload(metav1.NamespaceDefault)
	f := newFixture(t, d, rs, spread(metav1.NamespaceDefault))

	first, _ := f.admitPod(newPod(rs), nil)
	if m := wsutil.MatchedOf(first); m == nil || m.Subset != "x86" || m.UID != "uid-1" {
		t.Fatalf("first Pod annotation %q", first.Annotations[wsutil.MatchedAnnotation])
	}
	terms := first.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) != 1 || terms[0].MatchExpressions[0].Values[0] != "x86" {
		t.Errorf("first Pod affinity %+v", terms)
	}
	if first.Spec.Containers[0].Image != "i" || first.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != "h1" {
		t.Errorf("the patch lost the Pod's own fields: %+v", first)
	}
	x86 := f.status().VersionedSubsetStatuses["h1"][0]
	if x86.MissingReplicas != 0 || !x86.CreatingPods["uid-1"].Time.Equal(t0) {
		t.Errorf("x86 after the first Pod: %+v", x86)
	}

	// The cache still has the WorkloadSpread without the record: the write
	// conflicts, the handler reads it again and places the Pod in arm.
	second, _ := f.admitPod(newPod(rs), nil)
	if m := wsutil.MatchedOf(second); m == nil || m.Subset != "arm" {
		t.Fatalf("second Pod annotation %q", second.Annotations[wsutil.MatchedAnnotation])
	}
	if len(second.Spec.Tolerations) != 1 || second.Spec.Affinity != nil {
		t.Errorf("second Pod: tolerations %+v affinity %+v", second.Spec.Tolerations, second.Spec.Affinity)
	}
}

func TestCreateRetriesConflicts(t *testing.T) {
	d, rs := workload(metav1.NamespaceDefault)
	f := newFixture(t, d, rs, spread(metav1.NamespaceDefault))
	conflicts := 2
	f.kruise.PrependReactor("update", "workloadspreads", func(clienttesting.Action) (bool, runtime.Object, error) {
		if conflicts == 0 {
			return false, nil, nil
		}
		conflicts--
		return true, nil, apierrors.NewConflict(schema.GroupResource{Group: "apps.kruise.io", Resource: "workloadspreads"}, "ws", nil)
	})
	pod, _ := f.admitPod(newPod(rs), nil)
	if m := wsutil.MatchedOf(pod); m == nil || m.Subset != "x86" {
		t.Fatalf("annotation %q", pod.Annotations[wsutil.MatchedAnnotation])
	}
	if x86 := f.status().VersionedSubsetStatuses["h1"][0]; len(x86.CreatingPods) != 1 {
		t.Errorf("x86 after conflicts: %+v", x86)
	}
}

func TestCreateLeavesPodsAlone(t *testing.T) {
	d, rs := workload(metav1.NamespaceDefault)
	sysD, sysRS := workload(metav1.NamespaceSystem)
	f := newFixture(t, d, rs, spread(metav1.NamespaceDefault), sysD, sysRS, spread(metav1.NamespaceSystem))

	other := newPod(rs)
	other.OwnerReferences[0].Name = "unrelated"
	dryRun := createRequest(t, newPod(rs))
	dryRun.DryRun = new(true)
	for name, req := range map[string]*admissionv1.AdmissionRequest{
		"kube-system":     createRequest(t, newPod(sysRS)),
		"unrelated owner": createRequest(t, other),
		"dry run":         dryRun,
		"no controller":   createRequest(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceDefault, Name: "bare"}}),
		"pod status update": func() *admissionv1.AdmissionRequest {
			r := createRequest(t, newPod(rs))
			r.SubResource = "status"
			return r
		}(),
	} {
		resp := f.admit(context.Background(), req)
		if !resp.Allowed || resp.Patch != nil {
			t.Errorf("%s: %+v, want admitted untouched", name, resp)
		}
	}
	for _, a := range f.kruise.Actions() {
		if a.GetVerb() == "update" {
			t.Errorf("status written: %v", a)
		}
	}
}

func TestDeleteRecordsDeletingPod(t *testing.T) {
	d, rs := workload(metav1.NamespaceDefault)
	ws := spread(metav1.NamespaceDefault)
	ws.Status.VersionedSubsetStatuses = map[string]appsv1beta1.WorkloadSpreadSubsetStatuses{"h1": {{Name: "x86", Replicas: 1}, {Name: "arm", MissingReplicas: -1}}}
	f := newFixture(t, d, rs, ws)
	pod := newPod(rs)
	pod.Name = "web-h1-abc"
	pod.Annotations = map[string]string{wsutil.MatchedAnnotation: `{"name":"ws","subset":"x86"}`}
	raw, _ := json.Marshal(pod)
	resp := f.admit(context.Background(), &admissionv1.AdmissionRequest{
		Operation: admissionv1.Delete, Namespace: pod.Namespace, Name: pod.Name,
		Resource: metav1.GroupVersionResource{Version: "v1", Resource: "pods"}, OldObject: runtime.RawExtension{Raw: raw},
	})
	if !resp.Allowed {
		t.Fatalf("deletion denied: %+v", resp.Result)
	}
	x86 := f.status().VersionedSubsetStatuses["h1"][0]
	if x86.MissingReplicas != 1 || !x86.DeletingPods["web-h1-abc"].Time.Equal(t0) {
		t.Errorf("x86 after the deletion: %+v", x86)
	}
}

func TestJSONPatchEscapes(t *testing.T) {
	before := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Labels: map[string]string{"a": "b"}}}
	after := before.DeepCopy()
	after.Labels = nil
	after.Annotations = map[string]string{"x/y": "z"}
	patch, err := jsonPatch(before, after)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"op":"add","path":"/metadata/annotations","value":{"x/y":"z"}},{"op":"remove","path":"/metadata/labels"}]`
	if string(patch) != want {
		t.Errorf("patch %s, want %s", patch, want)
	}
	if !strings.Contains(escape("a/b~c"), "a~1b~0c") {
		t.Errorf("escape %q", escape("a/b~c"))
	}
}

func TestEvictionRecordsDeletingPod(t *testing.T) {
	d, rs := workload(metav1.NamespaceDefault)
	ws := spread(metav1.NamespaceDefault)
	ws.Status.VersionedSubsetStatuses = map[string]appsv1beta1.WorkloadSpreadSubsetStatuses{"h1": {{Name: "x86", Replicas: 1}, {Name: "arm", MissingReplicas: -1}}}
	pod := newPod(rs)
	pod.Name = "web-h1-evicted"
	pod.Annotations = map[string]string{wsutil.MatchedAnnotation: `{"name":"ws","subset":"x86"}`}
	f := newFixture(t, d, rs, ws, pod)
	eviction, _ := json.Marshal(&policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name}})
	req := &admissionv1.AdmissionRequest{
		Operation: admissionv1.Create, SubResource: "eviction", Namespace: pod.Namespace, Name: pod.Name,
		Resource: metav1.GroupVersionResource{Version: "v1", Resource: "pods"}, Object: runtime.RawExtension{Raw: eviction},
	}

	// A dry run of either kind records nothing, for the Pod the real
	// eviction below records.
	dry, _ := json.Marshal(&policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name}, DeleteOptions: &metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}}})
	dryOption := *req
	dryOption.Object.Raw = dry
	dryRequest := *req
	dryRequest.DryRun = new(true)
	for name, r := range map[string]*admissionv1.AdmissionRequest{"deleteOptions.dryRun": &dryOption, "request dryRun": &dryRequest} {
		if resp := f.admit(context.Background(), r); !resp.Allowed {
			t.Fatalf("%s: eviction denied: %+v", name, resp.Result)
		}
	}
	for _, a := range f.kruise.Actions() {
		if a.GetVerb() == "update" {
			t.Errorf("a dry-run eviction wrote the status: %v", a)
		}
	}
	if x86 := f.status().VersionedSubsetStatuses["h1"][0]; x86.MissingReplicas != 0 || len(x86.DeletingPods) != 0 {
		t.Errorf("x86 after dry-run evictions: %+v", x86)
	}

	if resp := f.admit(context.Background(), req); !resp.Allowed {
		t.Fatalf("eviction denied: %+v", resp.Result)
	}
	if x86 := f.status().VersionedSubsetStatuses["h1"][0]; x86.MissingReplicas != 1 || len(x86.DeletingPods) != 1 {
		t.Errorf("x86 after the eviction: %+v", x86)
	}
}

func TestCreateWhenTheStatusCannotBeWritten(t *testing.T) {
	d, rs := workload(metav1.NamespaceDefault)
	ws := spread(metav1.NamespaceDefault)
	cloneSetSpread := spread(metav1.NamespaceDefault)
	cloneSetSpread.Name = "cs-ws"
	cloneSetSpread.Spec.TargetReference = &appsv1beta1.TargetReference{APIVersion: "apps.kruise.io/v1beta1", Kind: "CloneSet", Name: "cs"}
	f := newFixture(t, d, rs, ws, cloneSetSpread)
	f.kruise.PrependReactor("update", "workloadspreads", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewInternalError(fmt.Errorf("etcd is gone"))
	})

	// A Deployment's Pod: created unplaced, with a warning.
	resp := f.admit(context.Background(), createRequest(t, newPod(rs)))
	if !resp.Allowed || resp.Patch != nil || len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "etcd is gone") {
		t.Errorf("ReplicaSet Pod: %+v, want admitted unplaced with a warning", resp)
	}

	// A CloneSet's Pod: refused, its controller retries.
	csPod := newPod(rs)
	csPod.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps.kruise.io/v1beta1", Kind: "CloneSet", Name: "cs", UID: "cs-uid", Controller: new(true)}}
	resp = f.admit(context.Background(), createRequest(t, csPod))
	if resp.Allowed || resp.Result == nil || resp.Result.Code != 500 || !strings.Contains(resp.Result.Message, "etcd is gone") {
		t.Errorf("CloneSet Pod: %+v, want a 500 denial", resp)
	}
}

// A deletion or eviction is never refused, even when the handler cannot
// tell which Pod goes: a response that is not allowed is a denial whatever
// the webhook's failure policy.
func TestDeletionsAreNeverRefused(t *testing.T) {
	d, rs := workload(metav1.NamespaceDefault)
	pod := newPod(rs)
	pod.Name = "web-h1-abc"
	f := newFixture(t, d, rs, spread(metav1.NamespaceDefault), pod)
	kube := f.h.kube.(*kubefake.Clientset)
	kube.PrependReactor("get", "pods", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewServiceUnavailable("kube-apiserver is overloaded")
	})
	eviction, _ := json.Marshal(&policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name}})
	podsResource := metav1.GroupVersionResource{Version: "v1", Resource: "pods"}
	for name, req := range map[string]*admissionv1.AdmissionRequest{
		"delete, oldObject not a Pod": {Operation: admissionv1.Delete, Namespace: pod.Namespace, Name: pod.Name, Resource: podsResource,
			OldObject: runtime.RawExtension{Raw: []byte(`{"metadata":"not an object"}`)}},
		"eviction, object not an Eviction": {Operation: admissionv1.Create, SubResource: "eviction", Namespace: pod.Namespace, Name: pod.Name, Resource: podsResource,
			Object: runtime.RawExtension{Raw: []byte(`{"metadata":"not an object"}`)}},
		"eviction, the Pod cannot be read": {Operation: admissionv1.Create, SubResource: "eviction", Namespace: pod.Namespace, Name: pod.Name, Resource: podsResource,
			Object: runtime.RawExtension{Raw: eviction}},
	} {
		if resp := f.admit(context.Background(), req); !resp.Allowed || resp.Patch != nil {
			t.Errorf("%s: %+v, want admitted untouched", name, resp)
		}
	}
}

// "No room" is never decided on the cache alone: that answer writes
// nothing, so no conflict would tell that the cache lags behind.
func TestCreateReadsTheWorkloadSpreadBeforeFindingNoRoom(t *testing.T) {
	d, rs := workload(metav1.NamespaceDefault)
	one := intstr.FromInt32(1)
	cached := spread(metav1.NamespaceDefault)
	cached.Spec.Subsets[1].MaxReplicas = &one
	cached.Status.VersionedSubsetStatuses = map[string]appsv1beta1.WorkloadSpreadSubsetStatuses{"h1": {
		{Name: "x86", Replicas: 1, MissingReplicas: 0}, {Name: "arm", Replicas: 1, MissingReplicas: 0},
	}}
	f := newFixture(t, d, rs, cached)
	// The controller has since seen x86's Pod gone.
	live := cached.DeepCopy()
	live.ResourceVersion = "2"
	live.Status.VersionedSubsetStatuses["h1"][0] = appsv1beta1.WorkloadSpreadSubsetStatus{Name: "x86", MissingReplicas: 1}
	if err := f.kruise.Tracker().Update(appsv1beta1.SchemeGroupVersion.WithResource("workloadspreads"), live, live.Namespace); err != nil {
		t.Fatal(err)
	}

	pod, _ := f.admitPod(newPod(rs), nil)
	if m := wsutil.MatchedOf(pod); m == nil || m.Subset != "x86" {
		t.Fatalf("annotation %q, want placed in x86", pod.Annotations[wsutil.MatchedAnnotation])
	}
	if x86 := f.status().VersionedSubsetStatuses["h1"][0]; x86.MissingReplicas != 0 || len(x86.CreatingPods) != 1 {
		t.Errorf("x86 after the Pod: %+v", x86)
	}

	// When the server agrees that no subset has room, the Pod is created
	// as it is, after one read.
	f.kruise.ClearActions()
	pod, resp := f.admitPod(newPod(rs), nil)
	if resp.Patch != nil || wsutil.MatchedOf(pod) != nil {
		t.Errorf("placed %q with every subset full", pod.Annotations[wsutil.MatchedAnnotation])
	}
	gets := 0
	for _, a := range f.kruise.Actions() {
		switch a.GetVerb() {
		case "get":
			gets++
		case "update":
			t.Errorf("status written with every subset full: %v", a)
		}
	}
	if gets != 1 {
		t.Errorf("read the WorkloadSpread %d times, want once", gets)
	}
}

// The Pod's ReplicaSet is read once per admission, however many
// WorkloadSpreads of the namespace target Deployments.
func TestCreateReadsTheReplicaSetOnce(t *testing.T) {
	d, rs := workload(metav1.NamespaceDefault)
	objects := []runtime.Object{d, rs}
	for _, name := range []string{"a", "b", "c"} {
		ws := spread(metav1.NamespaceDefault)
		ws.Name = "ws-" + name
		ws.Spec.TargetReference.Name = name
		objects = append(objects, ws)
	}
	f := newFixture(t, objects...)
	kube := f.h.kube.(*kubefake.Clientset)
	kube.ClearActions()
	if _, resp := f.admitPod(newPod(rs), nil); resp.Patch != nil {
		t.Errorf("placed a Pod no WorkloadSpread targets: %s", resp.Patch)
	}
	gets := 0
	for _, a := range kube.Actions() {
		if a.GetVerb() == "get" && a.GetResource().Resource == "replicasets" {
			gets++
		}
	}
	if gets != 1 {
		t.Errorf("read the ReplicaSet %d times, want once", gets)
	}
}
