package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kruise-apiserver/kruise-apiserver/internal/localup"
	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

// Image pre-pulling for real: the ImagePullJob, ImageListPullJob and
// NodeImage controllers in kruise-apiserver, kruise-daemon on each node
// pulling through the node's containerd, images pushed by the tests to the
// node's registry (docker.io names resolve to it). What a node holds is
// checked twice: in the daemon's report (NodeImage status) and by asking
// the node's containerd through the CRI.
//
// Each test pulls images of its own, so that they can run side by side;
// only TestImagePullJobReleaseNotes selects every node (and adds one), the
// others name the kubelet's node.

// secondNode is the node without kubelet TestImagePullJobReleaseNotes adds.
const secondNode = "local-node-2"

// imageTagStatus returns what node's kruise-daemon reports for image:tag
// (nil when nothing yet).
func imageTagStatus(t *testing.T, node, image, tag string) *appsv1beta1.ImageTagStatus {
	t.Helper()
	_, kruise := clients(t)
	ni, err := kruise.AppsV1beta1().NodeImages().Get(context.Background(), node, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatalf("NodeImage %s: %v", node, err)
	}
	for _, st := range ni.Status.ImageStatuses[image].Tags {
		if st.Tag == tag {
			return &st
		}
	}
	return nil
}

// nodeRepoDigests returns the repository digests node's containerd holds
// for ref, asked through its CRI image service.
func nodeRepoDigests(t *testing.T, node, ref string) []string {
	t.Helper()
	image, err := cluster.NodeImage(context.Background(), node, ref)
	if err != nil {
		t.Fatalf("image %s on %s: %v", ref, node, err)
	}
	return image.GetRepoDigests()
}

// waitPulled waits until node's kruise-daemon reports image:tag Succeeded
// with the digest digest (docker.io/library/<image>@<digest>) at a version
// of at least minVersion, and checks that the node's containerd holds that
// digest. It returns the version.
func waitPulled(t *testing.T, node, image, tag, digest string, minVersion int64) int64 {
	t.Helper()
	want := "docker.io/library/" + image + "@" + digest
	var version int64
	waitFor(t, fmt.Sprintf("%s:%s pulled on %s at %s", image, tag, node, digest), func() error {
		st := imageTagStatus(t, node, image, tag)
		if st == nil {
			return fmt.Errorf("no status for it in NodeImage %s", node)
		}
		if st.Phase != appsv1beta1.ImagePhaseSucceeded || st.ImageID != want || st.Version < minVersion {
			return fmt.Errorf("status %+v, want Succeeded with imageID %s at version >= %d", *st, want, minVersion)
		}
		version = st.Version
		return nil
	})
	if got := nodeRepoDigests(t, node, image+":"+tag); !slices.Contains(got, want) {
		t.Fatalf("containerd of %s holds %s as %v, want %s", node, image+":"+tag, got, want)
	}
	return version
}

func pushImage(t *testing.T, ref, variant string) string {
	t.Helper()
	digest, err := cluster.PushImage(context.Background(), ref, variant)
	if err != nil {
		t.Fatal(err)
	}
	return digest
}

func getImagePullJob(t *testing.T, ns, name string) *appsv1beta1.ImagePullJob {
	t.Helper()
	_, kruise := clients(t)
	job, err := kruise.AppsV1beta1().ImagePullJobs(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("ImagePullJob %s/%s: %v", ns, name, err)
	}
	return job
}

// imagePullJob is an ImagePullJob of image on the kubelet's node.
func imagePullJob(name, image, policy, completion string) string {
	return fmt.Sprintf(`apiVersion: apps.kruise.io/v1beta1
kind: ImagePullJob
metadata:
  name: %s
spec:
  image: %s
  imagePullPolicy: %s
  selector:
    names: [%s]
  pullPolicy: {backoffLimit: 3, timeoutSeconds: 60}
  completionPolicy: %s
`, name, image, policy, localup.NodeName, completion)
}

// TestImagePullJobReleaseNotes applies the ImagePullJob of OpenKruise
// v1.6's release notes unchanged (image base:latest, imagePullPolicy
// Always, completionPolicy Never, every node): the image is pulled on the
// node, then on a node added afterwards, and the job stays open.
func TestImagePullJobReleaseNotes(t *testing.T) {
	requireNode(t)
	t.Parallel()
	ns := namespace(t)
	digest := pushImage(t, "base:latest", "release-notes")
	kubectl(t, "-n", ns, "apply", "-f", filepath.Join(repo, "test", "e2e", "testdata", "imagepulljob-v1.6-release-notes.yaml"))
	waitPulled(t, localup.NodeName, "base", "latest", digest, 0)

	start := time.Now()
	if err := cluster.AddNode(context.Background(), secondNode); err != nil {
		t.Fatalf("adding node %s: %v", secondNode, err)
	}
	waitPulled(t, secondNode, "base", "latest", digest, 0)
	t.Logf("pulled on the added node %s %.1fs after adding it", secondNode, time.Since(start).Seconds())

	waitFor(t, "the job counting both nodes", func() error {
		job := getImagePullJob(t, ns, "test-imagepulljob")
		if s := job.Status; s.Desired != 2 || s.Succeeded != 2 || s.Failed != 0 || s.Active != 0 {
			return fmt.Errorf("status %+v, want 2 nodes desired and succeeded", s)
		}
		return nil
	})
	// Never: the job is not finished, whatever the nodes report. And with
	// nothing left to do, the daemon writes nothing. Other tests' jobs that
	// select every node (TestApplySamples' samples) may still come and go on
	// the added node until their namespaces are gone, and the daemon then
	// rightly reports on their tags: only a window that starts with the
	// status showing this job's image alone and sees no spec change counts.
	_, kruise := clients(t)
	var before, after *appsv1beta1.NodeImage
	waitFor(t, "a window without other jobs on "+secondNode, func() error {
		var err error
		if before, err = kruise.AppsV1beta1().NodeImages().Get(context.Background(), secondNode, metav1.GetOptions{}); err != nil {
			return err
		}
		if len(before.Spec.Images) != 1 || len(before.Status.ImageStatuses) != 1 || before.Status.Desired != 1 {
			return fmt.Errorf("spec %+v, status %+v: other images", before.Spec, before.Status)
		}
		time.Sleep(3 * time.Second)
		if after, err = kruise.AppsV1beta1().NodeImages().Get(context.Background(), secondNode, metav1.GetOptions{}); err != nil {
			return err
		}
		if after.Generation != before.Generation {
			return fmt.Errorf("spec written meanwhile (generation %d, then %d)", before.Generation, after.Generation)
		}
		return nil
	})
	if job := getImagePullJob(t, ns, "test-imagepulljob"); job.Status.CompletionTime != nil {
		t.Errorf("a completionPolicy Never job completed at %v", job.Status.CompletionTime)
	}
	if after.ResourceVersion != before.ResourceVersion {
		t.Errorf("NodeImage %s written meanwhile (resourceVersion %s, then %s): status %+v, then %+v",
			secondNode, before.ResourceVersion, after.ResourceVersion, before.Status, after.Status)
	}
	// The added node is kept out of scheduling: no kubelet runs its pods.
	out := kubectl(t, "get", "node", secondNode, "-o", "jsonpath={.spec.taints[*].key} {.status.conditions[?(@.type=='Ready')].status}")
	expectContains(t, "node "+secondNode, out, localup.NoKubeletTaint)
	expectContains(t, "node "+secondNode, out, "True")
}

// TestImagePullJobAlwaysPullsAgain: a tag pushed anew is pulled again by a
// new Always job, and the node ends with the new digest; an IfNotPresent
// job after yet another push keeps what the node has.
func TestImagePullJobAlwaysPullsAgain(t *testing.T) {
	requireNode(t)
	t.Parallel()
	ns := namespace(t)
	const image = "repull"
	first := pushImage(t, image+":latest", "first")
	kubectlIn(t, imagePullJob("always-1", image+":latest", "Always", "{type: Always}"), "-n", ns, "apply", "-f", "-")
	v1 := waitPulled(t, localup.NodeName, image, "latest", first, 0)

	second := pushImage(t, image+":latest", "second")
	if second == first {
		t.Fatalf("the re-push has the digest of the first push (%s)", first)
	}
	kubectlIn(t, imagePullJob("always-2", image+":latest", "Always", "{type: Always}"), "-n", ns, "apply", "-f", "-")
	v2 := waitPulled(t, localup.NodeName, image, "latest", second, v1+1)
	waitFor(t, "always-2 complete", func() error {
		if s := getImagePullJob(t, ns, "always-2").Status; s.CompletionTime == nil || s.Succeeded != 1 {
			return fmt.Errorf("status %+v, want completed with 1 node succeeded", s)
		}
		return nil
	})

	third := pushImage(t, image+":latest", "third")
	kubectlIn(t, imagePullJob("if-not-present", image+":latest", "IfNotPresent", "{type: Always}"), "-n", ns, "apply", "-f", "-")
	// A new round, answered from what the node has.
	waitPulled(t, localup.NodeName, image, "latest", second, v2+1)
	if got := nodeRepoDigests(t, localup.NodeName, image+":latest"); slices.Contains(got, "docker.io/library/"+image+"@"+third) {
		t.Errorf("IfNotPresent pulled %s although the node had the image: %v", third, got)
	}
	waitFor(t, "if-not-present complete", func() error {
		if s := getImagePullJob(t, ns, "if-not-present").Status; s.CompletionTime == nil || s.Succeeded != 1 {
			return fmt.Errorf("status %+v, want completed with 1 node succeeded", s)
		}
		return nil
	})
}

// TestImagePullJobCompletionPolicyAlways: a job finishes when its node is
// done and is deleted ttlSecondsAfterFinished later; a job whose image
// never comes finishes at activeDeadlineSeconds with the node failed.
func TestImagePullJobCompletionPolicyAlways(t *testing.T) {
	requireNode(t)
	t.Parallel()
	ns := namespace(t)
	digest := pushImage(t, "ttl:v1", "ttl")
	kubectlIn(t, imagePullJob("done", "ttl:v1", "IfNotPresent", "{type: Always, activeDeadlineSeconds: 120, ttlSecondsAfterFinished: 5}"), "-n", ns, "apply", "-f", "-")
	// Pulled for real: the node had no ttl:v1 before.
	waitPulled(t, localup.NodeName, "ttl", "v1", digest, 0)
	var completed time.Time
	waitFor(t, "job done complete", func() error {
		s := getImagePullJob(t, ns, "done").Status
		if s.CompletionTime == nil || s.Succeeded != 1 || s.Failed != 0 {
			return fmt.Errorf("status %+v, want completed with 1 node succeeded", s)
		}
		completed = s.CompletionTime.Time
		return nil
	})
	kubectl(t, "-n", ns, "wait", "imagepulljob/done", "--for=delete", "--timeout=1m")
	if after := time.Since(completed); after < 4*time.Second {
		t.Errorf("deleted %v after completing, want ttlSecondsAfterFinished (5s)", after)
	}

	// Nothing pushed as missing:v1: the pulls fail at once and are retried
	// (with pauses of 1, 2, 4... s) until the deadline, which must be
	// longer than an attempt's timeout.
	kubectlIn(t, `apiVersion: apps.kruise.io/v1beta1
kind: ImagePullJob
metadata:
  name: deadline
spec:
  image: missing:v1
  selector:
    names: [`+localup.NodeName+`]
  pullPolicy: {backoffLimit: 10, timeoutSeconds: 5}
  completionPolicy: {type: Always, activeDeadlineSeconds: 8}
`, "-n", ns, "apply", "-f", "-")
	waitFor(t, "job deadline past its deadline", func() error {
		s := getImagePullJob(t, ns, "deadline").Status
		if s.CompletionTime == nil || s.Failed != 1 || s.Succeeded != 0 {
			return fmt.Errorf("status %+v, want completed with 1 node failed", s)
		}
		if !slices.Contains(s.FailedNodes, localup.NodeName) {
			return fmt.Errorf("failedNodes %v, want %s", s.FailedNodes, localup.NodeName)
		}
		if d := s.CompletionTime.Sub(s.StartTime.Time); d < 7*time.Second || d > 40*time.Second {
			return fmt.Errorf("completed %v after it started, want about activeDeadlineSeconds (8s)", d)
		}
		return nil
	})
	// Deleted with its job (the NodeImage controller drops the tag), but
	// until then the node's own report says why it failed.
	if st := imageTagStatus(t, localup.NodeName, "missing", "v1"); st != nil && st.Phase == appsv1beta1.ImagePhaseSucceeded {
		t.Errorf("missing:v1 reported %+v", *st)
	}
}

// TestImageListPullJob: an ImageListPullJob of two images makes one
// ImagePullJob per image, both pulled, and completes.
func TestImageListPullJob(t *testing.T) {
	requireNode(t)
	t.Parallel()
	ns := namespace(t)
	digests := map[string]string{"list-a": pushImage(t, "list-a:v1", "a"), "list-b": pushImage(t, "list-b:v1", "b")}
	kubectlIn(t, `apiVersion: apps.kruise.io/v1beta1
kind: ImageListPullJob
metadata:
  name: two-images
spec:
  images: [list-a:v1, list-b:v1]
  imagePullPolicy: Always
  selector:
    names: [`+localup.NodeName+`]
  completionPolicy: {type: Always}
`, "-n", ns, "apply", "-f", "-")
	for image, digest := range digests {
		waitPulled(t, localup.NodeName, image, "v1", digest, 0)
	}
	_, kruise := clients(t)
	waitFor(t, "the list job complete", func() error {
		list, err := kruise.AppsV1beta1().ImageListPullJobs(ns).Get(context.Background(), "two-images", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if s := list.Status; s.CompletionTime == nil || s.Desired != 2 || s.Completed != 2 || s.Succeeded != 2 || len(s.FailedImageStatuses) != 0 {
			return fmt.Errorf("status %+v, want 2 images desired, completed and succeeded", s)
		}
		return nil
	})
	jobs, err := kruise.AppsV1beta1().ImagePullJobs(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var images []string
	for _, job := range jobs.Items {
		owner := metav1.GetControllerOf(&job)
		if owner == nil || owner.Kind != "ImageListPullJob" || owner.Name != "two-images" {
			t.Errorf("ImagePullJob %s is not controlled by the list job: %+v", job.Name, job.OwnerReferences)
		}
		images = append(images, job.Spec.Image)
	}
	slices.Sort(images)
	if strings.Join(images, ",") != "list-a:v1,list-b:v1" {
		t.Errorf("ImagePullJobs of %v, want one per image", images)
	}
}

// TestImagePullJobPullSecrets: the job's pull secret is copied into
// kruise-daemon's namespace, the only one whose Secrets the daemon may
// read (artifacts' RBAC, which local-up applies to both identities), the
// NodeImage names the copy, and the copy goes with the last job naming it.
func TestImagePullJobPullSecrets(t *testing.T) {
	requireNode(t)
	t.Parallel()
	ns := namespace(t)
	digest := pushImage(t, "secrets:v1", "secrets")
	// For another registry than the node's: the pull itself needs none.
	kubectl(t, "-n", ns, "create", "secret", "docker-registry", "creds",
		"--docker-server=registry.example", "--docker-username=u", "--docker-password=p")
	kubectlIn(t, imagePullJob("creds", "secrets:v1", "IfNotPresent", "{type: Never}")+"  pullSecrets: [creds]\n", "-n", ns, "apply", "-f", "-")

	copyName := ns + ".creds"
	waitFor(t, "the copy of the pull secret", func() error {
		r := runKubectl("", "-n", localup.DaemonNamespace, "get", "secret", copyName,
			"-o", `jsonpath={.type} {.metadata.annotations.imagepulljobs\.kruise\.io/source-key}`)
		if r.err != nil {
			return fmt.Errorf("%s", r)
		}
		if want := "kubernetes.io/dockerconfigjson " + ns + "/creds"; r.stdout != want {
			return fmt.Errorf("secret %s: %q, want %q", copyName, r.stdout, want)
		}
		return nil
	})
	source := kubectl(t, "-n", ns, "get", "secret", "creds", "-o", "jsonpath={.data}")
	if copied := kubectl(t, "-n", localup.DaemonNamespace, "get", "secret", copyName, "-o", "jsonpath={.data}"); copied != source {
		t.Errorf("copy data %s, want the source's %s", copied, source)
	}
	waitPulled(t, localup.NodeName, "secrets", "v1", digest, 0)
	_, kruise := clients(t)
	ni, err := kruise.AppsV1beta1().NodeImages().Get(context.Background(), localup.NodeName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := appsv1beta1.ReferenceObject{Namespace: localup.DaemonNamespace, Name: copyName}
	if got := ni.Spec.Images["secrets"].PullSecrets; !slices.Contains(got, want) {
		t.Errorf("NodeImage pull secrets %+v, want %+v", got, want)
	}

	// What the daemon may read: the copy, not the source.
	as := "--as=" + localup.DaemonUser
	expectContains(t, "daemon reading the copy", kubectl(t, "auth", "can-i", "get", "secret/"+copyName, "-n", localup.DaemonNamespace, as), "yes")
	if r := runKubectl("", "auth", "can-i", "get", "secret/creds", "-n", ns, as); r.err == nil || !strings.Contains(r.stdout, "no") {
		t.Errorf("the daemon may read Secrets of the job's namespace: %s", r)
	}

	kubectl(t, "-n", ns, "delete", "imagepulljob", "creds")
	waitFor(t, "the copy deleted with the job", func() error {
		r := runKubectl("", "-n", localup.DaemonNamespace, "get", "secret", copyName, "--ignore-not-found", "-o", "name")
		if r.err != nil || r.stdout != "" {
			return fmt.Errorf("%s", r)
		}
		return nil
	})
	kubectl(t, "-n", ns, "get", "secret", "creds")
}
