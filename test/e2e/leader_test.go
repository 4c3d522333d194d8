package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/kruise-apiserver/kruise-apiserver/internal/localup"
	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/host"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned"
)

// The kruise-apiserver replicas of local-up (two by default) share one etcd
// and sit behind a balancer on the APIServices' port; the embedded
// controllers run on the replica holding the Lease kruise-system/
// kruise-manager, whose holderIdentity is the replica's name.

// What host logs when a replica starts and stops leading, and when it sees
// another leader.
const (
	leaderLogLeading = `"Leading: starting the embedded controllers"`
	leaderLogStopped = `"Stopped leading the embedded controllers"`
	leaderLogOther   = `"Another replica leads the embedded controllers"`
)

// leaderElection are the server's leader election timings (its defaults;
// local-up does not change them).
var leaderElection = host.NewOptions()

// leaderAllRunning starts the replicas a test left stopped, and waits until
// one of them holds the Lease.
func leaderAllRunning(t *testing.T) localup.KruiseLease {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := cluster.StartKruise(ctx); err != nil {
		t.Fatal(err)
	}
	lease, _ := leaderWait(t, "a replica to hold the Lease", 2*leaderElection.LeaseDuration, func(l localup.KruiseLease) bool { return l.Replica >= 0 })
	return lease
}

// leaderWait polls the Lease until cond holds, and returns it and how long
// that took.
func leaderWait(t *testing.T, what string, timeout time.Duration, cond func(localup.KruiseLease) bool) (localup.KruiseLease, time.Duration) {
	t.Helper()
	start := time.Now()
	var lease localup.KruiseLease
	var err error
	for {
		lease, err = cluster.KruiseLease(context.Background())
		if err == nil && cond(lease) {
			return lease, time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("waiting %s for %s: Lease %+v, error %v\n%s", timeout, what, lease, err, cluster.LogTail(localup.KruiseAPIServer, 30))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// leaderLogSinceStart is a replica's log since its last start (local-up
// appends a "==== <time>: <command>" line at each start).
func leaderLogSinceStart(t *testing.T, r localup.KruiseReplica) string {
	t.Helper()
	data, err := os.ReadFile(r.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	log := string(data)
	if i := strings.LastIndex(log, "\n==== "); i >= 0 {
		log = log[i:]
	}
	return log
}

// leaderLogLeads tells from a replica's log whether it leads now.
func leaderLogLeads(log string) bool {
	return strings.LastIndex(log, leaderLogLeading) > strings.LastIndex(log, leaderLogStopped)
}

// leaderCheckOneLeads waits until the logs of the running replicas agree
// with the Lease: exactly one, its holder, says it leads, and the others
// that they follow it.
func leaderCheckOneLeads(t *testing.T, lease localup.KruiseLease) {
	t.Helper()
	check := func() error {
		var leading []string
		for _, r := range cluster.KruiseReplicas() {
			if !r.Running {
				continue
			}
			log := leaderLogSinceStart(t, r)
			if leaderLogLeads(log) {
				leading = append(leading, r.Name)
			} else if want := fmt.Sprintf(`%s leader=%q`, leaderLogOther, lease.Holder); !strings.Contains(log, want) {
				return fmt.Errorf("%s does not lead and its log does not say that %s does (%s):\n%s", r.Name, lease.Holder, want, tailString(log, 20))
			}
		}
		if len(leading) != 1 || leading[0] != lease.Holder {
			return fmt.Errorf("replicas whose log says they lead: %v; want exactly the Lease holder %q", leading, lease.Holder)
		}
		return nil
	}
	// The logs may lag the Lease by a moment.
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replicas' logs do not agree that %s leads: %v", lease.Holder, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func tailString(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// leaderStatusUpdates counts the CloneSet status updates for ns/name in a
// log (the controller logs each at -v=2, which local-up sets).
func leaderStatusUpdates(log, ns, name string) int {
	return strings.Count(log, fmt.Sprintf(`"Updating CloneSet status" cloneSet=%q`, ns+"/"+name))
}

// leaderDirectGet does a GET on one replica directly, as the aggregator
// does: front-proxy client certificate, the user in headers.
func leaderDirectGet(t *testing.T, port int, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("https://127.0.0.1:%d%s", port, path), nil)
	req.Header.Set("X-Remote-User", "e2e-admin")
	req.Header.Set("X-Remote-Group", "system:masters")
	resp, err := aggregatorClient(t).Do(req)
	if err != nil {
		t.Fatalf("GET %s on 127.0.0.1:%d: %v", path, port, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestLeaderElectionReplicas: every replica serves the API from the shared
// etcd, exactly one leads (the Lease's holder) and only that one
// reconciles.
func TestLeaderElectionReplicas(t *testing.T) {
	replicas := cluster.KruiseReplicas()
	if len(replicas) < 2 {
		t.Skipf("%d kruise-apiserver replica(s); leader election needs two", len(replicas))
	}
	lease := leaderAllRunning(t)
	t.Logf("Lease held by %s (%d transitions so far)", lease.Holder, lease.Transitions)
	ns := namespace(t)
	// Created through kube-apiserver, stored by whichever replica the
	// balancer chose.
	kubectlIn(t, cloneSetManifest("shared", 2), "apply", "-n", ns, "-f", "-")

	for _, r := range replicas {
		code, body := leaderDirectGet(t, r.Port, "/apis/apps.kruise.io/v1beta1/namespaces/"+ns+"/clonesets/shared")
		if code != http.StatusOK || !strings.Contains(body, `"name":"shared"`) {
			t.Fatalf("GET the CloneSet on %s directly: %d %s", r.Name, code, body)
		}
	}

	// The leader's CloneSet controller writes the status (replicas: 2,
	// pods Pending without a node or not); nobody else does.
	waitFor(t, "the CloneSet's status", func() error {
		got := kubectl(t, "get", "clone", "shared", "-n", ns, "-o", "jsonpath={.status.replicas} {.status.observedGeneration}")
		if got != "2 1" {
			return fmt.Errorf("status.replicas, observedGeneration = %q, want 2 1", got)
		}
		return nil
	})
	lease, _ = leaderWait(t, "a replica to hold the Lease", time.Minute, func(l localup.KruiseLease) bool { return l.Replica >= 0 })
	for _, r := range replicas {
		updates := leaderStatusUpdates(leaderLogSinceStart(t, r), ns, "shared")
		switch {
		case r.Name == lease.Holder && updates == 0:
			t.Errorf("the leader %s logged no status update of %s/shared", r.Name, ns)
		case r.Name != lease.Holder && updates > 0:
			t.Errorf("%s, which does not lead, logged %d status updates of %s/shared", r.Name, updates, ns)
		}
	}
	leaderCheckOneLeads(t, lease)
}

// leaderRolloutPods are the pods of a CloneSet.
func leaderRolloutPods(t *testing.T, kube kubernetes.Interface, ns, app string) []corev1.Pod {
	t.Helper()
	list, err := kube.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func leaderPodReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// leaderRolloutState summarizes the pods: how many run which image, how
// many of those are Ready, how many are terminating.
func leaderRolloutState(pods []corev1.Pod, image string) (total, withImage, readyWithImage, terminating int) {
	for i := range pods {
		pod := &pods[i]
		if pod.DeletionTimestamp != nil {
			terminating++
			continue
		}
		total++
		if pod.Spec.Containers[0].Image == image {
			withImage++
			if leaderPodReady(pod) {
				readyWithImage++
			}
		}
	}
	return
}

// TestLeaderFailoverMidRollout kills (SIGKILL) the leading replica in the
// middle of a CloneSet rollout on the real node: the other replica takes
// the Lease once it expires — and not before, nothing reconciles in
// between — and finishes the rollout, with exactly the desired pods, all
// on the new image.
func TestLeaderFailoverMidRollout(t *testing.T) {
	requireNode(t)
	if len(cluster.KruiseReplicas()) < 2 {
		t.Skip("one kruise-apiserver replica; failover needs two")
	}
	const replicas = 6
	ns := namespace(t)
	waitForDefaultServiceAccount(t, ns)
	kruise, err := versioned.NewForConfig(cluster.AdminConfig)
	if err != nil {
		t.Fatal(err)
	}
	kube, err := kubernetes.NewForConfig(cluster.AdminConfig)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	lease := leaderAllRunning(t)
	t.Cleanup(func() { leaderAllRunning(t) })

	// One pod at a time, each available 3s after it is Ready: a rollout of
	// six takes half a minute.
	cs := &appsv1beta1.CloneSet{
		ObjectMeta: metav1.ObjectMeta{Name: "failover"},
		Spec: appsv1beta1.CloneSetSpec{
			Replicas:        ptr.To[int32](replicas),
			MinReadySeconds: 3,
			Selector:        &metav1.LabelSelector{MatchLabels: map[string]string{"app": "failover"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "failover"}},
				Spec: corev1.PodSpec{
					TerminationGracePeriodSeconds: ptr.To[int64](5),
					Containers: []corev1.Container{{
						Name: "app", Image: cluster.Images.TestAppV1,
						Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
						ReadinessProbe: &corev1.Probe{
							ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}},
							PeriodSeconds: 1,
						},
					}},
				},
			},
			UpdateStrategy: appsv1beta1.CloneSetUpdateStrategy{
				Type: appsv1beta1.RollingUpdateCloneSetUpdateStrategyType,
				RollingUpdate: &appsv1beta1.RollingUpdateCloneSetStrategy{
					MaxUnavailable:  ptr.To(intstr.FromInt32(1)),
					PodUpdatePolicy: appsv1beta1.RecreateCloneSetPodUpdateStrategyType,
				},
			},
		},
	}
	if _, err := kruise.AppsV1beta1().CloneSets(ns).Create(ctx, cs, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	waitFor(t, "six Ready pods of testapp:v1", func() error {
		got, err := kruise.AppsV1beta1().CloneSets(ns).Get(ctx, "failover", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if s := got.Status; s.ReadyReplicas != replicas || s.AvailableReplicas != replicas || s.ObservedGeneration != got.Generation {
			return fmt.Errorf("status %+v", s)
		}
		return nil
	})
	t.Logf("six pods of testapp:v1 available %.1fs after the CloneSet was created (leader %s)", time.Since(start).Seconds(), lease.Holder)
	v1ImageID := leaderRolloutPods(t, kube, ns, "failover")[0].Status.ContainerStatuses[0].ImageID

	// The rollout to v2.
	patch := fmt.Sprintf(`{"spec":{"template":{"spec":{"containers":[{"name":"app","image":%q}]}}}}`, cluster.Images.TestAppV2)
	kubectl(t, "patch", "clone", "failover", "-n", ns, "--type=strategic", "-p", patch)
	rolloutStart := time.Now()

	// Kill the leader once a pod runs v2 and is Ready, while most still run
	// v1.
	lease, _ = leaderWait(t, "a replica to hold the Lease", time.Minute, func(l localup.KruiseLease) bool { return l.Replica >= 0 })
	killed := lease.Replica
	deadline := time.Now().Add(2 * time.Minute)
	for {
		_, v2, readyV2, _ := leaderRolloutState(leaderRolloutPods(t, kube, ns, "failover"), cluster.Images.TestAppV2)
		if readyV2 >= 1 {
			if v2 >= replicas-1 {
				t.Fatalf("the rollout went too fast to stop it in the middle: %d of %d pods already at v2", v2, replicas)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pod of testapp:v2 Ready within 2 minutes\n%s", cluster.LogTail(localup.KruiseAPIServer, 30))
		}
		time.Sleep(100 * time.Millisecond)
	}
	killedAt := time.Now()
	if err := cluster.KillKruiseReplica(killed); err != nil {
		t.Fatal(err)
	}
	// What the killed leader created, including a request it had in flight.
	time.Sleep(500 * time.Millisecond)
	before := map[string]bool{}
	pods := leaderRolloutPods(t, kube, ns, "failover")
	for _, pod := range pods {
		before[pod.Name] = true
	}
	_, v2AtKill, readyV2AtKill, _ := leaderRolloutState(pods, cluster.Images.TestAppV2)
	t.Logf("killed the leader %s (SIGKILL) %.1fs into the rollout: %d of %d pods at v2, %d of them Ready",
		lease.Holder, killedAt.Sub(rolloutStart).Seconds(), v2AtKill, replicas, readyV2AtKill)

	// Until the Lease expires nobody reconciles: no pod is created.
	var takeover time.Duration
	var newLease localup.KruiseLease
	for {
		l, err := cluster.KruiseLease(ctx)
		if err == nil && l.Replica >= 0 && l.Replica != killed {
			takeover, newLease = time.Since(killedAt), l
			break
		}
		for _, pod := range leaderRolloutPods(t, kube, ns, "failover") {
			if !before[pod.Name] {
				t.Fatalf("pod %s was created %.1fs after the leader was killed, while the Lease (%+v) still named it: a replica reconciles without leading", pod.Name, time.Since(killedAt).Seconds(), l)
			}
		}
		if time.Since(killedAt) > 2*leaderElection.LeaseDuration {
			t.Fatalf("no other replica took the Lease within %s of the leader's death: %+v, %v\n%s", 2*leaderElection.LeaseDuration, l, err, cluster.LogTail(localup.KruiseAPIServer, 30))
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The killed leader renewed at most a retry period before it died (it
	// renews every retryPeriod). A follower counts the lease duration from
	// when it saw that renewal, at one of its tries (every retryPeriod,
	// jittered up to 2.2x), so up to one try after it; and it takes the
	// Lease at its first try once the duration has passed.
	try := time.Duration(2.2 * float64(leaderElection.RetryPeriod))
	earliest := leaderElection.LeaseDuration - leaderElection.RetryPeriod - time.Second
	latest := leaderElection.LeaseDuration + 2*try + 2*time.Second
	t.Logf("%s took the Lease %.1fs after %s was killed (lease duration %s, retry period %s; expected between %s and %s)",
		newLease.Holder, takeover.Seconds(), lease.Holder, leaderElection.LeaseDuration, leaderElection.RetryPeriod, earliest, latest)
	if takeover < earliest || takeover > latest {
		t.Errorf("takeover after %.1fs, want between %s and %s", takeover.Seconds(), earliest, latest)
	}

	// The new leader finishes the rollout.
	waitFor(t, "the rollout to v2 to complete under the new leader", func() error {
		got, err := kruise.AppsV1beta1().CloneSets(ns).Get(ctx, "failover", metav1.GetOptions{})
		if err != nil {
			return err
		}
		s := got.Status
		if s.ObservedGeneration != got.Generation || s.Replicas != replicas || s.UpdatedReplicas != replicas ||
			s.UpdatedReadyReplicas != replicas || s.ReadyReplicas != replicas || s.UpdateRevision != s.CurrentRevision {
			return fmt.Errorf("generation %d, status %+v", got.Generation, s)
		}
		total, v2, readyV2, terminating := leaderRolloutState(leaderRolloutPods(t, kube, ns, "failover"), cluster.Images.TestAppV2)
		if total != replicas || v2 != replicas || readyV2 != replicas || terminating != 0 {
			return fmt.Errorf("%d pods (%d terminating), %d at v2, %d of them Ready", total, terminating, v2, readyV2)
		}
		return nil
	})
	t.Logf("rollout complete %.1fs after it started, %.1fs after the takeover", time.Since(rolloutStart).Seconds(), time.Since(killedAt.Add(takeover)).Seconds())

	// Exactly six pods, each owned by the CloneSet, with distinct instance
	// IDs, running the v2 image.
	got, err := kruise.AppsV1beta1().CloneSets(ns).Get(ctx, "failover", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pods = leaderRolloutPods(t, kube, ns, "failover")
	if len(pods) != replicas {
		t.Fatalf("%d pods after the rollout, want %d", len(pods), replicas)
	}
	ids := map[string]bool{}
	var v2ImageID string
	var names []string
	for _, pod := range pods {
		names = append(names, pod.Name)
		owner := metav1.GetControllerOf(&pod)
		if owner == nil || owner.UID != got.UID {
			t.Errorf("pod %s is not controlled by the CloneSet: %+v", pod.Name, owner)
		}
		id := pod.Labels["apps.kruise.io/cloneset-instance-id"]
		if id == "" || ids[id] {
			t.Errorf("pod %s: instance id %q missing or shared", pod.Name, id)
		}
		ids[id] = true
		imageID := pod.Status.ContainerStatuses[0].ImageID
		if imageID == v1ImageID {
			t.Errorf("pod %s still runs the v1 image %s", pod.Name, imageID)
		}
		if v2ImageID == "" {
			v2ImageID = imageID
		} else if imageID != v2ImageID {
			t.Errorf("pods run different images: %s and %s", v2ImageID, imageID)
		}
		if version := strings.TrimSpace(kubectl(t, "-n", ns, "exec", pod.Name, "--", "/testapp", "version")); version != "v2" {
			t.Errorf("pod %s runs testapp %q, want v2", pod.Name, version)
		}
	}
	sort.Strings(names)
	t.Logf("after the rollout: pods %s, all on %s", strings.Join(names, " "), v2ImageID)

	// The new leader's log says so and shows it writing the status.
	for _, r := range cluster.KruiseReplicas() {
		if r.Name != newLease.Holder {
			continue
		}
		log := leaderLogSinceStart(t, r)
		i := strings.LastIndex(log, leaderLogLeading)
		if i < 0 || !leaderLogLeads(log) {
			t.Fatalf("the new leader's log does not say it leads:\n%s", tailString(log, 30))
		}
		if leaderStatusUpdates(log[i:], ns, "failover") == 0 {
			t.Errorf("the new leader %s logged no status update of %s/failover since it leads", r.Name, ns)
		}
	}

	// The killed replica comes back as a follower.
	restart := time.Now()
	if err := cluster.StartKruiseReplica(ctx, killed); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s restarted and ready in %.1fs", cluster.KruiseReplicas()[killed].Name, time.Since(restart).Seconds())
	lease, _ = leaderWait(t, "a replica to hold the Lease", time.Minute, func(l localup.KruiseLease) bool { return l.Replica >= 0 })
	if lease.Holder != newLease.Holder {
		t.Errorf("the Lease moved from %s to %s when the killed replica came back", newLease.Holder, lease.Holder)
	}
	leaderCheckOneLeads(t, lease)
}

// TestLeaderReleasesOnSIGTERM stops the leading replica gracefully: it
// gives the Lease up as it stops, so another replica leads within a retry
// period or two rather than after the lease duration; the API stays
// served throughout.
func TestLeaderReleasesOnSIGTERM(t *testing.T) {
	if len(cluster.KruiseReplicas()) < 2 {
		t.Skip("one kruise-apiserver replica; a handover needs two")
	}
	lease := leaderAllRunning(t)
	t.Cleanup(func() { leaderAllRunning(t) })
	ns := namespace(t)
	stopped := lease.Replica

	stoppedAt := time.Now()
	exited := make(chan time.Duration, 1)
	go func() {
		_ = cluster.StopKruiseReplica(stopped)
		exited <- time.Since(stoppedAt)
	}()
	// Watch the Lease: released (no holder), then taken by another replica.
	var released, takeover time.Duration
	var l localup.KruiseLease
	for takeover == 0 {
		var err error
		l, err = cluster.KruiseLease(context.Background())
		if err == nil && l.Holder != lease.Holder {
			if released == 0 {
				released = time.Since(stoppedAt)
			}
			if l.Replica >= 0 {
				takeover = time.Since(stoppedAt)
			}
		}
		if time.Since(stoppedAt) > 2*leaderElection.LeaseDuration {
			t.Fatalf("the Lease is still %+v (%v) %s after the leader %s got SIGTERM\n%s", l, err, time.Since(stoppedAt), lease.Holder, cluster.LogTail(localup.KruiseAPIServer, 30))
		}
		time.Sleep(50 * time.Millisecond)
	}
	exit := <-exited
	t.Logf("SIGTERM to the leader %s: Lease released after %.2fs, %s leads after %.2fs, the process exited after %.2fs (lease duration %s)",
		lease.Holder, released.Seconds(), l.Holder, takeover.Seconds(), exit.Seconds(), leaderElection.LeaseDuration)
	if maxRelease := 3 * time.Second; released > maxRelease {
		t.Errorf("the Lease was released %.2fs after SIGTERM, want within %s", released.Seconds(), maxRelease)
	}
	// After the release the others take it at their next try.
	if maxTakeover := released + time.Duration(2.2*float64(leaderElection.RetryPeriod)) + 2*time.Second; takeover > maxTakeover {
		t.Errorf("another replica led %.2fs after SIGTERM, want within %s", takeover.Seconds(), maxTakeover)
	}
	for _, r := range cluster.KruiseReplicas() {
		if r.Index != stopped {
			continue
		}
		log := leaderLogSinceStart(t, r)
		if leaderLogLeads(log) || !strings.Contains(log, leaderLogStopped) {
			t.Errorf("the stopped leader's log does not show it stopping to lead:\n%s", tailString(log, 30))
		}
	}
	leaderCheckOneLeads(t, l)

	// The API is served by the remaining replicas meanwhile.
	kubectlIn(t, cloneSetManifest("after-handover", 1), "apply", "-n", ns, "-f", "-")
	waitFor(t, "the new leader to reconcile a new CloneSet", func() error {
		if got := kubectl(t, "get", "clone", "after-handover", "-n", ns, "-o", "jsonpath={.status.observedGeneration}"); got != "1" {
			return fmt.Errorf("status.observedGeneration = %q", got)
		}
		return nil
	})

	// Back as a follower.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := cluster.StartKruiseReplica(ctx, stopped); err != nil {
		t.Fatal(err)
	}
	after, _ := leaderWait(t, "a replica to hold the Lease", time.Minute, func(l localup.KruiseLease) bool { return l.Replica >= 0 })
	if after.Holder != l.Holder {
		t.Errorf("the Lease moved from %s to %s when the stopped replica came back", l.Holder, after.Holder)
	}
}
