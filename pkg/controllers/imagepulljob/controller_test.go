package imagepulljob

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
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

const (
	ns       = "default"
	daemonNS = "kruise-daemon"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fixture runs the controller on fake clients with informers that are not
// started: before each sync the caches are loaded with what the fake API
// servers hold.
type fixture struct {
	t        *testing.T
	kube     *kubefake.Clientset
	kruise   *kruisefake.Clientset
	kubeInf  kubeinformers.SharedInformerFactory
	kruiseIn kruiseinformers.SharedInformerFactory
	recorder *record.FakeRecorder
	clock    *testingclock.FakeClock
	c        *Controller

	// daemonInf has the Secrets of the daemon's namespace.
	daemonInf kubeinformers.SharedInformerFactory
}

func newFixture(t *testing.T, objects ...runtime.Object) *fixture {
	t.Helper()
	f := &fixture{t: t, recorder: record.NewFakeRecorder(100), clock: testingclock.NewFakeClock(t0)}
	var kube, kruise []runtime.Object
	for _, o := range objects {
		switch o.(type) {
		case *corev1.Pod, *corev1.Secret:
			kube = append(kube, o)
		default:
			kruise = append(kruise, o)
		}
	}
	f.kube = kubefake.NewClientset(kube...)
	f.kruise = kruisefake.NewSimpleClientset(kruise...)
	f.kubeInf = kubeinformers.NewSharedInformerFactory(f.kube, 0)
	f.kruiseIn = kruiseinformers.NewSharedInformerFactory(f.kruise, 0)
	f.daemonInf = kubeinformers.NewSharedInformerFactoryWithOptions(f.kube, 0, kubeinformers.WithNamespace(daemonNS))
	c, err := newController(&controllers.Context{
		KruiseClient: f.kruise, KubeClient: f.kube,
		KruiseInformers: f.kruiseIn, KubeInformers: f.kubeInf, Recorder: f.recorder,
		KruiseDaemonNamespace: daemonNS, KruiseDaemonInformers: f.daemonInf,
	}, f.clock)
	if err != nil {
		t.Fatal(err)
	}
	c.randInt31n = func(n int32) int32 { return n / 2 }
	f.c = c
	return f
}

// load puts what the fake API servers hold into the caches.
func (f *fixture) load() {
	f.t.Helper()
	ctx := context.Background()
	jobs, err := f.kruise.AppsV1beta1().ImagePullJobs("").List(ctx, metav1.ListOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	nis, err := f.kruise.AppsV1beta1().NodeImages().List(ctx, metav1.ListOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	pods, err := f.kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	var objs []any
	for i := range jobs.Items {
		objs = append(objs, &jobs.Items[i])
	}
	must(f.t, f.kruiseIn.Apps().V1beta1().ImagePullJobs().Informer().GetIndexer().Replace(objs, ""))
	objs = nil
	for i := range nis.Items {
		objs = append(objs, &nis.Items[i])
	}
	must(f.t, f.kruiseIn.Apps().V1beta1().NodeImages().Informer().GetIndexer().Replace(objs, ""))
	objs = nil
	for i := range pods.Items {
		objs = append(objs, &pods.Items[i])
	}
	must(f.t, f.kubeInf.Core().V1().Pods().Informer().GetIndexer().Replace(objs, ""))
	secrets, err := f.kube.CoreV1().Secrets(daemonNS).List(ctx, metav1.ListOptions{})
	must(f.t, err)
	objs = nil
	for i := range secrets.Items {
		objs = append(objs, &secrets.Items[i])
	}
	must(f.t, f.daemonInf.Core().V1().Secrets().Informer().GetIndexer().Replace(objs, ""))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) sync(name string) time.Duration {
	f.t.Helper()
	f.load()
	d, err := f.c.sync(context.Background(), ns+"/"+name)
	if err != nil {
		f.t.Fatalf("sync %s: %v", name, err)
	}
	return d
}

func (f *fixture) job(name string) *appsv1beta1.ImagePullJob {
	f.t.Helper()
	job, err := f.kruise.AppsV1beta1().ImagePullJobs(ns).Get(context.Background(), name, metav1.GetOptions{})
	must(f.t, err)
	return job
}

func (f *fixture) nodeImage(name string) *appsv1beta1.NodeImage {
	f.t.Helper()
	ni, err := f.kruise.AppsV1beta1().NodeImages().Get(context.Background(), name, metav1.GetOptions{})
	must(f.t, err)
	return ni
}

// tagOf returns the tag of the image in the NodeImage, nil if absent.
func (f *fixture) tagOf(node, image, tag string) *appsv1beta1.ImageTagSpec {
	f.t.Helper()
	for _, t := range f.nodeImage(node).Spec.Images[image].Tags {
		if t.Tag == tag {
			return &t
		}
	}
	return nil
}

// synced lists the nodes whose NodeImage has a tag of the job.
func (f *fixture) synced(job *appsv1beta1.ImagePullJob) []string {
	f.t.Helper()
	nis, err := f.kruise.AppsV1beta1().NodeImages().List(context.Background(), metav1.ListOptions{})
	must(f.t, err)
	name, tag, _ := ImageNameTag(job.Spec.Image)
	var out []string
	for _, ni := range nis.Items {
		for _, t := range ni.Spec.Images[name].Tags {
			if t.Tag == tag && ownedBy(t, job) {
				out = append(out, ni.Name)
			}
		}
	}
	slices.Sort(out)
	return out
}

// report writes what a node's kruise-daemon would: the phase of the
// current version of the tag.
func (f *fixture) report(node, image, tag string, phase appsv1beta1.ImagePullPhase) {
	f.t.Helper()
	ni := f.nodeImage(node)
	var version int64
	for _, t := range ni.Spec.Images[image].Tags {
		if t.Tag == tag {
			version = t.Version
		}
	}
	if ni.Status.ImageStatuses == nil {
		ni.Status.ImageStatuses = map[string]appsv1beta1.ImageStatus{}
	}
	st := ni.Status.ImageStatuses[image]
	st.Tags = slices.DeleteFunc(st.Tags, func(s appsv1beta1.ImageTagStatus) bool { return s.Tag == tag })
	s := appsv1beta1.ImageTagStatus{Tag: tag, Phase: phase, Version: version}
	if phase == appsv1beta1.ImagePhaseSucceeded || phase == appsv1beta1.ImagePhaseFailed {
		now := metav1.NewTime(f.clock.Now())
		s.CompletionTime = &now
	}
	st.Tags = append(st.Tags, s)
	ni.Status.ImageStatuses[image] = st
	_, err := f.kruise.AppsV1beta1().NodeImages().UpdateStatus(context.Background(), ni, metav1.UpdateOptions{})
	must(f.t, err)
}

func nodeImage(name string, lbls map[string]string) *appsv1beta1.NodeImage {
	return &appsv1beta1.NodeImage{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: lbls}}
}

func newJob(name, image string, mutate ...func(*appsv1beta1.ImagePullJob)) *appsv1beta1.ImagePullJob {
	job := &appsv1beta1.ImagePullJob{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name)},
		Spec: appsv1beta1.ImagePullJobSpec{
			Image: image,
			ImagePullJobTemplate: appsv1beta1.ImagePullJobTemplate{
				Parallelism:      ptr.To(intstr.FromInt32(10)),
				PullPolicy:       &appsv1beta1.PullPolicy{TimeoutSeconds: ptr.To[int32](300), BackoffLimit: ptr.To[int32](3)},
				CompletionPolicy: &appsv1beta1.CompletionPolicy{Type: appsv1beta1.Always},
				ImagePullPolicy:  appsv1beta1.PullIfNotPresent,
			},
		},
	}
	for _, m := range mutate {
		m(job)
	}
	return job
}

func pod(name, node string, lbls map[string]string, phase corev1.PodPhase) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: lbls},
		Spec:       corev1.PodSpec{NodeName: node},
		Status:     corev1.PodStatus{Phase: phase},
	}
}

func TestImageNameTag(t *testing.T) {
	for _, tc := range []struct{ image, name, tag string }{
		{"base:latest", "base", "latest"},
		{"base", "base", "latest"},
		{"docker.io/library/nginx:1.25", "nginx", "1.25"},
		{"nvcr.io/nvidia/pytorch:24.01-py3", "nvcr.io/nvidia/pytorch", "24.01-py3"},
		{"localhost:5000/a/b@sha256:" + strings.Repeat("a", 64), "localhost:5000/a/b", "sha256:" + strings.Repeat("a", 64)},
	} {
		name, tag, err := ImageNameTag(tc.image)
		if err != nil || name != tc.name || tag != tc.tag {
			t.Errorf("ImageNameTag(%q) = %q, %q, %v; want %q, %q", tc.image, name, tag, err, tc.name, tc.tag)
		}
	}
	if _, _, err := ImageNameTag("Not/Valid"); err == nil {
		t.Error("ImageNameTag accepted an invalid reference")
	}
}

func TestSelection(t *testing.T) {
	objects := []runtime.Object{
		nodeImage("a", map[string]string{"pool": "gpu"}),
		nodeImage("b", map[string]string{"pool": "cpu"}),
		nodeImage("c", map[string]string{"pool": "gpu"}),
		pod("p1", "b", map[string]string{"app": "web"}, corev1.PodRunning),
		pod("p2", "c", map[string]string{"app": "web"}, corev1.PodSucceeded),
		pod("p3", "", map[string]string{"app": "web"}, corev1.PodPending),
		pod("p4", "a", map[string]string{"app": "db"}, corev1.PodRunning),
	}
	for _, tc := range []struct {
		name   string
		mutate func(*appsv1beta1.ImagePullJob)
		want   []string
	}{
		{"all nodes without a selector", func(*appsv1beta1.ImagePullJob) {}, []string{"a", "b", "c"}},
		{"names, a missing one skipped", func(j *appsv1beta1.ImagePullJob) {
			j.Spec.Selector = &appsv1beta1.ImagePullJobNodeSelector{Names: []string{"c", "missing", "a"}}
		}, []string{"a", "c"}},
		{"labels", func(j *appsv1beta1.ImagePullJob) {
			j.Spec.Selector = &appsv1beta1.ImagePullJobNodeSelector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"pool": "gpu"}}}
		}, []string{"a", "c"}},
		{"nodes of active matching pods", func(j *appsv1beta1.ImagePullJob) {
			j.Spec.PodSelector = &appsv1beta1.ImagePullJobPodSelector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}
		}, []string{"b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job := newJob("j", "base:latest", tc.mutate)
			f := newFixture(t, append(slices.Clone(objects), job)...)
			f.sync("j")
			if got := f.synced(job); !slices.Equal(got, tc.want) {
				t.Errorf("synced nodes %v, want %v", got, tc.want)
			}
			if got := f.job("j").Status.Desired; got != int32(len(tc.want)) {
				t.Errorf("desired %d, want %d", got, len(tc.want))
			}
		})
	}
}

func TestParallelism(t *testing.T) {
	job := newJob("j", "base:latest", func(j *appsv1beta1.ImagePullJob) { j.Spec.Parallelism = ptr.To(intstr.FromInt32(2)) })
	f := newFixture(t, job, nodeImage("n1", nil), nodeImage("n2", nil), nodeImage("n3", nil), nodeImage("n4", nil), nodeImage("n5", nil))
	f.sync("j")
	if got := f.synced(job); !slices.Equal(got, []string{"n1", "n2"}) {
		t.Fatalf("first round synced %v, want [n1 n2]", got)
	}
	f.sync("j")
	if got := f.synced(job); len(got) != 2 {
		t.Fatalf("with two nodes pulling, synced %v, want no more", got)
	}
	st := f.job("j").Status
	if st.Desired != 5 || st.Active != 2 || st.Message != "job is running, progress 0.0%" {
		t.Errorf("status %+v, want desired 5, active 2, progress 0.0%%", st)
	}
	f.report("n1", "base", "latest", appsv1beta1.ImagePhaseSucceeded)
	f.sync("j")
	if got := f.synced(job); !slices.Equal(got, []string{"n1", "n2", "n3"}) {
		t.Fatalf("after n1 succeeded synced %v, want [n1 n2 n3]", got)
	}
	if st := f.job("j").Status; st.Succeeded != 1 || st.Active != 1 {
		t.Errorf("status %+v, want succeeded 1, active 1 (n3 not counted before its tag is seen)", st)
	}
}

func TestTagEntry(t *testing.T) {
	created := metav1.NewTime(t0.Add(-time.Hour))
	other := corev1.ObjectReference{APIVersion: "apps.kruise.io/v1beta1", Kind: "ImagePullJob", Namespace: ns, Name: "other", UID: "uid-other"}
	ni := nodeImage("n1", nil)
	ni.Spec.Images = map[string]appsv1beta1.ImageSpec{
		"base": {Tags: []appsv1beta1.ImageTagSpec{{
			Tag: "latest", Version: 3, CreatedAt: &created, OwnerReferences: []corev1.ObjectReference{other},
			PullPolicy: &appsv1beta1.ImageTagPullPolicy{TTLSecondsAfterFinished: ptr.To[int32](100)},
		}}},
	}
	// The node reported version 2 of a tag no longer in the spec.
	ni.Status.ImageStatuses = map[string]appsv1beta1.ImageStatus{
		"base": {Tags: []appsv1beta1.ImageTagStatus{{Tag: "v2", Version: 2, Phase: appsv1beta1.ImagePhaseSucceeded}}},
	}
	always := newJob("always", "base:latest", func(j *appsv1beta1.ImagePullJob) {
		j.Spec.ImagePullPolicy = appsv1beta1.PullAlways
		j.Spec.PullSecrets = []string{"creds"}
		j.Spec.SandboxConfig = &appsv1beta1.SandboxConfig{Labels: map[string]string{"a": "b"}}
	})
	never := newJob("never", "base:v2", func(j *appsv1beta1.ImagePullJob) {
		j.Spec.CompletionPolicy = &appsv1beta1.CompletionPolicy{Type: appsv1beta1.Never}
		j.Spec.PullPolicy.TimeoutSeconds = ptr.To[int32](3600)
	})
	f := newFixture(t, ni, always, never, secret(ns, "creds", "a"))
	f.sync("always")
	f.sync("never")

	tag := f.tagOf("n1", "base", "latest")
	if tag.Version != 4 {
		t.Errorf("version of a tag another job asked for = %d, want 4 (a new pull round)", tag.Version)
	}
	if len(tag.OwnerReferences) != 2 || tag.OwnerReferences[1].UID != always.UID || tag.OwnerReferences[1].Kind != "ImagePullJob" {
		t.Errorf("owners %+v, want other and always", tag.OwnerReferences)
	}
	if tag.ImagePullPolicy != appsv1beta1.PullAlways || !tag.CreatedAt.After(created.Time) {
		t.Errorf("tag %+v: want imagePullPolicy Always and a new createdAt", tag)
	}
	image := f.nodeImage("n1").Spec.Images["base"]
	if len(image.PullSecrets) != 1 || image.PullSecrets[0] != (appsv1beta1.ReferenceObject{Namespace: daemonNS, Name: "default.creds"}) {
		t.Errorf("pull secrets %+v, want kruise-daemon/default.creds (the copy of default/creds)", image.PullSecrets)
	}
	if image.SandboxConfig == nil || image.SandboxConfig.Labels["a"] != "b" {
		t.Errorf("sandboxConfig %+v not copied", image.SandboxConfig)
	}

	tag = f.tagOf("n1", "base", "v2")
	if tag == nil || tag.Version != 3 {
		t.Fatalf("new tag %+v, want version 3 (after the one reported)", tag)
	}
	p := tag.PullPolicy
	if *p.TimeoutSeconds != 3600 || *p.BackoffLimit != 3 || *p.ActiveDeadlineSeconds != 3600 || *p.TTLSecondsAfterFinished != 24*3600 {
		t.Errorf("Never job's tag pull policy %+v, want timeout 3600, backoff 3, deadline 3600, ttl 24h (random offset fixed at 0)", p)
	}
}

func TestAlwaysTagPullPolicy(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		completion appsv1beta1.CompletionPolicy
		ttl        int32
		deadline   *int64
	}{
		// The job's TTL (else deadline, else timeout × backoff), plus
		// OpenKruise's default NodeImage TTL of 300 s, plus the random
		// offset (fixed at 150 here).
		{appsv1beta1.CompletionPolicy{Type: appsv1beta1.Always}, 900 + 300 + 150, nil},
		{appsv1beta1.CompletionPolicy{Type: appsv1beta1.Always, ActiveDeadlineSeconds: ptr.To[int64](1200)}, 1200 + 300 + 150, ptr.To[int64](1200)},
		{appsv1beta1.CompletionPolicy{Type: appsv1beta1.Always, ActiveDeadlineSeconds: ptr.To[int64](1200), TTLSecondsAfterFinished: ptr.To[int32](60)}, 60 + 300 + 150, ptr.To[int64](1200)},
		{appsv1beta1.CompletionPolicy{Type: appsv1beta1.Always, TTLSecondsAfterFinished: ptr.To[int32](0)}, 0 + 300 + 150, nil},
	} {
		job := newJob("j", "base", func(j *appsv1beta1.ImagePullJob) { j.Spec.CompletionPolicy = &tc.completion })
		p := f.c.tagPullPolicy(job)
		if *p.TTLSecondsAfterFinished != tc.ttl || !ptr.Equal(p.ActiveDeadlineSeconds, tc.deadline) {
			t.Errorf("%+v: ttl %d deadline %v, want %d %v", tc.completion, *p.TTLSecondsAfterFinished, p.ActiveDeadlineSeconds, tc.ttl, tc.deadline)
		}
	}
}

func TestOnlyTheCurrentVersionCounts(t *testing.T) {
	job := newJob("j", "base:latest")
	f := newFixture(t, job, nodeImage("n1", nil))
	f.sync("j")
	f.report("n1", "base", "latest", appsv1beta1.ImagePhaseSucceeded)
	// The spec moves on to a new version (another job's round): the
	// success of the old one is not this job's.
	ni := f.nodeImage("n1")
	ni.Spec.Images["base"].Tags[0].Version++
	_, err := f.kruise.AppsV1beta1().NodeImages().Update(context.Background(), ni, metav1.UpdateOptions{})
	must(t, err)
	f.sync("j")
	if st := f.job("j").Status; st.Active != 1 || st.Succeeded != 0 || st.CompletionTime != nil {
		t.Errorf("status %+v, want the node still pulling", st)
	}
	f.report("n1", "base", "latest", appsv1beta1.ImagePhasePulling)
	f.sync("j")
	if st := f.job("j").Status; st.Active != 1 {
		t.Errorf("status %+v, want active 1", st)
	}
}

func TestAlwaysCompletes(t *testing.T) {
	job := newJob("j", "base:latest", func(j *appsv1beta1.ImagePullJob) {
		j.Spec.CompletionPolicy.TTLSecondsAfterFinished = ptr.To[int32](30)
	})
	f := newFixture(t, job, nodeImage("n1", nil), nodeImage("n2", nil))
	f.sync("j")
	f.report("n1", "base", "latest", appsv1beta1.ImagePhaseSucceeded)
	f.report("n2", "base", "latest", appsv1beta1.ImagePhaseFailed)
	f.sync("j")
	st := f.job("j").Status
	if st.CompletionTime == nil || st.Succeeded != 1 || st.Failed != 1 || !slices.Equal(st.FailedNodes, []string{"n2"}) || st.Message != MessageCompleted {
		t.Fatalf("status %+v, want completed with n2 failed", st)
	}
	// Deleted ttlSecondsAfterFinished after completion.
	f.clock.Step(10 * time.Second)
	if d := f.sync("j"); d != 20*time.Second {
		t.Errorf("requeue after %v, want 20s", d)
	}
	f.clock.Step(20 * time.Second)
	f.sync("j")
	if _, err := f.kruise.AppsV1beta1().ImagePullJobs(ns).Get(context.Background(), "j", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("job not deleted after its TTL (err %v)", err)
	}
}

func TestActiveDeadline(t *testing.T) {
	job := newJob("j", "base:latest", func(j *appsv1beta1.ImagePullJob) {
		j.Spec.Parallelism = ptr.To(intstr.FromInt32(1))
		j.Spec.CompletionPolicy.ActiveDeadlineSeconds = ptr.To[int64](60)
	})
	f := newFixture(t, job, nodeImage("n1", nil), nodeImage("n2", nil), nodeImage("n3", nil))
	f.sync("j")
	f.sync("j") // n1 counted active
	if d := f.sync("j"); d != 60*time.Second {
		t.Errorf("requeue after %v, want 60s (the deadline)", d)
	}
	f.report("n1", "base", "latest", appsv1beta1.ImagePhaseSucceeded)
	f.sync("j")
	f.clock.Step(61 * time.Second)
	f.sync("j")
	st := f.job("j").Status
	if st.CompletionTime == nil || st.Message != MessageDeadlineExceeded || st.Succeeded != 1 || st.Failed != 2 ||
		!slices.Equal(st.FailedNodes, []string{"n2", "n3"}) {
		t.Errorf("status %+v, want ended by the deadline, n2 (pulling) and n3 (never synced) failed", st)
	}
	if len(f.recorder.Events) == 0 {
		t.Error("no Event on completion")
	}
}

// TestActiveDeadlineKeepsSucceededNodes: a node that succeeded but lacks
// the job's pull secrets (to be written again) is not also failed at the
// deadline.
func TestActiveDeadlineKeepsSucceededNodes(t *testing.T) {
	job := newJob("j", "base:latest", func(j *appsv1beta1.ImagePullJob) {
		j.Spec.Parallelism = ptr.To(intstr.FromInt32(1))
		j.Spec.PullSecrets = []string{"creds"}
		j.Spec.CompletionPolicy.ActiveDeadlineSeconds = ptr.To[int64](60)
	})
	// The secret exists: a missing one would be left out, not lacked.
	f := newFixture(t, job, nodeImage("n1", nil), nodeImage("n2", nil), secret(ns, "creds", "p"))
	f.sync("j")
	f.report("n1", "base", "latest", appsv1beta1.ImagePhaseSucceeded)
	ni := f.nodeImage("n1")
	image := ni.Spec.Images["base"]
	image.PullSecrets = nil
	ni.Spec.Images["base"] = image
	_, err := f.kruise.AppsV1beta1().NodeImages().Update(context.Background(), ni, metav1.UpdateOptions{})
	must(t, err)
	f.clock.Step(61 * time.Second)
	f.sync("j")
	st := f.job("j").Status
	if st.CompletionTime == nil || st.Message != MessageDeadlineExceeded || st.Succeeded != 1 || st.Failed != 1 ||
		!slices.Equal(st.FailedNodes, []string{"n2"}) {
		t.Errorf("status %+v, want ended by the deadline, n1 succeeded, n2 (never synced) failed", st)
	}
}

func TestNeverTakesInNewNodes(t *testing.T) {
	job := newJob("j", "base:latest", func(j *appsv1beta1.ImagePullJob) {
		j.Spec.CompletionPolicy = &appsv1beta1.CompletionPolicy{Type: appsv1beta1.Never}
		j.Spec.ImagePullPolicy = appsv1beta1.PullAlways
	})
	f := newFixture(t, job, nodeImage("n1", nil))
	f.sync("j")
	f.report("n1", "base", "latest", appsv1beta1.ImagePhaseSucceeded)
	if d := f.sync("j"); d != 0 {
		t.Errorf("requeue after %v for a Never job, want none", d)
	}
	st := f.job("j").Status
	if st.CompletionTime != nil || st.Succeeded != 1 || st.Message != "job is running, progress 100.0%" {
		t.Fatalf("status %+v, want still open with n1 succeeded", st)
	}
	_, err := f.kruise.AppsV1beta1().NodeImages().Create(context.Background(), nodeImage("n2", nil), metav1.CreateOptions{})
	must(t, err)
	f.sync("j")
	if got := f.synced(job); !slices.Equal(got, []string{"n1", "n2"}) {
		t.Errorf("synced %v, want the new node too", got)
	}
	if tag := f.tagOf("n2", "base", "latest"); tag.ImagePullPolicy != appsv1beta1.PullAlways {
		t.Errorf("tag %+v, want imagePullPolicy Always", tag)
	}
	if st := f.job("j").Status; st.Desired != 2 || st.CompletionTime != nil {
		t.Errorf("status %+v, want desired 2, open", st)
	}
}

// queued drains the queue.
func (f *fixture) queued() []string {
	var keys []string
	for f.c.queue.Len() > 0 {
		key, _ := f.c.queue.Get()
		f.c.queue.Done(key)
		f.c.queue.Forget(key)
		keys = append(keys, key)
	}
	slices.Sort(keys)
	return keys
}

func TestEventHandlers(t *testing.T) {
	gpu := newJob("gpu", "base:latest", func(j *appsv1beta1.ImagePullJob) {
		j.Spec.Selector = &appsv1beta1.ImagePullJobNodeSelector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"pool": "gpu"}}}
	})
	web := newJob("web", "envoy:v1", func(j *appsv1beta1.ImagePullJob) {
		j.Spec.PodSelector = &appsv1beta1.ImagePullJobPodSelector{LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}
	})
	done := newJob("done", "base:latest", func(j *appsv1beta1.ImagePullJob) {
		j.Status.CompletionTime = &metav1.Time{Time: t0}
	})
	f := newFixture(t, gpu, web, done)
	f.load()
	f.queued()

	cpuNode := nodeImage("n1", map[string]string{"pool": "cpu"})
	f.c.onNodeImageAddOrDelete(cpuNode)
	if got := f.queued(); !slices.Equal(got, []string{"default/web"}) {
		t.Errorf("a cpu node added: queued %v, want only the podSelector job", got)
	}
	gpuNode := cpuNode.DeepCopy()
	gpuNode.ResourceVersion = "2"
	gpuNode.Labels["pool"] = "gpu"
	f.c.onNodeImageUpdate(cpuNode, gpuNode)
	if got := f.queued(); !slices.Equal(got, []string{"default/gpu"}) {
		t.Errorf("a node relabelled into the selector: queued %v, want the gpu job (not the completed one)", got)
	}
	reported := gpuNode.DeepCopy()
	reported.ResourceVersion = "3"
	reported.Status.ImageStatuses = map[string]appsv1beta1.ImageStatus{"envoy": {Tags: []appsv1beta1.ImageTagStatus{{Tag: "v1", Phase: appsv1beta1.ImagePhaseSucceeded}}}}
	f.c.onNodeImageUpdate(gpuNode, reported)
	if got := f.queued(); !slices.Equal(got, []string{"default/web"}) {
		t.Errorf("envoy reported on a node: queued %v, want the envoy job", got)
	}

	p := pod("p", "", map[string]string{"app": "web"}, corev1.PodPending)
	f.c.onPodAddOrDelete(p)
	if got := f.queued(); len(got) != 0 {
		t.Errorf("an unscheduled pod: queued %v, want nothing", got)
	}
	bound := p.DeepCopy()
	bound.Spec.NodeName = "n1"
	f.c.onPodUpdate(p, bound)
	if got := f.queued(); !slices.Equal(got, []string{"default/web"}) {
		t.Errorf("a matching pod bound: queued %v, want the web job", got)
	}
	running := bound.DeepCopy()
	running.Status.Phase = corev1.PodRunning
	f.c.onPodUpdate(bound, running)
	if got := f.queued(); len(got) != 0 {
		t.Errorf("a pod's phase changed within active: queued %v, want nothing", got)
	}
}
