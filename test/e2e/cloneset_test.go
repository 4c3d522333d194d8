package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kruise-apiserver/kruise-apiserver/internal/sharedsamples"
	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

// The CloneSet controller on the real node, through kube-apiserver: pods
// run, status and kubectl's columns follow them, rollouts respect their
// strategy, and kube-controller-manager's garbage collector cleans up after
// deleted CloneSets. Each test has its own namespace and runs in parallel
// with the others.

// rolloutTimeout bounds how long a CloneSet (or StatefulSet) may take to
// reach a state on the shared two-core node.
const rolloutTimeout = 2 * time.Minute

// testAppCloneSet is a v1beta1 CloneSet of testapp; spec is more of its
// spec, indented by two spaces.
func testAppCloneSet(name string, replicas int, image, probe, spec string) string {
	return fmt.Sprintf(`apiVersion: apps.kruise.io/v1beta1
kind: CloneSet
metadata:
  name: %s
spec:
  replicas: %d
%s%s`, name, replicas, testAppTemplate(name, image, probe, ""), spec)
}

func getCloneSet(t *testing.T, ns, name string) *appsv1beta1.CloneSet {
	t.Helper()
	_, kruise := clients(t)
	cs, err := kruise.AppsV1beta1().CloneSets(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("getting CloneSet %s/%s: %v", ns, name, err)
	}
	return cs
}

// cloneSetSettled says why the CloneSet (whose pods are labelled
// app=<selectorApp>) is not settled: its controller has seen its latest
// spec, exactly replicas pods exist, all Running and Ready at the update
// revision, and the status counts them all so.
func cloneSetSettled(t *testing.T, ns, name, selectorApp string, replicas int) error {
	cs := getCloneSet(t, ns, name)
	st := cs.Status
	if st.ObservedGeneration != cs.Generation {
		return fmt.Errorf("status.observedGeneration %d, generation %d", st.ObservedGeneration, cs.Generation)
	}
	pods := listPods(t, ns, "app="+selectorApp)
	if err := allRunningReady(pods, replicas, st.UpdateRevision); err != nil {
		return err
	}
	want := int32(replicas)
	got := []int32{st.Replicas, st.ReadyReplicas, st.AvailableReplicas, st.UpdatedReplicas, st.UpdatedReadyReplicas, st.UpdatedAvailableReplicas, st.ExpectedUpdatedReplicas}
	for _, n := range got {
		if n != want {
			return fmt.Errorf("status replicas, ready, available, updated, updatedReady, updatedAvailable, expectedUpdated = %v, want %d each", got, want)
		}
	}
	if st.CurrentRevision != st.UpdateRevision {
		return fmt.Errorf("status.currentRevision %s, updateRevision %s", st.CurrentRevision, st.UpdateRevision)
	}
	if st.LabelSelector != "app="+selectorApp {
		return fmt.Errorf("status.labelSelector %q, want app=%s", st.LabelSelector, selectorApp)
	}
	return nil
}

// cloneSetColumnsMatch says why kubectl get clonesets' columns DESIRED
// UPDATED UPDATED_READY UPDATED_AVAILABLE READY TOTAL do not count the
// pods as they are (minReadySeconds 0: available is ready).
func cloneSetColumnsMatch(t *testing.T, ns, name, selectorApp string) error {
	cols := columns(t, ns, "clonesets", name)
	cs := getCloneSet(t, ns, name)
	pods := listPods(t, ns, "app="+selectorApp)
	var updated, updatedReady, ready, total int
	for _, p := range pods {
		if p.Terminating {
			continue
		}
		total++
		if p.Ready {
			ready++
		}
		if p.Revision == cs.Status.UpdateRevision {
			updated++
			if p.Ready {
				updatedReady++
			}
		}
	}
	want := []string{name, strconv.Itoa(int(*cs.Spec.Replicas)), strconv.Itoa(updated), strconv.Itoa(updatedReady),
		strconv.Itoa(updatedReady), strconv.Itoa(ready), strconv.Itoa(total)}
	if len(cols) != len(want)+1 || strings.Join(cols[:len(want)], " ") != strings.Join(want, " ") {
		return fmt.Errorf("kubectl get clonesets %s: %q, want %q then AGE (pods: %v)", name, cols, want, pods)
	}
	return nil
}

// waitCloneSet waits for the CloneSet to settle at replicas pods, with
// kubectl get's columns and the scale subresource agreeing.
func waitCloneSet(t *testing.T, ns, name, selectorApp string, replicas int) []podInfo {
	t.Helper()
	eventually(t, rolloutTimeout, fmt.Sprintf("CloneSet %s to settle at %d Running pods", name, replicas), func() error {
		if err := cloneSetSettled(t, ns, name, selectorApp, replicas); err != nil {
			return err
		}
		return cloneSetColumnsMatch(t, ns, name, selectorApp)
	})
	spec, status, selector := scaleOf(t, ns, "clonesets", name)
	if spec != int32(replicas) || status != int32(replicas) || selector != "app="+selectorApp {
		t.Fatalf("scale subresource of %s: spec.replicas %d, status.replicas %d, status.selector %q; want %d, %d, app=%s",
			name, spec, status, selector, replicas, replicas, selectorApp)
	}
	return listPods(t, ns, "app="+selectorApp)
}

// TestCloneSetSample: OpenKruise's CloneSet sample, applied unchanged, runs
// five pods (nginx:alpine is served by a stand-in); kubectl get's columns
// count them; kubectl scale changes them; an image change in its
// InPlaceIfPossible mode updates them in place.
func TestCloneSetSample(t *testing.T) {
	requireNode(t)
	t.Parallel()
	ns := workloadNamespace(t)
	sample := filepath.Join(sharedsamples.Dir(t), "samples", "cloneset", "apps_v1alpha1_cloneset.yaml")
	kubectl(t, "apply", "-n", ns, "-f", sample)
	pods := waitCloneSet(t, ns, "sample", "sample", 5)
	for _, p := range pods {
		if !strings.HasPrefix(p.ImageID, "docker.io/library/nginx@sha256:") {
			t.Fatalf("pod %s runs image %s (%s), want the nginx:alpine stand-in", p.Name, p.Image, p.ImageID)
		}
	}
	header := strings.Join(strings.Fields(strings.Split(kubectl(t, "get", "clonesets", "-n", ns), "\n")[0]), " ")
	if header != "NAME DESIRED UPDATED UPDATED_READY UPDATED_AVAILABLE READY TOTAL AGE" {
		t.Fatalf("kubectl get clonesets header: %q", header)
	}

	kubectl(t, "scale", "clonesets", "sample", "-n", ns, "--replicas=3")
	pods = waitCloneSet(t, ns, "sample", "sample", 3)
	kubectl(t, "scale", "clonesets", "sample", "-n", ns, "--replicas=4")
	before := waitCloneSet(t, ns, "sample", "sample", 4)

	// The guestbook:v2 stand-in is testapp v2; the pods keep their names
	// and UIDs, their container restarts on the new image.
	kubectl(t, "patch", "clonesets", "sample", "-n", ns, "--type=strategic",
		"-p", `{"spec":{"template":{"spec":{"containers":[{"name":"main","image":"openkruise/guestbook:v2"}]}}}}`)
	eventually(t, rolloutTimeout, "the sample's pods to run guestbook:v2", func() error {
		if err := cloneSetSettled(t, ns, "sample", "sample", 4); err != nil {
			return err
		}
		for _, p := range listPods(t, ns, "app=sample") {
			if !strings.HasPrefix(p.ImageID, "docker.io/openkruise/guestbook@sha256:") {
				return fmt.Errorf("pod %s runs %s", p.Name, p.ImageID)
			}
		}
		return cloneSetColumnsMatch(t, ns, "sample", "sample")
	})
	expectUpdatedInPlace(t, before, listPods(t, ns, "app=sample"))
	if got := strings.TrimSpace(kubectl(t, "exec", "-n", ns, before[0].Name, "--", "/testapp", "version")); got != "v2" {
		t.Fatalf("pod %s runs testapp %q after the update, want v2", before[0].Name, got)
	}
}

// expectUpdatedInPlace checks that after are the pods of before, same
// names, UIDs and IPs (sandboxes), each with a new image ID and one more
// container restart.
func expectUpdatedInPlace(t *testing.T, before, after []podInfo) {
	t.Helper()
	if len(after) != len(before) {
		t.Fatalf("%d pods before the update, %d after: %v -> %v", len(before), len(after), before, after)
	}
	now := byName(after)
	for _, old := range before {
		p, ok := now[old.Name]
		switch {
		case !ok:
			t.Fatalf("pod %s was replaced: %v -> %v", old.Name, before, after)
		case p.UID != old.UID:
			t.Fatalf("pod %s was re-created (UID %s -> %s)", old.Name, old.UID, p.UID)
		case p.IP != old.IP:
			t.Fatalf("pod %s has a new sandbox (IP %s -> %s)", old.Name, old.IP, p.IP)
		case p.ImageID == old.ImageID:
			t.Fatalf("pod %s still runs image %s", old.Name, p.ImageID)
		case p.Restarts != old.Restarts+1:
			t.Fatalf("pod %s: restartCount %d -> %d, want one restart", old.Name, old.Restarts, p.Restarts)
		}
	}
}

// TestCloneSetScale: 10 -> 3 -> 10 pods, all Running each time, the status,
// kubectl get's columns and the scale subresource agreeing.
func TestCloneSetScale(t *testing.T) {
	requireNode(t)
	t.Parallel()
	ns := workloadNamespace(t)
	kubectlIn(t, testAppCloneSet("scale", 10, cluster.Images.TestAppV1, "", ""), "apply", "-n", ns, "-f", "-")
	first := waitCloneSet(t, ns, "scale", "scale", 10)

	kubectl(t, "scale", "clonesets", "scale", "-n", ns, "--replicas=3")
	kept := waitCloneSet(t, ns, "scale", "scale", 3)
	was := byName(first)
	for _, p := range kept {
		if old, ok := was[p.Name]; !ok || old.UID != p.UID {
			t.Fatalf("scaling down created pod %s; before: %v, after: %v", p.Name, first, kept)
		}
	}

	kubectl(t, "scale", "clonesets", "scale", "-n", ns, "--replicas=10")
	again := waitCloneSet(t, ns, "scale", "scale", 10)
	now := byName(again)
	for _, p := range kept {
		if now[p.Name].UID != p.UID {
			t.Fatalf("scaling up replaced pod %s", p.Name)
		}
	}
	cs := getCloneSet(t, ns, "scale")
	if cs.Status.ObservedGeneration != cs.Generation || cs.Generation != 3 {
		t.Fatalf("generation %d, observedGeneration %d after two scales, want 3", cs.Generation, cs.Status.ObservedGeneration)
	}
}

// TestCloneSetPartition: with partition 3 of 5, exactly two pods move to
// the new revision (re-created) and the three others stay as they were;
// partition 0 then updates them all.
func TestCloneSetPartition(t *testing.T) {
	requireNode(t)
	t.Parallel()
	ns := workloadNamespace(t)
	kubectlIn(t, testAppCloneSet("part", 5, cluster.Images.TestAppV1, "", ""), "apply", "-n", ns, "-f", "-")
	before := waitCloneSet(t, ns, "part", "part", 5)
	oldRevision := getCloneSet(t, ns, "part").Status.UpdateRevision

	kubectl(t, "patch", "clonesets", "part", "-n", ns, "--type=strategic", "-p", fmt.Sprintf(
		`{"spec":{"updateStrategy":{"rollingUpdate":{"partition":3}},"template":{"spec":{"containers":[{"name":"main","image":%q}]}}}}`,
		cluster.Images.TestAppV2))
	atPartition := func() error {
		cs := getCloneSet(t, ns, "part")
		st := cs.Status
		if st.ObservedGeneration != cs.Generation || st.UpdateRevision == oldRevision {
			return fmt.Errorf("the controller has not seen the new template yet")
		}
		pods := listPods(t, ns, "app=part")
		var updated []string
		for _, p := range pods {
			switch p.Revision {
			case st.UpdateRevision:
				updated = append(updated, p.Name)
			case oldRevision:
			default:
				return fmt.Errorf("pod %s at revision %s", p.Name, p.Revision)
			}
		}
		if len(updated) > 2 {
			t.Fatalf("%d pods at the update revision, partition 3 of 5 allows 2: %v", len(updated), pods)
		}
		if err := allRunningReady(pods, 5, ""); err != nil {
			return err
		}
		if len(updated) != 2 {
			return fmt.Errorf("%d pods at the update revision, want 2 (partition 3 of 5): %v", len(updated), pods)
		}
		if st.UpdatedReplicas != 2 || st.UpdatedReadyReplicas != 2 || st.ExpectedUpdatedReplicas != 2 || st.ReadyReplicas != 5 || st.CurrentRevision != oldRevision {
			return fmt.Errorf("status: updated %d, updatedReady %d, expectedUpdated %d, ready %d, currentRevision %s; want 2, 2, 2, 5, %s",
				st.UpdatedReplicas, st.UpdatedReadyReplicas, st.ExpectedUpdatedReplicas, st.ReadyReplicas, st.CurrentRevision, oldRevision)
		}
		return cloneSetColumnsMatch(t, ns, "part", "part")
	}
	eventually(t, rolloutTimeout, "two pods at the new revision", atPartition)
	// The rollout stops there: a controller that went on would have
	// replaced a third pod by now (maxUnavailable 20%: one at a time, each
	// Ready within a few seconds).
	consistently(t, 8*time.Second, "the rollout must stop at the partition", atPartition)
	mid := listPods(t, ns, "app=part")
	was := byName(before)
	for _, p := range mid {
		if p.Revision == oldRevision && was[p.Name].UID != p.UID {
			t.Fatalf("pod %s at the old revision was re-created", p.Name)
		}
		if p.Revision != oldRevision {
			if _, ok := was[p.Name]; ok {
				t.Fatalf("pod %s was updated without being re-created (podUpdatePolicy ReCreate)", p.Name)
			}
			if v, err := httpGet(p.IP, "/version"); err != nil || v != "v2" {
				t.Fatalf("updated pod %s answers /version %q (%v), want v2", p.Name, v, err)
			}
		}
	}

	kubectl(t, "patch", "clonesets", "part", "-n", ns, "--type=merge", "-p", `{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}`)
	after := waitCloneSet(t, ns, "part", "part", 5)
	for _, p := range after {
		if _, ok := was[p.Name]; ok {
			t.Fatalf("pod %s of the old revision is still there: %v", p.Name, after)
		}
	}
}

// TestCloneSetMaxSurge: ReCreate with maxSurge 2 and maxUnavailable 0 adds
// pods before removing old ones: more than replicas pods exist during the
// update, never fewer than replicas are Ready, and it ends with replicas
// pods, all at the new revision.
func TestCloneSetMaxSurge(t *testing.T) {
	requireNode(t)
	t.Parallel()
	ns := workloadNamespace(t)
	const replicas = 4
	kubectlIn(t, testAppCloneSet("surge", replicas, cluster.Images.TestAppV1, "", `  updateStrategy:
    rollingUpdate: {podUpdatePolicy: ReCreate, maxSurge: 2, maxUnavailable: 0}
`), "apply", "-n", ns, "-f", "-")
	before := waitCloneSet(t, ns, "surge", "surge", replicas)

	w := watchPods(t, ns, "app=surge")
	kubectl(t, "patch", "clonesets", "surge", "-n", ns, "--type=strategic", "-p", fmt.Sprintf(
		`{"spec":{"template":{"spec":{"containers":[{"name":"main","image":%q}]}}}}`, cluster.Images.TestAppV2))
	after := waitCloneSet(t, ns, "surge", "surge", replicas)
	maxActive, minReady := w.extremes()
	t.Logf("during the update: at most %d pods, at least %d Ready", maxActive, minReady)
	if maxActive <= replicas || maxActive > replicas+2 {
		t.Fatalf("at most %d pods existed during the update, want more than %d and at most %d (maxSurge 2)", maxActive, replicas, replicas+2)
	}
	if minReady < replicas {
		t.Fatalf("only %d pods were Ready at some point of the update, want at least %d (maxUnavailable 0)", minReady, replicas)
	}
	was := byName(before)
	for _, p := range after {
		if _, ok := was[p.Name]; ok {
			t.Fatalf("pod %s of the old revision is still there", p.Name)
		}
	}
}

// TestCloneSetInPlaceUpdate: an image change with InPlaceIfPossible keeps
// every pod (name, UID), restarts its container on the new image (image ID
// changes, restartCount rises), holds it not Ready through the
// InPlaceUpdateReady condition meanwhile and records the update in the
// apps.kruise.io/inplace-update-state annotation.
func TestCloneSetInPlaceUpdate(t *testing.T) {
	requireNode(t)
	t.Parallel()
	ns := workloadNamespace(t)
	kubectlIn(t, testAppCloneSet("inplace", 3, cluster.Images.TestAppV1, "", `  updateStrategy:
    rollingUpdate: {podUpdatePolicy: InPlaceIfPossible, maxUnavailable: 1}
`), "apply", "-n", ns, "-f", "-")
	before := waitCloneSet(t, ns, "inplace", "inplace", 3)
	for _, p := range before {
		if p.Conditions["InPlaceUpdateReady"] != corev1.ConditionTrue {
			t.Fatalf("pod %s has no InPlaceUpdateReady condition True: %v", p.Name, p.Conditions)
		}
	}

	w := watchPods(t, ns, "app=inplace")
	kubectl(t, "patch", "clonesets", "inplace", "-n", ns, "--type=strategic", "-p", fmt.Sprintf(
		`{"spec":{"template":{"spec":{"containers":[{"name":"main","image":%q}]}}}}`, cluster.Images.TestAppV2))
	after := waitCloneSet(t, ns, "inplace", "inplace", 3)
	expectUpdatedInPlace(t, before, after)

	revision := getCloneSet(t, ns, "inplace").Status.UpdateRevision
	notReady := w.sawFalse("InPlaceUpdateReady")
	if deleted := w.sawDeleted(); len(deleted) > 0 {
		t.Fatalf("pods were deleted during an in-place update: %v", deleted)
	}
	_, minReady := w.extremes()
	for i, p := range after {
		if !notReady[p.Name] {
			t.Errorf("pod %s was never seen with InPlaceUpdateReady False during its update", p.Name)
		}
		if p.Conditions["InPlaceUpdateReady"] != corev1.ConditionTrue {
			t.Errorf("pod %s: InPlaceUpdateReady %s after the update", p.Name, p.Conditions["InPlaceUpdateReady"])
		}
		if !strings.HasPrefix(p.ImageID, cluster.Images.Registry+"/kruise-e2e/testapp@sha256:") {
			t.Errorf("pod %s runs image %s", p.Name, p.ImageID)
		}
		var state struct {
			Revision              string `json:"revision"`
			LastContainerStatuses map[string]struct {
				ImageID string `json:"imageID"`
			} `json:"lastContainerStatuses"`
		}
		raw := p.Pod.Annotations["apps.kruise.io/inplace-update-state"]
		if err := json.Unmarshal([]byte(raw), &state); err != nil {
			t.Fatalf("pod %s: apps.kruise.io/inplace-update-state %q: %v", p.Name, raw, err)
		}
		if state.Revision != revision || state.LastContainerStatuses["main"].ImageID != before[i].ImageID {
			t.Errorf("pod %s: apps.kruise.io/inplace-update-state %s, want revision %s and the old image ID %s", p.Name, raw, revision, before[i].ImageID)
		}
		if v, err := httpGet(p.IP, "/version"); err != nil || v != "v2" {
			t.Errorf("pod %s answers /version %q (%v), want v2", p.Name, v, err)
		}
	}
	// maxUnavailable 1: one pod at a time.
	if minReady < 2 {
		t.Errorf("only %d pods were Ready at some point of the update, want at least 2 (maxUnavailable 1)", minReady)
	}
}

// TestCloneSetReplacesPods: a deleted pod is replaced by a new one (new
// name and UID); a pod named in scaleStrategy.podsToDelete with replicas
// one less is the one that goes.
func TestCloneSetReplacesPods(t *testing.T) {
	requireNode(t)
	t.Parallel()
	ns := workloadNamespace(t)
	kubectlIn(t, testAppCloneSet("heal", 3, cluster.Images.TestAppV1, "", ""), "apply", "-n", ns, "-f", "-")
	before := waitCloneSet(t, ns, "heal", "heal", 3)

	victim := before[1]
	kubectl(t, "delete", "pod", victim.Name, "-n", ns, "--wait=false")
	after := waitCloneSet(t, ns, "heal", "heal", 3)
	uids := map[string]bool{}
	for _, p := range after {
		uids[p.UID] = true
		if p.Name == victim.Name || p.UID == victim.UID {
			t.Fatalf("deleted pod %s is still there: %v", victim.Name, after)
		}
	}
	for _, p := range before {
		if p.Name != victim.Name && !uids[p.UID] {
			t.Fatalf("pod %s was not deleted but is gone: %v -> %v", p.Name, before, after)
		}
	}

	chosen := after[2]
	kubectl(t, "patch", "clonesets", "heal", "-n", ns, "--type=merge", "-p",
		fmt.Sprintf(`{"spec":{"replicas":2,"scaleStrategy":{"podsToDelete":[%q]}}}`, chosen.Name))
	left := waitCloneSet(t, ns, "heal", "heal", 2)
	for _, p := range left {
		if p.Name == chosen.Name {
			t.Fatalf("pod %s in podsToDelete is still there: %v", chosen.Name, left)
		}
	}
	eventually(t, time.Minute, "podsToDelete to forget the deleted pod", func() error {
		if got := getCloneSet(t, ns, "heal").Spec.ScaleStrategy.PodsToDelete; len(got) != 0 {
			return fmt.Errorf("scaleStrategy.podsToDelete is still %v", got)
		}
		return nil
	})
}

// TestCloneSetReadiness: pods whose readiness probe fails until a file
// exists count as replicas but not as ready; as they become Ready (kubectl
// exec creates the file) status.readyReplicas follows at once and
// status.availableReplicas after minReadySeconds; a pod failing its probe
// again leaves both, and is the one a scale-down removes.
func TestCloneSetReadiness(t *testing.T) {
	requireNode(t)
	t.Parallel()
	ns := workloadNamespace(t)
	// Long enough that a kubelet slow to report readiness (the pod's Ready
	// condition says when it became ready, not when the API learnt it) on
	// a busy machine still shows the wait.
	const minReady = 10
	kubectlIn(t, testAppCloneSet("ready", 2, cluster.Images.TestAppV1, `
        readinessProbe:
          exec: {command: [cat, /tmp/ready]}
          periodSeconds: 1`, fmt.Sprintf("  minReadySeconds: %d\n", minReady)), "apply", "-n", ns, "-f", "-")

	status := func() appsv1beta1.CloneSetStatus { return getCloneSet(t, ns, "ready").Status }
	var pods []podInfo
	eventually(t, rolloutTimeout, "two Running pods, not Ready", func() error {
		pods = listPods(t, ns, "app=ready")
		if len(pods) != 2 {
			return fmt.Errorf("pods: %v", pods)
		}
		for _, p := range pods {
			if p.Phase != corev1.PodRunning || p.Ready || len(p.Pod.Status.ContainerStatuses) == 0 || p.Pod.Status.ContainerStatuses[0].State.Running == nil {
				return fmt.Errorf("want every container running and every pod not Ready: %v", pods)
			}
		}
		if st := status(); st.Replicas != 2 || st.ReadyReplicas != 0 || st.AvailableReplicas != 0 || st.UpdatedReplicas != 2 {
			return fmt.Errorf("status replicas %d, ready %d, available %d, updated %d; want 2, 0, 0, 2", st.Replicas, st.ReadyReplicas, st.AvailableReplicas, st.UpdatedReplicas)
		}
		return nil
	})

	kubectl(t, "exec", "-n", ns, pods[0].Name, "--", "touch", "/tmp/ready")
	var sawReadyNotAvailable bool
	eventually(t, time.Minute, "readyReplicas 1", func() error {
		st := status()
		if st.ReadyReplicas != 1 {
			return fmt.Errorf("status.readyReplicas %d", st.ReadyReplicas)
		}
		sawReadyNotAvailable = st.AvailableReplicas == 0
		return nil
	})
	var became time.Time
	eventually(t, time.Minute, "availableReplicas 1", func() error {
		st := status()
		if st.AvailableReplicas != 1 || st.ReadyReplicas != 1 || st.UpdatedAvailableReplicas != 1 {
			return fmt.Errorf("status ready %d, available %d, updatedAvailable %d", st.ReadyReplicas, st.AvailableReplicas, st.UpdatedAvailableReplicas)
		}
		became = time.Now()
		return nil
	})
	var readySince time.Time
	for _, c := range listPods(t, ns, "app=ready")[0].Pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			readySince = c.LastTransitionTime.Time
		}
	}
	// lastTransitionTime has whole seconds.
	t.Logf("pod %s Ready at %s, counted available at %s (status seen ready and not yet available: %v)",
		pods[0].Name, readySince.Format(time.RFC3339), became.Format(time.RFC3339), sawReadyNotAvailable)
	if became.Sub(readySince) < (minReady-1)*time.Second {
		t.Fatalf("pod %s Ready at %s was counted available at %s; minReadySeconds is %d",
			pods[0].Name, readySince.Format(time.RFC3339), became.Format(time.RFC3339), minReady)
	}
	if err := cloneSetColumnsMatchAvailable(t, ns, "ready", 1); err != nil {
		t.Fatal(err)
	}

	kubectl(t, "exec", "-n", ns, pods[1].Name, "--", "touch", "/tmp/ready")
	eventually(t, time.Minute, "both pods available", func() error {
		if st := status(); st.ReadyReplicas != 2 || st.AvailableReplicas != 2 {
			return fmt.Errorf("status ready %d, available %d", st.ReadyReplicas, st.AvailableReplicas)
		}
		return nil
	})

	kubectl(t, "exec", "-n", ns, pods[0].Name, "--", "rm", "/tmp/ready")
	eventually(t, time.Minute, "one pod ready and available again", func() error {
		if st := status(); st.Replicas != 2 || st.ReadyReplicas != 1 || st.AvailableReplicas != 1 {
			return fmt.Errorf("status replicas %d, ready %d, available %d; want 2, 1, 1", st.Replicas, st.ReadyReplicas, st.AvailableReplicas)
		}
		return cloneSetColumnsMatchAvailable(t, ns, "ready", 1)
	})

	// Scaling down takes the pod that is not ready first.
	kubectl(t, "scale", "clonesets", "ready", "-n", ns, "--replicas=1")
	eventually(t, time.Minute, "the pod that is not ready to go", func() error {
		left := listPods(t, ns, "app=ready")
		if len(left) != 1 || left[0].Name != pods[1].Name || !left[0].Ready {
			return fmt.Errorf("pods %v, want only %s, Ready", left, pods[1].Name)
		}
		if st := status(); st.Replicas != 1 || st.ReadyReplicas != 1 || st.AvailableReplicas != 1 {
			return fmt.Errorf("status replicas %d, ready %d, available %d; want 1 each", st.Replicas, st.ReadyReplicas, st.AvailableReplicas)
		}
		return nil
	})
}

// cloneSetColumnsMatchAvailable is cloneSetColumnsMatch with minReadySeconds:
// UPDATED_AVAILABLE is given.
func cloneSetColumnsMatchAvailable(t *testing.T, ns, name string, available int) error {
	cols := columns(t, ns, "clonesets", name)
	st := getCloneSet(t, ns, name).Status
	var ready int
	for _, p := range listPods(t, ns, "app="+name) {
		if p.Ready {
			ready++
		}
	}
	// DESIRED UPDATED UPDATED_READY UPDATED_AVAILABLE READY TOTAL
	want := []string{name, "2", "2", strconv.Itoa(ready), strconv.Itoa(available), strconv.Itoa(ready), "2"}
	if len(cols) != len(want)+1 || strings.Join(cols[:len(want)], " ") != strings.Join(want, " ") {
		return fmt.Errorf("kubectl get clonesets %s: %q, want %q then AGE (status %+v)", name, cols, want, st)
	}
	return nil
}

// TestCloneSetGarbageCollection: kube-controller-manager's garbage
// collector follows the owner references of pods, PersistentVolumeClaims
// and ControllerRevisions to CloneSets (an aggregated kind): deleting a
// CloneSet in the background or in the foreground removes them; deleting
// it with --cascade=orphan leaves the pods running, without owner
// references.
func TestCloneSetGarbageCollection(t *testing.T) {
	requireNode(t)
	t.Parallel()
	ns := workloadNamespace(t)
	kc, _ := clients(t)
	hostPathVolumes(t, ns, 2)
	for _, name := range []string{"background", "foreground", "orphan"} {
		spec := ""
		if name == "background" {
			spec = volumeClaimTemplate(ns)
		}
		kubectlIn(t, testAppCloneSet(name, 2, cluster.Images.TestAppV1, "", spec), "apply", "-n", ns, "-f", "-")
	}
	uids := map[string]string{}
	for _, name := range []string{"background", "foreground", "orphan"} {
		waitCloneSet(t, ns, name, name, 2)
		uids[name] = string(getCloneSet(t, ns, name).UID)
	}
	// owned lists the pods, claims and ControllerRevisions with an owner
	// reference to the CloneSet.
	owned := func(name string) (pods, revisions []string) {
		claims, err := kc.CoreV1().PersistentVolumeClaims(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range claims.Items {
			for _, ref := range c.OwnerReferences {
				if string(ref.UID) == uids[name] {
					pods = append(pods, "claim "+c.Name)
				}
			}
		}
		podList, err := kc.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range podList.Items {
			for _, ref := range p.OwnerReferences {
				if string(ref.UID) == uids[name] {
					pods = append(pods, p.Name)
				}
			}
		}
		revList, err := kc.AppsV1().ControllerRevisions(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range revList.Items {
			for _, ref := range r.OwnerReferences {
				if string(ref.UID) == uids[name] {
					revisions = append(revisions, r.Name)
				}
			}
		}
		return pods, revisions
	}
	for _, name := range []string{"background", "foreground", "orphan"} {
		want := 2
		if name == "background" {
			want = 4 // and two claims
		}
		if pods, revisions := owned(name); len(pods) != want || len(revisions) != 1 {
			t.Fatalf("CloneSet %s owns pods (and claims) %v and revisions %v, want two pods (and claims) and one revision", name, pods, revisions)
		}
	}

	t.Run("background", func(t *testing.T) {
		kubectl(t, "delete", "clonesets", "background", "-n", ns)
		eventually(t, rolloutTimeout, "the garbage collector to delete the pods, claims and revisions", func() error {
			pods, revisions := owned("background")
			if len(pods)+len(revisions) > 0 {
				return fmt.Errorf("still there: pods and claims %v, revisions %v", pods, revisions)
			}
			if left := listPods(t, ns, "app=background"); len(left) > 0 {
				return fmt.Errorf("pods left: %v", left)
			}
			return nil
		})
	})

	t.Run("foreground", func(t *testing.T) {
		// kubectl waits until the CloneSet is gone, which in the
		// foreground is after the garbage collector deleted the pods.
		// (The pods block their owner's deletion; the revisions are deleted
		// too, maybe a moment later.)
		kubectl(t, "delete", "clonesets", "foreground", "-n", ns, "--cascade=foreground", "--timeout=2m")
		if left := listPods(t, ns, "app=foreground"); len(left) > 0 {
			t.Fatalf("the CloneSet is gone but not its pods: %v", left)
		}
		eventually(t, time.Minute, "the revisions to be deleted", func() error {
			if pods, revisions := owned("foreground"); len(pods)+len(revisions) > 0 {
				return fmt.Errorf("still there: pods %v, revisions %v", pods, revisions)
			}
			return nil
		})
	})

	t.Run("orphan", func(t *testing.T) {
		before := listPods(t, ns, "app=orphan")
		kubectl(t, "delete", "clonesets", "orphan", "-n", ns, "--cascade=orphan")
		eventually(t, rolloutTimeout, "the garbage collector to orphan the pods and revisions", func() error {
			if pods, revisions := owned("orphan"); len(pods)+len(revisions) > 0 {
				return fmt.Errorf("still owned: pods %v, revisions %v", pods, revisions)
			}
			return nil
		})
		after := listPods(t, ns, "app=orphan")
		if err := allRunningReady(after, 2, ""); err != nil {
			t.Fatal(err)
		}
		for i, p := range after {
			if p.UID != before[i].UID || len(p.Pod.OwnerReferences) != 0 {
				t.Fatalf("pod %s: UID %s (was %s), owner references %v", p.Name, p.UID, before[i].UID, p.Pod.OwnerReferences)
			}
		}
		revisions, err := kc.AppsV1().ControllerRevisions(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=orphan"})
		if err != nil || len(revisions.Items) != 1 {
			t.Fatalf("the orphaned revision: %v %v", err, revisions)
		}
	})
}
