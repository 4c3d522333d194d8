package workloadspread

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	kubeinformers "k8s.io/client-go/informers"
	kubefake "k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	testingclock "k8s.io/utils/clock/testing"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers"
	kruisefake "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned/fake"
	kruiseinformers "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/informers/externalversions"
	wsutil "github.com/kruise-apiserver/kruise-apiserver/pkg/workloadspread"
)

const ns = "default"

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	t        *testing.T
	kube     *kubefake.Clientset
	kruise   *kruisefake.Clientset
	recorder *record.FakeRecorder
	c        *Controller
}

// newFixture builds the controller on fake clients whose caches hold the
// objects (fed directly, informers not started).
func newFixture(t *testing.T, objects ...runtime.Object) *fixture {
	var kubeObjects, kruiseObjects []runtime.Object
	for _, o := range objects {
		switch o.(type) {
		case *appsv1beta1.WorkloadSpread, *appsv1beta1.CloneSet:
			kruiseObjects = append(kruiseObjects, o)
		default:
			kubeObjects = append(kubeObjects, o)
		}
	}
	f := &fixture{
		t:        t,
		kube:     kubefake.NewClientset(kubeObjects...),
		kruise:   kruisefake.NewSimpleClientset(kruiseObjects...),
		recorder: record.NewFakeRecorder(100),
	}
	kubeInf := kubeinformers.NewSharedInformerFactory(f.kube, 0)
	kruiseInf := kruiseinformers.NewSharedInformerFactory(f.kruise, 0)
	c, err := newController(&controllers.Context{
		KruiseClient: f.kruise, KubeClient: f.kube,
		KruiseInformers: kruiseInf, KubeInformers: kubeInf,
		Recorder:                 f.recorder,
		WorkloadSpreadVersioning: wsutil.NewVersioning(wsutil.DefaultVersionedKinds),
	}, testingclock.NewFakeClock(t0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.queue.ShutDown)
	for _, o := range objects {
		var err error
		switch o.(type) {
		case *appsv1beta1.WorkloadSpread:
			err = kruiseInf.Apps().V1beta1().WorkloadSpreads().Informer().GetIndexer().Add(o)
		case *appsv1beta1.CloneSet:
			err = kruiseInf.Apps().V1beta1().CloneSets().Informer().GetIndexer().Add(o)
		case *appsv1.Deployment:
			err = kubeInf.Apps().V1().Deployments().Informer().GetIndexer().Add(o)
		case *appsv1.ReplicaSet:
			err = kubeInf.Apps().V1().ReplicaSets().Informer().GetIndexer().Add(o)
		case *corev1.Pod:
			err = kubeInf.Core().V1().Pods().Informer().GetIndexer().Add(o)
		case *corev1.Node:
			err = kubeInf.Core().V1().Nodes().Informer().GetIndexer().Add(o)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	f.c = c
	f.kube.ClearActions()
	f.kruise.ClearActions()
	return f
}

func deployment() (*appsv1.Deployment, *appsv1.ReplicaSet) {
	labels := map[string]string{"app": "web"}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web", UID: "d-uid"}}
	d.Spec.Replicas = new(int32(4))
	d.Spec.Selector = &metav1.LabelSelector{MatchLabels: labels}
	d.Spec.Template.Labels = labels
	d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "c", Image: "v1"}}
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{
		Namespace: ns, Name: "web-h1", UID: "rs-uid",
		Labels:          map[string]string{"app": "web", appsv1.DefaultDeploymentUniqueLabelKey: "h1"},
		OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(d, appsv1.SchemeGroupVersion.WithKind("Deployment"))},
	}}
	rs.Spec.Template = *d.Spec.Template.DeepCopy()
	rs.Spec.Template.Labels = rs.Labels
	return d, rs
}

func podOf(rs *appsv1.ReplicaSet, name, matched string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Namespace: ns, Name: name, Labels: rs.Spec.Template.Labels,
		OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(rs, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))},
	}}
	if matched != "" {
		p.Annotations = map[string]string{wsutil.MatchedAnnotation: matched}
	}
	p.Spec.NodeName, p.Status.Phase = "node", corev1.PodRunning
	return p
}

func spread() *appsv1beta1.WorkloadSpread {
	half := intstr.FromString("50%")
	return &appsv1beta1.WorkloadSpread{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ws", Generation: 2},
		Spec: appsv1beta1.WorkloadSpreadSpec{
			TargetReference: &appsv1beta1.TargetReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			Subsets:         []appsv1beta1.WorkloadSpreadSubset{{Name: "a", MaxReplicas: &half}, {Name: "b"}},
		},
	}
}

func TestSyncStatusAndDeletionCosts(t *testing.T) {
	d, rs := deployment()
	ws := spread()
	recent := metav1.NewTime(t0.Add(-5 * time.Second))
	ws.Status.VersionedSubsetStatuses = map[string]appsv1beta1.WorkloadSpreadSubsetStatuses{
		"h1": {{Name: "a", MissingReplicas: 0, CreatingPods: map[string]metav1.Time{"uid-p1": recent, "uid-coming": recent}}, {Name: "b", MissingReplicas: -1}},
	}
	// Another Deployment's Pod with the same labels is not counted.
	otherRS := rs.DeepCopy()
	otherRS.Name, otherRS.UID, otherRS.OwnerReferences = "other-h1", "other-rs", nil
	f := newFixture(t, d, rs, ws,
		podOf(rs, "p1", `{"name":"ws","subset":"a","uid":"uid-p1"}`),
		podOf(rs, "p2", `{"name":"ws","subset":"b"}`),
		podOf(rs, "p3", `{"name":"ws","subset":"b"}`),
		podOf(otherRS, "stranger", `{"name":"ws","subset":"a"}`),
	)
	recheck, err := f.c.sync(context.Background(), ns+"/ws")
	if err != nil {
		t.Fatal(err)
	}
	if recheck != wsutil.CreatingPodTimeout-5*time.Second {
		t.Errorf("recheck after %v", recheck)
	}
	got, err := f.kruise.AppsV1beta1().WorkloadSpreads(ns).Get(context.Background(), "ws", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status.ObservedGeneration != 2 {
		t.Errorf("observedGeneration %d", got.Status.ObservedGeneration)
	}
	// a: max 2 of 4, p1 seen; in its version one admitted Pod is still
	// coming. subsetStatuses has no records: the webhook records per version.
	versioned := got.Status.VersionedSubsetStatuses["h1"]
	if a, b := versioned[0], versioned[1]; a.Replicas != 1 || a.MissingReplicas != 0 || len(a.CreatingPods) != 1 || a.CreatingPods["uid-coming"].Time.IsZero() ||
		b.Replicas != 2 || b.MissingReplicas != -1 {
		t.Errorf("versioned statuses %+v", versioned)
	}
	if a, b := got.Status.SubsetStatuses[0], got.Status.SubsetStatuses[1]; a.Replicas != 1 || a.MissingReplicas != 1 || len(a.CreatingPods) != 0 ||
		b.Replicas != 2 || b.MissingReplicas != -1 {
		t.Errorf("subset statuses %+v", got.Status.SubsetStatuses)
	}
	patched := map[string]string{}
	for _, a := range f.kube.Actions() {
		if p, ok := a.(clienttesting.PatchAction); ok && a.GetResource().Resource == "pods" {
			patched[p.GetName()] = string(p.GetPatch())
		}
	}
	want := map[string]string{"p1": "200", "p2": "100", "p3": "100"}
	if len(patched) != len(want) {
		t.Errorf("patched %v", patched)
	}
	for name, cost := range want {
		if !strings.Contains(patched[name], `"`+wsutil.PodDeletionCostAnnotation+`":"`+cost+`"`) {
			t.Errorf("Pod %s patch %q, want deletion cost %s", name, patched[name], cost)
		}
	}
}

func TestSyncDropsExpiredRecordsWithEvent(t *testing.T) {
	d, rs := deployment()
	ws := spread()
	ws.Status.VersionedSubsetStatuses = map[string]appsv1beta1.WorkloadSpreadSubsetStatuses{
		"h1": {{Name: "a", CreatingPods: map[string]metav1.Time{"never-came": metav1.NewTime(t0.Add(-time.Minute))}}, {Name: "b", MissingReplicas: -1}},
	}
	f := newFixture(t, d, rs, ws)
	if _, err := f.c.sync(context.Background(), ns+"/ws"); err != nil {
		t.Fatal(err)
	}
	got, _ := f.kruise.AppsV1beta1().WorkloadSpreads(ns).Get(context.Background(), "ws", metav1.GetOptions{})
	if _, ok := got.Status.VersionedSubsetStatuses["h1"]; ok {
		t.Errorf("a version without Pods or live records kept: %+v", got.Status.VersionedSubsetStatuses)
	}
	if a := got.Status.SubsetStatuses[0]; a.MissingReplicas != 2 {
		t.Errorf("subset a: %+v", a)
	}
	select {
	case e := <-f.recorder.Events:
		if !strings.Contains(e, "CreatePodFailed") || !strings.Contains(e, "default/never-came") {
			t.Errorf("event %q", e)
		}
	default:
		t.Error("no event for the expired record")
	}
}

func TestSyncConflictIsRetried(t *testing.T) {
	d, rs := deployment()
	f := newFixture(t, d, rs, spread(), podOf(rs, "p1", `{"name":"ws","subset":"a"}`))
	f.kruise.PrependReactor("update", "workloadspreads", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewConflict(schema.GroupResource{Group: "apps.kruise.io", Resource: "workloadspreads"}, "ws", nil)
	})
	if _, err := f.c.sync(context.Background(), ns+"/ws"); !apierrors.IsConflict(err) {
		t.Errorf("sync = %v, want the conflict back (to retry)", err)
	}
}

func TestPodEventsEnqueue(t *testing.T) {
	d, rs := deployment()
	other := spread()
	other.Name = "other"
	f := newFixture(t, d, rs, spread(), other)
	f.c.onPod(podOf(rs, "p1", `{"name":"ws","subset":"a"}`))
	if n := f.c.queue.Len(); n != 1 {
		t.Errorf("matched Pod enqueued %d keys, want 1", n)
	}
	f.c.onWorkload(rs)
	// Both WorkloadSpreads target Deployment web, the ReplicaSet's owner.
	if n := f.c.queue.Len(); n != 2 {
		t.Errorf("after a ReplicaSet event %d keys, want 2", n)
	}
}

func TestSyncReportsPodsCreatedWithoutSubset(t *testing.T) {
	d, rs := deployment()
	ws := spread()
	ws.CreationTimestamp = metav1.NewTime(t0.Add(-time.Hour))
	before := podOf(rs, "before", "")
	before.CreationTimestamp = metav1.NewTime(t0.Add(-2 * time.Hour))
	missed := podOf(rs, "missed", "")
	missed.UID, missed.CreationTimestamp = "missed-uid", metav1.NewTime(t0.Add(-time.Minute))
	f := newFixture(t, d, rs, ws, before, missed)
	for range 2 {
		if _, err := f.c.sync(context.Background(), ns+"/ws"); err != nil {
			t.Fatal(err)
		}
	}
	var events []string
	for len(f.recorder.Events) > 0 {
		events = append(events, <-f.recorder.Events)
	}
	if len(events) != 1 || !strings.Contains(events[0], "PodNotSpread") || !strings.Contains(events[0], "default/missed") {
		t.Errorf("events %q, want one PodNotSpread for the Pod created after the WorkloadSpread", events)
	}
}

// What reportUnplaced remembers is dropped with the WorkloadSpread: the
// controller must not grow with every WorkloadSpread ever deleted.
func TestSyncForgetsUnplacedPodsOfGoneWorkloadSpreads(t *testing.T) {
	f := newFixture(t)
	f.c.unplaced[ns+"/gone"] = sets.New[types.UID]("missed-uid")
	if _, err := f.c.sync(context.Background(), ns+"/gone"); err != nil {
		t.Fatal(err)
	}
	if _, kept := f.c.unplaced[ns+"/gone"]; kept {
		t.Errorf("unplaced Pods of a deleted WorkloadSpread kept: %v", f.c.unplaced)
	}
}

func TestSyncDeletesPodsTheAdaptiveStrategyGivesUpOn(t *testing.T) {
	d, rs := deployment()
	ws := spread()
	ws.Spec.ScheduleStrategy = appsv1beta1.WorkloadSpreadScheduleStrategy{
		Type:     appsv1beta1.AdaptiveWorkloadSpreadScheduleStrategyType,
		Adaptive: &appsv1beta1.AdaptiveWorkloadSpreadStrategy{RescheduleCriticalSeconds: new(int32(30))},
	}
	stuck := podOf(rs, "stuck", `{"name":"ws","subset":"a"}`)
	stuck.UID, stuck.CreationTimestamp = "stuck-uid", metav1.NewTime(t0.Add(-time.Minute))
	stuck.Spec.NodeName, stuck.Status.Phase = "", corev1.PodPending
	stuck.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable}}
	f := newFixture(t, d, rs, ws, stuck)
	if _, err := f.c.sync(context.Background(), ns+"/ws"); err != nil {
		t.Fatal(err)
	}
	got, _ := f.kruise.AppsV1beta1().WorkloadSpreads(ns).Get(context.Background(), "ws", metav1.GetOptions{})
	if c := got.Status.SubsetStatuses[0].Conditions; len(c) != 1 || c[0].Status != metav1.ConditionFalse {
		t.Errorf("subset a conditions %+v", c)
	}
	deleted := false
	for _, a := range f.kube.Actions() {
		if a.GetVerb() == "delete" && a.GetResource().Resource == "pods" {
			deleted = a.(clienttesting.DeleteAction).GetName() == "stuck"
		}
	}
	if !deleted {
		t.Errorf("the stuck Pod was not deleted: %v", f.kube.Actions())
	}
}

func TestSyncAdoptsRunningPods(t *testing.T) {
	d, rs := deployment()
	ws := spread()
	ws.Spec.Subsets[0].RequiredNodeSelector = &corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{
		{Key: "pool", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}},
	}}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a", Labels: map[string]string{"pool": "a"}}}
	older := podOf(rs, "older", "")
	older.Spec.NodeName = "node-a"
	pending := podOf(rs, "pending", "")
	pending.Spec.NodeName = ""
	f := newFixture(t, d, rs, ws, node, older, pending)
	if _, err := f.c.sync(context.Background(), ns+"/ws"); err != nil {
		t.Fatal(err)
	}
	got, err := f.kube.CoreV1().Pods(ns).Get(context.Background(), "older", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m := wsutil.MatchedOf(got); m == nil || m.Subset != "a" {
		t.Errorf("older Pod annotations %v, want it adopted into a", got.Annotations)
	}
	status, _ := f.kruise.AppsV1beta1().WorkloadSpreads(ns).Get(context.Background(), "ws", metav1.GetOptions{})
	if a := status.Status.SubsetStatuses[0]; a.Replicas != 1 {
		t.Errorf("subset a %+v, want the adopted Pod counted", a)
	}
	if p, _ := f.kube.CoreV1().Pods(ns).Get(context.Background(), "pending", metav1.GetOptions{}); wsutil.MatchedOf(p) != nil {
		t.Errorf("an unscheduled Pod was adopted: %v", p.Annotations)
	}
}

func TestSyncLeavesSystemNamespacesAlone(t *testing.T) {
	d, rs := deployment()
	d.Namespace, rs.Namespace = metav1.NamespaceSystem, metav1.NamespaceSystem
	ws := spread()
	ws.Namespace = metav1.NamespaceSystem
	ws.Status.SubsetStatuses = []appsv1beta1.WorkloadSpreadSubsetStatus{{Name: "a"}}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node"}}
	pod := podOf(rs, "system-pod", "")
	pod.Namespace = metav1.NamespaceSystem
	f := newFixture(t, d, rs, ws, node, pod)
	if _, err := f.c.sync(context.Background(), metav1.NamespaceSystem+"/ws"); err != nil {
		t.Fatal(err)
	}
	for _, a := range f.kube.Actions() {
		if a.GetResource().Resource == "pods" {
			t.Errorf("acted on a kube-system Pod: %v", a)
		}
	}
	got, _ := f.kruise.AppsV1beta1().WorkloadSpreads(metav1.NamespaceSystem).Get(context.Background(), "ws", metav1.GetOptions{})
	if got.Status.ObservedGeneration != 2 || len(got.Status.SubsetStatuses) != 0 {
		t.Errorf("status %+v, want only observedGeneration", got.Status)
	}
	if e := <-f.recorder.Events; !strings.Contains(e, "SystemNamespace") {
		t.Errorf("event %q", e)
	}
}
