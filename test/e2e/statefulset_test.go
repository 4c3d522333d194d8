package e2e

import (
	"context"
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

// The Advanced StatefulSet controller on the real node, through
// kube-apiserver: ordinal names, OrderedReady and Parallel pod management,
// reserved ordinals, rolling updates with partition and maxUnavailable, in
// place behind the InPlaceUpdateReady readiness gate, stable volume claims
// bound to pre-created volumes, OpenKruise's samples.

// testAppStatefulSet is a v1beta1 StatefulSet of testapp; spec is more of
// its spec, indented by two spaces. The probe waits a second, so that a
// pod's creation and its readiness are apart. The pods have the
// InPlaceUpdateReady readiness gate, as OpenKruise asks of in-place
// updates (and its samples have).
func testAppStatefulSet(name string, replicas int, image, spec string) string {
	return fmt.Sprintf(`apiVersion: apps.kruise.io/v1beta1
kind: StatefulSet
metadata:
  name: %s
spec:
  replicas: %d
  serviceName: %s
%s%s`, name, replicas, name, testAppTemplate(name, image, `
        readinessProbe:
          httpGet: {path: /healthz, port: 8080}
          initialDelaySeconds: 1
          periodSeconds: 1`, "      readinessGates: [{conditionType: InPlaceUpdateReady}]\n"), spec)
}

func getStatefulSet(t *testing.T, ns, name string) *appsv1beta1.StatefulSet {
	t.Helper()
	_, kruise := clients(t)
	set, err := kruise.AppsV1beta1().StatefulSets(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("getting StatefulSet %s/%s: %v", ns, name, err)
	}
	return set
}

// statefulSetSettled says why the StatefulSet (pods labelled
// selector) is not settled with exactly the pods <name>-<ordinal> of
// ordinals, all Running and Ready at the update revision, and a status
// that counts them so.
func statefulSetSettled(t *testing.T, ns, name, selector string, ordinals ...int) error {
	set := getStatefulSet(t, ns, name)
	st := set.Status
	if st.ObservedGeneration != set.Generation {
		return fmt.Errorf("status.observedGeneration %d, generation %d", st.ObservedGeneration, set.Generation)
	}
	pods := listPods(t, ns, selector)
	if err := allRunningReady(pods, len(ordinals), st.UpdateRevision); err != nil {
		return err
	}
	have := byName(pods)
	for _, o := range ordinals {
		if _, ok := have[name+"-"+strconv.Itoa(o)]; !ok {
			return fmt.Errorf("no pod %s-%d: %v", name, o, pods)
		}
	}
	want := int32(len(ordinals))
	got := []int32{st.Replicas, st.ReadyReplicas, st.AvailableReplicas, st.CurrentReplicas, st.UpdatedReplicas, st.UpdatedReadyReplicas, st.UpdatedAvailableReplicas}
	for _, n := range got {
		if n != want {
			return fmt.Errorf("status replicas, ready, available, current, updated, updatedReady, updatedAvailable = %v, want %d each", got, want)
		}
	}
	if st.CurrentRevision != st.UpdateRevision {
		return fmt.Errorf("status.currentRevision %s, updateRevision %s", st.CurrentRevision, st.UpdateRevision)
	}
	if st.LabelSelector != selector {
		return fmt.Errorf("status.labelSelector %q, want %s", st.LabelSelector, selector)
	}
	// NAME DESIRED CURRENT UPDATED READY AGE
	cols := columns(t, ns, "statefulsets.apps.kruise.io", name)
	n := strconv.Itoa(len(ordinals))
	if wantCols := []string{name, strconv.Itoa(int(*set.Spec.Replicas)), n, n, n}; len(cols) != 6 || strings.Join(cols[:5], " ") != strings.Join(wantCols, " ") {
		return fmt.Errorf("kubectl get statefulsets.apps.kruise.io %s: %q, want %q then AGE", name, cols, wantCols)
	}
	return nil
}

// waitStatefulSet waits for statefulSetSettled, then checks the scale
// subresource.
func waitStatefulSet(t *testing.T, ns, name, selector string, ordinals ...int) []podInfo {
	t.Helper()
	eventually(t, rolloutTimeout, fmt.Sprintf("StatefulSet %s to settle with the pods of ordinals %v", name, ordinals), func() error {
		return statefulSetSettled(t, ns, name, selector, ordinals...)
	})
	spec, status, sel := scaleOf(t, ns, "statefulsets", name)
	if spec != int32(len(ordinals)) || status != int32(len(ordinals)) || sel != selector {
		t.Fatalf("scale subresource of %s: spec.replicas %d, status.replicas %d, status.selector %q", name, spec, status, sel)
	}
	return listPods(t, ns, selector)
}

// expectOrder fails unless the event first happens before then.
func expectOrder(t *testing.T, events []podEvent, first, then podEvent) {
	t.Helper()
	i, j := indexOf(events, first.Name, first.What), indexOf(events, then.Name, then.What)
	if i < 0 || j < 0 || i > j {
		t.Fatalf("want %q before %q; saw %v", first, then, events)
	}
}

// TestStatefulSetOrderedReady: pods are named by ordinal; with
// OrderedReady each is created only once the previous one is Ready; a
// rolling update (ReCreate) replaces them from the highest ordinal down,
// each once the one above is Ready again; scaling down removes the highest
// ordinal first, the next only once it is gone.
func TestStatefulSetOrderedReady(t *testing.T) {
	requireNode(t)
	t.Parallel()
	ns := workloadNamespace(t)
	w := watchPods(t, ns, "app=ordered")
	kubectlIn(t, testAppStatefulSet("ordered", 3, cluster.Images.TestAppV1, ""), "apply", "-n", ns, "-f", "-")
	before := waitStatefulSet(t, ns, "ordered", "app=ordered", 0, 1, 2)
	events := w.events()
	expectOrder(t, events, podEvent{"ordered-0", "ready"}, podEvent{"ordered-1", "created"})
	expectOrder(t, events, podEvent{"ordered-1", "ready"}, podEvent{"ordered-2", "created"})

	w = watchPods(t, ns, "app=ordered")
	kubectl(t, "patch", "statefulsets.apps.kruise.io", "ordered", "-n", ns, "--type=strategic", "-p", fmt.Sprintf(
		`{"spec":{"template":{"spec":{"containers":[{"name":"main","image":%q}]}}}}`, cluster.Images.TestAppV2))
	after := waitStatefulSet(t, ns, "ordered", "app=ordered", 0, 1, 2)
	for i, p := range after {
		if p.UID == before[i].UID {
			t.Fatalf("pod %s was not re-created", p.Name)
		}
	}
	events = w.events()
	expectOrder(t, events, podEvent{"ordered-2", "deleting"}, podEvent{"ordered-1", "deleting"})
	expectOrder(t, events, podEvent{"ordered-2", "ready"}, podEvent{"ordered-1", "deleting"})
	expectOrder(t, events, podEvent{"ordered-1", "ready"}, podEvent{"ordered-0", "deleting"})

	w = watchPods(t, ns, "app=ordered")
	kubectl(t, "scale", "statefulsets.apps.kruise.io", "ordered", "-n", ns, "--replicas=1")
	waitStatefulSet(t, ns, "ordered", "app=ordered", 0)
	expectOrder(t, w.events(), podEvent{"ordered-2", "gone"}, podEvent{"ordered-1", "deleting"})
}

// TestStatefulSetParallel: with Parallel every pod is created at once,
// before any is Ready; scaling down removes the highest ordinals.
func TestStatefulSetParallel(t *testing.T) {
	requireNode(t)
	t.Parallel()
	ns := workloadNamespace(t)
	w := watchPods(t, ns, "app=parallel")
	kubectlIn(t, testAppStatefulSet("parallel", 4, cluster.Images.TestAppV1, "  podManagementPolicy: Parallel\n"), "apply", "-n", ns, "-f", "-")
	before := waitStatefulSet(t, ns, "parallel", "app=parallel", 0, 1, 2, 3)
	events := w.events()
	for i := 0; i < 4; i++ {
		// The probe waits a second: all were created before.
		expectOrder(t, events, podEvent{fmt.Sprintf("parallel-%d", i), "created"}, podEvent{"parallel-0", "ready"})
	}

	kubectl(t, "scale", "statefulsets.apps.kruise.io", "parallel", "-n", ns, "--replicas=2")
	after := waitStatefulSet(t, ns, "parallel", "app=parallel", 0, 1)
	for i, p := range after {
		if p.UID != before[i].UID {
			t.Fatalf("pod %s was re-created by the scale-down", p.Name)
		}
	}
}

// TestStatefulSetReserveOrdinals: reserved ordinals get no pod, the
// replicas take the next ordinals; releasing one fills it and scale-down
// takes the highest.
func TestStatefulSetReserveOrdinals(t *testing.T) {
	requireNode(t)
	t.Parallel()
	ns := workloadNamespace(t)
	kubectlIn(t, testAppStatefulSet("reserve", 3, cluster.Images.TestAppV1, `  podManagementPolicy: Parallel
  reserveOrdinals: [1]
`), "apply", "-n", ns, "-f", "-")
	waitStatefulSet(t, ns, "reserve", "app=reserve", 0, 2, 3)

	kubectl(t, "patch", "statefulsets.apps.kruise.io", "reserve", "-n", ns, "--type=merge", "-p", `{"spec":{"replicas":2}}`)
	waitStatefulSet(t, ns, "reserve", "app=reserve", 0, 2)
	kubectl(t, "patch", "statefulsets.apps.kruise.io", "reserve", "-n", ns, "--type=merge", "-p", `{"spec":{"reserveOrdinals":[0]}}`)
	waitStatefulSet(t, ns, "reserve", "app=reserve", 1, 2)
}

// TestStatefulSetPartitionInPlace: an image change with InPlaceIfPossible
// and partition 2 of 4 updates ordinals 3 and 2 in place (same UIDs, new
// image ID, a container restart, InPlaceUpdateReady False meanwhile) and
// leaves 0 and 1 alone; partition 0 then updates those too.
func TestStatefulSetPartitionInPlace(t *testing.T) {
	requireNode(t)
	t.Parallel()
	ns := workloadNamespace(t)
	kubectlIn(t, testAppStatefulSet("rolling", 4, cluster.Images.TestAppV1, `  podManagementPolicy: Parallel
  updateStrategy:
    type: RollingUpdate
    rollingUpdate: {podUpdatePolicy: InPlaceIfPossible, partition: 2}
`), "apply", "-n", ns, "-f", "-")
	before := waitStatefulSet(t, ns, "rolling", "app=rolling", 0, 1, 2, 3)
	oldRevision := getStatefulSet(t, ns, "rolling").Status.UpdateRevision

	w := watchPods(t, ns, "app=rolling")
	kubectl(t, "patch", "statefulsets.apps.kruise.io", "rolling", "-n", ns, "--type=strategic", "-p", fmt.Sprintf(
		`{"spec":{"template":{"spec":{"containers":[{"name":"main","image":%q}]}}}}`, cluster.Images.TestAppV2))
	atPartition := func() error {
		set := getStatefulSet(t, ns, "rolling")
		st := set.Status
		if st.ObservedGeneration != set.Generation || st.UpdateRevision == oldRevision {
			return fmt.Errorf("the controller has not seen the new template yet")
		}
		pods := listPods(t, ns, "app=rolling")
		for _, p := range pods[:min(2, len(pods))] {
			if p.Revision == st.UpdateRevision {
				t.Fatalf("pod %s below the partition (2) was updated: %v", p.Name, pods)
			}
		}
		if err := allRunningReady(pods, 4, ""); err != nil {
			return err
		}
		for i, p := range pods {
			want := oldRevision
			if i >= 2 {
				want = st.UpdateRevision
			}
			if p.Revision != want {
				return fmt.Errorf("pod %s at revision %s, want %s: %v", p.Name, p.Revision, want, pods)
			}
			if i >= 2 && p.ImageID == before[i].ImageID {
				return fmt.Errorf("pod %s still runs %s", p.Name, p.ImageID)
			}
		}
		if st.UpdatedReplicas != 2 || st.UpdatedReadyReplicas != 2 || st.CurrentReplicas != 2 || st.ReadyReplicas != 4 || st.CurrentRevision != oldRevision {
			return fmt.Errorf("status: updated %d, updatedReady %d, current %d, ready %d, currentRevision %s; want 2, 2, 2, 4, %s",
				st.UpdatedReplicas, st.UpdatedReadyReplicas, st.CurrentReplicas, st.ReadyReplicas, st.CurrentRevision, oldRevision)
		}
		return nil
	}
	eventually(t, rolloutTimeout, "ordinals 2 and 3 at the new revision", atPartition)
	consistently(t, 6*time.Second, "the rollout must stop at the partition", atPartition)
	mid := listPods(t, ns, "app=rolling")
	expectUpdatedInPlace(t, before[2:], mid[2:])
	for i := 0; i < 2; i++ {
		if mid[i].UID != before[i].UID || mid[i].ImageID != before[i].ImageID || mid[i].Restarts != before[i].Restarts {
			t.Fatalf("pod %s below the partition changed: %v -> %v", mid[i].Name, before[i], mid[i])
		}
	}
	notReady := w.sawFalse("InPlaceUpdateReady")
	if !notReady["rolling-2"] || !notReady["rolling-3"] || notReady["rolling-0"] || notReady["rolling-1"] {
		t.Fatalf("pods seen with InPlaceUpdateReady False: %v, want rolling-2 and rolling-3", notReady)
	}

	kubectl(t, "patch", "statefulsets.apps.kruise.io", "rolling", "-n", ns, "--type=merge", "-p", `{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}`)
	after := waitStatefulSet(t, ns, "rolling", "app=rolling", 0, 1, 2, 3)
	expectUpdatedInPlace(t, before[:2], after[:2])
	if deleted := w.sawDeleted(); len(deleted) > 0 {
		t.Fatalf("pods were deleted during in-place updates: %v", deleted)
	}
	for _, p := range after {
		if v, err := httpGet(p.IP, "/version"); err != nil || v != "v2" {
			t.Fatalf("pod %s answers /version %q (%v), want v2", p.Name, v, err)
		}
	}
}

// TestStatefulSetMaxUnavailable: Parallel with maxUnavailable 2 re-creates
// two pods at a time, never more.
func TestStatefulSetMaxUnavailable(t *testing.T) {
	requireNode(t)
	t.Parallel()
	ns := workloadNamespace(t)
	const replicas = 5
	kubectlIn(t, testAppStatefulSet("budget", replicas, cluster.Images.TestAppV1, `  podManagementPolicy: Parallel
  updateStrategy:
    type: RollingUpdate
    rollingUpdate: {maxUnavailable: 2}
`), "apply", "-n", ns, "-f", "-")
	before := waitStatefulSet(t, ns, "budget", "app=budget", 0, 1, 2, 3, 4)

	w := watchPods(t, ns, "app=budget")
	kubectl(t, "patch", "statefulsets.apps.kruise.io", "budget", "-n", ns, "--type=strategic", "-p", fmt.Sprintf(
		`{"spec":{"template":{"spec":{"containers":[{"name":"main","image":%q}]}}}}`, cluster.Images.TestAppV2))
	after := waitStatefulSet(t, ns, "budget", "app=budget", 0, 1, 2, 3, 4)
	for i, p := range after {
		if p.UID == before[i].UID {
			t.Fatalf("pod %s was not re-created (podUpdatePolicy ReCreate)", p.Name)
		}
	}
	_, minReady := w.extremes()
	t.Logf("at least %d pods Ready during the update", minReady)
	if minReady != replicas-2 {
		t.Fatalf("at least %d pods were Ready during the update, want %d: two at a time (maxUnavailable 2); events %v", minReady, replicas-2, w.events())
	}
}

// TestStatefulSetSamples: OpenKruise's StatefulSet samples, applied
// unchanged, run (their images are served by stand-ins); the guestbook
// sample then takes guestbook-patch-to-v2.yaml: ordinals from the
// partition (15) up move to guestbook:v2 in place, at most three at a
// time, the others stay.
func TestStatefulSetSamples(t *testing.T) {
	requireNode(t)
	t.Parallel()
	ns := workloadNamespace(t)
	dir := filepath.Join(sharedsamples.Dir(t), "samples", "statefulset")
	kubectl(t, "apply", "-n", ns, "-f", filepath.Join(dir, "apps_v1alpha1_statefulset.yaml"))
	kubectl(t, "apply", "-n", ns, "-f", filepath.Join(dir, "guestbook-statefulset.yaml"))
	const guestbook, selector = "demo-v1-guestbook-kruise", "app.kubernetes.io/instance=demo-v1,app.kubernetes.io/name=guestbook-kruise"
	var ordinals []int
	for i := 0; i < 20; i++ {
		ordinals = append(ordinals, i)
	}
	waitStatefulSet(t, ns, "sample", "app=sample", ordinals[:10]...)
	before := waitStatefulSet(t, ns, guestbook, selector, ordinals...)
	byOrdinal := func(pods []podInfo) map[int]podInfo {
		m := map[int]podInfo{}
		for _, p := range pods {
			n, _ := strconv.Atoi(p.Name[strings.LastIndex(p.Name, "-")+1:])
			m[n] = p
		}
		return m
	}
	old := byOrdinal(before)
	for _, p := range before {
		if !strings.HasPrefix(p.ImageID, "docker.io/openkruise/guestbook@sha256:") {
			t.Fatalf("pod %s runs %s, want the guestbook:v1 stand-in", p.Name, p.ImageID)
		}
	}
	oldRevision := getStatefulSet(t, ns, guestbook).Status.UpdateRevision

	w := watchPods(t, ns, selector)
	kubectl(t, "apply", "-n", ns, "-f", filepath.Join(dir, "guestbook-patch-to-v2.yaml"))
	eventually(t, rolloutTimeout, "ordinals 15-19 on guestbook:v2", func() error {
		set := getStatefulSet(t, ns, guestbook)
		st := set.Status
		if st.ObservedGeneration != set.Generation || st.UpdateRevision == oldRevision {
			return fmt.Errorf("the controller has not seen the new template yet")
		}
		pods := listPods(t, ns, selector)
		if err := allRunningReady(pods, 20, ""); err != nil {
			return err
		}
		for o, p := range byOrdinal(pods) {
			if o < 15 && p.Revision == st.UpdateRevision {
				t.Fatalf("pod %s below the partition (15) was updated", p.Name)
			}
			if o >= 15 && (p.Revision != st.UpdateRevision || p.ImageID == old[o].ImageID) {
				return fmt.Errorf("pod %s not updated yet", p.Name)
			}
		}
		if st.UpdatedReplicas != 5 || st.UpdatedReadyReplicas != 5 || st.ReadyReplicas != 20 {
			return fmt.Errorf("status updated %d, updatedReady %d, ready %d", st.UpdatedReplicas, st.UpdatedReadyReplicas, st.ReadyReplicas)
		}
		return nil
	})
	now := byOrdinal(listPods(t, ns, selector))
	for o := 0; o < 20; o++ {
		p := now[o]
		if p.UID != old[o].UID {
			t.Fatalf("pod %s was re-created", p.Name)
		}
		updated := p.ImageID != old[o].ImageID
		if updated != (o >= 15) {
			t.Fatalf("pod %s: image %s -> %s (partition 15)", p.Name, old[o].ImageID, p.ImageID)
		}
		if updated && (!strings.HasPrefix(p.ImageID, "docker.io/openkruise/guestbook@sha256:") || p.Restarts != old[o].Restarts+1) {
			t.Fatalf("pod %s: image %s, restarts %d -> %d", p.Name, p.ImageID, old[o].Restarts, p.Restarts)
		}
	}
	if _, minReady := w.extremes(); minReady < 17 {
		t.Fatalf("only %d pods Ready at some point, want at least 17 (maxUnavailable 3)", minReady)
	}
}

// TestStatefulSetStableVolumes: each pod gets its claim from the volume
// claim templates (bound to pre-created hostPath volumes: there is no
// provisioner), a re-created pod gets the same claim and finds its data;
// deleting the StatefulSet with whenDeleted: Delete removes pods and
// claims (the garbage collector follows the claims' owner references).
func TestStatefulSetStableVolumes(t *testing.T) {
	requireNode(t)
	t.Parallel()
	ns := workloadNamespace(t)
	kc, _ := clients(t)
	hostPathVolumes(t, ns, 2)
	kubectlIn(t, fmt.Sprintf(`apiVersion: apps.kruise.io/v1beta1
kind: StatefulSet
metadata:
  name: data
spec:
  replicas: 2
  serviceName: data
  podManagementPolicy: Parallel
  persistentVolumeClaimRetentionPolicy: {whenDeleted: Delete, whenScaled: Retain}
  selector:
    matchLabels: {app: data}
  template:
    metadata:
      labels: {app: data}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: main
        image: %s
        volumeMounts: [{name: data, mountPath: /data}]
%s`, cluster.Images.TestAppV1, volumeClaimTemplate(ns)), "apply", "-n", ns, "-f", "-")
	before := waitStatefulSet(t, ns, "data", "app=data", 0, 1)
	for _, p := range before {
		kubectl(t, "exec", "-n", ns, p.Name, "--", "sh", "-c", "echo "+p.UID+" > /data/owner")
	}
	claims := func() map[string]string { // claim -> volume
		list, err := kc.CoreV1().PersistentVolumeClaims(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, c := range list.Items {
			m[c.Name] = c.Spec.VolumeName
		}
		return m
	}
	bound := claims()
	if len(bound) != 2 || bound["data-data-0"] == "" || bound["data-data-1"] == "" {
		t.Fatalf("claims and their volumes: %v, want data-data-0 and data-data-1 bound", bound)
	}

	kubectl(t, "delete", "pod", "data-0", "-n", ns, "--wait=false")
	eventually(t, rolloutTimeout, "data-0 to be re-created", func() error {
		if err := statefulSetSettled(t, ns, "data", "app=data", 0, 1); err != nil {
			return err
		}
		if p := byName(listPods(t, ns, "app=data"))["data-0"]; p.UID == before[0].UID {
			return fmt.Errorf("data-0 not re-created yet")
		}
		return nil
	})
	if got := claims(); fmt.Sprint(got) != fmt.Sprint(bound) {
		t.Fatalf("claims after re-creating data-0: %v, before %v", got, bound)
	}
	if got := strings.TrimSpace(kubectl(t, "exec", "-n", ns, "data-0", "--", "cat", "/data/owner")); got != before[0].UID {
		t.Fatalf("the new data-0 reads %q from its volume, want what the old one wrote (%s)", got, before[0].UID)
	}
	pod := byName(listPods(t, ns, "app=data"))["data-0"].Pod
	var claimName string
	for _, v := range pod.Spec.Volumes {
		if v.Name == "data" && v.PersistentVolumeClaim != nil {
			claimName = v.PersistentVolumeClaim.ClaimName
		}
	}
	if claimName != "data-data-0" {
		t.Fatalf("the new data-0 mounts claim %q", claimName)
	}

	kubectl(t, "delete", "statefulsets.apps.kruise.io", "data", "-n", ns)
	eventually(t, rolloutTimeout, "the pods and claims to be deleted", func() error {
		pods := listPods(t, ns, "app=data")
		if got := claims(); len(pods)+len(got) > 0 {
			return fmt.Errorf("left: pods %v, claims %v", pods, got)
		}
		return nil
	})
	eventually(t, time.Minute, "the volumes to be released", func() error {
		for i := 0; i < 2; i++ {
			pv, err := kc.CoreV1().PersistentVolumes().Get(context.Background(), fmt.Sprintf("%s-%d", ns, i), metav1.GetOptions{})
			if err != nil {
				return err
			}
			if pv.Status.Phase != corev1.VolumeReleased {
				return fmt.Errorf("volume %s is %s", pv.Name, pv.Status.Phase)
			}
		}
		return nil
	})
}
