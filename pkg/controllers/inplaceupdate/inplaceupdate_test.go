package inplaceupdate

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kubefake "k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	testingclock "k8s.io/utils/clock/testing"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func template() *corev1.PodTemplateSpec {
	return &corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web", "tier": "a"}},
		Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "init", Image: "busybox:1"}},
			Containers: []corev1.Container{
				{Name: "main", Image: "nginx:1"},
				{Name: "side", Image: "envoy:1"},
			},
		},
	}
}

// revision records the template as a workload revision does.
func revision(t *testing.T, name string, tpl *corev1.PodTemplateSpec) *appsv1.ControllerRevision {
	t.Helper()
	raw, err := json.Marshal(tpl)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["$patch"] = "replace"
	data, err := json.Marshal(map[string]any{"spec": map[string]any{"template": m}})
	if err != nil {
		t.Fatal(err)
	}
	return &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: runtime.RawExtension{Raw: data}}
}

func TestCalculateSpec(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*corev1.PodTemplateSpec)
		images map[string]string
		meta   string // the metadata patch, "" for none
		nilOK  bool   // nil expected: re-create
	}{
		{name: "one image", mutate: func(p *corev1.PodTemplateSpec) { p.Spec.Containers[1].Image = "envoy:2" },
			images: map[string]string{"side": "envoy:2"}},
		{name: "two images", mutate: func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Image = "nginx:2"
			p.Spec.Containers[1].Image = "envoy@sha256:abc"
		}, images: map[string]string{"main": "nginx:2", "side": "envoy@sha256:abc"}},
		{name: "image and labels", mutate: func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Image = "nginx:2"
			p.Labels["version"] = "2"
			delete(p.Labels, "tier")
			p.Annotations = map[string]string{"note": "x"}
		}, images: map[string]string{"main": "nginx:2"},
			meta: `{"metadata":{"annotations":{"note":"x"},"labels":{"tier":null,"version":"2"}}}`},
		{name: "labels only", mutate: func(p *corev1.PodTemplateSpec) { p.Labels["version"] = "2" },
			images: map[string]string{}, meta: `{"metadata":{"labels":{"version":"2"}}}`},
		{name: "env", mutate: func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Image = "nginx:2"
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", Value: "b"}}
		}, nilOK: true},
		{name: "init container image", mutate: func(p *corev1.PodTemplateSpec) { p.Spec.InitContainers[0].Image = "busybox:2" }, nilOK: true},
		{name: "container added", mutate: func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "x", Image: "x:1"})
		}, nilOK: true},
		{name: "container renamed", mutate: func(p *corev1.PodTemplateSpec) { p.Spec.Containers[1].Name = "proxy" }, nilOK: true},
		{name: "containers swapped", mutate: func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0], p.Spec.Containers[1] = p.Spec.Containers[1], p.Spec.Containers[0]
		}, nilOK: true},
		{name: "image removed", mutate: func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].Image = "" }, nilOK: true},
		{name: "resources", mutate: func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}
		}, nilOK: true},
	}
	old := revision(t, "web-1", template())
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tpl := template()
			tc.mutate(tpl)
			spec := CalculateSpec(old, revision(t, "web-2", tpl), &Options{GracePeriodSeconds: 7})
			if tc.nilOK {
				if spec != nil {
					t.Fatalf("in place: %+v", spec)
				}
				return
			}
			if spec == nil {
				t.Fatal("not in place")
			}
			if spec.Revision != "web-2" || spec.GraceSeconds != 7 {
				t.Errorf("spec %+v", spec)
			}
			if len(spec.ContainerImages) != len(tc.images) {
				t.Errorf("images %v, want %v", spec.ContainerImages, tc.images)
			}
			for k, v := range tc.images {
				if spec.ContainerImages[k] != v {
					t.Errorf("images %v, want %v", spec.ContainerImages, tc.images)
				}
			}
			if string(spec.MetaDataPatch) != tc.meta {
				t.Errorf("metadata patch %s, want %s", spec.MetaDataPatch, tc.meta)
			}
		})
	}
	if CalculateSpec(nil, old, nil) != nil || CalculateSpec(old, nil, nil) != nil {
		t.Error("in place without a revision")
	}
}

func TestCheckCompleted(t *testing.T) {
	state := `{"revision":"web-2","updateTimestamp":"2026-03-01T12:00:00Z","lastContainerStatuses":{"main":{"imageID":"sha-1"}}}`
	pod := func(image, imageID string, ready bool, started *bool) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "p", Annotations: map[string]string{StateAnnotation: state}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "nginx:2"}}},
			Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{
				{Name: "main", Image: image, ImageID: imageID, Ready: ready, Started: started},
			}},
		}
	}
	cases := []struct {
		name string
		pod  *corev1.Pod
		done bool
	}{
		{"old container still runs", pod("nginx:1", "sha-1", true, ptr.To(true)), false},
		{"new image not started", pod("nginx:2", "sha-2", false, ptr.To(false)), false},
		{"new image started, not ready", pod("nginx:2", "sha-2", false, ptr.To(true)), true},
		{"new image ready", pod("nginx:2", "sha-2", true, nil), true},
		{"new tag of the same image", pod("nginx:2", "sha-1", true, ptr.To(true)), true},
		{"no status", func() *corev1.Pod { p := pod("", "", false, nil); p.Status.ContainerStatuses = nil; return p }(), false},
		{"in the grace period", func() *corev1.Pod {
			p := pod("nginx:2", "sha-2", true, ptr.To(true))
			p.Annotations[GraceAnnotation] = `{"revision":"web-2"}`
			return p
		}(), false},
		{"no update", &corev1.Pod{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := CheckCompleted(tc.pod); (err == nil) != tc.done {
				t.Errorf("CheckCompleted: %v, want done %v", err, tc.done)
			}
		})
	}
}

func TestWithDefaultTag(t *testing.T) {
	for in, want := range map[string]string{
		"nginx": "nginx:latest", "nginx:1": "nginx:1", "reg:5000/nginx": "reg:5000/nginx:latest",
		"reg:5000/nginx:2": "reg:5000/nginx:2", "nginx@sha256:abc": "nginx@sha256:abc",
	} {
		if got := withDefaultTag(in); got != want {
			t.Errorf("withDefaultTag(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestUpdateAndRefresh runs one update through the fake API server: the
// condition, the patch (after a grace period), the state, and the end.
func TestUpdateAndRefresh(t *testing.T) {
	ctx := context.Background()
	oldTpl, newTpl := template(), template()
	newTpl.Spec.Containers[0].Image = "nginx:2"
	newTpl.Labels["version"] = "2"
	oldRev, newRev := revision(t, "web-1", oldTpl), revision(t, "web-2", newTpl)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-a", Namespace: "default", UID: "uid-a",
			Labels: map[string]string{"app": "web", "tier": "a", appsv1.ControllerRevisionHashLabelKey: "web-1"}},
		Spec: corev1.PodSpec{
			Containers:     oldTpl.Spec.Containers,
			ReadinessGates: []corev1.PodReadinessGate{{ConditionType: ReadyCondition}},
		},
		Status: corev1.PodStatus{
			Conditions: []corev1.PodCondition{
				{Type: ReadyCondition, Status: corev1.ConditionTrue},
				{Type: corev1.ContainersReady, Status: corev1.ConditionTrue},
				{Type: corev1.PodReady, Status: corev1.ConditionTrue},
			},
			ContainerStatuses: []corev1.ContainerStatus{
				{Name: "main", Image: "nginx:1", ImageID: "sha-main-1", Ready: true, Started: ptr.To(true)},
				{Name: "side", Image: "envoy:1", ImageID: "sha-side-1", Ready: true, Started: ptr.To(true)},
			},
		},
	}
	client := kubefake.NewClientset(pod)
	clk := testingclock.NewFakeClock(t0)
	c := New(client, clk, nil)
	get := func() *corev1.Pod {
		p, err := client.CoreV1().Pods("default").Get(ctx, "web-a", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	if !c.CanUpdateInPlace(oldRev, newRev, nil) {
		t.Fatal("cannot update in place")
	}
	marked := false
	res := c.Update(ctx, pod, oldRev, newRev, &Options{
		GracePeriodSeconds: 5,
		AdditionalFuncs:    []func(*corev1.Pod){func(p *corev1.Pod) { marked = true; p.Labels["state"] = "Updating" }},
	})
	if !res.InPlaceUpdate || res.Err != nil || res.Delay != 5*time.Second || res.Pod == nil {
		t.Fatalf("Update: %+v", res)
	}
	got := get()
	if cond := condition(got, ReadyCondition); cond.Status != corev1.ConditionFalse || cond.Reason != ReasonStartInPlaceUpdate {
		t.Errorf("%s %+v", ReadyCondition, cond)
	}
	if cond := condition(got, corev1.PodReady); cond.Status != corev1.ConditionFalse || cond.Reason != "ReadinessGatesNotReady" {
		t.Errorf("Ready %+v", cond)
	}
	if !marked || got.Labels["state"] != "Updating" || got.Labels[appsv1.ControllerRevisionHashLabelKey] != "web-2" {
		t.Errorf("labels %v", got.Labels)
	}
	if got.Spec.Containers[0].Image != "nginx:1" || got.Labels["version"] != "" {
		t.Errorf("patched within the grace period: %v %v", got.Spec.Containers, got.Labels)
	}
	if !InGracePeriod(got) {
		t.Fatal("no grace annotation")
	}
	if err := CheckCompleted(got); err == nil {
		t.Error("completed within the grace period")
	}

	clk.Step(2 * time.Second)
	if r := c.Refresh(ctx, got, nil); r.Err != nil || r.Pod != nil || r.Delay != 3*time.Second {
		t.Fatalf("Refresh within the grace period: %+v", r)
	}
	clk.Step(3 * time.Second)
	r := c.Refresh(ctx, got, nil)
	if r.Err != nil || r.Pod == nil {
		t.Fatalf("Refresh after the grace period: %+v", r)
	}
	got = get()
	if got.Spec.Containers[0].Image != "nginx:2" || got.Spec.Containers[1].Image != "envoy:1" || got.Labels["version"] != "2" || InGracePeriod(got) {
		t.Fatalf("after the grace period: %v %v %v", got.Spec.Containers, got.Labels, got.Annotations)
	}
	state, ok, err := GetState(got)
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	if state.Revision != "web-2" || !state.UpdateTimestamp.Time.Equal(t0) || len(state.LastContainerStatuses) != 1 ||
		state.LastContainerStatuses["main"].ImageID != "sha-main-1" || len(state.ContainerBatchesRecord) != 1 ||
		strings.Join(state.ContainerBatchesRecord[0].Containers, ",") != "main" {
		t.Errorf("state %s", got.Annotations[StateAnnotation])
	}

	// Not done: nothing written.
	client.ClearActions()
	if r := c.Refresh(ctx, got, nil); r.Err != nil || r.Pod != nil {
		t.Fatalf("Refresh before the kubelet: %+v", r)
	}
	if n := len(writes(client.Actions())); n != 0 {
		t.Errorf("%d writes", n)
	}
	// The kubelet restarted the container.
	got.Status.ContainerStatuses[0] = corev1.ContainerStatus{Name: "main", Image: "nginx:2", ImageID: "sha-main-2", Ready: true, Started: ptr.To(true)}
	if got, err = client.CoreV1().Pods("default").UpdateStatus(ctx, got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if r := c.Refresh(ctx, got, nil); r.Err != nil || r.Pod == nil {
		t.Fatalf("Refresh after the kubelet: %+v", r)
	}
	if cond := condition(get(), ReadyCondition); cond.Status != corev1.ConditionTrue || cond.Reason != "" {
		t.Errorf("%s %+v", ReadyCondition, cond)
	}
	if r := c.Refresh(ctx, get(), nil); r.Pod != nil {
		t.Errorf("written again: %+v", r)
	}
}

func TestGraceDroppedWhenTheRevisionMovedOn(t *testing.T) {
	ctx := context.Background()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Name: "p", Namespace: "default",
		Labels: map[string]string{appsv1.ControllerRevisionHashLabelKey: "web-3"},
		Annotations: map[string]string{
			StateAnnotation: `{"revision":"web-2","updateTimestamp":"2026-03-01T12:00:00Z","lastContainerStatuses":null}`,
			GraceAnnotation: `{"revision":"web-2","containerImages":{"main":"nginx:2"},"graceSeconds":60}`,
		},
	}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "nginx:1"}}}}
	client := kubefake.NewClientset(pod)
	c := New(client, testingclock.NewFakeClock(t0), nil)
	if r := c.Refresh(ctx, pod, nil); r.Err != nil || r.Pod == nil {
		t.Fatalf("Refresh %+v", r)
	}
	got, _ := client.CoreV1().Pods("default").Get(ctx, "p", metav1.GetOptions{})
	if InGracePeriod(got) || got.Spec.Containers[0].Image != "nginx:1" {
		t.Errorf("Pod %v %v", got.Annotations, got.Spec.Containers)
	}
}

func TestUpdateRetriesConflicts(t *testing.T) {
	ctx := context.Background()
	oldTpl, newTpl := template(), template()
	newTpl.Spec.Containers[0].Image = "nginx:2"
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", UID: "u", Labels: map[string]string{}},
		Spec:       corev1.PodSpec{Containers: oldTpl.Spec.Containers},
	}
	client := kubefake.NewClientset(pod)
	conflicts := 1
	client.PrependReactor("update", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
		if conflicts > 0 && a.GetSubresource() == "" {
			conflicts--
			return true, nil, apierrors.NewConflict(corev1.Resource("pods"), "p", errors.New("changed"))
		}
		return false, nil, nil
	})
	c := New(client, testingclock.NewFakeClock(t0), nil)
	res := c.Update(ctx, pod, revision(t, "web-1", oldTpl), revision(t, "web-2", newTpl), nil)
	if res.Err != nil || res.Pod == nil || res.Pod.Spec.Containers[0].Image != "nginx:2" {
		t.Fatalf("Update %+v", res)
	}
	gets := 0
	for _, a := range client.Actions() {
		if a.GetVerb() == "get" {
			gets++
		}
	}
	if gets != 1 {
		t.Errorf("%d reads after a conflict", gets)
	}
}

func condition(pod *corev1.Pod, t corev1.PodConditionType) corev1.PodCondition {
	for _, c := range pod.Status.Conditions {
		if c.Type == t {
			return c
		}
	}
	return corev1.PodCondition{}
}

func writes(actions []clienttesting.Action) []clienttesting.Action {
	var out []clienttesting.Action
	for _, a := range actions {
		switch a.GetVerb() {
		case "create", "update", "patch", "delete":
			out = append(out, a)
		}
	}
	return out
}
