package cloneset

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

// ownedPVCs returns the CloneSet's PVCs that are not being deleted.
func (c *Controller) ownedPVCs(cs *appsv1beta1.CloneSet) ([]*corev1.PersistentVolumeClaim, error) {
	all, err := c.pvcLister.PersistentVolumeClaims(cs.Namespace).List(everything)
	if err != nil {
		return nil, err
	}
	var out []*corev1.PersistentVolumeClaim
	for _, pvc := range all {
		if ref := metav1.GetControllerOfNoCopy(pvc); ref != nil && ref.UID == cs.UID && pvc.DeletionTimestamp == nil {
			out = append(out, pvc)
		}
	}
	return out, nil
}

// cleanupPVCs, without PVC reuse, gets rid of the PVCs no active Pod uses:
// those of a Pod that is still there but finished or being deleted are handed
// to that Pod (owned by it, the garbage collector deletes them with it), the
// others are deleted. It returns the PVCs of the active Pods.
func (c *Controller) cleanupPVCs(ctx context.Context, cs *appsv1beta1.CloneSet, active, inactive []*corev1.Pod,
	pvcs []*corev1.PersistentVolumeClaim) ([]*corev1.PersistentVolumeClaim, error) {
	activeIDs := map[string]bool{}
	for _, pod := range active {
		if id := instanceID(pod); id != "" {
			activeIDs[id] = true
		}
	}
	inactiveByID := map[string]*corev1.Pod{}
	for _, pod := range inactive {
		if id := instanceID(pod); id != "" {
			inactiveByID[id] = pod
		}
	}
	var kept []*corev1.PersistentVolumeClaim
	for _, pvc := range pvcs {
		id := instanceID(pvc)
		if activeIDs[id] {
			kept = append(kept, pvc)
			continue
		}
		if pod := inactiveByID[id]; pod != nil && id != "" {
			if err := c.handPVCToPod(ctx, cs, pvc, pod); err != nil {
				return nil, err
			}
			continue
		}
		klog.FromContext(ctx).V(3).Info("Deleting a PVC no Pod uses", "cloneSet", klog.KObj(cs), "pvc", klog.KObj(pvc))
		if err := c.deletePVC(ctx, cs, pvc); err != nil {
			return nil, err
		}
	}
	return kept, nil
}

// handPVCToPod makes the Pod, instead of the CloneSet, the PVC's controller.
func (c *Controller) handPVCToPod(ctx context.Context, cs *appsv1beta1.CloneSet, pvc *corev1.PersistentVolumeClaim, pod *corev1.Pod) error {
	clone := pvc.DeepCopy()
	refs := clone.OwnerReferences[:0]
	for _, ref := range clone.OwnerReferences {
		if ref.UID != cs.UID {
			refs = append(refs, ref)
		}
	}
	clone.OwnerReferences = append(refs, *metav1.NewControllerRef(pod, corev1.SchemeGroupVersion.WithKind("Pod")))
	if _, err := c.kubeClient.CoreV1().PersistentVolumeClaims(clone.Namespace).Update(ctx, clone, metav1.UpdateOptions{}); err != nil {
		if isNotFoundOrGone(err) {
			return nil
		}
		c.recorder.Eventf(cs, corev1.EventTypeWarning, reasonFailedUpdate, "Failed to hand PVC %s to Pod %s: %v", pvc.Name, pod.Name, err)
		return fmt.Errorf("handing PVC %s to Pod %s: %w", pvc.Name, pod.Name, err)
	}
	klog.FromContext(ctx).V(3).Info("Handed PVC to its Pod", "cloneSet", klog.KObj(cs), "pvc", klog.KObj(pvc), "pod", klog.KObj(pod))
	return nil
}
