package validation

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
)

// validNodeImage is a NodeImage as it looks after defaulting.
func validNodeImage() *apps.NodeImage {
	created := metav1.NewTime(time.Date(2024, 5, 20, 10, 30, 0, 0, time.UTC))
	tag := func(name string, version int64) apps.ImageTagSpec {
		return apps.ImageTagSpec{
			Tag:       name,
			CreatedAt: created.DeepCopy(),
			Version:   version,
			PullPolicy: &apps.ImageTagPullPolicy{
				TimeoutSeconds:          ptr.To[int32](600),
				BackoffLimit:            ptr.To[int32](3),
				TTLSecondsAfterFinished: ptr.To[int32](86400),
				ActiveDeadlineSeconds:   ptr.To[int64](1800),
			},
			OwnerReferences: []corev1.ObjectReference{{APIVersion: "apps.kruise.io/v1beta1", Kind: "ImagePullJob", Namespace: "web", Name: "prewarm"}},
			ImagePullPolicy: apps.PullIfNotPresent,
		}
	}
	return &apps.NodeImage{
		ObjectMeta: metav1.ObjectMeta{Name: "node-1", ResourceVersion: "1"},
		Spec: apps.NodeImageSpec{Images: map[string]apps.ImageSpec{
			"docker.io/library/nginx": {
				PullSecrets: []apps.ReferenceObject{{Namespace: "web", Name: "dockerhub-credentials", Mode: apps.ReferenceObjectModeBatch}},
				Tags:        []apps.ImageTagSpec{tag("1.25.4", 0), tag("1.25.4-alpine", 2)},
			},
			"registry.k8s.io/pause": {
				Tags:          []apps.ImageTagSpec{tag("3.9", 1)},
				SandboxConfig: &apps.SandboxConfig{Labels: map[string]string{"io.kubernetes.pod.namespace": "kube-system"}},
			},
		}},
	}
}

func TestValidateNodeImage(t *testing.T) {
	const nginx = "spec.images[docker.io/library/nginx]"
	tooMany := map[string]apps.ImageSpec{}
	for i := 0; i <= MaxNodeImageImages; i++ {
		tooMany[fmt.Sprintf("registry.example.com/image-%d", i)] = apps.ImageSpec{Tags: []apps.ImageTagSpec{}}
	}
	for _, tc := range []struct {
		name   string
		tweak  func(ni *apps.NodeImage)
		want   []imagePullErr
		detail string
	}{
		{name: "valid", tweak: func(*apps.NodeImage) {}},
		{
			name:  "no images",
			tweak: func(ni *apps.NodeImage) { ni.Spec.Images = nil },
		},
		{
			name:   "too many images",
			tweak:  func(ni *apps.NodeImage) { ni.Spec.Images = tooMany },
			want:   []imagePullErr{ipTooMany("spec.images")},
			detail: "spec images length 257 can not be more than 256",
		},
		{
			name:   "empty image name",
			tweak:  func(ni *apps.NodeImage) { ni.Spec.Images[""] = apps.ImageSpec{Tags: []apps.ImageTagSpec{}} },
			want:   []imagePullErr{ipRequired("spec.images[]")},
			detail: "image name can not be empty",
		},
		{
			name:  "missing tags",
			tweak: func(ni *apps.NodeImage) { ni.Spec.Images["busybox"] = apps.ImageSpec{} },
			want:  []imagePullErr{ipRequired("spec.images[busybox].tags")},
		},
		{
			name:  "empty tags",
			tweak: func(ni *apps.NodeImage) { ni.Spec.Images["busybox"] = apps.ImageSpec{Tags: []apps.ImageTagSpec{}} },
		},
		{
			name:   "empty tag",
			tweak:  func(ni *apps.NodeImage) { ni.Spec.Images["docker.io/library/nginx"].Tags[1].Tag = "" },
			want:   []imagePullErr{ipRequired(nginx + ".tags[1].tag")},
			detail: "tag for image docker.io/library/nginx can not be empty",
		},
		{
			name:   "duplicated tag",
			tweak:  func(ni *apps.NodeImage) { ni.Spec.Images["docker.io/library/nginx"].Tags[1].Tag = "1.25.4" },
			want:   []imagePullErr{ipDuplicate(nginx + ".tags[1].tag")},
			detail: "duplicated tag 1.25.4 for image docker.io/library/nginx",
		},
		{
			name:   "missing createdAt",
			tweak:  func(ni *apps.NodeImage) { ni.Spec.Images["docker.io/library/nginx"].Tags[0].CreatedAt = nil },
			want:   []imagePullErr{ipRequired(nginx + ".tags[0].createdAt")},
			detail: "createAt field for docker.io/library/nginx/1.25.4 can not be empty",
		},
		{
			name:   "negative version",
			tweak:  func(ni *apps.NodeImage) { ni.Spec.Images["docker.io/library/nginx"].Tags[0].Version = -1 },
			want:   []imagePullErr{ipInvalid(nginx + ".tags[0].version")},
			detail: "version for docker.io/library/nginx/1.25.4 can not be less than 0",
		},
		{
			name:   "missing pullPolicy",
			tweak:  func(ni *apps.NodeImage) { ni.Spec.Images["docker.io/library/nginx"].Tags[0].PullPolicy = nil },
			want:   []imagePullErr{ipRequired(nginx + ".tags[0].pullPolicy")},
			detail: "pullPolicy field for docker.io/library/nginx/1.25.4 must set",
		},
		{
			name: "missing ttlSecondsAfterFinished",
			tweak: func(ni *apps.NodeImage) {
				ni.Spec.Images["docker.io/library/nginx"].Tags[0].PullPolicy.TTLSecondsAfterFinished = nil
			},
			want:   []imagePullErr{ipRequired(nginx + ".tags[0].pullPolicy.ttlSecondsAfterFinished")},
			detail: "pullPolicy.ttlSecondsAfterFinished for docker.io/library/nginx/1.25.4 must set",
		},
		{
			name: "negative pull timeout",
			tweak: func(ni *apps.NodeImage) {
				ni.Spec.Images["docker.io/library/nginx"].Tags[0].PullPolicy.TimeoutSeconds = ptr.To[int32](-1)
			},
			want: []imagePullErr{ipInvalid(nginx + ".tags[0].pullPolicy.timeoutSeconds")},
		},
		{
			name:  "unknown image pull policy",
			tweak: func(ni *apps.NodeImage) { ni.Spec.Images["docker.io/library/nginx"].Tags[0].ImagePullPolicy = "Never" },
			want:  []imagePullErr{ipNotSupported(nginx + ".tags[0].imagePullPolicy")},
		},
		{
			name:  "pull secret without name",
			tweak: func(ni *apps.NodeImage) { ni.Spec.Images["docker.io/library/nginx"].PullSecrets[0].Name = "" },
			want:  []imagePullErr{ipRequired(nginx + ".pullSecrets[0].name")},
		},
		{
			name: "pull secret with invalid namespace",
			tweak: func(ni *apps.NodeImage) {
				ni.Spec.Images["docker.io/library/nginx"].PullSecrets[0].Namespace = "Web.NS"
			},
			want: []imagePullErr{ipInvalid(nginx + ".pullSecrets[0].namespace")},
		},
		{
			name:  "cluster-scoped",
			tweak: func(ni *apps.NodeImage) { ni.Namespace = "default" },
			want:  []imagePullErr{ipForbidden("metadata.namespace")},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ni := validNodeImage()
			tc.tweak(ni)
			errs := ValidateNodeImage(ni)
			checkImagePullErrors(t, errs, tc.want...)
			checkImagePullDetail(t, errs, tc.detail)
		})
	}
}

func TestValidateNodeImageUpdate(t *testing.T) {
	old := validNodeImage()
	ni := validNodeImage()
	delete(ni.Spec.Images, "registry.k8s.io/pause")
	ni.Spec.Images["docker.io/library/nginx"].Tags[0].Version = 5
	checkImagePullErrors(t, ValidateNodeImageUpdate(ni, old))

	ni.Spec.Images["docker.io/library/nginx"].Tags[0].Version = -5
	checkImagePullErrors(t, ValidateNodeImageUpdate(ni, old), ipInvalid("spec.images[docker.io/library/nginx].tags[0].version"))
}

func TestValidateNodeImageStatusUpdate(t *testing.T) {
	old := validNodeImage()
	ni := validNodeImage()
	ni.Status = apps.NodeImageStatus{Desired: 3, Succeeded: 1, Failed: 1, Pulling: 1,
		ImageStatuses: map[string]apps.ImageStatus{"docker.io/library/nginx": {Tags: []apps.ImageTagStatus{{Tag: "1.25.4", Phase: apps.ImagePhaseSucceeded, Progress: 100}}}}}
	checkImagePullErrors(t, ValidateNodeImageStatusUpdate(ni, old))

	ni.Status = apps.NodeImageStatus{Desired: -1, Succeeded: -1, Failed: -1, Pulling: -1, Waiting: -1}
	checkImagePullErrors(t, ValidateNodeImageStatusUpdate(ni, old),
		ipInvalid("status.desired"), ipInvalid("status.succeeded"), ipInvalid("status.failed"), ipInvalid("status.pulling"), ipInvalid("status.waiting"))
}
