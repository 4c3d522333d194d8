package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kruise-apiserver/kruise-apiserver/internal/localup"
	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	wsutil "github.com/kruise-apiserver/kruise-apiserver/pkg/workloadspread"
)

// WorkloadSpread on the real node: the Pod webhook places each new Pod of
// a Deployment in a subset, the controller counts them, and a rolling
// update with maxSurge keeps the spread because Pods are counted per
// version (OpenKruise v1.6, PR #1197).

// poolLabels are the node labels of the subsets x86 and arm of one test.
type poolLabels map[string]string

// labelNodeForPools gives the node a label for each pool, for the duration
// of the test, so that the subsets' required node selectors both match it
// and every Pod really runs, whichever subset it is placed in. The keys
// end in the test's id: tests running at once each remove only their own.
func labelNodeForPools(t *testing.T, id string) poolLabels {
	t.Helper()
	pools := poolLabels{"x86": "e2e-pool-x86-" + id, "arm": "e2e-pool-arm-" + id}
	kubectl(t, "label", "node", localup.NodeName, pools["x86"]+"=true", pools["arm"]+"=true", "--overwrite")
	t.Cleanup(func() {
		if r := runKubectl("", "label", "node", localup.NodeName, pools["x86"]+"-", pools["arm"]+"-"); r.err != nil {
			t.Errorf("removing the pool labels from the node: %v", r)
		}
	})
	return pools
}

// spreadOf counts the active Pods of ns matching selector per subset of
// their matched-workloadspread annotation ("" for none), after checking
// that each placed Pod carries its subset's node requirement (unless pools
// is nil: adopted Pods keep the affinity they were created with).
func spreadOf(t *testing.T, ns, selector string, pools poolLabels) (map[string]int, error) {
	counts := map[string]int{}
	for _, p := range listPods(t, ns, selector) {
		if p.Terminating || p.Phase == corev1.PodSucceeded || p.Phase == corev1.PodFailed {
			continue
		}
		m := wsutil.MatchedOf(p.Pod)
		if m == nil {
			counts[""]++
			continue
		}
		counts[m.Subset]++
		if want := pools[m.Subset]; pools != nil && !requiresNodeLabel(p.Pod, want) {
			return nil, fmt.Errorf("pod %s in subset %s does not require node label %s: %+v", p.Name, m.Subset, want, p.Pod.Spec.Affinity)
		}
	}
	return counts, nil
}

func requiresNodeLabel(pod *corev1.Pod, key string) bool {
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return false
	}
	terms := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	for _, term := range terms {
		found := false
		for _, e := range term.MatchExpressions {
			found = found || e.Key == key
		}
		if !found {
			return false
		}
	}
	return len(terms) > 0
}

// currentHash returns the pod-template-hash of the newest ReplicaSet of a
// Deployment that has replicas.
func currentHash(t *testing.T, ns, deployment string) string {
	t.Helper()
	kc, _ := clients(t)
	list, err := kc.AppsV1().ReplicaSets(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(list.Items, func(i, j int) bool {
		return list.Items[i].CreationTimestamp.Before(&list.Items[j].CreationTimestamp)
	})
	hash := ""
	for _, rs := range list.Items {
		if rs.Spec.Replicas != nil && *rs.Spec.Replicas > 0 && strings.HasPrefix(rs.Name, deployment+"-") {
			hash = rs.Labels["pod-template-hash"]
		}
	}
	return hash
}

// TestWorkloadSpreadRollingUpdateKeepsSpread is OpenKruise v1.6's case: a
// Deployment of 6 spread over x86 (at most 2) and arm (no cap), rolled
// with maxSurge 1 and maxUnavailable 0. Counted per version, the new Pods
// split 2/4 like the old ones; counted all together (run the suite with
// KRUISE_E2E_KRUISE_ARGS=--ws-enabled-versioned-status= to see it), x86 is
// full of old Pods while the new ones arrive and ends up with fewer.
func TestWorkloadSpreadRollingUpdateKeepsSpread(t *testing.T) {
	requireNode(t)
	t.Parallel()
	ns := workloadNamespace(t)
	pools := labelNodeForPools(t, "ru")

	kubectlIn(t, fmt.Sprintf(`apiVersion: apps.kruise.io/v1beta1
kind: WorkloadSpread
metadata:
  name: ws
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  subsets:
  - name: x86
    requiredNodeSelector:
      matchExpressions: [{key: %s, operator: In, values: ["true"]}]
    maxReplicas: 2
    patch:
      metadata:
        labels: {pool: x86}
  - name: arm
    requiredNodeSelector:
      matchExpressions: [{key: %s, operator: In, values: ["true"]}]
    tolerations: [{key: arch, operator: Equal, value: arm, effect: NoSchedule}]
    patch:
      metadata:
        labels: {pool: arm}
`, pools["x86"], pools["arm"]), "apply", "-n", ns, "-f", "-")
	// The webhook reads WorkloadSpreads from its cache: wait until the
	// controller has seen it too, then create the workload.
	_, kruise := clients(t)
	eventually(t, time.Minute, "the WorkloadSpread's first status", func() error {
		ws, err := kruise.AppsV1beta1().WorkloadSpreads(ns).Get(context.Background(), "ws", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if ws.Status.ObservedGeneration != ws.Generation {
			return fmt.Errorf("observedGeneration %d, generation %d", ws.Status.ObservedGeneration, ws.Generation)
		}
		return nil
	})

	deployment := func(image string) string {
		return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 6
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
%s`, testAppTemplate("web", image, "", ""))
	}
	rolledOut := func() {
		t.Helper()
		r := runKubectl("", "-n", ns, "rollout", "status", "deployment/web", "--timeout=3m")
		if r.err != nil {
			t.Fatalf("%s", r)
		}
	}
	kubectlIn(t, deployment(cluster.Images.TestAppV1), "apply", "-n", ns, "-f", "-")
	rolledOut()
	oldHash := currentHash(t, ns, "web")
	var before map[string]int
	eventually(t, time.Minute, "6 Pods spread 2/4", func() error {
		var err error
		if before, err = spreadOf(t, ns, "app=web", pools); err != nil {
			return err
		}
		if before["x86"] != 2 || before["arm"] != 4 || len(before) != 2 {
			return fmt.Errorf("spread %v, want x86 2, arm 4", before)
		}
		return nil
	})
	for _, p := range listPods(t, ns, "app=web") {
		m := wsutil.MatchedOf(p.Pod)
		if p.Pod.Labels["pool"] != m.Subset {
			t.Errorf("pod %s in subset %s has pool label %q: the subset's patch was not applied", p.Name, m.Subset, p.Pod.Labels["pool"])
		}
		if m.Subset == "arm" && len(p.Pod.Spec.Tolerations) == 0 {
			t.Errorf("pod %s in subset arm has no toleration", p.Name)
		}
	}
	eventually(t, time.Minute, "the status counting the Pods", func() error {
		ws, err := kruise.AppsV1beta1().WorkloadSpreads(ns).Get(context.Background(), "ws", metav1.GetOptions{})
		if err != nil {
			return err
		}
		st := ws.Status.SubsetStatuses
		if len(st) != 2 || st[0].Replicas != 2 || st[0].MissingReplicas != 0 || st[1].Replicas != 4 || st[1].MissingReplicas != -1 {
			return fmt.Errorf("subsetStatuses %+v", st)
		}
		// One version: the ReplicaSet's, or versionIgnored when the suite
		// runs with versioning turned off.
		versions := ws.Status.VersionedSubsetStatuses
		v, ok := versions[oldHash]
		if !ok {
			v = versions[wsutil.VersionIgnored]
		}
		if len(versions) != 1 || len(v) != 2 || v[0].Replicas != 2 || v[1].Replicas != 4 || len(v[0].CreatingPods) != 0 {
			return fmt.Errorf("versionedSubsetStatuses: want one version (%s) counting 2 and 4 Pods, got %v", oldHash, versions)
		}
		return nil
	})

	kubectlIn(t, deployment(cluster.Images.TestAppV2), "apply", "-n", ns, "-f", "-")
	rolledOut()
	newHash := currentHash(t, ns, "web")
	if newHash == oldHash {
		t.Fatalf("the Deployment did not roll: pod-template-hash %s", newHash)
	}
	var after map[string]int
	eventually(t, time.Minute, "the old Pods gone", func() error {
		var err error
		if after, err = spreadOf(t, ns, "app=web,pod-template-hash="+newHash, pools); err != nil {
			return err
		}
		if old := listPods(t, ns, "app=web,pod-template-hash="+oldHash); len(old) > 0 {
			return fmt.Errorf("old pods left: %v", old)
		}
		return nil
	})
	if after["x86"] != before["x86"] || after["arm"] != before["arm"] || len(after) != len(before) {
		t.Fatalf("spread before the update %v, after %v: the rolling update changed it", before, after)
	}
}

// TestWorkloadSpreadLeavesKubeSystemAlone: a Pod in kube-system whose
// controller is the target of a WorkloadSpread there is created untouched;
// the same Pod in another namespace is placed.
func TestWorkloadSpreadLeavesKubeSystemAlone(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	waitForDefaultServiceAccount(t, ns)
	name := "e2e-ws-" + ns
	spread := fmt.Sprintf(`apiVersion: apps.kruise.io/v1beta1
kind: WorkloadSpread
metadata:
  name: %[1]s
spec:
  targetRef: {apiVersion: apps/v1, kind: ReplicaSet, name: %[1]s}
  subsets:
  - name: only
    maxReplicas: 5
`, name)
	// The owner does not exist: the Pod is only created, never runs (no
	// node has the selected label), and is deleted at once.
	pod := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %[1]s
  ownerReferences:
  - {apiVersion: apps/v1, kind: ReplicaSet, name: %[1]s, uid: 00000000-0000-0000-0000-000000000001, controller: true}
spec:
  nodeSelector: {e2e-nowhere: "true"}
  containers: [{name: c, image: %[2]s}]
`, name, cluster.Images.Pause)
	for _, namespace := range []string{ns, "kube-system"} {
		kubectlIn(t, spread, "apply", "-n", namespace, "-f", "-")
		t.Cleanup(func() { runKubectl("", "-n", namespace, "delete", "workloadspread", name, "--ignore-not-found") })
	}
	_, kruise := clients(t)
	// Both WorkloadSpreads in the webhook's cache: wait for the controller
	// to have seen them.
	for _, namespace := range []string{ns, "kube-system"} {
		eventually(t, time.Minute, "the WorkloadSpread's status in "+namespace, func() error {
			ws, err := kruise.AppsV1beta1().WorkloadSpreads(namespace).Get(context.Background(), name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if ws.Status.ObservedGeneration != ws.Generation {
				return fmt.Errorf("observedGeneration %d", ws.Status.ObservedGeneration)
			}
			return nil
		})
	}
	kc, _ := clients(t)
	for _, namespace := range []string{ns, "kube-system"} {
		kubectlIn(t, pod, "create", "-n", namespace, "-f", "-")
		t.Cleanup(func() {
			runKubectl("", "-n", namespace, "delete", "pod", name, "--ignore-not-found", "--grace-period=0", "--force")
		})
		created, err := kc.CoreV1().Pods(namespace).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		matched := created.Annotations[wsutil.MatchedAnnotation]
		switch {
		case namespace == "kube-system" && matched != "":
			t.Errorf("pod in kube-system placed: %s", matched)
		case namespace != "kube-system" && matched == "":
			t.Errorf("pod in %s not placed: the webhook did not run, so the kube-system check proves nothing", namespace)
		}
	}
}

// TestWorkloadSpreadCloneSet: the Pods of a CloneSet, created by
// kruise-apiserver's own controller, go through the webhook entry for
// Kruise workloads and are spread 1/2 over x86 (at most 1) and arm.
func TestWorkloadSpreadCloneSet(t *testing.T) {
	requireNode(t)
	t.Parallel()
	ns := workloadNamespace(t)
	pools := labelNodeForPools(t, "cs")
	kubectlIn(t, fmt.Sprintf(`apiVersion: apps.kruise.io/v1alpha1
kind: WorkloadSpread
metadata:
  name: ws
spec:
  targetRef: {apiVersion: apps.kruise.io/v1beta1, kind: CloneSet, name: cs}
  subsets:
  - name: x86
    requiredNodeSelectorTerm:
      matchExpressions: [{key: %s, operator: In, values: ["true"]}]
    maxReplicas: 1
  - name: arm
    requiredNodeSelectorTerm:
      matchExpressions: [{key: %s, operator: In, values: ["true"]}]
`, pools["x86"], pools["arm"]), "apply", "-n", ns, "-f", "-")
	_, kruise := clients(t)
	eventually(t, time.Minute, "the WorkloadSpread's first status", func() error {
		ws, err := kruise.AppsV1beta1().WorkloadSpreads(ns).Get(context.Background(), "ws", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if ws.Status.ObservedGeneration != ws.Generation {
			return fmt.Errorf("observedGeneration %d, generation %d", ws.Status.ObservedGeneration, ws.Generation)
		}
		return nil
	})
	kubectlIn(t, testAppCloneSet("cs", 3, cluster.Images.TestAppV1, "", ""), "apply", "-n", ns, "-f", "-")
	eventually(t, rolloutTimeout, "3 Pods spread 1/2", func() error {
		if err := cloneSetSettled(t, ns, "cs", "cs", 3); err != nil {
			return err
		}
		spread, err := spreadOf(t, ns, "app=cs", pools)
		if err != nil {
			return err
		}
		if spread["x86"] != 1 || spread["arm"] != 2 || len(spread) != 2 {
			return fmt.Errorf("spread %v, want x86 1, arm 2", spread)
		}
		return nil
	})
	eventually(t, time.Minute, "the status counting the Pods", func() error {
		ws, err := kruise.AppsV1beta1().WorkloadSpreads(ns).Get(context.Background(), "ws", metav1.GetOptions{})
		if err != nil {
			return err
		}
		st := ws.Status.SubsetStatuses
		if len(st) != 2 || st[0].Replicas != 1 || st[0].MissingReplicas != 0 || st[1].Replicas != 2 {
			return fmt.Errorf("subsetStatuses %+v", st)
		}
		return nil
	})
}

// TestWorkloadSpreadWhileKruiseIsDown: with every kruise-apiserver replica
// stopped, a Deployment still scales (its webhook entry ignores failures)
// and its new Pods are created unplaced; once kruise-apiserver is back the
// controller adopts them into the subset their node belongs to and counts
// them, so the function is not silently lost.
func TestWorkloadSpreadWhileKruiseIsDown(t *testing.T) {
	requireNode(t)
	ns := workloadNamespace(t)
	pools := labelNodeForPools(t, "dn")
	kubectlIn(t, fmt.Sprintf(`apiVersion: apps.kruise.io/v1beta1
kind: WorkloadSpread
metadata:
  name: ws
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  subsets:
  - name: x86
    requiredNodeSelector:
      matchExpressions: [{key: %s, operator: In, values: ["true"]}]
    maxReplicas: 1
  - name: arm
    requiredNodeSelector:
      matchExpressions: [{key: %s, operator: In, values: ["true"]}]
`, pools["x86"], pools["arm"]), "apply", "-n", ns, "-f", "-")
	kc, kruise := clients(t)
	status := func() (appsv1beta1.WorkloadSpreadStatus, error) {
		ws, err := kruise.AppsV1beta1().WorkloadSpreads(ns).Get(context.Background(), "ws", metav1.GetOptions{})
		if err != nil {
			return appsv1beta1.WorkloadSpreadStatus{}, err
		}
		if ws.Status.ObservedGeneration != ws.Generation {
			return ws.Status, fmt.Errorf("observedGeneration %d, generation %d", ws.Status.ObservedGeneration, ws.Generation)
		}
		return ws.Status, nil
	}
	eventually(t, time.Minute, "the WorkloadSpread's first status", func() error { _, err := status(); return err })
	deployment := func(replicas int) string {
		return fmt.Sprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: %d\n%s",
			replicas, testAppTemplate("web", cluster.Images.TestAppV1, "", ""))
	}
	kubectlIn(t, deployment(1), "apply", "-n", ns, "-f", "-")
	eventually(t, time.Minute, "the first Pod placed in x86", func() error {
		spread, err := spreadOf(t, ns, "app=web", pools)
		if err == nil && (spread["x86"] != 1 || len(spread) != 1) {
			err = fmt.Errorf("spread %v", spread)
		}
		return err
	})

	cluster.StopKruise()
	restarted := false
	defer func() {
		if !restarted {
			_ = cluster.StartKruise(context.Background())
		}
	}()
	kubectlIn(t, deployment(3), "apply", "-n", ns, "-f", "-")
	eventually(t, time.Minute, "two Pods created unplaced while kruise-apiserver is down", func() error {
		list, err := kc.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=web"})
		if err != nil {
			return err
		}
		unplaced := 0
		for i := range list.Items {
			if wsutil.MatchedOf(&list.Items[i]) == nil {
				unplaced++
			}
		}
		if len(list.Items) != 3 || unplaced != 2 {
			return fmt.Errorf("%d pods, %d unplaced", len(list.Items), unplaced)
		}
		return nil
	})

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := cluster.StartKruise(ctx); err != nil {
		t.Fatal(err)
	}
	restarted = true
	// The node is in both pools; x86 is full, so they go to arm.
	eventually(t, 2*time.Minute, "the Pods adopted and counted", func() error {
		spread, err := spreadOf(t, ns, "app=web", nil)
		if err != nil {
			return err
		}
		if spread["x86"] != 1 || spread["arm"] != 2 || len(spread) != 2 {
			return fmt.Errorf("spread %v, want x86 1, arm 2", spread)
		}
		st, err := status()
		if err != nil {
			return err
		}
		if s := st.SubsetStatuses; len(s) != 2 || s[0].Replicas != 1 || s[1].Replicas != 2 {
			return fmt.Errorf("subsetStatuses %+v", s)
		}
		return nil
	})
}
