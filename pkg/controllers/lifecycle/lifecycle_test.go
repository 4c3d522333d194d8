package lifecycle

import (
	"context"
	"reflect"
	"sort"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubefake "k8s.io/client-go/kubernetes/fake"
	testingclock "k8s.io/utils/clock/testing"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestHooked(t *testing.T) {
	hook := &appsv1beta1.LifecycleHook{
		LabelsHandler:     map[string]string{"a": "1", "b": "2"},
		FinalizersHandler: []string{"x/f"},
	}
	pod := func(labels map[string]string, finalizers ...string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: labels, Finalizers: finalizers}}
	}
	cases := []struct {
		name      string
		pod       *corev1.Pod
		any, all_ bool
	}{
		{"nothing", pod(nil), false, false},
		{"one label", pod(map[string]string{"a": "1"}), true, false},
		{"label with another value", pod(map[string]string{"a": "2"}), false, false},
		{"finalizer", pod(nil, "x/f"), true, false},
		{"all", pod(map[string]string{"a": "1", "b": "2"}, "x/f"), true, true},
	}
	for _, tc := range cases {
		if got := IsPodHooked(hook, tc.pod); got != tc.any {
			t.Errorf("%s: IsPodHooked %v", tc.name, got)
		}
		if got := IsPodAllHooked(hook, tc.pod); got != tc.all_ {
			t.Errorf("%s: IsPodAllHooked %v", tc.name, got)
		}
	}
	if IsPodHooked(nil, pod(nil)) || IsPodAllHooked(nil, pod(nil)) {
		t.Error("hooked without a hook")
	}
	if !IsLifecycleMarkPodNotReady(&appsv1beta1.Lifecycle{InPlaceUpdate: &appsv1beta1.LifecycleHook{MarkPodNotReady: true}}) ||
		IsLifecycleMarkPodNotReady(&appsv1beta1.Lifecycle{PreNormal: &appsv1beta1.LifecycleHook{MarkPodNotReady: true}}) {
		t.Error("IsLifecycleMarkPodNotReady")
	}
}

func newPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", UID: "u", Labels: map[string]string{StateLabel: string(StateNormal)}},
		Spec: corev1.PodSpec{ReadinessGates: []corev1.PodReadinessGate{
			{ConditionType: "InPlaceUpdateReady"}, {ConditionType: KruisePodReady},
		}},
		Status: corev1.PodStatus{Conditions: []corev1.PodCondition{
			{Type: "InPlaceUpdateReady", Status: corev1.ConditionTrue},
			{Type: KruisePodReady, Status: corev1.ConditionTrue},
			{Type: corev1.ContainersReady, Status: corev1.ConditionTrue},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue},
		}},
	}
}

func get(t *testing.T, client *kubefake.Clientset) *corev1.Pod {
	t.Helper()
	p, err := client.CoreV1().Pods("default").Get(context.Background(), "p", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUpdatePodLifecycleMarkPodNotReady(t *testing.T) {
	ctx := context.Background()
	client := kubefake.NewClientset(newPod())
	c := New(client, testingclock.NewFakeClock(t0))

	updated, written, err := c.UpdatePodLifecycle(ctx, get(t, client), StatePreparingDelete, true)
	if err != nil || !updated || written == nil {
		t.Fatalf("UpdatePodLifecycle: %v %v %v", updated, written, err)
	}
	pod := get(t, client)
	if GetState(pod) != StatePreparingDelete || pod.Annotations[TimestampAnnotation] != "2026-03-01T12:00:00Z" {
		t.Errorf("labels %v annotations %v", pod.Labels, pod.Annotations)
	}
	cond := GetCondition(pod, KruisePodReady)
	if cond.Status != corev1.ConditionFalse || cond.Message != `[{"userAgent":"Lifecycle","key":"preDeleteHook"}]` {
		t.Errorf("KruisePodReady %+v", cond)
	}
	if ready := GetCondition(pod, corev1.PodReady); ready.Status != corev1.ConditionFalse {
		t.Errorf("Ready %+v", ready)
	}

	// Again: nothing to write.
	updated, written, err = c.UpdatePodLifecycle(ctx, pod, StatePreparingDelete, true)
	if err != nil || updated || written != nil {
		t.Errorf("second call: %v %v %v", updated, written, err)
	}
}

func TestNotReadyKeys(t *testing.T) {
	ctx := context.Background()
	client := kubefake.NewClientset(newPod())
	c := New(client, testingclock.NewFakeClock(t0))

	if _, err := c.AddNotReadyKey(ctx, get(t, client), preUpdateHookKey); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddNotReadyKey(ctx, get(t, client), preDeleteHookKey); err != nil {
		t.Fatal(err)
	}
	cond := GetCondition(get(t, client), KruisePodReady)
	if cond.Status != corev1.ConditionFalse ||
		cond.Message != `[{"userAgent":"Lifecycle","key":"preDeleteHook"},{"userAgent":"Lifecycle","key":"preUpdateHook"}]` {
		t.Fatalf("KruisePodReady %+v", cond)
	}
	// One key gone: still held by the other.
	if w, err := c.RemoveNotReadyKey(ctx, get(t, client), preUpdateHookKey); err != nil || w == nil {
		t.Fatal(w, err)
	}
	cond = GetCondition(get(t, client), KruisePodReady)
	if cond.Status != corev1.ConditionFalse || cond.Message != `[{"userAgent":"Lifecycle","key":"preDeleteHook"}]` {
		t.Fatalf("KruisePodReady %+v", cond)
	}
	// Removing it again writes nothing.
	if w, err := c.RemoveNotReadyKey(ctx, get(t, client), preUpdateHookKey); err != nil || w != nil {
		t.Fatal(w, err)
	}
	if _, err := c.RemoveNotReadyKey(ctx, get(t, client), preDeleteHookKey); err != nil {
		t.Fatal(err)
	}
	if cond := GetCondition(get(t, client), KruisePodReady); cond.Status != corev1.ConditionTrue || cond.Message != "[]" {
		t.Fatalf("KruisePodReady %+v", cond)
	}

	// A Pod without the gate is left alone.
	pod := newPod()
	pod.Name = "nogate"
	pod.Spec.ReadinessGates = nil
	client = kubefake.NewClientset(pod)
	c = New(client, testingclock.NewFakeClock(t0))
	if w, err := c.AddNotReadyKey(ctx, pod, preDeleteHookKey); err != nil || w != nil {
		t.Fatal(w, err)
	}
}

func TestEnsureReadyCondition(t *testing.T) {
	ctx := context.Background()
	pod := newPod()
	pod.Status.Conditions = pod.Status.Conditions[:1]
	client := kubefake.NewClientset(pod)
	c := New(client, testingclock.NewFakeClock(t0))
	if w, err := c.EnsureReadyCondition(ctx, pod); err != nil || w == nil {
		t.Fatal(w, err)
	}
	if cond := GetCondition(get(t, client), KruisePodReady); cond == nil || cond.Status != corev1.ConditionTrue {
		t.Fatalf("KruisePodReady %+v", cond)
	}
	if w, err := c.EnsureReadyCondition(ctx, get(t, client)); err != nil || w != nil {
		t.Fatal(w, err)
	}
}

func TestUpdatePodLifecycleWithHandler(t *testing.T) {
	ctx := context.Background()
	pod := newPod()
	pod.Labels[StateLabel] = string(StateUpdated)
	pod.Finalizers = []string{"other/f"}
	client := kubefake.NewClientset(pod)
	c := New(client, testingclock.NewFakeClock(t0))
	hook := &appsv1beta1.LifecycleHook{LabelsHandler: map[string]string{"serving": "true"}, FinalizersHandler: []string{"x/f"}, MarkPodNotReady: true}
	updated, _, err := c.UpdatePodLifecycleWithHandler(ctx, pod, StatePreparingUpdate, hook)
	if err != nil || !updated {
		t.Fatal(updated, err)
	}
	got := get(t, client)
	finalizers := append([]string(nil), got.Finalizers...)
	sort.Strings(finalizers)
	if GetState(got) != StatePreparingUpdate || got.Labels["serving"] != "true" || !reflect.DeepEqual(finalizers, []string{"other/f", "x/f"}) {
		t.Errorf("labels %v finalizers %v", got.Labels, got.Finalizers)
	}
	if cond := GetCondition(got, KruisePodReady); cond.Status != corev1.ConditionFalse {
		t.Errorf("KruisePodReady %+v", cond)
	}
	// Updated and Normal let the preUpdateHook key go.
	if _, _, err := c.UpdatePodLifecycle(ctx, got, StateNormal, true); err != nil {
		t.Fatal(err)
	}
	if cond := GetCondition(get(t, client), KruisePodReady); cond.Status != corev1.ConditionTrue {
		t.Errorf("KruisePodReady %+v after Normal", cond)
	}
	if updated, _, _ := c.UpdatePodLifecycleWithHandler(ctx, got, StatePreparingUpdate, nil); updated {
		t.Error("updated without a hook")
	}
}
