package lifecycle

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KruisePodReady is the readiness gate through which several writers (the
// lifecycle hooks' markPodNotReady among them) hold a Pod not ready. Its
// condition's message lists who holds it, as JSON
// [{"userAgent":...,"key":...}]; it is True when the list is empty. The
// workload controllers give the gate to the Pods they create (OpenKruise's
// Pod webhook does it there) and set the condition True when it is missing
// (OpenKruise's pod-readiness controller).
const KruisePodReady corev1.PodConditionType = "KruisePodReady"

// The keys markPodNotReady adds to KruisePodReady, under the user agent
// "Lifecycle".
const (
	readinessUserAgent = "Lifecycle"
	preDeleteHookKey   = "preDeleteHook"
	preUpdateHookKey   = "preUpdateHook"
)

// readinessMessage is one holder of the KruisePodReady condition.
type readinessMessage struct {
	UserAgent string `json:"userAgent"`
	Key       string `json:"key"`
}

func parseMessages(s string) []readinessMessage {
	var out []readinessMessage
	if s != "" {
		_ = json.Unmarshal([]byte(s), &out)
	}
	return out
}

func dumpMessages(m []readinessMessage) string {
	sort.Slice(m, func(i, j int) bool {
		if m[i].UserAgent != m[j].UserAgent {
			return m[i].UserAgent < m[j].UserAgent
		}
		return m[i].Key < m[j].Key
	})
	if m == nil {
		m = []readinessMessage{}
	}
	raw, _ := json.Marshal(m)
	return string(raw)
}

// HasReadinessGate reports whether the Pod has the readiness gate.
func HasReadinessGate(pod *corev1.Pod, t corev1.PodConditionType) bool {
	for _, g := range pod.Spec.ReadinessGates {
		if g.ConditionType == t {
			return true
		}
	}
	return false
}

// AddReadinessGate gives a Pod being created the readiness gate.
func AddReadinessGate(pod *corev1.Pod, t corev1.PodConditionType) {
	if !HasReadinessGate(pod, t) {
		pod.Spec.ReadinessGates = append(pod.Spec.ReadinessGates, corev1.PodReadinessGate{ConditionType: t})
	}
}

// GetCondition returns the Pod's condition of the type, or nil.
func GetCondition(pod *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == t {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

// SetPodReadyCondition recomputes the Pod's Ready condition from its
// readiness gates, as the kubelet would, when the containers are ready: a
// controller that turns a gate's condition False sets Ready False in the
// same write rather than waiting for the kubelet. (Ready becoming True is
// left to the kubelet.)
func SetPodReadyCondition(pod *corev1.Pod, now metav1.Time) {
	ready := GetCondition(pod, corev1.PodReady)
	if ready == nil {
		return
	}
	if c := GetCondition(pod, corev1.ContainersReady); c == nil || c.Status != corev1.ConditionTrue {
		return
	}
	var unready []string
	for _, g := range pod.Spec.ReadinessGates {
		c := GetCondition(pod, g.ConditionType)
		switch {
		case c == nil:
			unready = append(unready, fmt.Sprintf("corresponding condition of pod readiness gate %q does not exist.", g.ConditionType))
		case c.Status != corev1.ConditionTrue:
			unready = append(unready, fmt.Sprintf("the status of pod readiness gate %q is not \"True\", but %v", g.ConditionType, c.Status))
		}
	}
	want := corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now}
	if len(unready) > 0 {
		want = corev1.PodCondition{
			Type: corev1.PodReady, Status: corev1.ConditionFalse, LastTransitionTime: now,
			Reason: "ReadinessGatesNotReady", Message: strings.Join(unready, ", "),
		}
	}
	if ready.Status != want.Status {
		*ready = want
	}
}

// AddNotReadyKey adds the lifecycle key to the Pod's KruisePodReady
// condition, making it False (and Ready False). Pods without the gate are
// left alone. It returns the Pod as written, nil when nothing was.
func (c *Control) AddNotReadyKey(ctx context.Context, pod *corev1.Pod, key string) (*corev1.Pod, error) {
	msg := readinessMessage{UserAgent: readinessUserAgent, Key: key}
	if !HasReadinessGate(pod, KruisePodReady) || holdsKey(pod, msg) {
		return nil, nil
	}
	return WritePod(ctx, c.client, pod, func(p *corev1.Pod) (*corev1.Pod, error) {
		now := metav1.NewTime(c.clock.Now())
		cond := GetCondition(p, KruisePodReady)
		if cond == nil {
			p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: KruisePodReady})
			cond = &p.Status.Conditions[len(p.Status.Conditions)-1]
		}
		messages := parseMessages(cond.Message)
		if containsMessage(messages, msg) && cond.Status == corev1.ConditionFalse {
			return nil, nil
		}
		if !containsMessage(messages, msg) {
			messages = append(messages, msg)
		}
		cond.Status = corev1.ConditionFalse
		cond.Message = dumpMessages(messages)
		cond.LastTransitionTime = now
		SetPodReadyCondition(p, now)
		return c.client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
	})
}

// RemoveNotReadyKey removes the lifecycle key from the Pod's KruisePodReady
// condition, which becomes True when no other key holds it. It returns the
// Pod as written, nil when nothing was.
func (c *Control) RemoveNotReadyKey(ctx context.Context, pod *corev1.Pod, key string) (*corev1.Pod, error) {
	msg := readinessMessage{UserAgent: readinessUserAgent, Key: key}
	if !HasReadinessGate(pod, KruisePodReady) {
		return nil, nil
	}
	if cond := GetCondition(pod, KruisePodReady); cond == nil || !containsMessage(parseMessages(cond.Message), msg) {
		return nil, nil
	}
	return WritePod(ctx, c.client, pod, func(p *corev1.Pod) (*corev1.Pod, error) {
		cond := GetCondition(p, KruisePodReady)
		if cond == nil {
			return nil, nil
		}
		var kept []readinessMessage
		removed := false
		for _, m := range parseMessages(cond.Message) {
			if m == msg {
				removed = true
				continue
			}
			kept = append(kept, m)
		}
		if !removed {
			return nil, nil
		}
		if len(kept) == 0 {
			cond.Status = corev1.ConditionTrue
		}
		cond.Message = dumpMessages(kept)
		cond.LastTransitionTime = metav1.NewTime(c.clock.Now())
		return c.client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
	})
}

// EnsureReadyCondition sets KruisePodReady True on a Pod that has the gate
// but no condition yet. It returns the Pod as written, nil when nothing was.
func (c *Control) EnsureReadyCondition(ctx context.Context, pod *corev1.Pod) (*corev1.Pod, error) {
	if !HasReadinessGate(pod, KruisePodReady) || GetCondition(pod, KruisePodReady) != nil {
		return nil, nil
	}
	return WritePod(ctx, c.client, pod, func(p *corev1.Pod) (*corev1.Pod, error) {
		if GetCondition(p, KruisePodReady) != nil {
			return nil, nil
		}
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{
			Type: KruisePodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(c.clock.Now()),
		})
		return c.client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
	})
}

// holdsKey reports whether the key already holds the Pod not ready.
func holdsKey(pod *corev1.Pod, msg readinessMessage) bool {
	cond := GetCondition(pod, KruisePodReady)
	if cond == nil || cond.Status == corev1.ConditionTrue {
		return false
	}
	return containsMessage(parseMessages(cond.Message), msg)
}

func containsMessage(messages []readinessMessage, msg readinessMessage) bool {
	for _, m := range messages {
		if m == msg {
			return true
		}
	}
	return false
}
