package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/kruise-apiserver/kruise-apiserver/internal/sharedsamples"
)

// sampleDirs are the shared sample directories of the kinds we serve.
// NodeImages come before the jobs, which would write into them.
var sampleDirs = []string{"cloneset", "statefulset", "workloadspread", "nodeimage", "imagepulljob", "imagelistpulljob", "podunavailablebudget"}

// TestApplySamples applies every OpenKruise sample of a served kind with
// client-side apply (twice: the second is "unchanged") and, in another
// namespace, with server-side apply. Their pods are kept out (they would
// be about ninety per namespace): the controllers' tests run samples.
func TestApplySamples(t *testing.T) {
	clientSide, serverSide := namespace(t), namespace(t)
	withoutPods(t, clientSide)
	withoutPods(t, serverSide)
	for _, dir := range sampleDirs {
		for _, file := range sharedsamples.Valid(t, dir) {
			name := dir + "/" + filepath.Base(file)
			if dir == "nodeimage" {
				fakeNodeImage(t, file)
			}
			// Some samples share a name: the second configures the first.
			out := kubectl(t, "apply", "-n", clientSide, "-f", file)
			if !strings.Contains(out, " created") && !strings.Contains(out, " configured") {
				t.Errorf("%s: client-side apply said %q", name, out)
			}
			// Applying again changes nothing stored. (kubectl may still say
			// "configured": an explicit false or 0 in a manifest is omitted
			// from the typed object, as for Kubernetes' own kinds, and
			// NodeImage tags are kept sorted.) What the controllers write
			// meanwhile is left out.
			before := storedWithoutControllerWrites(t, clientSide, file)
			kubectl(t, "apply", "-n", clientSide, "-f", file)
			if after := storedWithoutControllerWrites(t, clientSide, file); after != before {
				t.Errorf("%s: applying it again changed the object:\n%s\n->\n%s", name, before, after)
			}
			if dir == "nodeimage" {
				// Cluster-scoped: one of each is enough.
				kubectl(t, "delete", "-f", file)
				fakeNodeImage(t, file)
			}
			out = kubectl(t, "apply", "--server-side", "-n", serverSide, "-f", file)
			if !strings.Contains(out, "serverside-applied") {
				t.Fatalf("%s: server-side apply said %q", name, out)
			}
			if dir == "nodeimage" {
				kubectl(t, "delete", "-f", file)
			}
		}
	}
}

// fakeNodeImage creates the NodeImage of the manifest, empty, labelled
// apps.kruise.io/fake-nodeimage: the NodeImage controller deletes a NodeImage
// whose Node does not exist, but for that label (as OpenKruise's does, for
// tests). The manifest is then applied onto it unchanged.
func fakeNodeImage(t *testing.T, file string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var obj struct {
		APIVersion string `json:"apiVersion"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(data, &obj); err != nil {
		t.Fatal(err)
	}
	manifest, err := json.Marshal(map[string]any{
		"apiVersion": obj.APIVersion, "kind": "NodeImage",
		"metadata": map[string]any{"name": obj.Metadata.Name, "labels": map[string]string{"apps.kruise.io/fake-nodeimage": "true"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	kubectlIn(t, string(manifest), "create", "-f", "-")
}

// storedWithoutControllerWrites is the object of a manifest as stored,
// without what the controllers write: the status (and resourceVersion,
// managedFields, generation with it), a CloneSet's
// scaleStrategy.podsToDelete, from which the CloneSet controller drops the
// names of pods it does not have, as OpenKruise's does (a sample names one),
// and the template hash label the ImageListPullJob controller puts on the
// list job, as OpenKruise's does (refreshJobTemplateHash).
func storedWithoutControllerWrites(t *testing.T, ns, file string) string {
	t.Helper()
	var obj map[string]any
	if err := json.Unmarshal([]byte(kubectl(t, "get", "-n", ns, "-f", file, "-o", "json")), &obj); err != nil {
		t.Fatal(err)
	}
	delete(obj, "status")
	if meta, ok := obj["metadata"].(map[string]any); ok {
		delete(meta, "resourceVersion")
		delete(meta, "managedFields")
		delete(meta, "generation")
		if lbls, ok := meta["labels"].(map[string]any); ok && obj["kind"] == "ImageListPullJob" {
			delete(lbls, "controller-revision-hash")
			if len(lbls) == 0 {
				delete(meta, "labels")
			}
		}
	}
	if spec, ok := obj["spec"].(map[string]any); ok && obj["kind"] == "CloneSet" {
		if scale, ok := spec["scaleStrategy"].(map[string]any); ok {
			delete(scale, "podsToDelete")
		}
	}
	out, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestServerSideApplyConflict has two field managers disagree on replicas.
func TestServerSideApplyConflict(t *testing.T) {
	ns := namespace(t)
	kubectlIn(t, cloneSetManifest("contested", 2), "apply", "--server-side", "--field-manager=team-a", "-n", ns, "-f", "-")
	r := runKubectl(cloneSetManifest("contested", 3), "apply", "--server-side", "--field-manager=team-b", "-n", ns, "-f", "-")
	if r.err == nil || !strings.Contains(r.stderr, "conflict") || !strings.Contains(r.stderr, "team-a") || !strings.Contains(r.stderr, ".spec.replicas") {
		failWith(t, r, "expected a conflict with team-a on .spec.replicas")
	}
	kubectlIn(t, cloneSetManifest("contested", 3), "apply", "--server-side", "--force-conflicts", "--field-manager=team-b", "-n", ns, "-f", "-")
	if got := kubectl(t, "get", "clone", "contested", "-n", ns, "-o", "jsonpath={.spec.replicas}"); got != "3" {
		t.Fatalf("replicas after a forced apply: %s", got)
	}
}

// TestEverydayCommands: get -o wide, scale, the three patch types, reads
// at both versions, get -w and wait.
func TestEverydayCommands(t *testing.T) {
	ns := namespace(t)
	kubectlIn(t, cloneSetManifest("web", 2), "apply", "-n", ns, "-f", "-")

	out := kubectl(t, "get", "clonesets", "-n", ns, "-o", "wide")
	header := strings.Fields(strings.Split(out, "\n")[0])
	want := "NAME DESIRED UPDATED UPDATED_READY UPDATED_AVAILABLE READY TOTAL AGE CONTAINERS IMAGES SELECTOR"
	if strings.Join(header, " ") != want {
		t.Fatalf("get -o wide header %q, want %q", strings.Join(header, " "), want)
	}
	expectContains(t, "get -o wide row", out, "main,sidecar")
	expectContains(t, "get -o wide row", out, "nginx:1.25,busybox:1.36")

	watch := startWatch(t, "get", "clonesets", "-n", ns, "--watch-only", "-o", "custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas")

	kubectl(t, "scale", "clone", "web", "-n", ns, "--replicas=5")
	kubectl(t, "wait", "clone/web", "-n", ns, "--for=jsonpath={.spec.replicas}=5", "--timeout=60s")
	watch.expect(t, "web", "5")

	kubectl(t, "patch", "clone", "web", "-n", ns, "--type=merge", "-p", `{"spec":{"minReadySeconds":7}}`)
	kubectl(t, "patch", "clone", "web", "-n", ns, "--type=json", "-p", `[{"op":"replace","path":"/spec/replicas","value":4}]`)
	watch.expect(t, "web", "4")
	kubectl(t, "patch", "clone", "web", "-n", ns, "--type=strategic", "-p", `{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox:1.37"}]}}}}`)
	images := kubectl(t, "get", "clone", "web", "-n", ns, "-o", "jsonpath={.spec.template.spec.containers[*].image}")
	if images != "nginx:1.25 busybox:1.37" {
		t.Fatalf("strategic merge patch: images %q", images)
	}

	for _, version := range []string{"v1alpha1", "v1beta1"} {
		got := kubectl(t, "get", "clonesets."+version+".apps.kruise.io", "web", "-n", ns, "-o", "jsonpath={.apiVersion} {.spec.minReadySeconds}")
		if got != "apps.kruise.io/"+version+" 7" {
			t.Fatalf("get at %s: %q", version, got)
		}
	}
	if got := kubectl(t, "get", "clonesets.v1alpha1.apps.kruise.io", "web", "-n", ns, "-o", "jsonpath={.spec.updateStrategy.type}"); got != "ReCreate" {
		t.Fatalf("v1alpha1 updateStrategy.type = %q", got)
	}
}

// watcher is a running `kubectl get -w`.
type watcher struct {
	lines chan string
	cmd   *exec.Cmd
}

func startWatch(t *testing.T, args ...string) *watcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, filepath.Join(kubeBin, "kubectl"), append(append([]string{"--kubeconfig", cluster.Kubeconfig}, args...), "-w")...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &watcher{lines: make(chan string, 100), cmd: cmd}
	go func() {
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			w.lines <- scanner.Text()
		}
		close(w.lines)
	}()
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	return w
}

// expect waits for a watch line whose columns are want.
func (w *watcher) expect(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.After(60 * time.Second)
	var seen []string
	for {
		select {
		case line, ok := <-w.lines:
			if !ok {
				t.Fatalf("kubectl get -w ended; saw %q", seen)
			}
			seen = append(seen, line)
			if strings.Join(strings.Fields(line), " ") == strings.Join(want, " ") {
				return
			}
		case <-deadline:
			t.Fatalf("kubectl get -w never printed %q; saw %q", want, seen)
		}
	}
}
