package imagelistpulljob

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	kubeinformers "k8s.io/client-go/informers"
	kubefake "k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/expectations"
	kruisefake "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned/fake"
	kruiseinformers "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/informers/externalversions"
)

const ns = "default"

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	t        *testing.T
	kruise   *kruisefake.Clientset
	kruiseIn kruiseinformers.SharedInformerFactory
	recorder *record.FakeRecorder
	clock    *testingclock.FakeClock
	c        *Controller
}

func newFixture(t *testing.T, objects ...runtime.Object) *fixture {
	t.Helper()
	f := &fixture{t: t, recorder: record.NewFakeRecorder(100), clock: testingclock.NewFakeClock(t0)}
	f.kruise = kruisefake.NewSimpleClientset(objects...)
	// The fake API server does not generate names.
	n := 0
	f.kruise.PrependReactor("create", "imagepulljobs", func(action clienttesting.Action) (bool, runtime.Object, error) {
		job := action.(clienttesting.CreateAction).GetObject().(*appsv1beta1.ImagePullJob)
		if job.Name == "" {
			n++
			job.Name = fmt.Sprintf("%s%d", job.GenerateName, n)
			job.UID = types.UID("uid-" + job.Name)
			job.CreationTimestamp = metav1.NewTime(f.clock.Now())
		}
		return false, nil, nil
	})
	f.kruiseIn = kruiseinformers.NewSharedInformerFactory(f.kruise, 0)
	kubeClient := kubefake.NewClientset()
	c, err := newController(&controllers.Context{
		KruiseClient: f.kruise, KubeClient: kubeClient, KruiseInformers: f.kruiseIn,
		KubeInformers: kubeinformers.NewSharedInformerFactory(kubeClient, 0), Recorder: f.recorder,
	}, f.clock)
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	return f
}

// load puts what the fake API server holds into the caches, and observes
// the jobs created and deleted as the event handlers would.
func (f *fixture) load() {
	f.t.Helper()
	ctx := context.Background()
	lists, err := f.kruise.AppsV1beta1().ImageListPullJobs(ns).List(ctx, metav1.ListOptions{})
	must(f.t, err)
	jobs, err := f.kruise.AppsV1beta1().ImagePullJobs(ns).List(ctx, metav1.ListOptions{})
	must(f.t, err)
	var objs []any
	for i := range lists.Items {
		objs = append(objs, &lists.Items[i])
	}
	must(f.t, f.kruiseIn.Apps().V1beta1().ImageListPullJobs().Informer().GetIndexer().Replace(objs, ""))
	jobIndexer := f.kruiseIn.Apps().V1beta1().ImagePullJobs().Informer().GetIndexer()
	current := map[string]bool{}
	for i := range jobs.Items {
		current[jobs.Items[i].Name] = true
	}
	for _, o := range jobIndexer.List() {
		if job := o.(*appsv1beta1.ImagePullJob); !current[job.Name] {
			f.c.onJobEvent(job, expectations.Delete)
		}
	}
	known := map[string]bool{}
	for _, o := range jobIndexer.List() {
		known[o.(*appsv1beta1.ImagePullJob).Name] = true
	}
	objs = nil
	for i := range jobs.Items {
		objs = append(objs, &jobs.Items[i])
	}
	must(f.t, jobIndexer.Replace(objs, ""))
	for i := range jobs.Items {
		if !known[jobs.Items[i].Name] {
			f.c.onJobEvent(&jobs.Items[i], expectations.Create)
		}
	}
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
	must(f.t, err)
	return d
}

func (f *fixture) list(name string) *appsv1beta1.ImageListPullJob {
	f.t.Helper()
	l, err := f.kruise.AppsV1beta1().ImageListPullJobs(ns).Get(context.Background(), name, metav1.GetOptions{})
	must(f.t, err)
	return l
}

func (f *fixture) jobs() map[string]*appsv1beta1.ImagePullJob {
	f.t.Helper()
	jobs, err := f.kruise.AppsV1beta1().ImagePullJobs(ns).List(context.Background(), metav1.ListOptions{})
	must(f.t, err)
	out := map[string]*appsv1beta1.ImagePullJob{}
	for i := range jobs.Items {
		out[jobs.Items[i].Spec.Image] = &jobs.Items[i]
	}
	return out
}

// setStatus writes an ImagePullJob's status as its controller would.
func (f *fixture) setStatus(image string, desired, active, succeeded, failed int32) {
	f.t.Helper()
	job := f.jobs()[image]
	start := metav1.NewTime(f.clock.Now())
	job.Status = appsv1beta1.ImagePullJobStatus{StartTime: &start, Desired: desired, Active: active, Succeeded: succeeded, Failed: failed}
	_, err := f.kruise.AppsV1beta1().ImagePullJobs(ns).UpdateStatus(context.Background(), job, metav1.UpdateOptions{})
	must(f.t, err)
}

func newList(name string, images ...string) *appsv1beta1.ImageListPullJob {
	return &appsv1beta1.ImageListPullJob{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: "uid-" + "list"},
		Spec: appsv1beta1.ImageListPullJobSpec{
			Images: images,
			ImagePullJobTemplate: appsv1beta1.ImagePullJobTemplate{
				Parallelism:      ptr.To(intstr.FromInt32(5)),
				PullSecrets:      []string{"creds"},
				CompletionPolicy: &appsv1beta1.CompletionPolicy{Type: appsv1beta1.Always, TTLSecondsAfterFinished: ptr.To[int32](30)},
			},
		},
	}
}

func TestOneJobPerImage(t *testing.T) {
	list := newList("l", "nginx:1.25", "redis:7")
	f := newFixture(t, list)
	f.sync("l")
	hash := f.list("l").Labels[TemplateHashLabel]
	if hash == "" || hash != templateHash(&list.Spec.ImagePullJobTemplate) {
		t.Errorf("list job's %s label = %q, want its template's hash", TemplateHashLabel, hash)
	}
	jobs := f.jobs()
	if len(jobs) != 2 {
		t.Fatalf("%d ImagePullJobs, want 2", len(jobs))
	}
	for _, image := range list.Spec.Images {
		job := jobs[image]
		if job == nil {
			t.Fatalf("no ImagePullJob for %s", image)
		}
		ref := metav1.GetControllerOf(job)
		if ref == nil || ref.Kind != "ImageListPullJob" || ref.Name != "l" || ref.UID != list.UID {
			t.Errorf("%s: controller reference %+v, want the list job", image, ref)
		}
		if job.Labels[TemplateHashLabel] != hash || !slices.Equal(job.Spec.PullSecrets, []string{"creds"}) || job.Spec.Parallelism.IntValue() != 5 {
			t.Errorf("%s: job %+v not made from the template", image, job)
		}
	}
	// The cache has not seen the creations yet: nothing more is created.
	_, err := f.c.sync(context.Background(), ns+"/l")
	must(t, err)
	if n := len(f.jobs()); n != 2 {
		t.Errorf("%d ImagePullJobs after a sync on a stale cache, want 2", n)
	}
	f.sync("l")
	if n := len(f.jobs()); n != 2 {
		t.Errorf("%d ImagePullJobs after a second sync, want 2", n)
	}
}

func TestTemplateAndImageChanges(t *testing.T) {
	f := newFixture(t, newList("l", "nginx:1.25", "redis:7"))
	f.sync("l")
	before := f.jobs()
	list := f.list("l")
	list.Spec.Images = []string{"nginx:1.25", "busybox:1.36"}
	list.Spec.Parallelism = ptr.To(intstr.FromInt32(1))
	_, err := f.kruise.AppsV1beta1().ImageListPullJobs(ns).Update(context.Background(), list, metav1.UpdateOptions{})
	must(t, err)
	f.sync("l") // labels the new hash
	f.sync("l")
	after := f.jobs()
	if len(after) != 2 || after["redis:7"] != nil || after["busybox:1.36"] == nil {
		t.Fatalf("jobs for %v, want nginx and busybox", slices.Collect(func(yield func(string) bool) {
			for k := range after {
				if !yield(k) {
					return
				}
			}
		}))
	}
	if after["nginx:1.25"].Name == before["nginx:1.25"].Name || after["nginx:1.25"].Spec.Parallelism.IntValue() != 1 {
		t.Errorf("nginx job %+v not replaced by one of the new template", after["nginx:1.25"])
	}
}

func TestStatusAndTTL(t *testing.T) {
	f := newFixture(t, newList("l", "nginx:1.25", "redis:7", "busybox:1.36"))
	f.sync("l")
	f.setStatus("nginx:1.25", 2, 0, 2, 0)
	f.setStatus("redis:7", 2, 1, 0, 1)
	f.sync("l")
	st := f.list("l").Status
	if st.Desired != 3 || st.Active != 1 || st.Completed != 1 || st.Succeeded != 1 || st.CompletionTime != nil || st.StartTime == nil {
		t.Errorf("status %+v, want desired 3, active 1, completed 1, succeeded 1", st)
	}
	if len(st.FailedImageStatuses) != 1 || st.FailedImageStatuses[0].Name != "redis:7" ||
		st.FailedImageStatuses[0].Message != fmt.Sprintf("Please check for details which nodes failed by 'kubectl get ImagePullJob %s'.", st.FailedImageStatuses[0].ImagePullJob) {
		t.Errorf("failedImageStatuses %+v, want redis:7's job", st.FailedImageStatuses)
	}
	f.setStatus("redis:7", 2, 0, 1, 1)
	f.setStatus("busybox:1.36", 0, 0, 0, 0)
	f.sync("l")
	if st := f.list("l").Status; st.CompletionTime == nil || st.Completed != 3 || st.Succeeded != 2 {
		t.Fatalf("status %+v, want completed", st)
	}
	f.clock.Step(10 * time.Second)
	if d := f.sync("l"); d != 20*time.Second {
		t.Errorf("requeue after %v, want 20s", d)
	}
	f.clock.Step(20 * time.Second)
	f.sync("l")
	if _, err := f.kruise.AppsV1beta1().ImageListPullJobs(ns).Get(context.Background(), "l", metav1.GetOptions{}); err == nil {
		t.Error("list job not deleted after its TTL")
	}
}

func TestNeverStaysOpen(t *testing.T) {
	list := newList("l", "nginx:1.25")
	list.Spec.CompletionPolicy = &appsv1beta1.CompletionPolicy{Type: appsv1beta1.Never}
	f := newFixture(t, list)
	f.sync("l")
	f.setStatus("nginx:1.25", 1, 0, 1, 0)
	f.sync("l")
	if st := f.list("l").Status; st.CompletionTime != nil || st.Completed != 1 {
		t.Errorf("status %+v, want open with one image completed", st)
	}
}

// TestExtraJobsOfAnImageDeleted: of several ImagePullJobs of one image
// (the cache lagged past the expectations' timeout), the oldest of the
// current template is kept; the others are deleted.
func TestExtraJobsOfAnImageDeleted(t *testing.T) {
	f := newFixture(t, newList("l", "nginx:1.25"))
	f.sync("l")
	kept := f.jobs()["nginx:1.25"]
	add := func(name, hash string, created time.Time) {
		job := kept.DeepCopy()
		job.Name, job.UID, job.ResourceVersion = name, types.UID("uid-"+name), ""
		job.Labels = map[string]string{TemplateHashLabel: hash}
		job.CreationTimestamp = metav1.NewTime(created)
		_, err := f.kruise.AppsV1beta1().ImagePullJobs(ns).Create(context.Background(), job, metav1.CreateOptions{})
		must(t, err)
	}
	add("l-newer", kept.Labels[TemplateHashLabel], t0.Add(time.Minute))
	add("l-older-template", "old-hash", t0.Add(-time.Minute))
	f.sync("l")

	jobs, err := f.kruise.AppsV1beta1().ImagePullJobs(ns).List(context.Background(), metav1.ListOptions{})
	must(t, err)
	var names []string
	for _, job := range jobs.Items {
		names = append(names, job.Name)
	}
	if !slices.Equal(names, []string{kept.Name}) {
		t.Errorf("ImagePullJobs %v, want only %s", names, kept.Name)
	}
	f.sync("l")
	if n := len(f.jobs()); n != 1 {
		t.Errorf("%d ImagePullJobs after another sync, want 1 (no replacement made)", n)
	}
}
