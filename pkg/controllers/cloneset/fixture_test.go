package cloneset

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	kubeinformers "k8s.io/client-go/informers"
	kubefake "k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"

	testingclock "k8s.io/utils/clock/testing"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers"
	kruisefake "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned/fake"
	kruiseinformers "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/informers/externalversions"
)

const ns = "default"

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fixture runs the controller against fake clients. With started
// informers, sync waits until the caches hold what the fake API server
// holds and the event handlers have observed every expected creation and
// deletion; with stopped ones, the test feeds the caches itself.
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
	started   bool
	nextID    int

	mu sync.Mutex
	// watching holds the resources whose informers' watches are open.
	watching map[string]bool
}

func newFixture(t *testing.T, start bool, objects ...runtime.Object) *fixture {
	t.Helper()
	var kubeObjects, kruiseObjects []runtime.Object
	for _, o := range objects {
		if _, ok := o.(*appsv1beta1.CloneSet); ok {
			kruiseObjects = append(kruiseObjects, o)
		} else {
			kubeObjects = append(kubeObjects, o)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	f := &fixture{
		t:        t,
		ctx:      ctx,
		kube:     kubefake.NewClientset(kubeObjects...),
		kruise:   kruisefake.NewSimpleClientset(kruiseObjects...),
		recorder: record.NewFakeRecorder(10000),
		clock:    testingclock.NewFakeClock(t0),
		started:  start,
	}
	f.watching = map[string]bool{}
	f.kube.PrependWatchReactor("*", f.watchReactor(f.kube.Tracker()))
	f.kruise.PrependWatchReactor("*", f.watchReactor(f.kruise.Tracker()))
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
	c.randomID = func() string {
		f.nextID++
		return fmt.Sprintf("id%03d", f.nextID)
	}
	f.c = c
	t.Cleanup(c.queue.ShutDown)
	if start {
		f.kubeInf.Start(ctx.Done())
		f.kruiseInf.Start(ctx.Done())
		f.kubeInf.WaitForCacheSync(ctx.Done())
		f.kruiseInf.WaitForCacheSync(ctx.Done())
		// A cache is synced once listed, maybe before its watch is open:
		// the fake API server would not tell a watch opened later about
		// deletions made meanwhile.
		err := wait.PollUntilContextTimeout(ctx, time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.watching["pods"] && f.watching["persistentvolumeclaims"] &&
				f.watching["controllerrevisions"] && f.watching["clonesets"], nil
		})
		if err != nil {
			t.Fatalf("informers did not start watching: %v", err)
		}
		t.Cleanup(func() {
			cancel()
			f.kubeInf.Shutdown()
			f.kruiseInf.Shutdown()
		})
	} else {
		for _, o := range kruiseObjects {
			_ = f.kruiseInf.Apps().V1beta1().CloneSets().Informer().GetIndexer().Add(o)
		}
		for _, o := range kubeObjects {
			switch o.(type) {
			case *corev1.Pod:
				_ = f.kubeInf.Core().V1().Pods().Informer().GetIndexer().Add(o)
			case *corev1.PersistentVolumeClaim:
				_ = f.kubeInf.Core().V1().PersistentVolumeClaims().Informer().GetIndexer().Add(o)
			case *appsv1.ControllerRevision:
				_ = f.kubeInf.Apps().V1().ControllerRevisions().Informer().GetIndexer().Add(o)
			}
		}
	}
	return f
}

// watchReactor opens watches as the fake clientsets do, and records which
// resources are watched once the watch is open.
func (f *fixture) watchReactor(tracker clienttesting.ObjectTracker) clienttesting.WatchReactionFunc {
	return func(action clienttesting.Action) (bool, watch.Interface, error) {
		var opts metav1.ListOptions
		if w, ok := action.(clienttesting.WatchActionImpl); ok {
			opts = w.ListOptions
		}
		w, err := tracker.Watch(action.GetResource(), action.GetNamespace(), opts)
		if err != nil {
			return false, nil, err
		}
		f.mu.Lock()
		f.watching[action.GetResource().Resource] = true
		f.mu.Unlock()
		return true, w, nil
	}
}

// newCloneSet returns a CloneSet as the API server stores it (defaulted):
// replicas Pods of nginx labelled app=<name>.
func newCloneSet(name string, replicas int32) *appsv1beta1.CloneSet {
	cs := &appsv1beta1.CloneSet{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: ns, UID: types.UID("uid-" + name), Generation: 1,
		},
		Spec: appsv1beta1.CloneSetSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name, "tier": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "nginx:1"}}},
			},
		},
	}
	appsv1beta1.SetObjectDefaults_CloneSet(cs)
	return cs
}

func withClaims(cs *appsv1beta1.CloneSet, names ...string) *appsv1beta1.CloneSet {
	for _, n := range names {
		cs.Spec.VolumeClaimTemplates = append(cs.Spec.VolumeClaimTemplates, corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: n, Labels: map[string]string{"claim": n}},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			},
		})
	}
	return cs
}

func withRollingUpdate(cs *appsv1beta1.CloneSet, partition, maxUnavailable, maxSurge intstr.IntOrString) *appsv1beta1.CloneSet {
	ru := cs.Spec.UpdateStrategy.RollingUpdate
	ru.Partition, ru.MaxUnavailable, ru.MaxSurge = &partition, &maxUnavailable, &maxSurge
	return cs
}

func (f *fixture) key(name string) string { return ns + "/" + name }

// settle waits until the informers' caches hold what the fake API server
// holds and no creation or deletion is still expected.
func (f *fixture) settle() {
	f.t.Helper()
	if !f.started {
		return
	}
	var why string
	err := wait.PollUntilContextTimeout(f.ctx, 2*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		why = f.cachesDiffer()
		return why == "", nil
	})
	if err != nil {
		f.t.Fatalf("caches did not catch up (%s): %v", why, err)
	}
}

// cachesDiffer says what the caches do not hold yet, "" when nothing.
func (f *fixture) cachesDiffer() string {
	pods, _ := f.kube.CoreV1().Pods(ns).List(f.ctx, metav1.ListOptions{})
	cachedPods, _ := f.kubeInf.Core().V1().Pods().Lister().Pods(ns).List(everything)
	if !sameObjects(pods.Items, cachedPods) {
		return "pods"
	}
	pvcs, _ := f.kube.CoreV1().PersistentVolumeClaims(ns).List(f.ctx, metav1.ListOptions{})
	cachedPVCs, _ := f.kubeInf.Core().V1().PersistentVolumeClaims().Lister().PersistentVolumeClaims(ns).List(everything)
	if !sameObjects(pvcs.Items, cachedPVCs) {
		return "persistentvolumeclaims"
	}
	revs, _ := f.kube.AppsV1().ControllerRevisions(ns).List(f.ctx, metav1.ListOptions{})
	cachedRevs, _ := f.kubeInf.Apps().V1().ControllerRevisions().Lister().ControllerRevisions(ns).List(everything)
	if !sameObjects(revs.Items, cachedRevs) {
		return "controllerrevisions"
	}
	sets, _ := f.kruise.AppsV1beta1().CloneSets(ns).List(f.ctx, metav1.ListOptions{})
	cachedSets, _ := f.kruiseInf.Apps().V1beta1().CloneSets().Lister().CloneSets(ns).List(everything)
	if !sameObjects(sets.Items, cachedSets) {
		return "clonesets"
	}
	for _, cs := range sets.Items {
		if p := f.c.scaleExpectations.Pending(f.key(cs.Name)); p != nil {
			return fmt.Sprintf("expectations of %s: %v", cs.Name, p)
		}
	}
	return ""
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

// sync settles the caches and runs one sync of the CloneSet, failing the
// test on an error. It returns the writes the sync made.
func (f *fixture) sync(name string) []clienttesting.Action {
	f.t.Helper()
	writes, err := f.trySync(name)
	if err != nil {
		f.t.Fatalf("sync %s: %v", name, err)
	}
	return writes
}

func (f *fixture) trySync(name string) ([]clienttesting.Action, error) {
	f.t.Helper()
	f.settle()
	f.kube.ClearActions()
	f.kruise.ClearActions()
	_, err := f.c.sync(f.ctx, f.key(name))
	return append(writesOf(f.kube.Actions()), writesOf(f.kruise.Actions())...), err
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

// count returns how many of the actions have the verb on the resource
// (resource or resource/subresource).
func count(actions []clienttesting.Action, verb, resource string) int {
	n := 0
	for _, a := range actions {
		r := a.GetResource().Resource
		if a.GetSubresource() != "" {
			r += "/" + a.GetSubresource()
		}
		if a.GetVerb() == verb && r == resource {
			n++
		}
	}
	return n
}

func (f *fixture) cloneSet(name string) *appsv1beta1.CloneSet {
	f.t.Helper()
	cs, err := f.kruise.AppsV1beta1().CloneSets(ns).Get(f.ctx, name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return cs
}

func (f *fixture) updateCloneSet(name string, mutate func(*appsv1beta1.CloneSet)) {
	f.t.Helper()
	cs := f.cloneSet(name)
	mutate(cs)
	cs.Generation++
	if _, err := f.kruise.AppsV1beta1().CloneSets(ns).Update(f.ctx, cs, metav1.UpdateOptions{}); err != nil {
		f.t.Fatal(err)
	}
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
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (f *fixture) pod(name string) *corev1.Pod {
	f.t.Helper()
	pod, err := f.kube.CoreV1().Pods(ns).Get(f.ctx, name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return pod
}

func (f *fixture) pvcs() []*corev1.PersistentVolumeClaim {
	f.t.Helper()
	list, err := f.kube.CoreV1().PersistentVolumeClaims(ns).List(f.ctx, metav1.ListOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	out := make([]*corev1.PersistentVolumeClaim, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, &list.Items[i])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
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

// podsAt returns the names of the Pods at the revision, and of the others.
func (f *fixture) podsAt(revisionName string) (at, others []string) {
	for _, p := range f.pods() {
		if p.Labels[appsv1.ControllerRevisionHashLabelKey] == revisionName {
			at = append(at, p.Name)
		} else {
			others = append(others, p.Name)
		}
	}
	return at, others
}

// run plays the kubelet (and the scheduler) for the named Pods, all when
// none is named: scheduled, Running, Ready for an hour, with the
// InPlaceUpdateReady and KruisePodReady gates met and in the Normal
// lifecycle state.
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
		if len(names) == 0 && isPodReady(pod) {
			continue
		}
		setRunning(pod, f.clock.Now().Add(-time.Hour))
		if _, err := f.kube.CoreV1().Pods(ns).Update(f.ctx, pod, metav1.UpdateOptions{}); err != nil {
			f.t.Fatal(err)
		}
	}
}

func setRunning(pod *corev1.Pod, readySince time.Time) {
	if pod.Spec.NodeName == "" {
		pod.Spec.NodeName = "node-1"
	}
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[LifecycleStateLabel] = string(stateNormal)
	pod.Status.Phase = corev1.PodRunning
	pod.Status.Conditions = []corev1.PodCondition{
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
		{Type: InPlaceUpdateReady, Status: corev1.ConditionTrue},
		{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(readySince)},
		{Type: KruisePodReady, Status: corev1.ConditionTrue},
	}
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

// existingPod returns a Pod of the CloneSet as this controller would have
// made it at the revision, running and ready.
func existingPod(cs *appsv1beta1.CloneSet, revisionName, id string) *corev1.Pod {
	pod := newPod(cs, revisionName, id, t0)
	pod.UID = types.UID("pod-uid-" + id)
	pod.CreationTimestamp = metav1.NewTime(t0.Add(-2 * time.Hour))
	setRunning(pod, t0.Add(-time.Hour))
	return pod
}

// revisionOf returns the name of the revision the CloneSet's template has.
func revisionOf(t *testing.T, cs *appsv1beta1.CloneSet) string {
	t.Helper()
	cr, err := newRevision(cs, 1, ptr.To[int32](0))
	if err != nil {
		t.Fatal(err)
	}
	return cr.Name
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }
