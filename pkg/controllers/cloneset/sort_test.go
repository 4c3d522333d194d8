package cloneset

import (
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

// The scatter cases are OpenKruise's: Pods 0..len(want)-1 wait for the
// update (a nil label map is a Pod slot that is empty), the others exist
// but do not wait.
func TestScatter(t *testing.T) {
	type L = map[string]string
	a, b, c := L{"labelA": "AAA"}, L{"labelB": "BBB"}, L{"labelC": "CCC"}
	ab := L{"labelA": "AAA", "labelB": "BBB"}
	termA := appsv1beta1.UpdateScatterTerm{Key: "labelA", Value: "AAA"}
	termB := appsv1beta1.UpdateScatterTerm{Key: "labelB", Value: "BBB"}
	termC := appsv1beta1.UpdateScatterTerm{Key: "labelC", Value: "CCC"}
	cases := []struct {
		name   string
		labels []L
		terms  appsv1beta1.UpdateScatterStrategy
		want   []int
	}{
		{"one pod", []L{ab}, appsv1beta1.UpdateScatterStrategy{termA}, []int{0}},
		{"no terms", []L{{}, {}, {}, {}, {}, {}}, nil, []int{0, 1, 2, 3, 4, 5}},
		{"one term", []L{{}, {}, {}, {}, a, a}, appsv1beta1.UpdateScatterStrategy{termA}, []int{4, 0, 1, 2, 3, 5}},
		{"one term, other labels", []L{{}, {}, {}, {}, {"sdfb": "eee"}, {"dsf": "same"}, b, a, a, ab},
			appsv1beta1.UpdateScatterStrategy{termB}, []int{6, 0, 1, 2, 3, 4, 5, 7, 8, 9}},
		{"two terms", []L{b, b, {}, {}, a, a}, appsv1beta1.UpdateScatterStrategy{termA, termB}, []int{0, 4, 2, 3, 5, 1}},
		{"two terms, one pod with both", []L{{}, {}, {}, b, ab, a}, appsv1beta1.UpdateScatterStrategy{termA, termB}, []int{4, 0, 1, 2, 5, 3}},
		{"two terms, B then A", []L{{}, {}, {}, {}, {"sdfb": "eee"}, {"dsf": "same"}, b, a, a, b},
			appsv1beta1.UpdateScatterStrategy{termB, termA}, []int{7, 6, 0, 1, 2, 3, 4, 5, 9, 8}},
		{"two terms, A then B", []L{{}, {}, {}, {}, {"sdfb": "eee"}, {"dsf": "same"}, b, a, a, b},
			appsv1beta1.UpdateScatterStrategy{termA, termB}, []int{6, 7, 0, 1, 2, 3, 4, 5, 8, 9}},
		{"not all waiting", []L{{}, {}, {}, a, {"sdfb": "eee"}, {"dsf": "same"}, ab, {}, {}, {}},
			appsv1beta1.UpdateScatterStrategy{termA, termB}, []int{3, 0, 1, 2, 4, 5, 7, 6}},
		{"three terms", []L{{}, a, a, b, b, c, c, c, c, c}, appsv1beta1.UpdateScatterStrategy{termA, termB, termC},
			[]int{3, 1, 5, 0, 6, 7, 8, 9, 2, 4}},
		{"continuous 1", []L{{}, {}, {}, {}, a, a, a}, appsv1beta1.UpdateScatterStrategy{termA}, []int{0, 1, 4, 2, 3, 5}},
		{"continuous 2", []L{a, a, {}, {}, {}, {}, {}, {}, {}, a}, appsv1beta1.UpdateScatterStrategy{termA}, []int{2, 0, 3, 4, 5, 6, 1}},
		{"empty slot", []L{{}, a, {"labelA": "AAA", "labelC": "CCC"}, {"labelB": "BBB", "labelC": "CCC"}, b, nil, {}, {}, c, c, c},
			appsv1beta1.UpdateScatterStrategy{termA, termB, termC}, []int{3, 2, 0, 8, 9, 6, 7, 10, 1, 4}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var pods []*corev1.Pod
			var indexes []int
			empty := 0
			for i := range tc.labels {
				if tc.labels[i] == nil {
					pods = append(pods, nil)
					empty++
					continue
				}
				pods = append(pods, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint(i), Labels: tc.labels[i]}})
				if len(indexes) < len(tc.want) && i < len(tc.want)+empty {
					indexes = append(indexes, i)
				}
			}
			got := indexes
			if len(tc.terms) > 0 {
				got = scatter(tc.terms, pods, indexes)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSortByPriority(t *testing.T) {
	weights := &appsv1beta1.UpdatePriorityStrategy{WeightPriority: []appsv1beta1.UpdatePriorityWeightTerm{
		{Weight: 20, MatchSelector: metav1.LabelSelector{MatchLabels: map[string]string{"key1": "foo"}}},
		{Weight: 10, MatchSelector: metav1.LabelSelector{MatchLabels: map[string]string{"key2": "bar"}}},
		{Weight: 15, MatchSelector: metav1.LabelSelector{MatchLabels: map[string]string{"key3": "baz"}}},
	}}
	orders := &appsv1beta1.UpdatePriorityStrategy{OrderPriority: []appsv1beta1.UpdatePriorityOrderTerm{
		{OrderedKey: "key1"}, {OrderedKey: "key2"},
	}}
	cases := []struct {
		name     string
		strategy *appsv1beta1.UpdatePriorityStrategy
		labels   []map[string]string
		want     []int
	}{
		{"weights", weights, []map[string]string{
			{}, {"key1": "foo"}, {"key2": "bar", "key3": "baz"}, {"key2": "bar"}, {"key3": "baz"},
		}, []int{2, 1, 4, 3, 0}},
		{"weights, ties keep order", weights, []map[string]string{{}, {}, {"key1": "foo"}, {}}, []int{2, 0, 1, 3}},
		{"orders: first key first, higher value first, no key before all", orders, []map[string]string{
			{"key2": "o-20"}, {"key1": "o-5"}, {"key1": "o-10"}, {}, {"key2": "x"}, {"key1": "o-10"},
		}, []int{3, 2, 5, 1, 0, 4}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var pods []*corev1.Pod
			var indexes []int
			for i, l := range tc.labels {
				pods = append(pods, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint(i), Labels: l}})
				indexes = append(indexes, i)
			}
			sortByPriority(tc.strategy, pods, indexes)
			if !reflect.DeepEqual(indexes, tc.want) {
				t.Errorf("got %v, want %v", indexes, tc.want)
			}
		})
	}
}

func TestDeletionOrder(t *testing.T) {
	now := t0
	mk := func(name string, mutate func(*corev1.Pod)) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{},
			CreationTimestamp: metav1.NewTime(now.Add(-10 * time.Hour))}}
		setRunning(p, now.Add(-5*time.Hour))
		p.Spec.NodeName = "node-" + name
		mutate(p)
		return p
	}
	pods := []*corev1.Pod{
		mk("old-ready", func(*corev1.Pod) {}),
		mk("expensive", func(p *corev1.Pod) { p.Annotations[PodDeletionCostAnnotation] = "100" }),
		mk("cheap", func(p *corev1.Pod) { p.Annotations[PodDeletionCostAnnotation] = "-100" }),
		mk("invalid-cost", func(p *corev1.Pod) { p.Annotations[PodDeletionCostAnnotation] = "+5" }),
		mk("restarts", func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{RestartCount: 3}}
		}),
		mk("recently-ready", func(p *corev1.Pod) { p.Status.Conditions[2].LastTransitionTime = metav1.NewTime(now.Add(-time.Minute)) }),
		mk("not-ready", func(p *corev1.Pod) { p.Status.Conditions[2].Status = corev1.ConditionFalse }),
		mk("pending", func(p *corev1.Pod) { p.Status.Phase = corev1.PodPending }),
		mk("unscheduled", func(p *corev1.Pod) { p.Spec.NodeName = ""; p.Status.Phase = corev1.PodPending }),
		mk("preparing-normal", func(p *corev1.Pod) { p.Labels[LifecycleStateLabel] = string(statePreparingNormal) }),
	}
	sort.SliceStable(pods, deletionOrder(pods, 0, now))
	want := []string{"unscheduled", "pending", "not-ready", "preparing-normal", "cheap",
		"recently-ready", "restarts", "old-ready", "invalid-cost", "expensive"}
	if got := podNames(pods); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}
