package workloadspread

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

// PodsBySubset are Pods grouped by the subset they are in; Pods in no
// subset of the spec are under UnmatchedSubset.
type PodsBySubset map[string][]*corev1.Pod

// Grouping is a WorkloadSpread's Pods grouped by version, then subset.
type Grouping struct {
	// Versions holds the Pods of each version, by subset.
	Versions map[string]PodsBySubset
	// All holds all the Pods by subset.
	All PodsBySubset
}

// Group groups a WorkloadSpread's Pods by version and by the subset their
// matched-workloadspread annotation names. Pods placed by another
// WorkloadSpread, or by none (created before this one), are in no subset.
func Group(ws *appsv1beta1.WorkloadSpread, pods []*corev1.Pod, versioning Versioning) Grouping {
	g := Grouping{Versions: map[string]PodsBySubset{}, All: PodsBySubset{}}
	inSpec := map[string]bool{}
	for i := range ws.Spec.Subsets {
		inSpec[ws.Spec.Subsets[i].Name] = true
	}
	for _, pod := range pods {
		subset := UnmatchedSubset
		if m := MatchedOf(pod); m != nil && m.Name == ws.Name && inSpec[m.Subset] {
			subset = m.Subset
		}
		version := versioning.PodVersion(pod)
		if g.Versions[version] == nil {
			g.Versions[version] = PodsBySubset{}
		}
		g.Versions[version][subset] = append(g.Versions[version][subset], pod)
		g.All[subset] = append(g.All[subset], pod)
	}
	return g
}

// Expired is a creatingPods or deletingPods record that outlived its
// timeout: the Pod never appeared, or never went away.
type Expired struct {
	// Creating is true for a creatingPods record, false for deletingPods.
	Creating bool
	// Pod is the Pod's name (or the id the webhook made up for it).
	Pod string
}

// Computed is the status a sync computed from the Pods.
type Computed struct {
	Status appsv1beta1.WorkloadSpreadStatus
	// Expired are the records dropped for their timeout.
	Expired []Expired
	// RecheckAfter is when the earliest remaining record times out, or
	// the next Pod becomes unschedulable for too long, or a subset may be
	// tried again (0 if none): the controller must look again then.
	RecheckAfter time.Duration
	// Unschedulable are, per subset, the Pods the Adaptive strategy gives
	// up on (pending unschedulable longer than rescheduleCriticalSeconds):
	// the controller deletes them, and their replacements go to a later
	// subset, this one being marked Schedulable=False.
	Unschedulable map[string][]*corev1.Pod
	// Recovered are the subsets marked schedulable again, after
	// MaxUnschedulableDuration.
	Recovered []string
}

// MaxUnschedulableDuration is how long the Adaptive strategy keeps a
// subset Schedulable=False once no Pod of it is unschedulable any more.
const MaxUnschedulableDuration = 300 * time.Second

// ComputeStatus computes a WorkloadSpread's status from its grouped Pods
// and its current status: per subset the active Pods, and missingReplicas
// counting them down from maxReplicas. Records of creatingPods still
// count until the Pod appears or CreatingPodTimeout passes, records of
// deletingPods until the Pod is gone or DeletingPodTimeout passes, so that
// what the webhook admitted is not forgotten while the informers lag.
//
// subsetStatuses counts all Pods; versionedSubsetStatuses counts each
// version's own. A version whose Pods are all gone is kept while it still
// has records (a Pod admitted but not seen yet).
func ComputeStatus(ws *appsv1beta1.WorkloadSpread, g Grouping, workloadReplicas int32, now time.Time) (Computed, error) {
	c := Computed{Status: appsv1beta1.WorkloadSpreadStatus{ObservedGeneration: ws.Generation}}
	var err error
	if c.Status.SubsetStatuses, err = c.subsetStatuses(ws, ws.Status.SubsetStatuses, g.All, workloadReplicas, now, true); err != nil {
		return Computed{}, err
	}
	versions := map[string]appsv1beta1.WorkloadSpreadSubsetStatuses{}
	for version, pods := range g.Versions {
		if versions[version], err = c.subsetStatuses(ws, ws.Status.VersionedSubsetStatuses[version], pods, workloadReplicas, now, false); err != nil {
			return Computed{}, err
		}
	}
	for version, old := range ws.Status.VersionedSubsetStatuses {
		if _, ok := g.Versions[version]; ok {
			continue
		}
		statuses, err := c.subsetStatuses(ws, old, nil, workloadReplicas, now, false)
		if err != nil {
			return Computed{}, err
		}
		if hasRecords(statuses) {
			versions[version] = statuses
		}
	}
	if len(versions) > 0 {
		c.Status.VersionedSubsetStatuses = versions
	}
	return c, nil
}

func hasRecords(statuses []appsv1beta1.WorkloadSpreadSubsetStatus) bool {
	for i := range statuses {
		if statuses[i].Replicas > 0 || len(statuses[i].CreatingPods) > 0 || len(statuses[i].DeletingPods) > 0 {
			return true
		}
	}
	return false
}

// subsetStatuses computes one list of subset statuses, in spec order,
// from the Pods of each subset and the list's previous state (found by
// name, since subsets may be reordered). overall says it is
// subsetStatuses, whose unschedulable Pods are to be deleted.
func (c *Computed) subsetStatuses(ws *appsv1beta1.WorkloadSpread, old []appsv1beta1.WorkloadSpreadSubsetStatus,
	pods PodsBySubset, workloadReplicas int32, now time.Time, overall bool) (appsv1beta1.WorkloadSpreadSubsetStatuses, error) {
	oldByName := map[string]*appsv1beta1.WorkloadSpreadSubsetStatus{}
	for i := range old {
		oldByName[old[i].Name] = &old[i]
	}
	critical := rescheduleCritical(ws)
	out := make(appsv1beta1.WorkloadSpreadSubsetStatuses, 0, len(ws.Spec.Subsets))
	for i := range ws.Spec.Subsets {
		subset := &ws.Spec.Subsets[i]
		s, err := c.subsetStatus(subset, pods[subset.Name], oldByName[subset.Name], workloadReplicas, now)
		if err != nil {
			return nil, err
		}
		// Only the Adaptive strategy (with rescheduleCriticalSeconds) marks
		// subsets unschedulable; a condition left from it is dropped when
		// the strategy changes.
		if critical > 0 {
			if prev := oldByName[subset.Name]; prev != nil {
				for _, cond := range prev.Conditions {
					if cond.Type == appsv1beta1.SubsetSchedulable {
						s.Conditions = []metav1.Condition{cond}
					}
				}
			}
			if i == len(ws.Spec.Subsets)-1 {
				// The last subset is never given up on: there is none after it.
				setSchedulable(s, metav1.ConditionTrue, "Sufficient", now)
			} else {
				c.reschedule(s, pods[subset.Name], critical, now, overall)
			}
		}
		out = append(out, *s)
	}
	return out, nil
}

func rescheduleCritical(ws *appsv1beta1.WorkloadSpread) time.Duration {
	strategy := ws.Spec.ScheduleStrategy
	if strategy.Type != appsv1beta1.AdaptiveWorkloadSpreadScheduleStrategyType || strategy.Adaptive == nil || strategy.Adaptive.RescheduleCriticalSeconds == nil {
		return 0
	}
	return time.Duration(*strategy.Adaptive.RescheduleCriticalSeconds) * time.Second
}

// reschedule sets a subset's Schedulable condition under the Adaptive
// strategy: False (PodUnschedulable) while one of its Pods has been
// pending unschedulable for longer than critical since its creation, True
// (Sufficient) again MaxUnschedulableDuration after the last such Pod.
func (c *Computed) reschedule(s *appsv1beta1.WorkloadSpreadSubsetStatus, pods []*corev1.Pod, critical time.Duration, now time.Time, overall bool) {
	var failed []*corev1.Pod
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil || pod.Status.Phase != corev1.PodPending || pod.Spec.NodeName != "" || !unschedulable(pod) {
			continue
		}
		if until := pod.CreationTimestamp.Add(critical); until.After(now) {
			c.recheck(until.Sub(now))
			continue
		}
		failed = append(failed, pod)
	}
	if len(failed) > 0 {
		setSchedulable(s, metav1.ConditionFalse, "PodUnschedulable", now)
		if overall {
			if c.Unschedulable == nil {
				c.Unschedulable = map[string][]*corev1.Pod{}
			}
			c.Unschedulable[s.Name] = failed
		}
		return
	}
	var current *metav1.Condition
	for i := range s.Conditions {
		if s.Conditions[i].Type == appsv1beta1.SubsetSchedulable {
			current = &s.Conditions[i]
		}
	}
	switch {
	case current == nil:
		setSchedulable(s, metav1.ConditionTrue, "Sufficient", now)
	case current.Status == metav1.ConditionFalse:
		if until := current.LastTransitionTime.Add(MaxUnschedulableDuration); until.After(now) {
			c.recheck(until.Sub(now))
		} else {
			setSchedulable(s, metav1.ConditionTrue, "Sufficient", now)
			if overall {
				c.Recovered = append(c.Recovered, s.Name)
			}
		}
	}
}

// unschedulable says whether the scheduler found no node for the Pod.
func unschedulable(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			return true
		}
	}
	return false
}

func setSchedulable(s *appsv1beta1.WorkloadSpreadSubsetStatus, status metav1.ConditionStatus, reason string, now time.Time) {
	for i := range s.Conditions {
		if s.Conditions[i].Type == appsv1beta1.SubsetSchedulable {
			if s.Conditions[i].Status != status {
				s.Conditions[i].Status, s.Conditions[i].Reason = status, reason
				s.Conditions[i].LastTransitionTime = metav1.NewTime(now)
			}
			return
		}
	}
	s.Conditions = append(s.Conditions, metav1.Condition{
		Type: appsv1beta1.SubsetSchedulable, Status: status, Reason: reason, LastTransitionTime: metav1.NewTime(now),
	})
}

func (c *Computed) subsetStatus(subset *appsv1beta1.WorkloadSpreadSubset, pods []*corev1.Pod,
	old *appsv1beta1.WorkloadSpreadSubsetStatus, workloadReplicas int32, now time.Time) (*appsv1beta1.WorkloadSpreadSubsetStatus, error) {
	max, err := MaxReplicas(subset, workloadReplicas)
	if err != nil {
		return nil, err
	}
	s := &appsv1beta1.WorkloadSpreadSubsetStatus{Name: subset.Name, MissingReplicas: max}
	creating := map[string]metav1.Time{}
	var deleting map[string]metav1.Time
	if old != nil {
		for id, t := range old.CreatingPods {
			creating[id] = t
		}
		deleting = old.DeletingPods
	}
	for _, pod := range pods {
		// Seen: no longer "creating", under its name or its made-up id.
		if m := MatchedOf(pod); m != nil && m.UID != "" {
			delete(creating, m.UID)
		}
		delete(creating, pod.Name)
		if !IsActive(pod) {
			continue
		}
		s.Replicas++
		if s.MissingReplicas > 0 {
			s.MissingReplicas--
		}
		if t, ok := deleting[pod.Name]; ok {
			if until := t.Add(DeletingPodTimeout); until.After(now) {
				// Still expected to go: count it gone already.
				if s.DeletingPods == nil {
					s.DeletingPods = map[string]metav1.Time{}
				}
				s.DeletingPods[pod.Name] = t
				if s.MissingReplicas >= 0 && s.MissingReplicas < max {
					s.MissingReplicas++
				}
				c.recheck(until.Sub(now))
			} else {
				c.Expired = append(c.Expired, Expired{Creating: false, Pod: pod.Name})
			}
		}
	}
	for id, t := range creating {
		if until := t.Add(CreatingPodTimeout); until.After(now) {
			// Admitted but not seen yet: count it there already.
			if s.CreatingPods == nil {
				s.CreatingPods = map[string]metav1.Time{}
			}
			s.CreatingPods[id] = t
			if s.MissingReplicas > 0 {
				s.MissingReplicas--
			}
			c.recheck(until.Sub(now))
		} else {
			c.Expired = append(c.Expired, Expired{Creating: true, Pod: id})
		}
	}
	return s, nil
}

func (c *Computed) recheck(after time.Duration) {
	if c.RecheckAfter == 0 || after < c.RecheckAfter {
		c.RecheckAfter = after
	}
}

// IsActive says whether a Pod counts: not terminating, not finished.
func IsActive(pod *corev1.Pod) bool {
	return pod.DeletionTimestamp == nil && pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed
}

// DeletionCosts returns the pod-deletion-cost each active Pod of one
// version should carry, so that scaling in keeps the spread. Within its
// cap a subset's Pods cost 100 × (number of subsets − its index): later
// subsets are emptied first. Pods over the cap cost −100 × (index + 1), and
// Pods in no subset −100 × (number of subsets + 1): they go before any
// other. reverse flips the subsets' order; it is used for the Pods of old
// versions, so that during a rolling update the old Pods leave the first
// subsets first, where the new version's Pods are placed first.
func DeletionCosts(ws *appsv1beta1.WorkloadSpread, pods PodsBySubset, workloadReplicas int32, reverse bool) (map[*corev1.Pod]string, error) {
	n := len(ws.Spec.Subsets)
	costs := map[*corev1.Pod]string{}
	set := func(ps []*corev1.Pod, cost int) {
		for _, p := range ps {
			costs[p] = strconv.Itoa(cost)
		}
	}
	for i := range ws.Spec.Subsets {
		subset := &ws.Spec.Subsets[i]
		index := i
		if reverse {
			index = n - i - 1
		}
		active := activeOf(pods[subset.Name])
		max, err := MaxReplicas(subset, workloadReplicas)
		if err != nil {
			return nil, err
		}
		if max < 0 || len(active) <= int(max) {
			set(active, PodDeletionCostPositive*(n-index))
			continue
		}
		// Over the cap: the Pods that would be deleted first anyway (by
		// the ReplicaSet controller's own ranking) are the extra ones.
		sortForDeletion(active)
		extra := len(active) - int(max)
		set(active[:extra], PodDeletionCostNegative*(index+1))
		set(active[extra:], PodDeletionCostPositive*(n-index))
	}
	set(activeOf(pods[UnmatchedSubset]), PodDeletionCostNegative*(n+1))
	return costs, nil
}

func activeOf(pods []*corev1.Pod) []*corev1.Pod {
	var active []*corev1.Pod
	for _, p := range pods {
		if IsActive(p) {
			active = append(active, p)
		}
	}
	return active
}

// sortForDeletion orders Pods as the ReplicaSet controller ranks them for
// deletion (the parts that do not depend on the cost itself): unscheduled
// before scheduled, pending before running, not ready before ready, newer
// before older.
func sortForDeletion(pods []*corev1.Pod) {
	phaseRank := map[corev1.PodPhase]int{corev1.PodPending: 0, corev1.PodUnknown: 1, corev1.PodRunning: 2}
	sort.SliceStable(pods, func(i, j int) bool {
		a, b := pods[i], pods[j]
		if (a.Spec.NodeName == "") != (b.Spec.NodeName == "") {
			return a.Spec.NodeName == ""
		}
		if phaseRank[a.Status.Phase] != phaseRank[b.Status.Phase] {
			return phaseRank[a.Status.Phase] < phaseRank[b.Status.Phase]
		}
		if ready(a) != ready(b) {
			return !ready(a)
		}
		return b.CreationTimestamp.Before(&a.CreationTimestamp)
	})
}

func ready(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// Message describes an expired record for an Event, in OpenKruise's words.
func (e Expired) Message(namespace string) string {
	if e.Creating {
		return fmt.Sprintf("Pod %s/%s was expected to be created but it wasn't", namespace, e.Pod)
	}
	return fmt.Sprintf("Pod %s/%s was expected to be deleted but it wasn't", namespace, e.Pod)
}

// Reason is the Event reason for an expired record, as OpenKruise's.
func (e Expired) Reason() string {
	if e.Creating {
		return "CreatePodFailed"
	}
	return "DeletePodFailed"
}
