package bench

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	appsv1alpha1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1alpha1"
)

// CloneSet returns the benchmark's CloneSet number i: a realistic object of
// 3–4 KB in JSON (labels, annotations, a template with an init container
// and two containers with env, resources, probes and mounts), at
// OpenKruise's v1alpha1. Replicas is 0: no Pods are wanted.
func CloneSet(name string, i int) *appsv1alpha1.CloneSet {
	app := fmt.Sprintf("shop-%d", i%50)
	labels := map[string]string{
		"app.kubernetes.io/name":       app,
		"app.kubernetes.io/instance":   name,
		"app.kubernetes.io/part-of":    "shop",
		"app.kubernetes.io/managed-by": "kruise-bench",
		"team":                         fmt.Sprintf("team-%d", i%7),
	}
	probe := func(path string, port int32, delay int32) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:        corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromInt32(port), Scheme: corev1.URISchemeHTTP}},
			InitialDelaySeconds: delay, PeriodSeconds: 10, TimeoutSeconds: 2, SuccessThreshold: 1, FailureThreshold: 3,
		}
	}
	resources := func(cpu, mem string) corev1.ResourceRequirements {
		return corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)},
			Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)},
		}
	}
	podLabels := map[string]string{"app.kubernetes.io/name": app, "app.kubernetes.io/instance": name}
	return &appsv1alpha1.CloneSet{
		TypeMeta: metav1.TypeMeta{Kind: "CloneSet"},
		ObjectMeta: metav1.ObjectMeta{
			Name:   name,
			Labels: labels,
			Annotations: map[string]string{
				"shop.example.com/owner":       fmt.Sprintf("owner-%d@example.com", i%13),
				"shop.example.com/description": "Front end of the shop: serves the catalogue and the basket, talks to the payment service.",
				"shop.example.com/revision":    fmt.Sprintf("r%d", i),
			},
		},
		Spec: appsv1alpha1.CloneSetSpec{
			Replicas:             ptr.To[int32](0),
			Selector:             &metav1.LabelSelector{MatchLabels: podLabels},
			RevisionHistoryLimit: ptr.To[int32](5),
			MinReadySeconds:      5,
			ScaleStrategy:        appsv1alpha1.CloneSetScaleStrategy{MaxUnavailable: ptr.To(intstr.FromString("10%"))},
			UpdateStrategy: appsv1alpha1.CloneSetUpdateStrategy{
				Type:           appsv1alpha1.InPlaceIfPossibleCloneSetUpdateStrategyType,
				MaxUnavailable: ptr.To(intstr.FromString("20%")),
				MaxSurge:       ptr.To(intstr.FromInt32(1)),
				Partition:      ptr.To(intstr.FromInt32(0)),
			},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{
					Labels:      podLabels,
					Annotations: map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "9090"},
				},
				Spec: corev1.PodSpec{
					ServiceAccountName:            "shop",
					TerminationGracePeriodSeconds: ptr.To[int64](30),
					InitContainers: []corev1.Container{{
						Name: "migrate", Image: "registry.example.com/shop/migrate:1.14.2",
						Command:   []string{"/migrate", "--database=$(DATABASE_URL)", "--timeout=60s"},
						Env:       []corev1.EnvVar{{Name: "DATABASE_URL", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "shop-db"}, Key: "url"}}}},
						Resources: resources("100m", "64Mi"),
					}},
					Containers: []corev1.Container{{
						Name: "web", Image: "registry.example.com/shop/web:1.14.2",
						Args:  []string{"--listen=:8080", "--metrics=:9090", "--log-level=info"},
						Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}, {Name: "metrics", ContainerPort: 9090, Protocol: corev1.ProtocolTCP}},
						Env: []corev1.EnvVar{
							{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
							{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
							{Name: "PAYMENT_URL", Value: "http://payment.shop.svc.cluster.local:8080"},
							{Name: "CACHE_SIZE", Value: "256"},
							{Name: "FEATURES", Value: "basket,wishlist,recommendations"},
						},
						Resources:      resources("500m", "512Mi"),
						LivenessProbe:  probe("/healthz", 8080, 10),
						ReadinessProbe: probe("/ready", 8080, 5),
						VolumeMounts:   []corev1.VolumeMount{{Name: "config", MountPath: "/etc/shop", ReadOnly: true}, {Name: "cache", MountPath: "/var/cache/shop"}},
					}, {
						Name: "proxy", Image: "registry.example.com/mesh/proxy:2.3.0",
						Args:           []string{"--upstream=127.0.0.1:8080", "--listen=:15001"},
						Ports:          []corev1.ContainerPort{{Name: "proxy", ContainerPort: 15001, Protocol: corev1.ProtocolTCP}},
						Env:            []corev1.EnvVar{{Name: "MESH_ID", Value: "shop"}, {Name: "PROXY_CONCURRENCY", Value: "2"}},
						Resources:      resources("200m", "128Mi"),
						ReadinessProbe: probe("/ready", 15021, 1),
					}},
					Volumes: []corev1.Volume{
						{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "shop-config"}}}},
						{Name: "cache", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: ptr.To(resource.MustParse("1Gi"))}}},
					},
				},
			},
		},
	}
}
