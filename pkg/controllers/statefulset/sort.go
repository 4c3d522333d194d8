package statefulset

import (
	"sort"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

// sortByPriority orders the indexes of pods by OpenKruise's update
// priority, stably:
//
//   - weightPriority: by the sum of the weights of the terms whose selector
//     matches the Pod, highest first;
//   - orderPriority (when no weights are given): by the first of the keys
//     the Pod has a label for, earlier keys first (a Pod with none of them
//     ranks before all, as in OpenKruise), then by the number that label's
//     value ends with, highest first.
func sortByPriority(p *appsv1beta1.UpdatePriorityStrategy, pods []*corev1.Pod, indexes []int) {
	if p == nil {
		return
	}
	switch {
	case len(p.WeightPriority) > 0:
		selectors := make([]labels.Selector, len(p.WeightPriority))
		for i := range p.WeightPriority {
			s, err := metav1.LabelSelectorAsSelector(&p.WeightPriority[i].MatchSelector)
			if err != nil {
				s = labels.Nothing()
			}
			selectors[i] = s
		}
		weight := func(pod *corev1.Pod) int64 {
			var w int64
			for i, s := range selectors {
				if s.Matches(labels.Set(pod.Labels)) {
					w += int64(p.WeightPriority[i].Weight)
				}
			}
			return w
		}
		sort.SliceStable(indexes, func(i, j int) bool {
			return weight(pods[indexes[i]]) > weight(pods[indexes[j]])
		})
	case len(p.OrderPriority) > 0:
		rank := func(pod *corev1.Pod) (int, int64) {
			for level, term := range p.OrderPriority {
				if v, ok := pod.Labels[term.OrderedKey]; ok {
					return level, trailingNumber(v)
				}
			}
			return -1, 0
		}
		sort.SliceStable(indexes, func(i, j int) bool {
			li, oi := rank(pods[indexes[i]])
			lj, oj := rank(pods[indexes[j]])
			if li != lj {
				return li < lj
			}
			return oi > oj
		})
	}
}

// trailingNumber returns the number a string ends with, or 0.
func trailingNumber(v string) int64 {
	start := len(v)
	for start > 0 && v[start-1] >= '0' && v[start-1] <= '9' {
		start--
	}
	if start == len(v) {
		return 0
	}
	n, err := strconv.ParseInt(v[start:], 10, 64)
	if err != nil {
		return 0
	}
	return n
}
