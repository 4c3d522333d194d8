package statefulset

import (
	"context"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/klog/v2"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/revision"
)

// adopter decides, once per sync, whether the StatefulSet may adopt: a
// fresh read must confirm that it is neither gone, re-created under the same
// name, nor being deleted.
type adopter struct {
	c   *Controller
	set *appsv1beta1.StatefulSet

	once sync.Once
	err  error
}

func (a *adopter) canAdopt(ctx context.Context) error {
	a.once.Do(func() {
		fresh, err := a.c.kruiseClient.AppsV1beta1().StatefulSets(a.set.Namespace).Get(ctx, a.set.Name, metav1.GetOptions{})
		switch {
		case err != nil:
			a.err = err
		case fresh.UID != a.set.UID:
			a.err = fmt.Errorf("original StatefulSet %s/%s is gone: got uid %v, wanted %v", a.set.Namespace, a.set.Name, fresh.UID, a.set.UID)
		case fresh.DeletionTimestamp != nil:
			a.err = fmt.Errorf("StatefulSet %s/%s is being deleted", a.set.Namespace, a.set.Name)
		}
	})
	return a.err
}

// claimPods returns the Pods the StatefulSet controls after adoption and
// release, like Kubernetes' StatefulSet controller: a Pod is the set's when
// the selector matches it and its name is <set>-<ordinal>. A controlled Pod
// that no longer is gets released (unless the set is being deleted); an
// orphan that is gets adopted (unless the set or the Pod is being deleted).
// pods are all the Pods of the namespace, whatever their phase.
func (c *Controller) claimPods(ctx context.Context, set *appsv1beta1.StatefulSet, selector labels.Selector,
	pods []*corev1.Pod, a *adopter) ([]*corev1.Pod, error) {
	var claimed []*corev1.Pod
	var errs []error
	for _, pod := range pods {
		ref := metav1.GetControllerOfNoCopy(pod)
		matches := selector.Matches(labels.Set(pod.Labels)) && isMember(set, pod)
		switch {
		case ref != nil && ref.UID != set.UID:
			// Another controller's.
		case ref != nil && matches:
			claimed = append(claimed, pod)
		case ref != nil:
			if set.DeletionTimestamp != nil {
				continue
			}
			if err := c.releasePod(ctx, set, pod); err != nil {
				errs = append(errs, err)
			}
		case matches && set.DeletionTimestamp == nil && pod.DeletionTimestamp == nil:
			if err := a.canAdopt(ctx); err != nil {
				errs = append(errs, fmt.Errorf("can't adopt Pod %s/%s: %w", pod.Namespace, pod.Name, err))
				continue
			}
			adopted, err := c.adoptPod(ctx, set, pod)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if adopted != nil {
				claimed = append(claimed, adopted)
			}
		}
	}
	return claimed, utilerrors.NewAggregate(errs)
}

func (c *Controller) adoptPod(ctx context.Context, set *appsv1beta1.StatefulSet, pod *corev1.Pod) (*corev1.Pod, error) {
	patch, err := revision.AdoptPatch(set, controllerKind, pod.UID)
	if err != nil {
		return nil, err
	}
	adopted, err := c.kubeClient.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		if isNotFoundOrGone(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("adopting Pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	klog.FromContext(ctx).V(2).Info("Adopted Pod", "statefulSet", klog.KObj(set), "pod", klog.KObj(pod))
	c.versionExpectations.Expect(adopted)
	return adopted, nil
}

func (c *Controller) releasePod(ctx context.Context, set *appsv1beta1.StatefulSet, pod *corev1.Pod) error {
	patch, err := revision.ReleasePatch(set.UID, pod.UID)
	if err != nil {
		return err
	}
	_, err = c.kubeClient.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	if err != nil && !isNotFoundOrGone(err) && !isInvalid(err) {
		return fmt.Errorf("releasing Pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	klog.FromContext(ctx).V(2).Info("Released Pod", "statefulSet", klog.KObj(set), "pod", klog.KObj(pod))
	return nil
}
