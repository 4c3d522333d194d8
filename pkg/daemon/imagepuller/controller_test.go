package imagepuller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	kubefake "k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/ptr"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	kruisefake "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned/fake"
)

// fakeImages is an in-process CRI image service: a registry (what each
// reference resolves to) and the images the runtime holds.
type fakeImages struct {
	mu sync.Mutex
	// registry maps a reference to the digest the registry serves for it;
	// a reference not in it is not found.
	registry map[string]string
	// present maps a reference to the digest the runtime holds for it.
	present map[string]string
	// failures is how many pulls of a reference fail before one works.
	failures map[string]int
	// blockPulls makes pulls wait for their context to end.
	blockPulls bool
	// wantAuth, when set, makes pulls without these credentials fail as a
	// registry would.
	wantAuth *runtimeapi.AuthConfig
	pulls    []string
	auths    []*runtimeapi.AuthConfig
}

func newFakeImages() *fakeImages {
	return &fakeImages{registry: map[string]string{}, present: map[string]string{}, failures: map[string]int{}}
}

func (f *fakeImages) image(ref, digest string) *runtimeapi.Image {
	repo := ref[:strings.LastIndex(ref, ":")]
	return &runtimeapi.Image{Id: "sha256:config-of-" + digest, RepoTags: []string{ref}, RepoDigests: []string{repo + "@" + digest}}
}

func (f *fakeImages) ImageStatus(_ context.Context, spec *runtimeapi.ImageSpec, _ bool) (*runtimeapi.ImageStatusResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	digest, ok := f.present[spec.Image]
	if !ok {
		return &runtimeapi.ImageStatusResponse{}, nil
	}
	return &runtimeapi.ImageStatusResponse{Image: f.image(spec.Image, digest)}, nil
}

func (f *fakeImages) PullImage(ctx context.Context, spec *runtimeapi.ImageSpec, auth *runtimeapi.AuthConfig, _ *runtimeapi.PodSandboxConfig) (string, error) {
	f.mu.Lock()
	f.pulls = append(f.pulls, spec.Image)
	f.auths = append(f.auths, auth)
	block := f.blockPulls
	f.mu.Unlock()
	if block {
		<-ctx.Done()
		return "", ctx.Err()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failures[spec.Image] > 0 {
		f.failures[spec.Image]--
		return "", errors.New("rpc error: code = Unavailable desc = connection reset by registry")
	}
	if f.wantAuth != nil && (auth == nil || auth.Username != f.wantAuth.Username || auth.Password != f.wantAuth.Password) {
		return "", errors.New("rpc error: code = Unknown desc = 401 Unauthorized")
	}
	digest, ok := f.registry[spec.Image]
	if !ok {
		return "", fmt.Errorf("rpc error: code = NotFound desc = failed to pull and unpack image %q: not found", spec.Image)
	}
	f.present[spec.Image] = digest
	return "sha256:config-of-" + digest, nil
}

func (f *fakeImages) pullCount(ref string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, p := range f.pulls {
		if p == ref {
			n++
		}
	}
	return n
}

func (f *fakeImages) ListImages(context.Context, *runtimeapi.ImageFilter) ([]*runtimeapi.Image, error) {
	return nil, errors.New("not used")
}
func (f *fakeImages) RemoveImage(context.Context, *runtimeapi.ImageSpec) error {
	return errors.New("not used")
}
func (f *fakeImages) ImageFsInfo(context.Context) (*runtimeapi.ImageFsInfoResponse, error) {
	return &runtimeapi.ImageFsInfoResponse{}, nil
}
func (f *fakeImages) Close(context.Context) error { return nil }

const node = "node-a"

type fixture struct {
	t      *testing.T
	ctx    context.Context
	kruise *kruisefake.Clientset
	kube   *kubefake.Clientset
	images *fakeImages
	c      *Controller
}

func newFixture(t *testing.T, ni *appsv1beta1.NodeImage, kubeObjects ...interface{}) *fixture {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f := &fixture{t: t, ctx: ctx, kruise: kruisefake.NewSimpleClientset(ni), kube: kubefake.NewSimpleClientset(), images: newFakeImages()}
	for _, o := range kubeObjects {
		if _, err := f.kube.CoreV1().Secrets(o.(*corev1.Secret).Namespace).Create(ctx, o.(*corev1.Secret), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// The server keeps times to the second (RFC 3339), as the JSON round
	// trip does; the fake clientset would keep them as written.
	f.kruise.PrependReactor("update", "nodeimages", func(action clienttesting.Action) (bool, runtime.Object, error) {
		if action.GetSubresource() == "status" {
			obj := action.(clienttesting.UpdateAction).GetObject().(*appsv1beta1.NodeImage)
			data, _ := json.Marshal(obj)
			*obj = appsv1beta1.NodeImage{}
			if err := json.Unmarshal(data, obj); err != nil {
				return true, nil, err
			}
		}
		return false, nil, nil
	})
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	c := NewController(node, f.kruise, f.kube.CoreV1(), f.images, nil, Options{RetryPause: 10 * time.Millisecond, MaxRetryPause: 20 * time.Millisecond, StatusQPS: 100, StatusBurst: 100})
	f.c = c
	go func() { c.Run(ctx); close(done) }()
	return f
}

func (f *fixture) get() *appsv1beta1.NodeImage {
	ni, err := f.kruise.AppsV1beta1().NodeImages().Get(f.ctx, node, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return ni
}

// waitTag waits until the status of image:tag at version is in phase.
func (f *fixture) waitTag(image, tag string, version int64, phase appsv1beta1.ImagePullPhase) appsv1beta1.ImageTagStatus {
	f.t.Helper()
	var last *appsv1beta1.ImageTagStatus
	err := wait.PollUntilContextTimeout(f.ctx, 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		ni := f.get()
		last = tagStatusIn(&ni.Status, image, tag)
		return last != nil && last.Version == version && last.Phase == phase, nil
	})
	if err != nil {
		f.t.Fatalf("%s:%s version %d never %s; last status %+v", image, tag, version, phase, last)
	}
	return *last
}

// setSpec replaces the spec, as the NodeImage controller would.
func (f *fixture) setSpec(spec appsv1beta1.NodeImageSpec) {
	f.t.Helper()
	err := wait.PollUntilContextTimeout(f.ctx, 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		ni := f.get()
		ni.Spec = spec
		_, err := f.kruise.AppsV1beta1().NodeImages().Update(f.ctx, ni, metav1.UpdateOptions{})
		return err == nil, nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

func nodeImage(images map[string]appsv1beta1.ImageSpec) *appsv1beta1.NodeImage {
	return &appsv1beta1.NodeImage{ObjectMeta: metav1.ObjectMeta{Name: node}, Spec: appsv1beta1.NodeImageSpec{Images: images}}
}

func tagSpec(tag string, version int64, policy appsv1beta1.ImagePullPolicy, timeout, backoff int32) appsv1beta1.ImageTagSpec {
	return appsv1beta1.ImageTagSpec{
		Tag: tag, Version: version, ImagePullPolicy: policy,
		PullPolicy: &appsv1beta1.ImageTagPullPolicy{TimeoutSeconds: ptr.To(timeout), BackoffLimit: ptr.To(backoff), TTLSecondsAfterFinished: ptr.To[int32](300)},
	}
}

const base = "docker.io/library/base"

func TestIfNotPresentTakesThePresentImage(t *testing.T) {
	f := newFixture(t, nodeImage(map[string]appsv1beta1.ImageSpec{
		base: {Tags: []appsv1beta1.ImageTagSpec{tagSpec("latest", 0, appsv1beta1.PullIfNotPresent, 300, 3)}},
	}))
	f.images.mu.Lock()
	f.images.present[base+":latest"] = "sha256:old"
	f.images.registry[base+":latest"] = "sha256:new"
	f.images.mu.Unlock()

	st := f.waitTag(base, "latest", 0, appsv1beta1.ImagePhaseSucceeded)
	if st.Progress != 100 || st.ImageID != base+"@sha256:old" || st.StartTime == nil || st.CompletionTime == nil || st.Message != "" {
		t.Errorf("status %+v, want progress 100, imageID %s@sha256:old, start and completion times", st, base)
	}
	if n := f.images.pullCount(base + ":latest"); n != 0 {
		t.Errorf("pulled %d times; IfNotPresent must not pull an image the node has", n)
	}
	ni := f.get()
	if ni.Status.Desired != 1 || ni.Status.Succeeded != 1 || ni.Status.Failed+ni.Status.Pulling+ni.Status.Waiting != 0 {
		t.Errorf("counts %+v", ni.Status)
	}
	if fs := ni.Status.FirstSyncStatus; fs == nil || fs.Status != appsv1beta1.SyncStatusSucceeded {
		t.Errorf("firstSyncStatus %+v, want Succeeded", fs)
	}
}

func TestAlwaysPullsEveryRound(t *testing.T) {
	f := newFixture(t, nodeImage(map[string]appsv1beta1.ImageSpec{
		base: {Tags: []appsv1beta1.ImageTagSpec{tagSpec("latest", 0, appsv1beta1.PullAlways, 300, 3)}},
	}))
	f.images.mu.Lock()
	f.images.present[base+":latest"] = "sha256:old"
	f.images.registry[base+":latest"] = "sha256:v1"
	f.images.mu.Unlock()

	if st := f.waitTag(base, "latest", 0, appsv1beta1.ImagePhaseSucceeded); st.ImageID != base+"@sha256:v1" {
		t.Errorf("imageID %s, want the registry's %s@sha256:v1", st.ImageID, base)
	}
	// The same tag pushed anew, and a new round asked for.
	f.images.mu.Lock()
	f.images.registry[base+":latest"] = "sha256:v2"
	f.images.mu.Unlock()
	f.setSpec(appsv1beta1.NodeImageSpec{Images: map[string]appsv1beta1.ImageSpec{
		base: {Tags: []appsv1beta1.ImageTagSpec{tagSpec("latest", 1, appsv1beta1.PullAlways, 300, 3)}},
	}})
	if st := f.waitTag(base, "latest", 1, appsv1beta1.ImagePhaseSucceeded); st.ImageID != base+"@sha256:v2" {
		t.Errorf("imageID %s after the second round, want %s@sha256:v2", st.ImageID, base)
	}
	if n := f.images.pullCount(base + ":latest"); n != 2 {
		t.Errorf("pulled %d times, want once per round (2)", n)
	}
	// The same version again (an unrelated spec change) is no new round.
	f.setSpec(appsv1beta1.NodeImageSpec{Images: map[string]appsv1beta1.ImageSpec{
		base:      {Tags: []appsv1beta1.ImageTagSpec{tagSpec("latest", 1, appsv1beta1.PullAlways, 300, 3)}},
		"busybox": {Tags: []appsv1beta1.ImageTagSpec{tagSpec("1", 0, appsv1beta1.PullIfNotPresent, 300, 0)}},
	}})
	f.waitTag("busybox", "1", 0, appsv1beta1.ImagePhaseFailed)
	if n := f.images.pullCount(base + ":latest"); n != 2 {
		t.Errorf("pulled %d times, want no pull without a new version", n)
	}
}

func TestBackoffLimit(t *testing.T) {
	f := newFixture(t, nodeImage(nil))
	f.images.mu.Lock()
	f.images.registry[base+":flaky"] = "sha256:f"
	f.images.registry[base+":broken"] = "sha256:b"
	f.images.failures[base+":flaky"] = 2  // works on the third attempt
	f.images.failures[base+":broken"] = 9 // never within the limit
	f.images.mu.Unlock()
	f.setSpec(appsv1beta1.NodeImageSpec{Images: map[string]appsv1beta1.ImageSpec{
		base: {Tags: []appsv1beta1.ImageTagSpec{
			tagSpec("flaky", 0, appsv1beta1.PullAlways, 300, 2),
			tagSpec("broken", 0, appsv1beta1.PullAlways, 300, 2),
		}},
	}})
	f.waitTag(base, "flaky", 0, appsv1beta1.ImagePhaseSucceeded)
	st := f.waitTag(base, "broken", 0, appsv1beta1.ImagePhaseFailed)
	if !strings.Contains(st.Message, "connection reset by registry") || st.CompletionTime == nil {
		t.Errorf("failed status %+v, want the runtime's last error and a completion time", st)
	}
	if n := f.images.pullCount(base + ":broken"); n != 3 {
		t.Errorf("broken pulled %d times, want 1 + backoffLimit (3)", n)
	}
	ni := f.get()
	if ni.Status.Desired != 2 || ni.Status.Succeeded != 1 || ni.Status.Failed != 1 {
		t.Errorf("counts %+v", ni.Status)
	}
	if tags := ni.Status.ImageStatuses[base].Tags; len(tags) != 2 || tags[0].Tag != "broken" || tags[1].Tag != "flaky" {
		t.Errorf("tags %+v, want sorted by tag", tags)
	}
	if fs := ni.Status.FirstSyncStatus; fs == nil || fs.Status != appsv1beta1.SyncStatusFailed || !strings.Contains(fs.Message, base+":broken") {
		t.Errorf("firstSyncStatus %+v, want Failed naming %s:broken", fs, base)
	}
}

func TestTimeoutPerAttempt(t *testing.T) {
	f := newFixture(t, nodeImage(nil))
	f.images.mu.Lock()
	f.images.blockPulls = true
	f.images.mu.Unlock()
	start := time.Now()
	f.setSpec(appsv1beta1.NodeImageSpec{Images: map[string]appsv1beta1.ImageSpec{
		base: {Tags: []appsv1beta1.ImageTagSpec{tagSpec("slow", 0, appsv1beta1.PullAlways, 1, 1)}},
	}})
	// Pulling while the attempts run.
	f.waitTag(base, "slow", 0, appsv1beta1.ImagePhasePulling)
	st := f.waitTag(base, "slow", 0, appsv1beta1.ImagePhaseFailed)
	if !strings.Contains(st.Message, "timed out after 1s") {
		t.Errorf("message %q, want the timeout", st.Message)
	}
	if elapsed := time.Since(start); elapsed < 2*time.Second {
		t.Errorf("failed after %v; two attempts of 1s each must have run", elapsed)
	}
	if n := f.images.pullCount(base + ":slow"); n != 2 {
		t.Errorf("%d attempts, want 2", n)
	}
}

func TestStoppedWhenNoLongerAsked(t *testing.T) {
	f := newFixture(t, nodeImage(nil))
	f.images.mu.Lock()
	f.images.blockPulls = true
	f.images.mu.Unlock()
	f.setSpec(appsv1beta1.NodeImageSpec{Images: map[string]appsv1beta1.ImageSpec{
		base: {Tags: []appsv1beta1.ImageTagSpec{tagSpec("slow", 0, appsv1beta1.PullAlways, 300, 3)}},
	}})
	f.waitTag(base, "slow", 0, appsv1beta1.ImagePhasePulling)
	f.setSpec(appsv1beta1.NodeImageSpec{})
	err := wait.PollUntilContextTimeout(f.ctx, 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		s := f.get().Status
		return s.ImageStatuses == nil && s.Desired == 0 && s.Pulling == 0, nil
	})
	if err != nil {
		t.Fatalf("status %+v, want nothing once the spec has no images", f.get().Status)
	}
	time.Sleep(100 * time.Millisecond)
	if n := f.images.pullCount(base + ":slow"); n != 1 {
		t.Errorf("%d pulls; a stopped worker must not retry", n)
	}
}

func TestFinishedRoundNotRepeatedAfterRestart(t *testing.T) {
	done := metav1.Now()
	ni := nodeImage(map[string]appsv1beta1.ImageSpec{
		base: {Tags: []appsv1beta1.ImageTagSpec{tagSpec("latest", 3, appsv1beta1.PullAlways, 300, 3)}},
	})
	ni.Status = appsv1beta1.NodeImageStatus{Desired: 1, Succeeded: 1, ImageStatuses: map[string]appsv1beta1.ImageStatus{
		base: {Tags: []appsv1beta1.ImageTagStatus{{Tag: "latest", Phase: appsv1beta1.ImagePhaseSucceeded, Version: 3, Progress: 100,
			StartTime: &done, CompletionTime: &done, ImageID: base + "@sha256:before"}}},
	}}
	f := newFixture(t, ni)
	time.Sleep(300 * time.Millisecond)
	if n := f.images.pullCount(base + ":latest"); n != 0 {
		t.Errorf("pulled %d times; the round was finished before the daemon started", n)
	}
	if st := f.waitTag(base, "latest", 3, appsv1beta1.ImagePhaseSucceeded); st.ImageID != base+"@sha256:before" {
		t.Errorf("status %+v, want the earlier outcome kept", st)
	}
}

func TestPullSecrets(t *testing.T) {
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "registry-creds"},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(
			`{"auths":{"other.example.com":{"username":"x","password":"y"},"https://index.docker.io/v1/":{"auth":"` +
				"dXNlcjpzM2NyZXQ=" + `"}}}`)},
	}
	f := newFixture(t, nodeImage(nil), secret)
	f.images.mu.Lock()
	f.images.registry[base+":private"] = "sha256:p"
	f.images.wantAuth = &runtimeapi.AuthConfig{Username: "user", Password: "s3cret"}
	f.images.mu.Unlock()
	f.setSpec(appsv1beta1.NodeImageSpec{Images: map[string]appsv1beta1.ImageSpec{
		base: {
			PullSecrets: []appsv1beta1.ReferenceObject{{Namespace: "team", Name: "registry-creds"}, {Namespace: "team", Name: "missing"}},
			Tags:        []appsv1beta1.ImageTagSpec{tagSpec("private", 0, appsv1beta1.PullAlways, 300, 0)},
		},
	}})
	f.waitTag(base, "private", 0, appsv1beta1.ImagePhaseSucceeded)
	f.images.mu.Lock()
	defer f.images.mu.Unlock()
	if len(f.images.auths) != 1 || f.images.auths[0].GetServerAddress() != "docker.io" {
		t.Errorf("auths %+v, want Docker Hub's credentials only", f.images.auths)
	}
}

func TestRegistryAuths(t *testing.T) {
	config := func(typ corev1.SecretType, key, data string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: string(typ)}, Type: typ, Data: map[string][]byte{key: []byte(data)}}
	}
	secrets := []*corev1.Secret{
		config(corev1.SecretTypeDockerConfigJson, corev1.DockerConfigJsonKey,
			`{"auths":{"registry.example.com:5000":{"username":"a","password":"1"},"registry.example.com:5000/team":{"username":"b","password":"2"},"docker.io":{"username":"c","password":"3"}}}`),
		config(corev1.SecretTypeDockercfg, corev1.DockerConfigKey, `{"https://registry.example.com:5000":{"username":"d","password":"4"}}`),
		config(corev1.SecretTypeOpaque, "whatever", `not json`),
	}
	users := func(image string) string {
		auths, err := registryAuths(secrets, image)
		if err != nil {
			t.Fatalf("%s: %v", image, err)
		}
		var names []string
		for _, a := range auths {
			names = append(names, a.Username+"@"+a.ServerAddress)
		}
		return strings.Join(names, ",")
	}
	for image, want := range map[string]string{
		// The secret's entry for the team's path before the registry's.
		"registry.example.com:5000/team/app:v1":  "b@registry.example.com:5000,a@registry.example.com:5000,d@registry.example.com:5000",
		"registry.example.com:5000/other/app:v1": "a@registry.example.com:5000,d@registry.example.com:5000",
		"registry.example.com:5000/teamster:v1":  "a@registry.example.com:5000,d@registry.example.com:5000",
		"nginx:alpine":                           "c@docker.io",
		"quay.io/x/y:1":                          "",
	} {
		if got := users(image); got != want {
			t.Errorf("%s: credentials %q, want %q", image, got, want)
		}
	}
	if _, err := registryAuths([]*corev1.Secret{config(corev1.SecretTypeDockerConfigJson, corev1.DockerConfigJsonKey, "{")}, "nginx"); err == nil ||
		!strings.Contains(err.Error(), "pull secret ns/kubernetes.io/dockerconfigjson") {
		t.Errorf("malformed secret: error %v, want one naming the secret", err)
	}
}

func TestImageRef(t *testing.T) {
	if got := imageRef("base", "latest"); got != "base:latest" {
		t.Errorf("got %s", got)
	}
	if got := imageRef("base", "sha256:abc"); got != "base@sha256:abc" {
		t.Errorf("got %s", got)
	}
}

// statusWrites counts the status updates the daemon made.
func (f *fixture) statusWrites() int {
	n := 0
	for _, a := range f.kruise.Actions() {
		if a.GetVerb() == "update" && a.GetSubresource() == "status" {
			n++
		}
	}
	return n
}

func TestNoStatusWritesWhenNothingChanged(t *testing.T) {
	f := newFixture(t, nodeImage(map[string]appsv1beta1.ImageSpec{
		base: {Tags: []appsv1beta1.ImageTagSpec{tagSpec("latest", 0, appsv1beta1.PullAlways, 300, 3)}},
	}))
	f.images.mu.Lock()
	f.images.registry[base+":latest"] = "sha256:v1"
	f.images.mu.Unlock()
	f.waitTag(base, "latest", 0, appsv1beta1.ImagePhaseSucceeded)
	time.Sleep(500 * time.Millisecond)
	before := f.statusWrites()
	time.Sleep(2 * time.Second)
	if after := f.statusWrites(); after != before {
		t.Errorf("%d status writes in 2s after the pull ended; the status did not change", after-before)
	}
}

func TestConcurrentPullsBounded(t *testing.T) {
	f := newFixture(t, nodeImage(nil))
	f.images.mu.Lock()
	f.images.blockPulls = true
	f.images.mu.Unlock()
	// newFixture's controller allows 5 pulls at once; six tags leave one
	// waiting.
	var tags []appsv1beta1.ImageTagSpec
	for i := 0; i < 6; i++ {
		tags = append(tags, tagSpec(fmt.Sprintf("t%d", i), 0, appsv1beta1.PullAlways, 300, 0))
	}
	f.setSpec(appsv1beta1.NodeImageSpec{Images: map[string]appsv1beta1.ImageSpec{base: {Tags: tags}}})
	var last appsv1beta1.NodeImageStatus
	err := wait.PollUntilContextTimeout(f.ctx, 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		last = f.get().Status
		return last.Desired == 6 && last.Pulling == 5 && last.Waiting == 1, nil
	})
	if err != nil {
		t.Fatalf("status %+v, want 6 desired, 5 pulling, 1 waiting", last)
	}
	for _, st := range last.ImageStatuses[base].Tags {
		if st.Phase == appsv1beta1.ImagePhaseWaiting && st.StartTime != nil {
			t.Errorf("waiting tag %s has a start time", st.Tag)
		}
	}
	time.Sleep(100 * time.Millisecond)
	f.images.mu.Lock()
	n := len(f.images.pulls)
	f.images.mu.Unlock()
	if n != 5 {
		t.Errorf("%d pulls started, want 5", n)
	}
}

// workerCount is how many pulls are under way or waiting for a slot.
func (f *fixture) workerCount() int {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	return len(f.c.workers)
}

// TestFailedByTheControllerIsKept: the NodeImage controller fails a round
// still pulling past its deadline; the daemon keeps that outcome and stops
// the pull instead of reporting it Pulling again (the two writers would
// take turns).
func TestFailedByTheControllerIsKept(t *testing.T) {
	f := newFixture(t, nodeImage(map[string]appsv1beta1.ImageSpec{
		base: {Tags: []appsv1beta1.ImageTagSpec{tagSpec("slow", 2, appsv1beta1.PullAlways, 300, 3)}},
	}))
	f.images.mu.Lock()
	f.images.blockPulls = true
	f.images.mu.Unlock()
	f.waitTag(base, "slow", 2, appsv1beta1.ImagePhasePulling)

	failedAt := metav1.Now().Rfc3339Copy()
	err := wait.PollUntilContextTimeout(f.ctx, 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		ni := f.get()
		ni.Status.ImageStatuses[base] = appsv1beta1.ImageStatus{Tags: []appsv1beta1.ImageTagStatus{{
			Tag: "slow", Version: 2, Phase: appsv1beta1.ImagePhaseFailed, CompletionTime: &failedAt, Message: "pulling exceeds the activeDeadlineSeconds",
		}}}
		_, err := f.kruise.AppsV1beta1().NodeImages().UpdateStatus(f.ctx, ni, metav1.UpdateOptions{})
		return err == nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(f.ctx, 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return f.workerCount() == 0, nil
	})
	if err != nil {
		t.Fatalf("%d workers left; the failed round's pull must stop", f.workerCount())
	}
	// Give the daemon time to write, were it to undo the Failed.
	time.Sleep(300 * time.Millisecond)
	st := tagStatusIn(&f.get().Status, base, "slow")
	if st == nil || st.Version != 2 || st.Phase != appsv1beta1.ImagePhaseFailed || st.CompletionTime == nil {
		t.Errorf("status %+v, want the controller's Failed kept", st)
	}
	if n := f.images.pullCount(base + ":slow"); n != 1 {
		t.Errorf("%d pulls; a stopped worker must not retry", n)
	}
}

// TestDeadlineCountsTheWaitForASlot: activeDeadlineSeconds counts from the
// tag's createdAt, so a tag that waits for a pull slot past it fails
// without pulling.
func TestDeadlineCountsTheWaitForASlot(t *testing.T) {
	f := newFixture(t, nodeImage(nil))
	f.images.mu.Lock()
	f.images.blockPulls = true
	f.images.registry[base+":late"] = "sha256:l"
	f.images.mu.Unlock()
	// newFixture's controller allows 5 pulls at once: all taken.
	var tags []appsv1beta1.ImageTagSpec
	for i := 0; i < 5; i++ {
		tags = append(tags, tagSpec(fmt.Sprintf("t%d", i), 0, appsv1beta1.PullAlways, 300, 0))
	}
	f.setSpec(appsv1beta1.NodeImageSpec{Images: map[string]appsv1beta1.ImageSpec{base: {Tags: tags}}})
	err := wait.PollUntilContextTimeout(f.ctx, 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return f.get().Status.Pulling == 5, nil
	})
	if err != nil {
		t.Fatalf("status %+v, want 5 pulling", f.get().Status)
	}

	created := metav1.Now()
	late := tagSpec("late", 0, appsv1beta1.PullAlways, 300, 3)
	late.CreatedAt = &created
	late.PullPolicy.ActiveDeadlineSeconds = ptr.To[int64](2)
	f.setSpec(appsv1beta1.NodeImageSpec{Images: map[string]appsv1beta1.ImageSpec{base: {Tags: append(tags, late)}}})
	f.waitTag(base, "late", 0, appsv1beta1.ImagePhaseWaiting)
	st := f.waitTag(base, "late", 0, appsv1beta1.ImagePhaseFailed)
	if st.Message != "pulling exceeds the activeDeadlineSeconds" || st.StartTime != nil || st.CompletionTime == nil {
		t.Errorf("status %+v, want failed past the deadline, never started", st)
	}
	if n := f.images.pullCount(base + ":late"); n != 0 {
		t.Errorf("late pulled %d times, want none", n)
	}
}
