package cloneset

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

// podClaimer adopts and releases Pods for one CloneSet, like
// kube-controller-manager's PodControllerRefManager: a Pod the CloneSet
// controls is kept while the selector matches it and released otherwise; an
// orphan the selector matches is adopted, once a fresh read has confirmed
// that the CloneSet is not being deleted.
type podClaimer struct {
	c        *Controller
	cs       *appsv1beta1.CloneSet
	selector labels.Selector

	once        sync.Once
	canAdoptErr error
}

// claim returns the active Pods the CloneSet controls after adoption and
// release. pods are all the active Pods of the namespace.
func (m *podClaimer) claim(ctx context.Context, pods []*corev1.Pod) ([]*corev1.Pod, error) {
	var claimed []*corev1.Pod
	var errs []error
	for _, pod := range pods {
		ref := metav1.GetControllerOfNoCopy(pod)
		matches := m.selector.Matches(labels.Set(pod.Labels))
		switch {
		case ref != nil && ref.UID != m.cs.UID:
			// Another controller's.
		case ref != nil && matches:
			claimed = append(claimed, pod)
		case ref != nil:
			// Ours, no longer selected: let it go, unless the CloneSet is
			// being deleted (its Pods go with it).
			if m.cs.DeletionTimestamp != nil || pod.DeletionTimestamp != nil {
				continue
			}
			if err := m.release(ctx, pod); err != nil {
				errs = append(errs, err)
			}
		case matches && m.cs.DeletionTimestamp == nil && pod.DeletionTimestamp == nil:
			adopted, err := m.adopt(ctx, pod)
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

// canAdopt reads the CloneSet from the API server, once: a CloneSet
// deleted, or deleted and re-created, must not adopt.
func (m *podClaimer) canAdopt(ctx context.Context) error {
	m.once.Do(func() {
		fresh, err := m.c.kruiseClient.AppsV1beta1().CloneSets(m.cs.Namespace).Get(ctx, m.cs.Name, metav1.GetOptions{})
		switch {
		case err != nil:
			m.canAdoptErr = err
		case fresh.UID != m.cs.UID:
			m.canAdoptErr = fmt.Errorf("original CloneSet %s/%s is gone: got uid %v, wanted %v", m.cs.Namespace, m.cs.Name, fresh.UID, m.cs.UID)
		case fresh.DeletionTimestamp != nil:
			m.canAdoptErr = fmt.Errorf("CloneSet %s/%s is being deleted", m.cs.Namespace, m.cs.Name)
		}
	})
	return m.canAdoptErr
}

func (m *podClaimer) adopt(ctx context.Context, pod *corev1.Pod) (*corev1.Pod, error) {
	if err := m.canAdopt(ctx); err != nil {
		return nil, fmt.Errorf("can't adopt Pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	patch, err := revision.AdoptPatch(m.cs, controllerKind, pod.UID)
	if err != nil {
		return nil, err
	}
	adopted, err := m.c.kubeClient.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		if isNotFoundOrGone(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("adopting Pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	klog.FromContext(ctx).V(2).Info("Adopted Pod", "cloneSet", klog.KObj(m.cs), "pod", klog.KObj(pod))
	m.c.versionExpectations.Expect(adopted)
	return adopted, nil
}

func (m *podClaimer) release(ctx context.Context, pod *corev1.Pod) error {
	patch, err := revision.ReleasePatch(m.cs.UID, pod.UID)
	if err != nil {
		return err
	}
	_, err = m.c.kubeClient.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	if err != nil && !isNotFoundOrGone(err) && !isInvalid(err) {
		return fmt.Errorf("releasing Pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	klog.FromContext(ctx).V(2).Info("Released Pod", "cloneSet", klog.KObj(m.cs), "pod", klog.KObj(pod))
	return nil
}
