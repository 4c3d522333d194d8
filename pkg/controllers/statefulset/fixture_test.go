package statefulset

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	kubeinformers "k8s.io/client-go/informers"
	kubefake "k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/lifecycle"
	kruisefake "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned/fake"
	kruiseinformers "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/informers/externalversions"
)

const ns = "default"

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fixture runs the controller against fake clients with started informers:
// sync waits until the caches hold what the fake API server holds and the
// event handlers have observed every expected creation and deletion. The
// fake API server plays kube-apiserver's part on creation (a UID, the
// Pending phase); the test plays the kubelet's (run) and the garbage
// collector's (collect).
type fixture struct {
	t         *testing.T
	ctx       context.Context
	kube      *kubefake.Clientset
	kruise    *kruisefake.Clientset
	kubeInf   kubeinformers.SharedInformerFactory
	kruiseInf kruiseinformers.SharedInformerFactory
	recorder  *record.FakeRecorder
	clock     *testingclock.FakeClock
	c         *Controller
}

var uids atomic.Int64

type runtimeObject = runtime.Object

func newFixture(t *testing.T, objects ...runtime.Object) *fixture {
	t.Helper()
	var kubeObjects, kruiseObjects []runtime.Object
	for _, o := range objects {
		if _, ok := o.(*appsv1beta1.StatefulSet); ok {
			kruiseObjects = append(kruiseObjects, o)
		} else {
			kubeObjects = append(kubeObjects, o)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &fixture{
		t:        t,
		ctx:      ctx,
		kube:     kubefake.NewClientset(kubeObjects...),
		kruise:   kruisefake.NewSimpleClientset(kruiseObjects...),
		recorder: record.NewFakeRecorder(10000),
		clock:    testingclock.NewFakeClock(t0),
	}
	// What kube-apiserver does on creation.
	for _, resource := range []string{"pods", "persistentvolumeclaims"} {
		f.kube.PrependReactor("create", resource, func(action clienttesting.Action) (bool, runtime.Object, error) {
			obj := action.(clienttesting.CreateAction).GetObject()
			meta := obj.(metav1.Object)
			if meta.GetUID() == "" {
				meta.SetUID(types.UID(fmt.Sprintf("uid-%d", uids.Add(1))))
			}
			if pod, ok := obj.(*corev1.Pod); ok && pod.Status.Phase == "" {
				pod.Status.Phase = corev1.PodPending
			}
			return false, nil, nil
		})
	}
	// What the status subresource does: a write of the object keeps the
	// stored status, a write of the status keeps the stored rest.
	f.kube.PrependReactor("update", "pods", statusSubresource(f.kube.Tracker(), func(dst, src runtime.Object) {
		dst.(*corev1.Pod).Status = src.(*corev1.Pod).Status
	}))
	f.kruise.PrependReactor("update", "statefulsets", statusSubresource(f.kruise.Tracker(), func(dst, src runtime.Object) {
		dst.(*appsv1beta1.StatefulSet).Status = src.(*appsv1beta1.StatefulSet).Status
	}))
	f.kubeInf = kubeinformers.NewSharedInformerFactory(f.kube, 0)
	f.kruiseInf = kruiseinformers.NewSharedInformerFactory(f.kruise, 0)
	c, err := newController(&controllers.Context{
		KruiseClient:    f.kruise,
		KubeClient:      f.kube,
		KruiseInformers: f.kruiseInf,
		KubeInformers:   f.kubeInf,
		Recorder:        f.recorder,
	}, f.clock)
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	f.kubeInf.Start(ctx.Done())
	f.kruiseInf.Start(ctx.Done())
	f.kubeInf.WaitForCacheSync(ctx.Done())
	f.kruiseInf.WaitForCacheSync(ctx.Done())
	t.Cleanup(func() {
		cancel()
		c.queue.ShutDown()
		f.kubeInf.Shutdown()
		f.kruiseInf.Shutdown()
	})
	return f
}

// newSet returns a StatefulSet as the API server stores it (defaulted):
// replicas Pods of nginx labelled app=<name>, behind the headless Service
// <name>-headless.
func newSet(name string, replicas int32) *appsv1beta1.StatefulSet {
	set := &appsv1beta1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: ns, UID: types.UID("uid-" + name), Generation: 1,
		},
		Spec: appsv1beta1.StatefulSetSpec{
			Replicas:    ptr.To(replicas),
			ServiceName: name + "-headless",
			Selector:    &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name, "tier": "db"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "nginx:1"}}},
			},
		},
	}
	appsv1beta1.SetObjectDefaults_StatefulSet(set)
	return set
}

// statusSubresource returns a reactor for updates of a kind with a status
// subresource; copyStatus copies the status of src into dst.
func statusSubresource(tracker clienttesting.ObjectTracker, copyStatus func(dst, src runtime.Object)) clienttesting.ReactionFunc {
	return func(action clienttesting.Action) (bool, runtime.Object, error) {
		update := action.(clienttesting.UpdateAction)
		obj := update.GetObject()
		name := obj.(metav1.Object).GetName()
		stored, err := tracker.Get(update.GetResource(), update.GetNamespace(), name)
		if err != nil {
			return true, nil, err
		}
		if update.GetSubresource() != "status" {
			// Handled by the tracker, with the stored status.
			copyStatus(obj, stored)
			return false, nil, nil
		}
		merged := stored.DeepCopyObject()
		copyStatus(merged, obj)
		if err := tracker.Update(update.GetResource(), merged, update.GetNamespace()); err != nil {
			return true, nil, err
		}
		return true, merged, nil
	}
}

func parallel(set *appsv1beta1.StatefulSet) *appsv1beta1.StatefulSet {
	set.Spec.PodManagementPolicy = appsv1beta1.ParallelPodManagement
	return set
}

func withClaims(set *appsv1beta1.StatefulSet, names ...string) *appsv1beta1.StatefulSet {
	for _, n := range names {
		set.Spec.VolumeClaimTemplates = append(set.Spec.VolumeClaimTemplates, corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: n, Labels: map[string]string{"claim": n}},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			},
		})
	}
	return set
}

func (f *fixture) key(name string) string { return ns + "/" + name }

// settle waits until the informers' caches hold what the fake API server
// holds and no creation or deletion is still expected.
func (f *fixture) settle() {
	f.t.Helper()
	err := wait.PollUntilContextTimeout(f.ctx, 2*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return f.cachesMatch(), nil
	})
	if err != nil {
		f.t.Fatalf("caches did not catch up: %v", err)
	}
}

func (f *fixture) cachesMatch() bool {
	everything := labels.Everything()
	pods, _ := f.kube.CoreV1().Pods(ns).List(f.ctx, metav1.ListOptions{})
	cachedPods, _ := f.kubeInf.Core().V1().Pods().Lister().Pods(ns).List(everything)
	if !sameObjects(pods.Items, cachedPods) {
		return false
	}
	pvcs, _ := f.kube.CoreV1().PersistentVolumeClaims(ns).List(f.ctx, metav1.ListOptions{})
	cachedPVCs, _ := f.kubeInf.Core().V1().PersistentVolumeClaims().Lister().PersistentVolumeClaims(ns).List(everything)
	if !sameObjects(pvcs.Items, cachedPVCs) {
		return false
	}
	revs, _ := f.kube.AppsV1().ControllerRevisions(ns).List(f.ctx, metav1.ListOptions{})
	cachedRevs, _ := f.kubeInf.Apps().V1().ControllerRevisions().Lister().ControllerRevisions(ns).List(everything)
	if !sameObjects(revs.Items, cachedRevs) {
		return false
	}
	sets, _ := f.kruise.AppsV1beta1().StatefulSets(ns).List(f.ctx, metav1.ListOptions{})
	cachedSets, _ := f.kruiseInf.Apps().V1beta1().StatefulSets().Lister().StatefulSets(ns).List(everything)
	if !sameObjects(sets.Items, cachedSets) {
		return false
	}
	for _, set := range sets.Items {
		if f.c.scaleExpectations.Pending(f.key(set.Name)) != nil {
			return false
		}
	}
	return true
}

func sameObjects[T any, PT interface {
	*T
	metav1.Object
}](stored []T, cached []PT) bool {
	if len(stored) != len(cached) {
		return false
	}
	byName := map[string]PT{}
	for _, c := range cached {
		byName[c.GetName()] = c
	}
	for i := range stored {
		c, ok := byName[PT(&stored[i]).GetName()]
		if !ok || !apiequality.Semantic.DeepEqual(PT(&stored[i]), c) {
			return false
		}
	}
	return true
}

// sync settles the caches and runs one sync of the StatefulSet, failing the
// test on an error. It returns the writes the sync made, in order.
func (f *fixture) sync(name string) []clienttesting.Action {
	f.t.Helper()
	writes, _, err := f.trySync(name)
	if err != nil {
		f.t.Fatalf("sync %s: %v", name, err)
	}
	return writes
}

func (f *fixture) trySync(name string) ([]clienttesting.Action, time.Duration, error) {
	f.t.Helper()
	f.settle()
	f.kube.ClearActions()
	f.kruise.ClearActions()
	requeue, err := f.c.sync(f.ctx, f.key(name))
	return append(writesOf(f.kube.Actions()), writesOf(f.kruise.Actions())...), requeue, err
}

func writesOf(actions []clienttesting.Action) []clienttesting.Action {
	var out []clienttesting.Action
	for _, a := range actions {
		switch a.GetVerb() {
		case "create", "update", "patch", "delete":
			out = append(out, a)
		}
	}
	return out
}

// describe returns the writes as "verb resource name" strings.
func describe(actions []clienttesting.Action) []string {
	var out []string
	for _, a := range actions {
		r := a.GetResource().Resource
		if a.GetSubresource() != "" {
			r += "/" + a.GetSubresource()
		}
		name := ""
		switch a := a.(type) {
		case clienttesting.CreateAction:
			name = a.GetObject().(metav1.Object).GetName()
		case clienttesting.UpdateAction:
			name = a.GetObject().(metav1.Object).GetName()
		case clienttesting.DeleteAction:
			name = a.GetName()
		case clienttesting.PatchAction:
			name = a.GetName()
		}
		out = append(out, a.GetVerb()+" "+r+" "+name)
	}
	return out
}

// only returns the writes with the verb on the resource, described.
func only(actions []clienttesting.Action, verb, resource string) []string {
	var out []string
	for _, d := range describe(actions) {
		if strings.HasPrefix(d, verb+" "+resource+" ") {
			out = append(out, strings.TrimPrefix(d, verb+" "+resource+" "))
		}
	}
	return out
}

func (f *fixture) set(name string) *appsv1beta1.StatefulSet {
	f.t.Helper()
	set, err := f.kruise.AppsV1beta1().StatefulSets(ns).Get(f.ctx, name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return set
}

func (f *fixture) updateSet(name string, mutate func(*appsv1beta1.StatefulSet)) {
	f.t.Helper()
	set := f.set(name)
	mutate(set)
	set.Generation++
	if _, err := f.kruise.AppsV1beta1().StatefulSets(ns).Update(f.ctx, set, metav1.UpdateOptions{}); err != nil {
		f.t.Fatal(err)
	}
}

// setImage changes the template's image (a new revision).
func (f *fixture) setImage(name, image string) {
	f.t.Helper()
	f.updateSet(name, func(s *appsv1beta1.StatefulSet) { s.Spec.Template.Spec.Containers[0].Image = image })
}

func (f *fixture) pods() []*corev1.Pod {
	f.t.Helper()
	list, err := f.kube.CoreV1().Pods(ns).List(f.ctx, metav1.ListOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	out := make([]*corev1.Pod, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, &list.Items[i])
	}
	sort.Slice(out, func(i, j int) bool { return ordinalOf(out[i]) < ordinalOf(out[j]) })
	return out
}

func (f *fixture) podNames() []string {
	return podNames(f.pods())
}

func (f *fixture) pod(name string) *corev1.Pod {
	f.t.Helper()
	pod, err := f.kube.CoreV1().Pods(ns).Get(f.ctx, name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return pod
}

func (f *fixture) pvc(name string) *corev1.PersistentVolumeClaim {
	f.t.Helper()
	pvc, err := f.kube.CoreV1().PersistentVolumeClaims(ns).Get(f.ctx, name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return pvc
}

func (f *fixture) pvcNames() []string {
	f.t.Helper()
	list, err := f.kube.CoreV1().PersistentVolumeClaims(ns).List(f.ctx, metav1.ListOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, p := range list.Items {
		out = append(out, p.Name)
	}
	sort.Strings(out)
	return out
}

func (f *fixture) revisions() []*appsv1.ControllerRevision {
	f.t.Helper()
	list, err := f.kube.AppsV1().ControllerRevisions(ns).List(f.ctx, metav1.ListOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	out := make([]*appsv1.ControllerRevision, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, &list.Items[i])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Revision < out[j].Revision })
	return out
}

// revisionsOf returns the revision label of each Pod, by name.
func (f *fixture) revisionsOf() map[string]string {
	out := map[string]string{}
	for _, p := range f.pods() {
		out[p.Name] = podRevision(p)
	}
	return out
}

// run plays the kubelet for the named Pods, all not yet ready when none is
// named: Running and Ready for an hour.
func (f *fixture) run(names ...string) {
	f.t.Helper()
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	for _, pod := range f.pods() {
		if len(names) > 0 && !want[pod.Name] {
			continue
		}
		if len(names) == 0 && isRunningAndReady(pod) {
			continue
		}
		setRunning(pod, f.clock.Now().Add(-time.Hour))
		if _, err := f.kube.CoreV1().Pods(ns).UpdateStatus(f.ctx, pod, metav1.UpdateOptions{}); err != nil {
			f.t.Fatal(err)
		}
	}
}

// unready makes the named Pods Running but not Ready.
func (f *fixture) unready(names ...string) {
	f.t.Helper()
	for _, n := range names {
		pod := f.pod(n)
		pod.Status.Phase = corev1.PodRunning
		pod.Status.Conditions = []corev1.PodCondition{
			{Type: KruisePodReady, Status: corev1.ConditionTrue},
			{Type: corev1.PodReady, Status: corev1.ConditionFalse},
		}
		if _, err := f.kube.CoreV1().Pods(ns).UpdateStatus(f.ctx, pod, metav1.UpdateOptions{}); err != nil {
			f.t.Fatal(err)
		}
	}
}

func setRunning(pod *corev1.Pod, readySince time.Time) {
	if pod.Spec.NodeName == "" {
		pod.Spec.NodeName = "node-1"
	}
	// The conditions of the readiness gates are the controllers': kept as
	// they are, True when missing (a Pod made before this test began).
	gates := []corev1.PodCondition{{Type: KruisePodReady, Status: corev1.ConditionTrue}}
	if lifecycle.HasReadinessGate(pod, InPlaceUpdateReady) {
		gates = append(gates, corev1.PodCondition{Type: InPlaceUpdateReady, Status: corev1.ConditionTrue})
	}
	for i := range gates {
		if c := podCondition(pod, gates[i].Type); c != nil {
			gates[i] = *c
		}
	}
	pod.Status.Phase = corev1.PodRunning
	pod.Status.Conditions = append([]corev1.PodCondition{
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
		{Type: corev1.ContainersReady, Status: corev1.ConditionTrue},
		{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(readySince)},
	}, gates...)
}

// deletePod deletes a Pod as a user would (the fake API server removes it
// at once).
func (f *fixture) deletePod(name string) {
	f.t.Helper()
	if err := f.kube.CoreV1().Pods(ns).Delete(f.ctx, name, metav1.DeleteOptions{}); err != nil {
		f.t.Fatal(err)
	}
}

// collect plays the garbage collector for PVCs: it deletes those whose
// owners (by UID) are all gone.
func (f *fixture) collect() []string {
	f.t.Helper()
	live := map[types.UID]bool{}
	for _, p := range f.pods() {
		live[p.UID] = true
	}
	sets, _ := f.kruise.AppsV1beta1().StatefulSets(ns).List(f.ctx, metav1.ListOptions{})
	for _, s := range sets.Items {
		live[s.UID] = true
	}
	list, _ := f.kube.CoreV1().PersistentVolumeClaims(ns).List(f.ctx, metav1.ListOptions{})
	var deleted []string
	for _, pvc := range list.Items {
		if len(pvc.OwnerReferences) == 0 {
			continue
		}
		gone := true
		for _, ref := range pvc.OwnerReferences {
			if live[ref.UID] {
				gone = false
			}
		}
		if gone {
			if err := f.kube.CoreV1().PersistentVolumeClaims(ns).Delete(f.ctx, pvc.Name, metav1.DeleteOptions{}); err != nil {
				f.t.Fatal(err)
			}
			deleted = append(deleted, pvc.Name)
		}
	}
	sort.Strings(deleted)
	return deleted
}

// events drains the recorded events.
func (f *fixture) events() []string {
	var out []string
	for {
		select {
		case e := <-f.recorder.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func countEvents(events []string, reason string) int {
	n := 0
	for _, e := range events {
		if strings.Fields(e)[1] == reason {
			n++
		}
	}
	return n
}

// revisionName returns the name of the revision the StatefulSet's template
// has.
func revisionName(t *testing.T, set *appsv1beta1.StatefulSet) string {
	t.Helper()
	cr, err := newRevision(set, 1, ptr.To[int32](0))
	if err != nil {
		t.Fatal(err)
	}
	return cr.Name
}

// existingPod returns a Pod of the StatefulSet as this controller would
// have made it at the revision, running and ready.
func existingPod(set *appsv1beta1.StatefulSet, revisionName string, ordinal int) *corev1.Pod {
	pod := newPod(set, revisionName, ordinal, t0)
	pod.UID = types.UID(fmt.Sprintf("pod-uid-%s-%d", set.Name, ordinal))
	pod.CreationTimestamp = metav1.NewTime(t0.Add(-2 * time.Hour))
	setRunning(pod, t0.Add(-time.Hour))
	return pod
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
