package workloadspread

import (
	"fmt"
	"sort"
	"strconv"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

// rollout plays a Deployment's Pods through the webhook's and the
// controller's functions: Pods are admitted one at a time (named after
// admission, as generateName Pods are), the controller recomputes the
// status and deletion costs after every change, and scale-in removes the
// old ReplicaSet's Pod of lowest deletion cost, newest first on a tie, as
// the ReplicaSet controller does.
type rollout struct {
	t          *testing.T
	ws         *appsv1beta1.WorkloadSpread
	versioning Versioning
	replicas   int32
	pods       []*corev1.Pod
	now        time.Time
	seq        int
}

func newRollout(t *testing.T, versioning Versioning, x86Max intstr.IntOrString) *rollout {
	return &rollout{
		t: t,
		ws: &appsv1beta1.WorkloadSpread{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "ws", Generation: 1},
			Spec: appsv1beta1.WorkloadSpreadSpec{
				TargetReference: &appsv1beta1.TargetReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
				Subsets: []appsv1beta1.WorkloadSpreadSubset{
					{Name: "x86", MaxReplicas: &x86Max},
					{Name: "arm"},
				},
			},
		},
		versioning: versioning,
		replicas:   6,
		now:        time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

func (r *rollout) tick() { r.now = r.now.Add(time.Second) }

// create admits a new Pod of the ReplicaSet of this template hash.
func (r *rollout) create(hash string) {
	r.t.Helper()
	r.tick()
	r.seq++
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Namespace:    "ns",
		GenerateName: "web-" + hash + "-",
		Labels:       map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: hash},
		OwnerReferences: []metav1.OwnerReference{{
			APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-" + hash, UID: types.UID("rs-" + hash), Controller: new(true),
		}},
	}}
	admission, err := Admit(r.ws, r.versioning.PodVersion(pod), pod.Name, r.replicas, r.now, func() string { return fmt.Sprintf("uid-%d", r.seq) })
	if err != nil {
		r.t.Fatal(err)
	}
	if admission.Subset == "" {
		r.t.Fatalf("pod %d of %s placed in no subset; status %+v", r.seq, hash, r.ws.Status)
	}
	if err := Inject(r.ws, pod, admission.Subset, admission.UID); err != nil {
		r.t.Fatal(err)
	}
	// Created, scheduled and ready at once.
	pod.Name = pod.GenerateName + strconv.Itoa(r.seq)
	pod.CreationTimestamp = metav1.NewTime(r.now)
	pod.Spec.NodeName = "node"
	pod.Status.Phase = corev1.PodRunning
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	r.pods = append(r.pods, pod)
	r.sync(hash)
}

// sync is one controller sync; latest is the Deployment's current hash.
func (r *rollout) sync(latest string) {
	r.t.Helper()
	r.tick()
	g := Group(r.ws, r.pods, r.versioning)
	computed, err := ComputeStatus(r.ws, g, r.replicas, r.now)
	if err != nil {
		r.t.Fatal(err)
	}
	r.ws.Status = computed.Status
	if !r.versioning.Enabled("Deployment") {
		latest = VersionIgnored
	}
	for version, pods := range g.Versions {
		costs, err := DeletionCosts(r.ws, pods, r.replicas, version != latest)
		if err != nil {
			r.t.Fatal(err)
		}
		for pod, cost := range costs {
			pod.Annotations[PodDeletionCostAnnotation] = cost
		}
	}
}

// scaleIn deletes one Pod of the ReplicaSet of this hash.
func (r *rollout) scaleIn(hash, latest string) {
	r.t.Helper()
	var candidates []*corev1.Pod
	for _, pod := range r.pods {
		if pod.Labels[appsv1.DefaultDeploymentUniqueLabelKey] == hash {
			candidates = append(candidates, pod)
		}
	}
	cost := func(p *corev1.Pod) int {
		c, _ := strconv.Atoi(p.Annotations[PodDeletionCostAnnotation])
		return c
	}
	sort.SliceStable(candidates, func(i, j int) bool {
		if cost(candidates[i]) != cost(candidates[j]) {
			return cost(candidates[i]) < cost(candidates[j])
		}
		return candidates[j].CreationTimestamp.Before(&candidates[i].CreationTimestamp)
	})
	victim := candidates[0]
	for i, pod := range r.pods {
		if pod == victim {
			r.pods = append(r.pods[:i], r.pods[i+1:]...)
			break
		}
	}
	r.sync(latest)
}

// spread counts the Pods of this hash per subset.
func (r *rollout) spread(hash string) map[string]int {
	out := map[string]int{}
	for _, pod := range r.pods {
		if pod.Labels[appsv1.DefaultDeploymentUniqueLabelKey] == hash {
			out[MatchedOf(pod).Subset]++
		}
	}
	return out
}

// TestRollingUpdateKeepsSpread is OpenKruise v1.6's case (PR #1197): a
// Deployment of 6 spread over x86 (capped at 2, or 33%) and arm (no cap),
// rolled with maxSurge 1 and maxUnavailable 0. Counted per version, the new
// Pods split 2/4 like the old ones. Counted all together, x86 is full of
// old Pods while the new ones arrive, so they go to arm; x86 only frees up
// when its old Pods go last, and gets a single new Pod.
func TestRollingUpdateKeepsSpread(t *testing.T) {
	for _, x86Max := range []intstr.IntOrString{intstr.FromInt32(2), intstr.FromString("33%")} {
		for _, tc := range []struct {
			name       string
			versioning Versioning
			want       map[string]int
		}{
			{"versioned", NewVersioning(DefaultVersionedKinds), map[string]int{"x86": 2, "arm": 4}},
			{"not versioned", NewVersioning(nil), map[string]int{"x86": 1, "arm": 5}},
		} {
			t.Run(tc.name+"/x86 max "+x86Max.String(), func(t *testing.T) {
				r := newRollout(t, tc.versioning, x86Max)
				for range 6 {
					r.create("old")
				}
				before := r.spread("old")
				if before["x86"] != 2 || before["arm"] != 4 {
					t.Fatalf("before the update: spread %v, want x86 2, arm 4", before)
				}
				for range 6 {
					r.create("new")
					r.scaleIn("old", "new")
				}
				if old := r.spread("old"); len(old) != 0 {
					t.Fatalf("old Pods left: %v", old)
				}
				after := r.spread("new")
				if after["x86"] != tc.want["x86"] || after["arm"] != tc.want["arm"] {
					t.Errorf("after the update: spread %v, want %v", after, tc.want)
				}
				if tc.versioning.Enabled("Deployment") && (after["x86"] != before["x86"] || after["arm"] != before["arm"]) {
					t.Errorf("versioned counting changed the spread: %v before, %v after", before, after)
				}
			})
		}
	}
}
