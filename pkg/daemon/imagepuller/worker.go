package imagepuller

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/distribution/reference"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

// worker pulls one round (spec version) of one tag.
type worker struct {
	c           *Controller
	key         tagKey
	tag         appsv1beta1.ImageTagSpec
	pullSecrets []appsv1beta1.ReferenceObject
	sandbox     *appsv1beta1.SandboxConfig
	cancel      context.CancelFunc
}

// imageRef is what the runtime pulls: name:tag, or name@digest when the
// "tag" is a digest.
func imageRef(name, tag string) string {
	if strings.Contains(tag, ":") {
		return name + "@" + tag
	}
	return name + ":" + tag
}

func (w *worker) run(ctx context.Context) {
	defer w.cancel()
	ref := imageRef(w.key.image, w.tag.Tag)

	timeout := time.Duration(appsv1beta1.DefaultImagePullTimeoutSeconds) * time.Second
	backoffLimit := int32(appsv1beta1.DefaultImagePullBackoffLimit)
	var deadline time.Time
	if p := w.tag.PullPolicy; p != nil {
		if p.TimeoutSeconds != nil && *p.TimeoutSeconds > 0 {
			timeout = time.Duration(*p.TimeoutSeconds) * time.Second
		}
		if p.BackoffLimit != nil && *p.BackoffLimit >= 0 {
			backoffLimit = *p.BackoffLimit
		}
		if p.ActiveDeadlineSeconds != nil {
			// From when the tag was asked for, as the NodeImage controller
			// counts it: time spent waiting for a pull slot counts, so
			// that this daemon fails the round before that controller
			// does, rather than keep reporting it Waiting or Pulling over
			// the controller's Failed.
			from := time.Now()
			if w.tag.CreatedAt != nil {
				from = w.tag.CreatedAt.Time
			}
			deadline = from.Add(time.Duration(*p.ActiveDeadlineSeconds) * time.Second)
		}
	}

	// Wait for a pull slot; the tag stays Waiting meanwhile.
	var expired <-chan time.Time
	if !deadline.IsZero() {
		timer := time.NewTimer(time.Until(deadline))
		defer timer.Stop()
		expired = timer.C
	}
	select {
	case w.c.pullSlots <- struct{}{}:
		defer func() { <-w.c.pullSlots }()
	case <-expired:
		w.fail(ref, appsv1beta1.ImageTagStatus{Tag: w.tag.Tag, Version: w.tag.Version}, errDeadlineExceeded)
		return
	case <-ctx.Done():
		return
	}

	// Times to the second, as the server keeps them: the status compares
	// equal to what it stored, and is not written again.
	began := time.Now()
	start := metav1.NewTime(began).Rfc3339Copy()
	status := appsv1beta1.ImageTagStatus{
		Tag: w.tag.Tag, Phase: appsv1beta1.ImagePhasePulling, Version: w.tag.Version, StartTime: &start,
	}
	if !w.c.report(w, status) {
		return
	}

	pause := w.c.opts.RetryPause
	var lastErr error
	for attempt := int32(0); attempt <= backoffLimit; attempt++ {
		if attempt > 0 {
			klog.V(2).InfoS("Retrying the pull", "image", ref, "attempt", attempt+1, "error", lastErr)
			select {
			case <-time.After(pause):
			case <-ctx.Done():
				return
			}
			pause = min(2*pause, w.c.opts.MaxRetryPause)
		}
		attemptTimeout := timeout
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				lastErr = errDeadlineExceeded
				break
			}
			attemptTimeout = min(attemptTimeout, left)
		}
		attemptCtx, cancel := context.WithTimeout(ctx, attemptTimeout)
		imageID, err := w.pull(attemptCtx, ref)
		timedOut := errors.Is(attemptCtx.Err(), context.DeadlineExceeded)
		cancel()
		if ctx.Err() != nil {
			// Stopped: a newer round or a spec without the tag; nothing to report.
			return
		}
		if err == nil {
			now := metav1.Now().Rfc3339Copy()
			status.Phase, status.Progress, status.ImageID, status.CompletionTime = appsv1beta1.ImagePhaseSucceeded, 100, imageID, &now
			if w.c.report(w, status) {
				klog.InfoS("Pulled", "image", ref, "version", w.tag.Version, "imageID", imageID, "duration", time.Since(began))
				w.c.event(w.tag, corev1.EventTypeNormal, ReasonPullImageSucceed, "Image %s, elapsed time %v", ref, time.Since(began).Round(time.Millisecond))
			}
			return
		}
		if timedOut {
			err = fmt.Errorf("pulling image %s timed out after %v: %w", ref, attemptTimeout, err)
		}
		lastErr = err
	}
	w.fail(ref, status, lastErr)
}

// errDeadlineExceeded is the message of a round that ran out of
// activeDeadlineSeconds, as OpenKruise's daemon words it.
var errDeadlineExceeded = errors.New("pulling exceeds the activeDeadlineSeconds")

// fail reports the round failed with err.
func (w *worker) fail(ref string, status appsv1beta1.ImageTagStatus, err error) {
	now := metav1.Now().Rfc3339Copy()
	status.Phase, status.Progress, status.CompletionTime, status.Message = appsv1beta1.ImagePhaseFailed, 0, &now, err.Error()
	if w.c.report(w, status) {
		klog.InfoS("Failed to pull", "image", ref, "version", w.tag.Version, "err", err)
		w.c.event(w.tag, corev1.EventTypeWarning, ReasonPullImageFailed, "Image %s: %v", ref, err)
	}
}

// pull makes one attempt: with IfNotPresent an image the runtime has is
// taken as it is, otherwise it is pulled, with each matching credential of
// the pull secrets in turn (anonymously when none matches). It returns the
// image's ID for the status.
func (w *worker) pull(ctx context.Context, ref string) (string, error) {
	spec := &runtimeapi.ImageSpec{Image: ref}
	if w.tag.ImagePullPolicy == appsv1beta1.PullIfNotPresent {
		resp, err := w.c.images.ImageStatus(ctx, spec, false)
		if err != nil {
			return "", fmt.Errorf("image status of %s: %w", ref, err)
		}
		if resp.GetImage() != nil {
			klog.V(2).InfoS("Image already present", "image", ref)
			return imageIDOf(w.key.image, resp.GetImage()), nil
		}
	}
	auths, err := w.auths(ctx, ref)
	if err != nil {
		return "", err
	}
	var sandbox *runtimeapi.PodSandboxConfig
	if w.sandbox != nil {
		sandbox = &runtimeapi.PodSandboxConfig{Labels: w.sandbox.Labels, Annotations: w.sandbox.Annotations}
	}
	if len(auths) == 0 {
		auths = []*runtimeapi.AuthConfig{nil}
	}
	for _, auth := range auths {
		if _, err = w.c.images.PullImage(ctx, spec, auth, sandbox); err == nil {
			break
		}
	}
	if err != nil {
		return "", err
	}
	resp, err := w.c.images.ImageStatus(ctx, spec, false)
	if err != nil {
		return "", fmt.Errorf("image status of %s after the pull: %w", ref, err)
	}
	if resp.GetImage() == nil {
		return "", fmt.Errorf("image %s was pulled but the runtime does not know it", ref)
	}
	return imageIDOf(w.key.image, resp.GetImage()), nil
}

// auths are the credentials of the pull secrets for the image's registry.
// A secret that cannot be read is skipped, with an error in the log: the
// pull may still work without it, and fails with the registry's message
// otherwise.
func (w *worker) auths(ctx context.Context, ref string) ([]*runtimeapi.AuthConfig, error) {
	var secrets []*corev1.Secret
	for _, s := range w.pullSecrets {
		secret, err := w.c.secrets.Secrets(s.Namespace).Get(ctx, s.Name, metav1.GetOptions{})
		if err != nil {
			klog.ErrorS(err, "Cannot read a pull secret", "image", ref, "secret", s.Namespace+"/"+s.Name)
			continue
		}
		secrets = append(secrets, secret)
	}
	return registryAuths(secrets, ref)
}

// imageIDOf is the repository digest of image under name (what the
// registry serves for the tag, and what the kubelet reports as a
// container's imageID), else the runtime's first one, else its image ID.
func imageIDOf(name string, image *runtimeapi.Image) string {
	if named, err := reference.ParseNormalizedNamed(name); err == nil {
		for _, d := range image.GetRepoDigests() {
			if strings.HasPrefix(d, named.Name()+"@") {
				return d
			}
		}
	}
	if d := image.GetRepoDigests(); len(d) > 0 {
		return d[0]
	}
	return image.GetId()
}
