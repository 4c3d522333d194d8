package nodeimage

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	kubeinformers "k8s.io/client-go/informers"
	kubefake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/record"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers"
	kruisefake "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned/fake"
	kruiseinformers "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/informers/externalversions"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	t        *testing.T
	kruise   *kruisefake.Clientset
	kubeInf  kubeinformers.SharedInformerFactory
	kruiseIn kruiseinformers.SharedInformerFactory
	recorder *record.FakeRecorder
	clock    *testingclock.FakeClock
	c        *Controller
}

// newFixture builds the controller on fake clients whose informers are not
// started: the objects are put in both the fake API server and the caches.
func newFixture(t *testing.T, objects ...runtime.Object) *fixture {
	t.Helper()
	f := &fixture{t: t, recorder: record.NewFakeRecorder(100), clock: testingclock.NewFakeClock(t0)}
	var kube, kruise []runtime.Object
	for _, o := range objects {
		if _, ok := o.(*corev1.Node); ok {
			kube = append(kube, o)
		} else {
			kruise = append(kruise, o)
		}
	}
	kubeClient := kubefake.NewClientset(kube...)
	f.kruise = kruisefake.NewSimpleClientset(kruise...)
	f.kubeInf = kubeinformers.NewSharedInformerFactory(kubeClient, 0)
	f.kruiseIn = kruiseinformers.NewSharedInformerFactory(f.kruise, 0)
	c, err := newController(&controllers.Context{
		KruiseClient: f.kruise, KubeClient: kubeClient,
		KruiseInformers: f.kruiseIn, KubeInformers: f.kubeInf, Recorder: f.recorder,
	}, f.clock)
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	for _, o := range objects {
		var err error
		switch o := o.(type) {
		case *corev1.Node:
			err = f.kubeInf.Core().V1().Nodes().Informer().GetIndexer().Add(o)
		case *appsv1beta1.NodeImage:
			err = f.kruiseIn.Apps().V1beta1().NodeImages().Informer().GetIndexer().Add(o)
		case *appsv1beta1.ImagePullJob:
			err = f.kruiseIn.Apps().V1beta1().ImagePullJobs().Informer().GetIndexer().Add(o)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fixture) sync(name string) time.Duration {
	f.t.Helper()
	d, err := f.c.sync(context.Background(), name)
	if err != nil {
		f.t.Fatalf("sync %s: %v", name, err)
	}
	return d
}

func (f *fixture) nodeImage(name string) *appsv1beta1.NodeImage {
	f.t.Helper()
	ni, err := f.kruise.AppsV1beta1().NodeImages().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return ni
}

func node(name string, lbls map[string]string) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: lbls}}
}

func job(name string, uid types.UID) *appsv1beta1.ImagePullJob {
	return &appsv1beta1.ImagePullJob{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: uid}}
}

func ownerRef(name string, uid types.UID) corev1.ObjectReference {
	return corev1.ObjectReference{APIVersion: "apps.kruise.io/v1beta1", Kind: "ImagePullJob", Namespace: "default", Name: name, UID: uid}
}

func tag(name string, version int64, created time.Time, ttl *int32, owners ...corev1.ObjectReference) appsv1beta1.ImageTagSpec {
	return appsv1beta1.ImageTagSpec{
		Tag: name, Version: version, CreatedAt: &metav1.Time{Time: created}, OwnerReferences: owners,
		PullPolicy: &appsv1beta1.ImageTagPullPolicy{TTLSecondsAfterFinished: ttl},
	}
}

func TestCreatesNodeImageWithNodeLabels(t *testing.T) {
	f := newFixture(t, node("n1", map[string]string{"zone": "a"}), node("vk", map[string]string{VirtualKubeletLabelKey: VirtualKubeletLabelValue}))
	f.sync("n1")
	if got := f.nodeImage("n1").Labels["zone"]; got != "a" {
		t.Errorf("NodeImage label zone = %q, want a", got)
	}
	f.sync("vk")
	if _, err := f.kruise.AppsV1beta1().NodeImages().Get(context.Background(), "vk", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("virtual-kubelet node got a NodeImage (err %v)", err)
	}
}

func TestFollowsNodeLabelsAndDeletion(t *testing.T) {
	ni := &appsv1beta1.NodeImage{ObjectMeta: metav1.ObjectMeta{Name: "n1", UID: "ni1", Labels: map[string]string{"zone": "a"}}}
	fake := &appsv1beta1.NodeImage{ObjectMeta: metav1.ObjectMeta{Name: "fake", UID: "ni2", Labels: map[string]string{FakeLabelKey: "true"}}}
	gone := &appsv1beta1.NodeImage{ObjectMeta: metav1.ObjectMeta{Name: "gone", UID: "ni3"}}
	f := newFixture(t, node("n1", map[string]string{"zone": "b"}), ni, fake, gone)
	f.sync("n1")
	if got := f.nodeImage("n1").Labels["zone"]; got != "b" {
		t.Errorf("NodeImage label zone = %q, want b (copied from the Node)", got)
	}
	f.sync("gone")
	if _, err := f.kruise.AppsV1beta1().NodeImages().Get(context.Background(), "gone", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("NodeImage of a deleted Node kept (err %v)", err)
	}
	f.sync("fake")
	f.nodeImage("fake")
}

func TestDropsTagsOfDeletedJobs(t *testing.T) {
	ni := &appsv1beta1.NodeImage{
		ObjectMeta: metav1.ObjectMeta{Name: "n1", UID: "ni1"},
		Spec: appsv1beta1.NodeImageSpec{Images: map[string]appsv1beta1.ImageSpec{
			"base": {Tags: []appsv1beta1.ImageTagSpec{
				tag("latest", 0, t0, nil, ownerRef("live", "u1"), ownerRef("gone", "u2")),
				tag("v1", 0, t0, nil, ownerRef("gone", "u2")),
				// A job of the same name but another UID is not the owner.
				tag("v2", 0, t0, nil, ownerRef("live", "old-uid")),
			}},
			"other": {Tags: []appsv1beta1.ImageTagSpec{tag("v1", 0, t0, nil, ownerRef("gone", "u2"))}},
		}},
	}
	f := newFixture(t, node("n1", nil), ni, job("live", "u1"))
	f.sync("n1")
	got := f.nodeImage("n1").Spec.Images
	if len(got) != 1 || len(got["base"].Tags) != 1 {
		t.Fatalf("images after cleanup = %+v, want only base:latest", got)
	}
	if refs := got["base"].Tags[0].OwnerReferences; len(refs) != 1 || refs[0].UID != "u1" {
		t.Errorf("owners of base:latest = %+v, want only the live job", refs)
	}
}

func TestDropsTagsPastTTL(t *testing.T) {
	done := metav1.NewTime(t0.Add(-50 * time.Second))
	ni := &appsv1beta1.NodeImage{
		ObjectMeta: metav1.ObjectMeta{Name: "n1", UID: "ni1"},
		Spec: appsv1beta1.NodeImageSpec{Images: map[string]appsv1beta1.ImageSpec{
			"base": {Tags: []appsv1beta1.ImageTagSpec{
				tag("expired", 1, t0.Add(-time.Hour), ptr.To[int32](30), ownerRef("live", "u1")),
				tag("waiting", 1, t0.Add(-time.Hour), ptr.To[int32](120), ownerRef("live", "u1")),
				// Completed, but an older version: the TTL counts from the
				// current version's completion.
				tag("repulled", 2, t0.Add(-time.Hour), ptr.To[int32](30), ownerRef("live", "u1")),
			}},
		}},
		Status: appsv1beta1.NodeImageStatus{ImageStatuses: map[string]appsv1beta1.ImageStatus{
			"base": {Tags: []appsv1beta1.ImageTagStatus{
				{Tag: "expired", Version: 1, Phase: appsv1beta1.ImagePhaseSucceeded, CompletionTime: &done},
				{Tag: "repulled", Version: 1, Phase: appsv1beta1.ImagePhaseSucceeded, CompletionTime: &done},
				{Tag: "waiting", Version: 1, Phase: appsv1beta1.ImagePhaseSucceeded, CompletionTime: &done},
			}},
		}},
	}
	f := newFixture(t, node("n1", nil), ni, job("live", "u1"))
	f.sync("n1")
	// The update comes back through the informer; then the next TTL is
	// waited for.
	if err := f.kruiseIn.Apps().V1beta1().NodeImages().Informer().GetIndexer().Update(f.nodeImage("n1")); err != nil {
		t.Fatal(err)
	}
	if d := f.sync("n1"); d != 70*time.Second {
		t.Errorf("requeue after %v, want 70s (the TTL left of base:waiting)", d)
	}
	var tags []string
	for _, tg := range f.nodeImage("n1").Spec.Images["base"].Tags {
		tags = append(tags, tg.Tag)
	}
	if len(tags) != 2 || tags[0] != "repulled" || tags[1] != "waiting" {
		t.Errorf("tags = %v, want [repulled waiting]", tags)
	}
}

func TestFailsTagsNotAnswered(t *testing.T) {
	deadline := ptr.To[int64](60)
	ni := &appsv1beta1.NodeImage{
		ObjectMeta: metav1.ObjectMeta{Name: "n1", UID: "ni1"},
		Spec: appsv1beta1.NodeImageSpec{Images: map[string]appsv1beta1.ImageSpec{
			"base": {Tags: []appsv1beta1.ImageTagSpec{
				tag("silent", 0, t0.Add(-11*time.Minute), nil, ownerRef("live", "u1")),
				tag("fresh", 0, t0.Add(-time.Minute), nil, ownerRef("live", "u1")),
				func() appsv1beta1.ImageTagSpec {
					tg := tag("slow", 3, t0.Add(-12*time.Minute), nil, ownerRef("live", "u1"))
					tg.PullPolicy.ActiveDeadlineSeconds = deadline
					return tg
				}(),
			}},
		}},
		Status: appsv1beta1.NodeImageStatus{ImageStatuses: map[string]appsv1beta1.ImageStatus{
			"base": {Tags: []appsv1beta1.ImageTagStatus{
				{Tag: "slow", Version: 3, Phase: appsv1beta1.ImagePhasePulling, Progress: 40},
				// Not in the spec any more: dropped.
				{Tag: "old", Version: 0, Phase: appsv1beta1.ImagePhaseSucceeded},
			}},
		}},
	}
	f := newFixture(t, node("n1", nil), ni, job("live", "u1"))
	if d := f.sync("n1"); d != 9*time.Minute {
		t.Errorf("requeue after %v, want 9m (when base:fresh times out)", d)
	}
	st := f.nodeImage("n1").Status
	byTag := map[string]appsv1beta1.ImageTagStatus{}
	for _, s := range st.ImageStatuses["base"].Tags {
		byTag[s.Tag] = s
	}
	if len(byTag) != 2 {
		t.Fatalf("tag statuses = %+v, want silent and slow", byTag)
	}
	if s := byTag["silent"]; s.Phase != appsv1beta1.ImagePhaseFailed || s.Message != MessageNotResponded || s.Version != 0 {
		t.Errorf("silent = %+v, want Failed: %s", s, MessageNotResponded)
	}
	if s := byTag["slow"]; s.Phase != appsv1beta1.ImagePhaseFailed || s.Message != MessageDeadlineExceeded || s.Progress != 40 {
		t.Errorf("slow = %+v, want Failed: %s, progress kept", s, MessageDeadlineExceeded)
	}
	if st.Desired != 3 || st.Failed != 2 || st.Succeeded != 0 || st.Pulling != 0 {
		t.Errorf("counters desired/failed/succeeded/pulling = %d/%d/%d/%d, want 3/2/0/0", st.Desired, st.Failed, st.Succeeded, st.Pulling)
	}
	// One Event on the owner and one on the NodeImage per failed tag.
	if n := len(f.recorder.Events); n != 4 {
		t.Errorf("%d events, want 4", n)
	}
}
