package cloneset

import (
	"math"
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

var phaseOrder = map[corev1.PodPhase]int{corev1.PodPending: 0, corev1.PodUnknown: 1, corev1.PodRunning: 2}

// afterOrZero reports whether t1 is after t2, a zero time counting as the
// latest.
func afterOrZero(t1, t2 metav1.Time) bool {
	if t1.IsZero() || t2.IsZero() {
		return t1.IsZero()
	}
	return t1.After(t2.Time)
}

// activeLess is kube-controller-manager's order of "least valuable first":
// unscheduled, then Pending before Unknown before Running, not ready, ready
// for less time, more restarts, newer.
func activeLess(a, b *corev1.Pod) bool {
	if a.Spec.NodeName != b.Spec.NodeName && (a.Spec.NodeName == "" || b.Spec.NodeName == "") {
		return a.Spec.NodeName == ""
	}
	if phaseOrder[a.Status.Phase] != phaseOrder[b.Status.Phase] {
		return phaseOrder[a.Status.Phase] < phaseOrder[b.Status.Phase]
	}
	if isPodReady(a) != isPodReady(b) {
		return !isPodReady(a)
	}
	return activeTail(a, b)
}

// activeTail compares ready time, restarts and age.
func activeTail(a, b *corev1.Pod) bool {
	if isPodReady(a) && isPodReady(b) {
		ra, rb := readySince(a), readySince(b)
		if !ra.Equal(&rb) {
			return afterOrZero(ra, rb)
		}
	}
	if ra, rb := maxRestarts(a), maxRestarts(b); ra != rb {
		return ra > rb
	}
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return afterOrZero(a.CreationTimestamp, b.CreationTimestamp)
	}
	return false
}

// deletionOrder returns the less function of sort.Slice that puts the Pods
// to delete first on scale-in (OpenKruise's order): unscheduled, Pending,
// unavailable, not ready, lower controller.kubernetes.io/pod-deletion-cost,
// sharing a node with more of the CloneSet's Pods, ready for less time, more
// restarts, newer.
func deletionOrder(pods []*corev1.Pod, minReadySeconds int32, now time.Time) func(i, j int) bool {
	ranks := sameNodeRanks(pods)
	available := func(p *corev1.Pod) bool { return isPodAvailable(p, minReadySeconds, now) }
	return func(i, j int) bool {
		return deletionLess(pods[i], pods[j], available, ranks)
	}
}

func deletionLess(a, b *corev1.Pod, available func(*corev1.Pod) bool, ranks map[*corev1.Pod]float64) bool {
	if a.Spec.NodeName != b.Spec.NodeName && (a.Spec.NodeName == "" || b.Spec.NodeName == "") {
		return a.Spec.NodeName == ""
	}
	if phaseOrder[a.Status.Phase] != phaseOrder[b.Status.Phase] {
		return phaseOrder[a.Status.Phase] < phaseOrder[b.Status.Phase]
	}
	if available != nil && available(a) != available(b) {
		return !available(a)
	}
	if isPodReady(a) != isPodReady(b) {
		return !isPodReady(a)
	}
	if ca, cb := deletionCost(a), deletionCost(b); ca != cb {
		return ca < cb
	}
	if ra, rb := ranks[a], ranks[b]; ra != rb {
		return ra > rb
	}
	return activeTail(a, b)
}

// sameNodeRanks ranks the Pods that share a node with others of the set:
// on each node, all but the most valuable Pod get a rank, higher for the
// less valuable, so that scale-in spreads over nodes.
func sameNodeRanks(pods []*corev1.Pod) map[*corev1.Pod]float64 {
	ranks := map[*corev1.Pod]float64{}
	byNode := map[string][]*corev1.Pod{}
	for _, p := range pods {
		if p.Spec.NodeName != "" {
			byNode[p.Spec.NodeName] = append(byNode[p.Spec.NodeName], p)
		}
	}
	for _, onNode := range byNode {
		if len(onNode) <= 1 {
			continue
		}
		sorted := append([]*corev1.Pod(nil), onNode...)
		sort.SliceStable(sorted, func(i, j int) bool { return deletionLess(sorted[i], sorted[j], nil, nil) })
		sorted = sorted[:len(sorted)-1]
		for i, p := range sorted {
			ranks[p] = float64(len(sorted) - i)
		}
	}
	return ranks
}

// sortForUpdate orders the indexes (into pods) of the Pods waiting to be
// updated: kube-controller-manager's order (unscheduled, not ready, ...
// first), then rollingUpdate.priorityStrategy, then scatterStrategy, and
// Pods already in PreparingUpdate first of all.
func sortForUpdate(cs *appsv1beta1.CloneSet, pods []*corev1.Pod, indexes []int) []int {
	sort.SliceStable(indexes, func(i, j int) bool { return activeLess(pods[indexes[i]], pods[indexes[j]]) })
	if ru := cs.Spec.UpdateStrategy.RollingUpdate; ru != nil {
		if ru.PriorityStrategy != nil {
			sortByPriority(ru.PriorityStrategy, pods, indexes)
		}
		if len(ru.ScatterStrategy) > 0 {
			indexes = scatter(ru.ScatterStrategy, pods, indexes)
		}
	}
	sort.SliceStable(indexes, func(i, j int) bool {
		return podLifecycleState(pods[indexes[i]]) == statePreparingUpdate &&
			podLifecycleState(pods[indexes[j]]) != statePreparingUpdate
	})
	return indexes
}

// sortByPriority sorts stably by weightPriority (the sum of the weights of
// the matching selectors, higher first) or, without weights, by
// orderPriority: by the first of the keys a Pod has (Pods with none first),
// then by the integer that ends the label's value, higher first.
func sortByPriority(p *appsv1beta1.UpdatePriorityStrategy, pods []*corev1.Pod, indexes []int) {
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
		sort.SliceStable(indexes, func(i, j int) bool { return weight(pods[indexes[i]]) > weight(pods[indexes[j]]) })
	case len(p.OrderPriority) > 0:
		order := func(pod *corev1.Pod) (level int, value int64) {
			for i, term := range p.OrderPriority {
				if v, ok := pod.Labels[term.OrderedKey]; ok {
					return i, trailingInt(v)
				}
			}
			return -1, 0
		}
		sort.SliceStable(indexes, func(i, j int) bool {
			li, vi := order(pods[indexes[i]])
			lj, vj := order(pods[indexes[j]])
			if li != lj {
				return li < lj
			}
			return vi > vj
		})
	}
}

// trailingInt returns the integer the string ends with, or 0.
func trailingInt(s string) int64 {
	start := len(s)
	for start > 0 && s[start-1] >= '0' && s[start-1] <= '9' {
		start--
	}
	if start == len(s) {
		return 0
	}
	n, err := strconv.ParseInt(s[start:], 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// scatter spreads the Pods that match each scatter term over the update
// order, in proportion to how many of all the CloneSet's Pods match, so
// that they are not all updated in the same batch.
func scatter(terms appsv1beta1.UpdateScatterStrategy, pods []*corev1.Pod, indexes []int) []int {
	if len(indexes) <= 1 {
		return indexes
	}
	for _, term := range scatterTerms(terms, pods, indexes) {
		indexes = scatterByTerm(term, pods, indexes)
	}
	return indexes
}

// scatterTerms returns the terms to apply, the one matching most waiting
// Pods first (all of them when there is only one term).
func scatterTerms(terms appsv1beta1.UpdateScatterStrategy, pods []*corev1.Pod, indexes []int) []appsv1beta1.UpdateScatterTerm {
	if len(terms) == 1 {
		return terms
	}
	var out []appsv1beta1.UpdateScatterTerm
	count := map[appsv1beta1.UpdateScatterTerm]int{}
	for _, term := range terms {
		for _, i := range indexes {
			if v, ok := pods[i].Labels[term.Key]; ok && v == term.Value {
				if count[term] == 0 {
					out = append(out, term)
				}
				count[term]++
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return count[out[i]] > count[out[j]] })
	return out
}

func scatterByTerm(term appsv1beta1.UpdateScatterTerm, pods []*corev1.Pod, indexes []int) []int {
	var matched, unmatched []int
	for _, i := range indexes {
		if pods[i].Labels[term.Key] == term.Value {
			matched = append(matched, i)
		} else {
			unmatched = append(unmatched, i)
		}
	}
	if len(matched) <= 1 || len(unmatched) <= 1 {
		return indexes
	}
	var totalMatched, totalUnmatched int
	for _, p := range pods {
		if p == nil {
			continue
		}
		if p.Labels[term.Key] == term.Value {
			totalMatched++
		} else {
			totalUnmatched++
		}
	}

	// The last matching Pod goes last.
	last := matched[len(matched)-1]
	matched = matched[:len(matched)-1]
	totalMatched--

	g := scatterGroupsByDensity(totalMatched, totalUnmatched, len(matched), len(unmatched))
	out := make([]int, 0, len(indexes))
	take := func(from *[]int, n int) {
		n = min(n, len(*from))
		out = append(out, (*from)[:n]...)
		*from = (*from)[n:]
	}
	if g.unmatchedRemainder > 0 {
		take(&unmatched, g.unmatchedRemainder)
	}
	for range g.groups {
		take(&matched, g.matchedSize)
		take(&unmatched, g.unmatchedSize)
	}
	out = append(out, matched...)
	out = append(out, unmatched...)
	return append(out, last)
}

type scatterGroups struct {
	groups, matchedSize, unmatchedSize, unmatchedRemainder int
}

func newScatterGroups(matched, unmatched int) scatterGroups {
	g := scatterGroups{groups: min(matched, unmatched)}
	if g.groups == 0 {
		return g
	}
	g.matchedSize = int(math.Round(float64(matched) / float64(g.groups)))
	g.unmatchedSize = int(math.Round(float64(unmatched) / float64(g.groups)))
	return g
}

// scatterGroupsByDensity groups the waiting Pods like the waiting Pods are
// spread, unless matching Pods are denser among them than among all Pods:
// then like all Pods are spread, leading with the unmatched remainder.
func scatterGroupsByDensity(totalMatched, totalUnmatched, matched, unmatched int) scatterGroups {
	all := newScatterGroups(totalMatched, totalUnmatched)
	waiting := newScatterGroups(matched, unmatched)
	if float32(totalUnmatched)/float32(totalMatched) >= float32(unmatched)/float32(matched) {
		return waiting
	}
	g := scatterGroups{matchedSize: all.matchedSize, unmatchedSize: all.unmatchedSize}
	if g.matchedSize == 0 || g.unmatchedSize == 0 {
		return waiting
	}
	g.groups = min(matched/g.matchedSize, unmatched/g.unmatchedSize)
	g.unmatchedRemainder = unmatched - g.groups*g.unmatchedSize
	return g
}
