package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/kruise-apiserver/kruise-apiserver/internal/localup"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned"
)

// Helpers of the controllers' tests (cloneset_test.go, statefulset_test.go):
// users' actions go through kubectl; what the tests observe (pods, status)
// is read with client-go, through kube-apiserver too, which costs far less
// than a kubectl per poll on a two-core machine.

var (
	clientsOnce  sync.Once
	kubeClient   kubernetes.Interface
	kruiseClient versioned.Interface
	clientsErr   error
)

// clients returns clients of kube-apiserver with the admin credentials.
func clients(t *testing.T) (kubernetes.Interface, versioned.Interface) {
	t.Helper()
	clientsOnce.Do(func() {
		if kubeClient, clientsErr = kubernetes.NewForConfig(cluster.AdminConfig); clientsErr != nil {
			return
		}
		kruiseClient, clientsErr = versioned.NewForConfig(cluster.AdminConfig)
	})
	if clientsErr != nil {
		t.Fatal(clientsErr)
	}
	return kubeClient, kruiseClient
}

// workloadNamespace is namespace(t) for a test whose pods run on the node:
// it waits for the default ServiceAccount (pods are refused until it
// exists) and, when the test fails, shows the namespace's pods, workloads
// and events and the tail of kruise-apiserver's log.
func workloadNamespace(t *testing.T) string {
	t.Helper()
	ns := namespace(t)
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		var b strings.Builder
		for _, args := range [][]string{
			{"get", "clonesets,statefulsets.apps.kruise.io", "-o", "wide"},
			{"get", "pods,pvc", "-o", "wide", "--show-labels"},
			{"get", "events", "--sort-by=.lastTimestamp"},
		} {
			r := runKubectl("", append([]string{"-n", ns}, args...)...)
			fmt.Fprintf(&b, "$ kubectl -n %s %s\n%s%s", ns, strings.Join(args, " "), r.stdout, r.stderr)
		}
		t.Logf("namespace %s when the test failed:\n%s--- kruise-apiserver log (tail):\n%s", ns, b.String(),
			cluster.LogTail(localup.KruiseAPIServer, 40))
	})
	waitForDefaultServiceAccount(t, ns)
	return ns
}

// eventually polls check every half second until it returns nil, and
// fails the test with its last error after timeout.
func eventually(t *testing.T, timeout time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting %s for %s: %v", timeout, what, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// consistently checks, every half second for the duration, that check
// keeps returning nil: for what must not happen (a rollout going past its
// partition), once the controller had the time to act.
func consistently(t *testing.T, duration time.Duration, what string, check func() error) {
	t.Helper()
	end := time.Now().Add(duration)
	for {
		if err := check(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if time.Now().After(end) {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// podInfo is what the tests look at in a pod.
type podInfo struct {
	Name, UID, IP string
	// Revision is the controller-revision-hash label.
	Revision    string
	Phase       corev1.PodPhase
	Ready       bool
	Terminating bool
	// Of the first container.
	Image, ImageID string
	Restarts       int32
	Conditions     map[corev1.PodConditionType]corev1.ConditionStatus
	Pod            *corev1.Pod
}

func (p podInfo) String() string {
	state := string(p.Phase)
	if p.Terminating {
		state += ",terminating"
	}
	if p.Ready {
		state += ",ready"
	}
	return fmt.Sprintf("%s(%s %s restarts=%d)", p.Name, state, p.Revision, p.Restarts)
}

func infoOf(pod *corev1.Pod) podInfo {
	info := podInfo{
		Name: pod.Name, UID: string(pod.UID), IP: pod.Status.PodIP,
		Revision:    pod.Labels["controller-revision-hash"],
		Phase:       pod.Status.Phase,
		Terminating: pod.DeletionTimestamp != nil,
		Conditions:  map[corev1.PodConditionType]corev1.ConditionStatus{},
		Pod:         pod,
	}
	for _, c := range pod.Status.Conditions {
		info.Conditions[c.Type] = c.Status
	}
	info.Ready = info.Conditions[corev1.PodReady] == corev1.ConditionTrue && !info.Terminating
	if len(pod.Status.ContainerStatuses) > 0 {
		cs := pod.Status.ContainerStatuses[0]
		info.Image, info.ImageID, info.Restarts = cs.Image, cs.ImageID, cs.RestartCount
	}
	return info
}

// listPods lists the pods of ns matching selector, by name.
func listPods(t *testing.T, ns, selector string) []podInfo {
	t.Helper()
	kc, _ := clients(t)
	list, err := kc.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatalf("listing pods %s in %s: %v", selector, ns, err)
	}
	pods := make([]podInfo, 0, len(list.Items))
	for i := range list.Items {
		pods = append(pods, infoOf(&list.Items[i]))
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
	return pods
}

// byName indexes pods by name.
func byName(pods []podInfo) map[string]podInfo {
	m := map[string]podInfo{}
	for _, p := range pods {
		m[p.Name] = p
	}
	return m
}

// allRunningReady says why pods are not exactly want pods, Running, Ready,
// not being deleted, at revision (any when empty).
func allRunningReady(pods []podInfo, want int, revision string) error {
	if len(pods) != want {
		return fmt.Errorf("%d pods, want %d: %v", len(pods), want, pods)
	}
	for _, p := range pods {
		if p.Phase != corev1.PodRunning || !p.Ready || p.Terminating || (revision != "" && p.Revision != revision) {
			return fmt.Errorf("want every pod Running, Ready, at revision %q: %v", revision, pods)
		}
	}
	return nil
}

// podWatch follows the pods of a namespace matching a selector and keeps
// the extremes a rollout must respect: the most pods not being deleted
// and the fewest Ready ones, and which pods were ever seen with a
// condition False.
type podWatch struct {
	mu          sync.Mutex
	pods        map[string]podInfo
	maxActive   int
	minReady    int
	seenFalse   map[corev1.PodConditionType]map[string]bool
	seenDeleted map[string]bool
	log         []podEvent
	stop        func()
	done        chan struct{}
}

// watchPods starts following the pods; the extremes count from the first
// event after the initial list.
func watchPods(t *testing.T, ns, selector string) *podWatch {
	t.Helper()
	kc, _ := clients(t)
	ctx, cancel := context.WithCancel(context.Background())
	list, err := kc.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	w, err := kc.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{LabelSelector: selector, ResourceVersion: list.ResourceVersion})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	pw := &podWatch{
		pods: map[string]podInfo{}, seenFalse: map[corev1.PodConditionType]map[string]bool{},
		seenDeleted: map[string]bool{}, done: make(chan struct{}),
	}
	for i := range list.Items {
		pw.pods[list.Items[i].Name] = infoOf(&list.Items[i])
	}
	pw.maxActive, pw.minReady = pw.counts()
	pw.stop = func() {
		cancel()
		w.Stop()
		<-pw.done
	}
	go func() {
		defer close(pw.done)
		for ev := range w.ResultChan() {
			pod, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			pw.mu.Lock()
			_, known := pw.pods[pod.Name]
			if ev.Type == watch.Deleted {
				delete(pw.pods, pod.Name)
				pw.seenDeleted[pod.Name] = true
				pw.log = append(pw.log, podEvent{Name: pod.Name, What: "gone"})
			} else {
				info := infoOf(pod)
				if old := pw.pods[pod.Name]; !known || old.UID != info.UID {
					pw.log = append(pw.log, podEvent{Name: pod.Name, What: "created"})
				}
				if old := pw.pods[pod.Name]; info.Ready && (!known || !old.Ready) {
					pw.log = append(pw.log, podEvent{Name: pod.Name, What: "ready"})
				}
				if old := pw.pods[pod.Name]; info.Terminating && (!known || !old.Terminating) {
					pw.log = append(pw.log, podEvent{Name: pod.Name, What: "deleting"})
				}
				pw.pods[pod.Name] = info
				if info.Terminating {
					pw.seenDeleted[pod.Name] = true
				}
				for cond, status := range info.Conditions {
					if status == corev1.ConditionFalse {
						if pw.seenFalse[cond] == nil {
							pw.seenFalse[cond] = map[string]bool{}
						}
						pw.seenFalse[cond][pod.Name] = true
					}
				}
			}
			active, ready := pw.counts()
			pw.maxActive, pw.minReady = max(pw.maxActive, active), min(pw.minReady, ready)
			pw.mu.Unlock()
		}
	}()
	t.Cleanup(pw.stop)
	return pw
}

func (pw *podWatch) counts() (active, ready int) {
	for _, p := range pw.pods {
		if !p.Terminating {
			active++
		}
		if p.Ready {
			ready++
		}
	}
	return active, ready
}

// extremes returns the most pods not being deleted and the fewest Ready
// pods seen so far.
func (pw *podWatch) extremes() (maxActive, minReady int) {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	return pw.maxActive, pw.minReady
}

// sawFalse tells which pods were seen with the condition False.
func (pw *podWatch) sawFalse(cond corev1.PodConditionType) map[string]bool {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	out := map[string]bool{}
	for name := range pw.seenFalse[cond] {
		out[name] = true
	}
	return out
}

// podEvent is a step in a pod's life seen by a podWatch: "created",
// "ready", "deleting" or "gone".
type podEvent struct{ Name, What string }

func (e podEvent) String() string { return e.Name + " " + e.What }

// events returns what the watch saw, in order.
func (pw *podWatch) events() []podEvent {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	return append([]podEvent(nil), pw.log...)
}

// indexOf returns the position of the first event of the pod, or -1.
func indexOf(events []podEvent, name, what string) int {
	for i, e := range events {
		if e.Name == name && e.What == what {
			return i
		}
	}
	return -1
}

// sawDeleted tells which pods were seen being deleted or gone.
func (pw *podWatch) sawDeleted() map[string]bool {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	out := map[string]bool{}
	for name := range pw.seenDeleted {
		out[name] = true
	}
	return out
}

// httpGet fetches a path of a pod's testapp from the host (which routes the
// pod network to the node).
func httpGet(podIP, path string) (string, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + podIP + ":8080" + path)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(body)), err
}

// scaleOf reads the scale subresource with kubectl get --raw.
func scaleOf(t *testing.T, ns, resource, name string) (specReplicas, statusReplicas int32, selector string) {
	t.Helper()
	out := kubectl(t, "get", "--raw", fmt.Sprintf("/apis/apps.kruise.io/v1beta1/namespaces/%s/%s/%s/scale", ns, resource, name))
	var scale struct {
		Kind   string                   `json:"kind"`
		Spec   struct{ Replicas int32 } `json:"spec"`
		Status struct {
			Replicas int32  `json:"replicas"`
			Selector string `json:"selector"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(out), &scale); err != nil || scale.Kind != "Scale" {
		t.Fatalf("scale of %s/%s: %v\n%s", resource, name, err, out)
	}
	return scale.Spec.Replicas, scale.Status.Replicas, scale.Status.Selector
}

// columns returns the columns of kubectl get's row for one object.
func columns(t *testing.T, ns, resource, name string) []string {
	t.Helper()
	return strings.Fields(kubectl(t, "get", resource, name, "-n", ns, "--no-headers"))
}

// testAppTemplate is a pod template of testapp labelled app=<app>, with a
// readiness probe on /healthz (unless probe says otherwise; "none" for
// none) and a short grace period, indented for a workload's spec; podSpec
// is more of the pod's spec, indented by six spaces.
func testAppTemplate(app, image, probe, podSpec string) string {
	switch probe {
	case "":
		probe = `
        readinessProbe:
          httpGet: {path: /healthz, port: 8080}
          periodSeconds: 1`
	case "none":
		probe = ""
	}
	return fmt.Sprintf(`  selector:
    matchLabels: {app: %[1]s}
  template:
    metadata:
      labels: {app: %[1]s}
    spec:
%[4]s      terminationGracePeriodSeconds: 5
      containers:
      - name: main
        image: %[2]s
        ports: [{containerPort: 8080}]%[3]s
`, app, image, probe, podSpec)
}

// hostPathVolumes creates n PersistentVolumes <ns>-<i> of 10Mi on the node
// (hostPath under its /var/lib, which is the node's own), labelled
// e2e-namespace=<ns> for the claims of that namespace to select (there is
// no provisioner; kube-controller-manager's binder binds them), and deletes
// them when the test ends.
func hostPathVolumes(t *testing.T, ns string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("%s-%d", ns, i)
		kubectlIn(t, fmt.Sprintf(`apiVersion: v1
kind: PersistentVolume
metadata:
  name: %s
  labels: {e2e-namespace: %s}
spec:
  capacity: {storage: 10Mi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  hostPath: {path: /var/lib/kruise-e2e-volumes/%s, type: DirectoryOrCreate}
`, name, ns, name), "apply", "-f", "-")
		t.Cleanup(func() { runKubectl("", "delete", "pv", name, "--wait=false") })
	}
}

// volumeClaimTemplate is a volumeClaimTemplates entry (spec level) for the
// volumes of hostPathVolumes.
func volumeClaimTemplate(ns string) string {
	return fmt.Sprintf(`  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      storageClassName: ""
      selector: {matchLabels: {e2e-namespace: %s}}
      resources: {requests: {storage: 10Mi}}
`, ns)
}
