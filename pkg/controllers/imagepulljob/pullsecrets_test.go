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
	"k8s.io/apimachinery/pkg/util/validation"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

func secret(namespace, name, password string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{
			corev1.DockerConfigJsonKey: []byte(`{"auths":{"registry.example":{"username":"u","password":"` + password + `"}}}`),
		},
	}
}

// copyOf returns the copy of Secret default/name in the daemon's
// namespace, nil if there is none.
func (f *fixture) copyOf(name string) *corev1.Secret {
	f.t.Helper()
	s, err := f.kube.CoreV1().Secrets(daemonNS).Get(context.Background(), ns+"."+name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	must(f.t, err)
	return s
}

func (f *fixture) collect() {
	f.t.Helper()
	f.load()
	if _, err := f.c.sync(context.Background(), pullSecretCopiesKey); err != nil {
		f.t.Fatalf("collecting copies: %v", err)
	}
}

// events drains the recorder.
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

func withPullSecrets(names ...string) func(*appsv1beta1.ImagePullJob) {
	return func(j *appsv1beta1.ImagePullJob) { j.Spec.PullSecrets = names }
}

func TestPullSecretCopies(t *testing.T) {
	a := newJob("a", "base:latest", withPullSecrets("creds"))
	b := newJob("b", "base:v2", withPullSecrets("creds"))
	source := secret(ns, "creds", "one")
	source.Labels = map[string]string{"team": "x"}
	f := newFixture(t, a, b, nodeImage("n1", nil), source, secret("other", "creds", "other"))
	ctx := context.Background()

	if d := f.sync("a"); d <= 0 || d > pullSecretResyncPeriod {
		t.Errorf("requeue after %v, want at most %v for a running job with pull secrets", d, pullSecretResyncPeriod)
	}
	c := f.copyOf("creds")
	if c == nil {
		t.Fatal("no copy of default/creds in the daemon's namespace")
	}
	if c.Type != corev1.SecretTypeDockerConfigJson || string(c.Data[corev1.DockerConfigJsonKey]) != string(source.Data[corev1.DockerConfigJsonKey]) ||
		c.Annotations[SecretAnnotationSourceSecretKey] != "default/creds" || len(c.Labels) != 0 {
		t.Errorf("copy %+v: want the source's type and data, annotated with default/creds, no labels", c)
	}
	want := []appsv1beta1.ReferenceObject{{Namespace: daemonNS, Name: "default.creds"}}
	if got := f.nodeImage("n1").Spec.Images["base"].PullSecrets; !slices.Equal(got, want) {
		t.Errorf("NodeImage pull secrets %+v, want %+v", got, want)
	}

	// The source changes: the next sync updates the copy.
	cur, err := f.kube.CoreV1().Secrets(ns).Get(ctx, "creds", metav1.GetOptions{})
	must(t, err)
	cur.Data = secret(ns, "creds", "two").Data
	_, err = f.kube.CoreV1().Secrets(ns).Update(ctx, cur, metav1.UpdateOptions{})
	must(t, err)
	f.sync("a")
	if c := f.copyOf("creds"); !strings.Contains(string(c.Data[corev1.DockerConfigJsonKey]), `"two"`) {
		t.Errorf("copy data %s, want the source's new password", c.Data[corev1.DockerConfigJsonKey])
	}
	// Its type changes (immutable in a Secret): the copy is made again.
	changed := secret(ns, "creds", "three")
	changed.Type = corev1.SecretTypeDockercfg
	changed.Data = map[string][]byte{corev1.DockerConfigKey: []byte(`{"registry.example":{"auth":"dTpw"}}`)}
	must(t, f.kube.CoreV1().Secrets(ns).Delete(ctx, "creds", metav1.DeleteOptions{}))
	_, err = f.kube.CoreV1().Secrets(ns).Create(ctx, changed, metav1.CreateOptions{})
	must(t, err)
	f.sync("a")
	if c := f.copyOf("creds"); c.Type != corev1.SecretTypeDockercfg || string(c.Data[corev1.DockerConfigKey]) != string(changed.Data[corev1.DockerConfigKey]) {
		t.Errorf("copy %+v, want the source's new type and data", c)
	}

	// Another job naming the same secret shares the copy.
	f.sync("b")
	copies, err := f.kube.CoreV1().Secrets(daemonNS).List(ctx, metav1.ListOptions{})
	must(t, err)
	if len(copies.Items) != 1 {
		t.Errorf("%d copies, want one per source secret", len(copies.Items))
	}

	// a completes: b still needs the copy.
	f.report("n1", "base", "latest", appsv1beta1.ImagePhaseSucceeded)
	f.sync("a")
	if f.job("a").Status.CompletionTime == nil {
		t.Fatal("a did not complete")
	}
	f.collect()
	if f.copyOf("creds") == nil {
		t.Fatal("copy deleted while b still runs")
	}
	// b is deleted: nothing needs the copy any more.
	must(t, f.kruise.AppsV1beta1().ImagePullJobs(ns).Delete(ctx, "b", metav1.DeleteOptions{}))
	f.collect()
	if c := f.copyOf("creds"); c != nil {
		t.Errorf("copy %s/%s left after the last job naming its source went", c.Namespace, c.Name)
	}
	if _, err := f.kube.CoreV1().Secrets(ns).Get(ctx, "creds", metav1.GetOptions{}); err != nil {
		t.Errorf("the source secret: %v, want it untouched", err)
	}
}

func TestPullSecretDroppedFromTheJob(t *testing.T) {
	job := newJob("j", "base:latest", withPullSecrets("one", "two"))
	unrelated := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: daemonNS, Name: "daemon-own"}}
	f := newFixture(t, job, nodeImage("n1", nil), secret(ns, "one", "1"), secret(ns, "two", "2"), unrelated)
	f.sync("j")
	if f.copyOf("one") == nil || f.copyOf("two") == nil {
		t.Fatal("want copies of both secrets")
	}
	j := f.job("j")
	j.Spec.PullSecrets = []string{"one"}
	_, err := f.kruise.AppsV1beta1().ImagePullJobs(ns).Update(context.Background(), j, metav1.UpdateOptions{})
	must(t, err)
	f.collect()
	if f.copyOf("one") == nil || f.copyOf("two") != nil {
		t.Errorf("want the copy of one kept, two's deleted")
	}
	if _, err := f.kube.CoreV1().Secrets(daemonNS).Get(context.Background(), "daemon-own", metav1.GetOptions{}); err != nil {
		t.Errorf("a Secret of the daemon's namespace that is no copy: %v, want it untouched", err)
	}
}

func TestMissingPullSecret(t *testing.T) {
	job := newJob("j", "base:latest", withPullSecrets("missing"))
	f := newFixture(t, job, nodeImage("n1", nil))
	f.sync("j")
	if got := f.synced(job); !slices.Equal(got, []string{"n1"}) {
		t.Errorf("synced %v, want n1: the node pulls without the missing secret", got)
	}
	if got := f.nodeImage("n1").Spec.Images["base"].PullSecrets; len(got) != 0 {
		t.Errorf("NodeImage pull secrets %+v, want none", got)
	}
	events := f.events()
	if !slices.ContainsFunc(events, func(e string) bool {
		return strings.HasPrefix(e, "Warning PullSecretNotFound") && strings.Contains(e, "default/missing")
	}) {
		t.Errorf("events %q, want a PullSecretNotFound warning naming default/missing", events)
	}

	// The secret appears: the next sync copies it and adds it to the node.
	_, err := f.kube.CoreV1().Secrets(ns).Create(context.Background(), secret(ns, "missing", "p"), metav1.CreateOptions{})
	must(t, err)
	f.sync("j")
	want := []appsv1beta1.ReferenceObject{{Namespace: daemonNS, Name: "default.missing"}}
	if got := f.nodeImage("n1").Spec.Images["base"].PullSecrets; !slices.Equal(got, want) {
		t.Errorf("NodeImage pull secrets %+v, want %+v", got, want)
	}
}

func TestPullSecretCopyNameTaken(t *testing.T) {
	job := newJob("j", "base:latest", withPullSecrets("creds"))
	taken := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: daemonNS, Name: "default.creds"}}
	f := newFixture(t, job, nodeImage("n1", nil), secret(ns, "creds", "p"), taken)
	f.load()
	_, err := f.c.sync(context.Background(), ns+"/j")
	if err == nil || !strings.Contains(err.Error(), "is not a copy of default/creds") {
		t.Errorf("sync error %v, want one saying kruise-daemon/default.creds is not a copy", err)
	}
	if got := f.synced(job); len(got) != 0 {
		t.Errorf("synced %v, want no node before its pull secrets are copied", got)
	}
	if events := f.events(); !slices.ContainsFunc(events, func(e string) bool { return strings.HasPrefix(e, "Warning FailedSyncPullSecret") }) {
		t.Errorf("events %q, want a FailedSyncPullSecret warning", events)
	}
}

func TestJobInTheDaemonNamespace(t *testing.T) {
	job := newJob("j", "base:latest", withPullSecrets("creds"))
	job.Namespace = daemonNS
	f := newFixture(t, job, nodeImage("n1", nil), secret(daemonNS, "creds", "p"))
	f.load()
	if _, err := f.c.sync(context.Background(), daemonNS+"/j"); err != nil {
		t.Fatal(err)
	}
	want := []appsv1beta1.ReferenceObject{{Namespace: daemonNS, Name: "creds"}}
	if got := f.nodeImage("n1").Spec.Images["base"].PullSecrets; !slices.Equal(got, want) {
		t.Errorf("NodeImage pull secrets %+v, want the secret itself %+v", got, want)
	}
	secrets, err := f.kube.CoreV1().Secrets(daemonNS).List(context.Background(), metav1.ListOptions{})
	must(t, err)
	if len(secrets.Items) != 1 {
		t.Errorf("%d Secrets in the daemon's namespace, want no copy", len(secrets.Items))
	}
}

func TestCopyName(t *testing.T) {
	if got := copyName("default", "creds"); got != "default.creds" {
		t.Errorf("copyName = %q, want default.creds", got)
	}
	long := strings.Repeat("a", 63)
	seen := map[string]bool{}
	for _, name := range []string{strings.Repeat("b", 250), strings.Repeat("b", 249) + "c", strings.Repeat("b", 189) + "." + strings.Repeat("c", 60)} {
		got := copyName(long, name)
		if msgs := validation.IsDNS1123Subdomain(got); len(msgs) > 0 {
			t.Errorf("copyName(%s, %s) = %q: %v", long, name, got, msgs)
		}
		if seen[got] {
			t.Errorf("copyName(%s, %s) = %q, already the name of another source's copy", long, name, got)
		}
		seen[got] = true
	}
}

func TestPullSecretEventHandlers(t *testing.T) {
	running := newJob("running", "base:latest", withPullSecrets("creds"))
	other := newJob("other", "base:latest", withPullSecrets("else"))
	f := newFixture(t, running, other)
	f.load()
	f.queued()

	completed := running.DeepCopy()
	completed.Status.CompletionTime = &metav1.Time{Time: t0.Add(time.Minute)}
	f.c.onJobUpdate(running, completed)
	if got := f.queued(); !slices.Equal(got, []string{"default/running", pullSecretCopiesKey}) {
		t.Errorf("a job with pull secrets completed: queued %v, want it and the collection of copies", got)
	}
	resynced := running.DeepCopy()
	resynced.ResourceVersion = "2"
	f.c.onJobUpdate(running, resynced)
	if got := f.queued(); !slices.Equal(got, []string{"default/running"}) {
		t.Errorf("a running job updated: queued %v, want only the job", got)
	}
	f.c.onJobDelete(running)
	if got := f.queued(); !slices.Equal(got, []string{pullSecretCopiesKey}) {
		t.Errorf("a job with pull secrets deleted: queued %v, want the collection of copies", got)
	}

	copied := secret(daemonNS, "default.creds", "p")
	copied.Annotations = map[string]string{SecretAnnotationSourceSecretKey: "default/creds"}
	f.c.onCopyAddOrUpdate(copied)
	if got := f.queued(); !slices.Equal(got, []string{pullSecretCopiesKey}) {
		t.Errorf("a copy added: queued %v, want the collection of copies", got)
	}
	f.c.onCopyAddOrUpdate(secret(daemonNS, "daemon-own", "p"))
	if got := f.queued(); len(got) != 0 {
		t.Errorf("a Secret that is no copy added: queued %v, want nothing", got)
	}
	f.c.onCopyDelete(copied)
	if got := f.queued(); !slices.Equal(got, []string{"default/running"}) {
		t.Errorf("a copy deleted: queued %v, want the running job naming its source (to copy it again)", got)
	}
}
