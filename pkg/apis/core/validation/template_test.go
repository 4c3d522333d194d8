package validation

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// expectedError is the type and field path of one expected error.
type expectedError struct {
	Type  field.ErrorType
	Field string
}

func (e expectedError) String() string { return fmt.Sprintf("%s %s", e.Type, e.Field) }

// checkErrors asserts that errs are exactly want (type and path, any order).
func checkErrors(t *testing.T, errs field.ErrorList, want []expectedError) {
	t.Helper()
	got := make([]string, 0, len(errs))
	for _, e := range errs {
		got = append(got, expectedError{e.Type, e.Field}.String())
	}
	exp := make([]string, 0, len(want))
	for _, w := range want {
		exp = append(exp, w.String())
	}
	sort.Strings(got)
	sort.Strings(exp)
	if strings.Join(got, "\n") != strings.Join(exp, "\n") {
		t.Errorf("errors mismatch\n got: %v\nwant: %v\nfull errors:\n%s", got, exp, errsString(errs))
	}
}

func errsString(errs field.ErrorList) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "  %s\n", e.Error())
	}
	return b.String()
}

func q(s string) resource.Quantity { return resource.MustParse(s) }

// Shorthands for expected errors on spec.template.spec.<suffix>.
const sp = "spec.template.spec."

func required(f string) expectedError     { return expectedError{field.ErrorTypeRequired, f} }
func invalid(f string) expectedError      { return expectedError{field.ErrorTypeInvalid, f} }
func notSupported(f string) expectedError { return expectedError{field.ErrorTypeNotSupported, f} }
func duplicate(f string) expectedError    { return expectedError{field.ErrorTypeDuplicate, f} }
func forbidden(f string) expectedError    { return expectedError{field.ErrorTypeForbidden, f} }
func notFound(f string) expectedError     { return expectedError{field.ErrorTypeNotFound, f} }
func tooMany(f string) expectedError      { return expectedError{field.ErrorTypeTooMany, f} }

// workloadOptions are the options a CloneSet with a "data" claim template
// uses.
func workloadOptions() PodValidationOptions {
	return PodValidationOptions{
		RequiredRestartPolicy:       corev1.RestartPolicyAlways,
		ForbidActiveDeadlineSeconds: true,
		WorkloadKind:                "CloneSet",
		ExtraVolumeNames:            sets.New("data"),
	}
}

// validTemplate is a realistic template using most features: init and
// sidecar containers, two app containers, probes, lifecycle hooks, env,
// resources, volumes (and a claim template "data"), affinity, tolerations,
// topology spread and security contexts. It is not defaulted.
func validTemplate() *corev1.PodTemplateSpec {
	always := corev1.ContainerRestartPolicyAlways
	return &corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{
			Labels:      map[string]string{"app": "web", "tier": "frontend"},
			Annotations: map[string]string{"prometheus.io/scrape": "true", podDeletionCostAnnotation: "-10"},
		},
		Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: ptr.To[int64](30),
			InitContainers: []corev1.Container{
				{
					Name:    "init-config",
					Image:   "busybox:1.36",
					Command: []string{"sh", "-c", "cp /src/* /config/"},
					VolumeMounts: []corev1.VolumeMount{
						{Name: "config", MountPath: "/src", ReadOnly: true},
						{Name: "work", MountPath: "/config"},
					},
				},
				{
					Name:          "log-shipper",
					Image:         "fluent/fluent-bit:2.2.2",
					RestartPolicy: &always,
					ReadinessProbe: &corev1.Probe{
						ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}},
					},
					VolumeMounts: []corev1.VolumeMount{{Name: "logs", MountPath: "/var/log/nginx", ReadOnly: true}},
				},
			},
			Containers: []corev1.Container{
				{
					Name:            "web",
					Image:           "nginx:1.25.4",
					ImagePullPolicy: corev1.PullIfNotPresent,
					Ports:           []corev1.ContainerPort{{Name: "http", ContainerPort: 80, Protocol: corev1.ProtocolTCP}},
					Env: []corev1.EnvVar{
						{Name: "MODE", Value: "production"},
						{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
						{Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
							LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "password"}}},
						{Name: "CPU_LIMIT", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{
							Resource: "limits.cpu", Divisor: q("1m")}}},
						{Name: "ZONE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{
							APIVersion: "v1", FieldPath: "metadata.labels['topology.kubernetes.io/zone']"}}},
					},
					EnvFrom: []corev1.EnvFromSource{{Prefix: "CFG_", ConfigMapRef: &corev1.ConfigMapEnvSource{
						LocalObjectReference: corev1.LocalObjectReference{Name: "web-env"}}}},
					Resources: corev1.ResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceCPU: q("250m"), corev1.ResourceMemory: q("256Mi")},
						Limits:   corev1.ResourceList{corev1.ResourceCPU: q("1"), corev1.ResourceMemory: q("512Mi")},
					},
					VolumeMounts: []corev1.VolumeMount{
						{Name: "config", MountPath: "/etc/nginx/conf.d", ReadOnly: true},
						{Name: "cache", MountPath: "/var/cache/nginx"},
						{Name: "data", MountPath: "/data", SubPath: "web"},
						{Name: "logs", MountPath: "/var/log/nginx"},
					},
					LivenessProbe: &corev1.Probe{
						ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")}},
						PeriodSeconds: 10,
					},
					ReadinessProbe: &corev1.Probe{
						ProbeHandler:     corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(80)}},
						SuccessThreshold: 2,
					},
					StartupProbe: &corev1.Probe{
						ProbeHandler:     corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt32(80), Scheme: corev1.URISchemeHTTP}},
						FailureThreshold: 30,
						SuccessThreshold: 1,
					},
					Lifecycle: &corev1.Lifecycle{
						PreStop:   &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 5}},
						PostStart: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"/bin/sh", "-c", "echo started"}}},
					},
					SecurityContext: &corev1.SecurityContext{
						RunAsUser:                ptr.To[int64](101),
						RunAsNonRoot:             ptr.To(true),
						AllowPrivilegeEscalation: ptr.To(false),
						Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: []corev1.Capability{"NET_BIND_SERVICE"}},
						SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
				},
				{
					Name:  "exporter",
					Image: "nginx/nginx-prometheus-exporter:1.1.0",
					Args:  []string{"--nginx.scrape-uri=http://localhost:80/stub_status"},
					Ports: []corev1.ContainerPort{{Name: "metrics", ContainerPort: 9113}},
					Resources: corev1.ResourceRequirements{
						Limits: corev1.ResourceList{corev1.ResourceCPU: q("100m"), corev1.ResourceMemory: q("64Mi")},
					},
					ReadinessProbe: &corev1.Probe{
						ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 9113}},
					},
				},
			},
			Volumes: []corev1.Volume{
				{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: "web-config"},
					Items:                []corev1.KeyToPath{{Key: "nginx.conf", Path: "default.conf"}},
					DefaultMode:          ptr.To[int32](0o644),
				}}},
				{Name: "cache", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: ptr.To(q("1Gi"))}}},
				{Name: "work", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				{Name: "logs", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}},
				{Name: "token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
					{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr.To[int64](3600)}},
					{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{
						{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}},
					}}},
				}}}},
			},
			DNSPolicy:          corev1.DNSClusterFirst,
			NodeSelector:       map[string]string{"kubernetes.io/os": "linux"},
			ServiceAccountName: "web",
			ImagePullSecrets:   []corev1.LocalObjectReference{{Name: "regcred"}},
			ReadinessGates:     []corev1.PodReadinessGate{{ConditionType: "InPlaceUpdateReady"}},
			Subdomain:          "web-headless",
			PriorityClassName:  "high-priority",
			SecurityContext: &corev1.PodSecurityContext{
				FSGroup:            ptr.To[int64](2000),
				SupplementalGroups: []int64{3000},
				Sysctls:            []corev1.Sysctl{{Name: "net.ipv4.ip_local_port_range", Value: "1024 65000"}},
			},
			Affinity: &corev1.Affinity{
				NodeAffinity: &corev1.NodeAffinity{
					RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
						MatchExpressions: []corev1.NodeSelectorRequirement{
							{Key: "topology.kubernetes.io/zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"zone-a", "zone-b"}},
							{Key: "example.com/cpu-generation", Operator: corev1.NodeSelectorOpGt, Values: []string{"3"}},
						},
					}}},
					PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{{
						Weight: 50,
						Preference: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{
							{Key: "node-pool", Operator: corev1.NodeSelectorOpIn, Values: []string{"spot"}},
						}},
					}},
				},
				PodAntiAffinity: &corev1.PodAntiAffinity{
					PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
						Weight: 100,
						PodAffinityTerm: corev1.PodAffinityTerm{
							LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
							TopologyKey:   "kubernetes.io/hostname",
						},
					}},
				},
			},
			Tolerations: []corev1.Toleration{
				{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "web", Effect: corev1.TaintEffectNoSchedule},
				{Key: "node.kubernetes.io/unreachable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)},
				{Key: "example.com/maintenance", Value: "true"},
			},
			TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{
				MaxSkew:           1,
				TopologyKey:       "topology.kubernetes.io/zone",
				WhenUnsatisfiable: corev1.DoNotSchedule,
				LabelSelector:     &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
				MinDomains:        ptr.To[int32](2),
			}},
		},
	}
}

var templatePath = field.NewPath("spec", "template")

func TestValidTemplate(t *testing.T) {
	errs := ValidatePodTemplateSpec(validTemplate(), templatePath, workloadOptions())
	checkErrors(t, errs, nil)

	// Also valid without any workload restriction.
	errs = ValidatePodTemplateSpec(validTemplate(), templatePath, PodValidationOptions{ExtraVolumeNames: sets.New("data")})
	checkErrors(t, errs, nil)
}

func TestNilTemplate(t *testing.T) {
	checkErrors(t, ValidatePodTemplateSpec(nil, templatePath, PodValidationOptions{}), []expectedError{required("spec.template")})
	checkErrors(t, ValidatePodTemplateSpec(&corev1.PodTemplateSpec{}, templatePath, PodValidationOptions{}),
		[]expectedError{required(sp + "containers")})
}

type templateCase struct {
	name   string
	mutate func(*corev1.PodTemplateSpec, *PodValidationOptions)
	want   []expectedError
}

func runTemplateCases(t *testing.T, cases []templateCase) {
	t.Helper()
	names := sets.New[string]()
	for _, tc := range cases {
		if names.Has(tc.name) {
			t.Fatalf("duplicate case name %q", tc.name)
		}
		names.Insert(tc.name)
		t.Run(tc.name, func(t *testing.T) {
			tmpl := validTemplate()
			opts := workloadOptions()
			tc.mutate(tmpl, &opts)
			checkErrors(t, ValidatePodTemplateSpec(tmpl, templatePath, opts), tc.want)
		})
	}
}

func web(t *corev1.PodTemplateSpec) *corev1.Container      { return &t.Spec.Containers[0] }
func exporter(t *corev1.PodTemplateSpec) *corev1.Container { return &t.Spec.Containers[1] }

func TestTemplateMetadata(t *testing.T) {
	runTemplateCases(t, []templateCase{
		{"invalid label key", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { t.Labels["bad key"] = "x" },
			[]expectedError{invalid("spec.template.metadata.labels")}},
		{"invalid label value", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { t.Labels["app"] = "-web" },
			[]expectedError{invalid("spec.template.metadata.labels")}},
		{"invalid annotation key", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { t.Annotations["a/b/c"] = "x" },
			[]expectedError{invalid("spec.template.metadata.annotations")}},
		{"invalid pod deletion cost", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Annotations[podDeletionCostAnnotation] = "cheap"
		}, []expectedError{invalid("spec.template.metadata.annotations[controller.kubernetes.io/pod-deletion-cost]")}},
		{"name and namespace are not required", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Name, t.Namespace, t.GenerateName = "", "", ""
		}, nil},
	})
}

func TestContainers(t *testing.T) {
	runTemplateCases(t, []templateCase{
		{"no containers", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { t.Spec.Containers = nil },
			[]expectedError{required(sp + "containers")}},
		{"missing name", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { exporter(t).Name = "" },
			[]expectedError{required(sp + "containers[1].name")}},
		{"invalid name", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { exporter(t).Name = "Exporter_1" },
			[]expectedError{invalid(sp + "containers[1].name")}},
		{"duplicate name", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { exporter(t).Name = "web" },
			[]expectedError{duplicate(sp + "containers[1].name")}},
		{"init container name clashes with container", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.InitContainers[0].Name = "exporter"
		}, []expectedError{duplicate(sp + "initContainers[0].name")}},
		{"duplicate init container names", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.InitContainers[1].Name = "init-config"
		}, []expectedError{duplicate(sp + "initContainers[1].name")}},
		{"ephemeral containers forbidden", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: "busybox"}}}
		}, []expectedError{forbidden(sp + "ephemeralContainers")}},
		{"ephemeral container name clash", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "web", Image: "busybox"}}}
		}, []expectedError{forbidden(sp + "ephemeralContainers"), duplicate(sp + "ephemeralContainers[0].name")}},
		{"missing image", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { exporter(t).Image = "" },
			[]expectedError{required(sp + "containers[1].image")}},
		{"image with whitespace", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { exporter(t).Image = " nginx " },
			[]expectedError{invalid(sp + "containers[1].image")}},
		{"init container missing image", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { t.Spec.InitContainers[0].Image = "" },
			[]expectedError{required(sp + "initContainers[0].image")}},
		{"bad imagePullPolicy", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { web(t).ImagePullPolicy = "Sometimes" },
			[]expectedError{notSupported(sp + "containers[0].imagePullPolicy")}},
		{"bad terminationMessagePolicy", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).TerminationMessagePolicy = "Stdout"
		}, []expectedError{notSupported(sp + "containers[0].terminationMessagePolicy")}},
		{"defaulted enums accepted", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).TerminationMessagePolicy = corev1.TerminationMessageFallbackToLogsOnError
			web(t).ImagePullPolicy = corev1.PullAlways
			t.Spec.RestartPolicy = corev1.RestartPolicyAlways
			t.Spec.DNSPolicy = corev1.DNSClusterFirstWithHostNet
		}, nil},
		{"init container restartPolicy OnFailure", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.InitContainers[0].RestartPolicy = ptr.To(corev1.ContainerRestartPolicyOnFailure)
		}, []expectedError{notSupported(sp + "initContainers[0].restartPolicy")}},
		{"regular container restartPolicy bogus", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).RestartPolicy = ptr.To(corev1.ContainerRestartPolicy("Sometimes"))
		}, []expectedError{notSupported(sp + "containers[0].restartPolicy")}},
		{"restartPolicyRules without exitCodes", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).RestartPolicy = ptr.To(corev1.ContainerRestartPolicyNever)
			web(t).RestartPolicyRules = []corev1.ContainerRestartRule{
				{Action: corev1.ContainerRestartRuleActionRestart, ExitCodes: &corev1.ContainerRestartRuleOnExitCodes{Operator: corev1.ContainerRestartRuleOnExitCodesOpIn, Values: []int32{42}}},
				{Action: "Explode"},
			}
		}, []expectedError{notSupported(sp + "containers[0].restartPolicyRules[1].action"), required(sp + "containers[0].restartPolicyRules[1].exitCodes")}},
		{"too many restartPolicyRules", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			rule := corev1.ContainerRestartRule{Action: corev1.ContainerRestartRuleActionRestart, ExitCodes: &corev1.ContainerRestartRuleOnExitCodes{Operator: corev1.ContainerRestartRuleOnExitCodesOpNotIn, Values: []int32{0}}}
			for i := 0; i < 21; i++ {
				web(t).RestartPolicyRules = append(web(t).RestartPolicyRules, rule)
			}
		}, []expectedError{tooMany(sp + "containers[0].restartPolicyRules")}},
		{"probes forbidden on plain init container", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			ic := &t.Spec.InitContainers[0]
			ic.LivenessProbe = web(t).LivenessProbe
			ic.ReadinessProbe = web(t).ReadinessProbe
			ic.StartupProbe = web(t).StartupProbe
			ic.Lifecycle = web(t).Lifecycle
		}, []expectedError{
			forbidden(sp + "initContainers[0].livenessProbe"),
			forbidden(sp + "initContainers[0].readinessProbe"),
			forbidden(sp + "initContainers[0].startupProbe"),
			forbidden(sp + "initContainers[0].lifecycle"),
		}},
		{"sidecar probes are validated", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.InitContainers[1].ReadinessProbe.PeriodSeconds = -1
		}, []expectedError{invalid(sp + "initContainers[1].readinessProbe.periodSeconds")}},
		{"resizePolicy", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).ResizePolicy = []corev1.ContainerResizePolicy{
				{ResourceName: corev1.ResourceCPU, RestartPolicy: corev1.NotRequired},
				{ResourceName: corev1.ResourceCPU, RestartPolicy: "Later"},
				{ResourceName: "gpu", RestartPolicy: corev1.RestartContainer},
			}
		}, []expectedError{
			duplicate(sp + "containers[0].resizePolicy[1].resourceName"),
			notSupported(sp + "containers[0].resizePolicy[1].restartPolicy"),
			notSupported(sp + "containers[0].resizePolicy[2].resourceName"),
		}},
	})
}

func TestPorts(t *testing.T) {
	runTemplateCases(t, []templateCase{
		{"containerPort required", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { web(t).Ports[0].ContainerPort = 0 },
			[]expectedError{required(sp + "containers[0].ports[0].containerPort")}},
		{"containerPort out of range", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { web(t).Ports[0].ContainerPort = 70000 },
			[]expectedError{invalid(sp + "containers[0].ports[0].containerPort")}},
		{"negative containerPort", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { web(t).Ports[0].ContainerPort = -80 },
			[]expectedError{invalid(sp + "containers[0].ports[0].containerPort")}},
		{"hostPort out of range", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { web(t).Ports[0].HostPort = -1 },
			[]expectedError{invalid(sp + "containers[0].ports[0].hostPort")}},
		{"bad protocol", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { web(t).Ports[0].Protocol = "HTTP" },
			[]expectedError{notSupported(sp + "containers[0].ports[0].protocol")}},
		{"udp and sctp accepted", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).Ports = append(web(t).Ports,
				corev1.ContainerPort{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
				corev1.ContainerPort{Name: "sig", ContainerPort: 2905, Protocol: corev1.ProtocolSCTP, HostPort: 2905, HostIP: "10.0.0.1"})
		}, nil},
		{"port name too long", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { web(t).Ports[0].Name = "http-server-main" },
			[]expectedError{invalid(sp + "containers[0].ports[0].name")}},
		{"port name with underscore", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { web(t).Ports[0].Name = "http_svc" },
			[]expectedError{invalid(sp + "containers[0].ports[0].name")}},
		{"port name duplicate", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).Ports = append(web(t).Ports, corev1.ContainerPort{Name: "http", ContainerPort: 8080})
		}, []expectedError{duplicate(sp + "containers[0].ports[1].name")}},
		{"same port name in two containers is fine", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			exporter(t).Ports[0].Name = "http"
		}, nil},
		{"host port conflict across containers", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).Ports[0].HostPort = 8080
			exporter(t).Ports[0].HostPort = 8080
			exporter(t).Ports[0].Protocol = corev1.ProtocolTCP
		}, []expectedError{duplicate(sp + "containers[1].ports[0].hostPort")}},
		{"bad hostIP", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { web(t).Ports[0].HostIP = "not-an-ip" },
			[]expectedError{invalid(sp + "containers[0].ports[0].hostIP")}},
		{"hostNetwork hostPort must match", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.HostNetwork = true
			web(t).Ports[0].HostPort = 8080
			exporter(t).Ports[0].HostPort = 9113
		}, []expectedError{invalid(sp + "containers[0].ports[0].hostPort")}},
	})
}

func TestEnv(t *testing.T) {
	runTemplateCases(t, []templateCase{
		{"missing env name", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { web(t).Env[0].Name = "" },
			[]expectedError{required(sp + "containers[0].env[0].name")}},
		{"env name with =", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { web(t).Env[0].Name = "A=B" },
			[]expectedError{invalid(sp + "containers[0].env[0].name")}},
		{"relaxed env names accepted", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).Env[0].Name = "my.setting-1"
		}, nil},
		{"value and valueFrom", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { web(t).Env[1].Value = "x" },
			[]expectedError{invalid(sp + "containers[0].env[1].valueFrom")}},
		{"empty valueFrom", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).Env[1].ValueFrom = &corev1.EnvVarSource{}
		},
			[]expectedError{invalid(sp + "containers[0].env[1].valueFrom")}},
		{"two sources", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).Env[1].ValueFrom.ConfigMapKeyRef = &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}, Key: "k"}
		}, []expectedError{invalid(sp + "containers[0].env[1].valueFrom")}},
		{"secretKeyRef without key and name", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).Env[2].ValueFrom.SecretKeyRef = &corev1.SecretKeySelector{}
		}, []expectedError{required(sp + "containers[0].env[2].valueFrom.secretKeyRef.name"), required(sp + "containers[0].env[2].valueFrom.secretKeyRef.key")}},
		{"configMapKeyRef bad key", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).Env[2].ValueFrom = &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}, Key: "a/b"}}
		}, []expectedError{invalid(sp + "containers[0].env[2].valueFrom.configMapKeyRef.key")}},
		{"unsupported fieldRef", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).Env[1].ValueFrom.FieldRef.FieldPath = "spec.hostname"
		}, []expectedError{notSupported(sp + "containers[0].env[1].valueFrom.fieldRef.fieldPath")}},
		{"fieldRef without path", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).Env[1].ValueFrom.FieldRef.FieldPath = ""
		}, []expectedError{required(sp + "containers[0].env[1].valueFrom.fieldRef.fieldPath")}},
		{"fieldRef bad apiVersion", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).Env[1].ValueFrom.FieldRef.APIVersion = "v2"
		}, []expectedError{notSupported(sp + "containers[0].env[1].valueFrom.fieldRef.apiVersion")}},
		{"fieldRef bad subscript", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).Env[4].ValueFrom.FieldRef.FieldPath = "metadata.name['x']"
		}, []expectedError{invalid(sp + "containers[0].env[4].valueFrom.fieldRef.fieldPath")}},
		{"unsupported resourceFieldRef", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).Env[3].ValueFrom.ResourceFieldRef.Resource = "limits.gpu"
		}, []expectedError{notSupported(sp + "containers[0].env[3].valueFrom.resourceFieldRef.resource")}},
		{"bad divisor", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).Env[3].ValueFrom.ResourceFieldRef.Divisor = q("1Ki")
		}, []expectedError{invalid(sp + "containers[0].env[3].valueFrom.resourceFieldRef.divisor")}},
		{"fileKeyRef on unknown volume", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).Env[0] = corev1.EnvVar{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{FileKeyRef: &corev1.FileKeySelector{VolumeName: "nope", Path: "env", Key: "TOKEN"}}}
		}, []expectedError{notFound(sp + "containers[0].env[0].valueFrom.fileKeyRef.volumeName")}},
		{"envFrom without source", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { web(t).EnvFrom[0].ConfigMapRef = nil },
			[]expectedError{invalid(sp + "containers[0].envFrom[0]")}},
		{"envFrom with two sources", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).EnvFrom[0].SecretRef = &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}}
		}, []expectedError{invalid(sp + "containers[0].envFrom[0]")}},
		{"envFrom without name", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { web(t).EnvFrom[0].ConfigMapRef.Name = "" },
			[]expectedError{required(sp + "containers[0].envFrom[0].configMapRef.name")}},
		{"envFrom bad prefix", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { web(t).EnvFrom[0].Prefix = "A=" },
			[]expectedError{invalid(sp + "containers[0].envFrom[0].prefix")}},
	})
}

func TestResources(t *testing.T) {
	runTemplateCases(t, []templateCase{
		{"negative request", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).Resources.Requests[corev1.ResourceCPU] = q("-1")
		}, []expectedError{invalid(sp + "containers[0].resources.requests[cpu]")}},
		{"request above limit", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).Resources.Requests[corev1.ResourceMemory] = q("1Gi")
		}, []expectedError{invalid(sp + "containers[0].resources.requests[memory]")}},
		{"request without limit is fine", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).Resources.Requests[corev1.ResourceEphemeralStorage] = q("1Gi")
		}, nil},
		{"unknown unprefixed resource", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).Resources.Limits["gpu"] = q("1")
		}, []expectedError{invalid(sp + "containers[0].resources.limits[gpu]")}},
		{"invalid resource name", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).Resources.Limits["example.com/bad name"] = q("1")
		}, []expectedError{invalid(sp + "containers[0].resources.limits[example.com/bad name]")}},
		{"extended resource", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).Resources.Limits["nvidia.com/gpu"] = q("1")
			web(t).Resources.Requests["nvidia.com/gpu"] = q("1")
		}, nil},
		{"fractional extended resource", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).Resources.Limits["nvidia.com/gpu"] = q("500m")
		}, []expectedError{invalid(sp + "containers[0].resources.limits[nvidia.com/gpu]")}},
		{"extended resource request needs equal limit", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).Resources.Requests["nvidia.com/gpu"] = q("1")
			exporter(t).Resources.Limits["nvidia.com/gpu"] = q("2")
			exporter(t).Resources.Requests = corev1.ResourceList{"nvidia.com/gpu": q("1")}
		}, []expectedError{required(sp + "containers[0].resources.limits[nvidia.com/gpu]"), invalid(sp + "containers[1].resources.requests[nvidia.com/gpu]")}},
		{"hugepages require cpu or memory", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			exporter(t).Resources = corev1.ResourceRequirements{Limits: corev1.ResourceList{"hugepages-2Mi": q("4Mi")}}
		}, []expectedError{forbidden(sp + "containers[1].resources")}},
		{"claim not in resourceClaims", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).Resources.Claims = []corev1.ResourceClaim{{Name: "gpu"}}
		}, []expectedError{notFound(sp + "containers[0].resources.claims[0].name")}},
		{"claim in resourceClaims", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.ResourceClaims = []corev1.PodResourceClaim{{Name: "gpu", ResourceClaimTemplateName: ptr.To("gpu-template")}}
			web(t).Resources.Claims = []corev1.ResourceClaim{{Name: "gpu"}}
		}, nil},
		{"pod resource claim without source", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.ResourceClaims = []corev1.PodResourceClaim{{Name: "gpu"}}
		}, []expectedError{invalid(sp + "resourceClaims[0]")}},
		{"negative overhead", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.Overhead = corev1.ResourceList{corev1.ResourceCPU: q("-100m")}
		}, []expectedError{invalid(sp + "overhead[cpu]")}},
		{"pod-level resources", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.Resources = &corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: q("2"), corev1.ResourceEphemeralStorage: q("1Gi")},
				Limits:   corev1.ResourceList{corev1.ResourceCPU: q("1")},
			}
		}, []expectedError{
			notSupported(sp + "resources.requests[ephemeral-storage]"),
			invalid(sp + "resources.requests[cpu]"),
		}},
	})
}

func TestVolumeMountsAndDevices(t *testing.T) {
	runTemplateCases(t, []templateCase{
		{"mount of unknown volume", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { web(t).VolumeMounts[1].Name = "nope" },
			[]expectedError{notFound(sp + "containers[0].volumeMounts[1].name")}},
		{"mount without name", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { web(t).VolumeMounts[1].Name = "" },
			[]expectedError{required(sp + "containers[0].volumeMounts[1].name")}},
		{"claim template mount without ExtraVolumeNames", func(_ *corev1.PodTemplateSpec, o *PodValidationOptions) { o.ExtraVolumeNames = nil },
			[]expectedError{notFound(sp + "containers[0].volumeMounts[2].name")}},
		{"mountPath required", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { web(t).VolumeMounts[1].MountPath = "" },
			[]expectedError{required(sp + "containers[0].volumeMounts[1].mountPath")}},
		{"duplicate mountPath", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).VolumeMounts[1].MountPath = "/etc/nginx/conf.d"
		},
			[]expectedError{invalid(sp + "containers[0].volumeMounts[1].mountPath")}},
		{"same volume mounted twice at different paths", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).VolumeMounts = append(web(t).VolumeMounts, corev1.VolumeMount{Name: "cache", MountPath: "/tmp/cache"})
		}, nil},
		{"subPath with backsteps", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).VolumeMounts[2].SubPath = "web/../../etc"
		},
			[]expectedError{invalid(sp + "containers[0].volumeMounts[2].subPath")}},
		{"absolute subPath", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { web(t).VolumeMounts[2].SubPath = "/web" },
			[]expectedError{invalid(sp + "containers[0].volumeMounts[2].subPath")}},
		{"subPath and subPathExpr", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).VolumeMounts[2].SubPathExpr = "$(POD_NAME)"
		}, []expectedError{invalid(sp + "containers[0].volumeMounts[2].subPathExpr")}},
		{"bad mountPropagation", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).VolumeMounts[1].MountPropagation = ptr.To(corev1.MountPropagationMode("Shared"))
		}, []expectedError{notSupported(sp + "containers[0].volumeMounts[1].mountPropagation")}},
		{"bidirectional needs privileged", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).VolumeMounts[1].MountPropagation = ptr.To(corev1.MountPropagationBidirectional)
		}, []expectedError{forbidden(sp + "containers[0].volumeMounts[1].mountPropagation")}},
		{"recursiveReadOnly needs readOnly", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).VolumeMounts[1].RecursiveReadOnly = ptr.To(corev1.RecursiveReadOnlyEnabled)
		}, []expectedError{forbidden(sp + "containers[0].volumeMounts[1].recursiveReadOnly")}},
		{"device on claim template", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).VolumeMounts = web(t).VolumeMounts[:2]
			web(t).VolumeDevices = []corev1.VolumeDevice{{Name: "data", DevicePath: "/dev/xvda"}}
		}, nil},
		{"device on configMap volume", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			exporter(t).VolumeDevices = []corev1.VolumeDevice{{Name: "config", DevicePath: "/dev/xvda"}}
		}, []expectedError{invalid(sp + "containers[1].volumeDevices[0].name")}},
		{"device on unknown volume without path", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			exporter(t).VolumeDevices = []corev1.VolumeDevice{{Name: "nope"}}
		}, []expectedError{notFound(sp + "containers[1].volumeDevices[0].name"), required(sp + "containers[1].volumeDevices[0].devicePath")}},
		{"device also mounted", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).VolumeDevices = []corev1.VolumeDevice{{Name: "data", DevicePath: "/dev/xvda"}}
		}, []expectedError{invalid(sp + "containers[0].volumeMounts[2].name"), invalid(sp + "containers[0].volumeDevices[0].name")}},
	})
}

func TestProbesAndLifecycle(t *testing.T) {
	runTemplateCases(t, []templateCase{
		{"probe without handler", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).LivenessProbe.ProbeHandler = corev1.ProbeHandler{}
		}, []expectedError{required(sp + "containers[0].livenessProbe")}},
		{"probe with two handlers", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).ReadinessProbe.Exec = &corev1.ExecAction{Command: []string{"true"}}
		}, []expectedError{forbidden(sp + "containers[0].readinessProbe.tcpSocket")}},
		{"negative periodSeconds", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { web(t).LivenessProbe.PeriodSeconds = -1 },
			[]expectedError{invalid(sp + "containers[0].livenessProbe.periodSeconds")}},
		{"negative timeout and thresholds", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			p := exporter(t).ReadinessProbe
			p.TimeoutSeconds, p.FailureThreshold, p.InitialDelaySeconds = -1, -2, -3
		}, []expectedError{
			invalid(sp + "containers[1].readinessProbe.timeoutSeconds"),
			invalid(sp + "containers[1].readinessProbe.failureThreshold"),
			invalid(sp + "containers[1].readinessProbe.initialDelaySeconds"),
		}},
		{"liveness successThreshold must be 1", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).LivenessProbe.SuccessThreshold = 2
		}, []expectedError{invalid(sp + "containers[0].livenessProbe.successThreshold")}},
		{"startup successThreshold must be 1", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).StartupProbe.SuccessThreshold = 3
		}, []expectedError{invalid(sp + "containers[0].startupProbe.successThreshold")}},
		{"readiness terminationGracePeriodSeconds", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).ReadinessProbe.TerminationGracePeriodSeconds = ptr.To[int64](10)
			web(t).LivenessProbe.TerminationGracePeriodSeconds = ptr.To[int64](0)
		}, []expectedError{
			invalid(sp + "containers[0].readinessProbe.terminationGracePeriodSeconds"),
			invalid(sp + "containers[0].livenessProbe.terminationGracePeriodSeconds"),
		}},
		{"httpGet port zero", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).StartupProbe.HTTPGet.Port = intstr.IntOrString{}
		}, []expectedError{invalid(sp + "containers[0].startupProbe.httpGet.port")}},
		{"httpGet named port too long", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).LivenessProbe.HTTPGet.Port = intstr.FromString("a-very-long-port-name")
		}, []expectedError{invalid(sp + "containers[0].livenessProbe.httpGet.port")}},
		{"httpGet bad scheme and header", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).LivenessProbe.HTTPGet.Scheme = "FTP"
			web(t).LivenessProbe.HTTPGet.HTTPHeaders = []corev1.HTTPHeader{{Name: "X-Ok", Value: "1"}, {Name: "bad header", Value: "1"}}
		}, []expectedError{
			notSupported(sp + "containers[0].livenessProbe.httpGet.scheme"),
			invalid(sp + "containers[0].livenessProbe.httpGet.httpHeaders[1].name"),
		}},
		{"tcpSocket port out of range", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).ReadinessProbe.TCPSocket.Port = intstr.FromInt32(65536)
		}, []expectedError{invalid(sp + "containers[0].readinessProbe.tcpSocket.port")}},
		{"grpc port out of range", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			exporter(t).ReadinessProbe.GRPC.Port = 0
		}, []expectedError{invalid(sp + "containers[1].readinessProbe.grpc.port")}},
		{"exec without command", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.InitContainers[1].ReadinessProbe.Exec.Command = nil
		}, []expectedError{required(sp + "initContainers[1].readinessProbe.exec.command")}},
		{"lifecycle hook without handler", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).Lifecycle.PreStop = &corev1.LifecycleHandler{}
		}, []expectedError{required(sp + "containers[0].lifecycle.preStop")}},
		{"lifecycle hook with two handlers", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).Lifecycle.PostStart.TCPSocket = &corev1.TCPSocketAction{Port: intstr.FromInt32(80)}
		}, []expectedError{forbidden(sp + "containers[0].lifecycle.postStart.tcpSocket")}},
		{"sleep longer than grace period", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).Lifecycle.PreStop.Sleep.Seconds = 31
		}, []expectedError{invalid(sp + "containers[0].lifecycle.preStop.sleep.seconds")}},
		{"sleep within default grace period", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.TerminationGracePeriodSeconds = nil
			web(t).Lifecycle.PreStop.Sleep.Seconds = 30
		}, nil},
		{"undefaulted probe fields accepted", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(80)}}}
			web(t).StartupProbe.SuccessThreshold = 0
		}, nil},
	})
}

func TestContainerSecurity(t *testing.T) {
	runTemplateCases(t, []templateCase{
		{"negative runAsUser", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).SecurityContext.RunAsUser = ptr.To[int64](-1)
		},
			[]expectedError{invalid(sp + "containers[0].securityContext.runAsUser")}},
		{"negative runAsGroup", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).SecurityContext.RunAsGroup = ptr.To[int64](-1)
		},
			[]expectedError{invalid(sp + "containers[0].securityContext.runAsGroup")}},
		{"empty capability", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).SecurityContext.Capabilities.Add = append(web(t).SecurityContext.Capabilities.Add, "")
		}, []expectedError{required(sp + "containers[0].securityContext.capabilities.add[1]")}},
		{"no privilege escalation but privileged", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).SecurityContext.Privileged = ptr.To(true)
		}, []expectedError{invalid(sp + "containers[0].securityContext")}},
		{"no privilege escalation but SYS_ADMIN", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).SecurityContext.Capabilities.Add = []corev1.Capability{"CAP_SYS_ADMIN"}
		}, []expectedError{invalid(sp + "containers[0].securityContext")}},
		{"seccomp localhost without profile", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).SecurityContext.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost}
		}, []expectedError{required(sp + "containers[0].securityContext.seccompProfile.localhostProfile")}},
		{"seccomp bad type", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).SecurityContext.SeccompProfile = &corev1.SeccompProfile{Type: "Strict"}
		}, []expectedError{notSupported(sp + "containers[0].securityContext.seccompProfile.type")}},
		{"unmasked procMount needs user namespace", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).SecurityContext.ProcMount = ptr.To(corev1.UnmaskedProcMount)
		}, []expectedError{invalid(sp + "containers[0].securityContext.procMount")}},
		{"unmasked procMount with hostUsers=false", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			web(t).SecurityContext.ProcMount = ptr.To(corev1.UnmaskedProcMount)
			t.Spec.HostUsers = ptr.To(false)
		}, nil},
		{"pod negative runAsUser and fsGroup", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.SecurityContext.RunAsUser = ptr.To[int64](-5)
			t.Spec.SecurityContext.FSGroup = ptr.To[int64](-5)
		}, []expectedError{invalid(sp + "securityContext.runAsUser"), invalid(sp + "securityContext.fsGroup")}},
		{"pod bad supplementalGroupsPolicy", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.SecurityContext.SupplementalGroupsPolicy = ptr.To(corev1.SupplementalGroupsPolicy("Union"))
		}, []expectedError{notSupported(sp + "securityContext.supplementalGroupsPolicy")}},
		{"pod bad sysctl", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.SecurityContext.Sysctls = append(t.Spec.SecurityContext.Sysctls, corev1.Sysctl{Name: "Kernel.Bad!"},
				corev1.Sysctl{Name: "net.ipv4.ip_local_port_range"})
		}, []expectedError{invalid(sp + "securityContext.sysctls[1].name"), duplicate(sp + "securityContext.sysctls[2].name")}},
		{"shareProcessNamespace with hostPID", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.ShareProcessNamespace = ptr.To(true)
			t.Spec.HostPID = true
		}, []expectedError{invalid(sp + "shareProcessNamespace")}},
		{"hostUsers false with hostNetwork", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.HostUsers = ptr.To(false)
			t.Spec.HostNetwork = true
		}, []expectedError{forbidden(sp + "hostNetwork")}},
	})
}

func TestVolumes(t *testing.T) {
	vol := func(t *corev1.PodTemplateSpec, name string) *corev1.Volume {
		for i := range t.Spec.Volumes {
			if t.Spec.Volumes[i].Name == name {
				return &t.Spec.Volumes[i]
			}
		}
		panic(name)
	}
	add := func(t *corev1.PodTemplateSpec, vs corev1.VolumeSource) {
		t.Spec.Volumes = append(t.Spec.Volumes, corev1.Volume{Name: "extra", VolumeSource: vs})
	}
	const extra = sp + "volumes[5]."
	runTemplateCases(t, []templateCase{
		{"missing volume name", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.Volumes = append(t.Spec.Volumes, corev1.Volume{VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
		}, []expectedError{required(sp + "volumes[5].name")}},
		{"invalid volume name", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			vol(t, "work").Name = "Work_Dir"
			t.Spec.InitContainers[0].VolumeMounts[1].Name = "Work_Dir"
		}, []expectedError{invalid(sp + "volumes[2].name")}},
		{"duplicate volume name", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { vol(t, "work").Name = "cache" },
			[]expectedError{duplicate(sp + "volumes[2].name"), notFound(sp + "initContainers[0].volumeMounts[1].name")}},
		{"no volume source", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { add(t, corev1.VolumeSource{}) },
			[]expectedError{required(sp + "volumes[5]")}},
		{"two volume sources", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			vol(t, "config").EmptyDir = &corev1.EmptyDirVolumeSource{}
		}, []expectedError{forbidden(sp + "volumes[0].configMap")}},
		{"pvc without claimName", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			add(t, corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{}})
		}, []expectedError{required(extra + "persistentVolumeClaim.claimName")}},
		{"pvc volume", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			add(t, corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "shared", ReadOnly: true}})
		}, nil},
		{"configMap without name", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { vol(t, "config").ConfigMap.Name = "" },
			[]expectedError{required(sp + "volumes[0].configMap.name")}},
		{"configMap item path escapes", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			vol(t, "config").ConfigMap.Items[0].Path = "../default.conf"
		}, []expectedError{invalid(sp + "volumes[0].configMap.items[0].path")}},
		{"configMap item without key", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			vol(t, "config").ConfigMap.Items[0].Key = ""
		}, []expectedError{required(sp + "volumes[0].configMap.items[0].key")}},
		{"bad defaultMode", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			vol(t, "config").ConfigMap.DefaultMode = ptr.To[int32](0o1000)
		}, []expectedError{invalid(sp + "volumes[0].configMap.defaultMode")}},
		{"secret without secretName", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			add(t, corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{}})
		}, []expectedError{required(extra + "secret.secretName")}},
		{"hostPath without path", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			add(t, corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{}})
		}, []expectedError{required(extra + "hostPath.path")}},
		{"hostPath bad type", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			add(t, corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/log", Type: ptr.To(corev1.HostPathType("Pipe"))}})
		}, []expectedError{notSupported(extra + "hostPath.type")}},
		{"negative emptyDir sizeLimit", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			vol(t, "cache").EmptyDir.SizeLimit = ptr.To(q("-1Gi"))
		}, []expectedError{forbidden(sp + "volumes[1].emptyDir.sizeLimit")}},
		{"nfs relative path", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			add(t, corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "nfs.local", Path: "exports"}})
		}, []expectedError{invalid(extra + "nfs.path")}},
		{"downwardAPI item without source", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			add(t, corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{{Path: "x"}}}})
		}, []expectedError{required(extra + "downwardAPI.items[0]")}},
		{"downwardAPI resourceFieldRef needs container", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			add(t, corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
				{Path: "cpu", ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.cpu"}}}}})
		}, []expectedError{required(extra + "downwardAPI.items[0].resourceFieldRef.containerName")}},
		{"projected token too short", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			vol(t, "token").Projected.Sources[0].ServiceAccountToken.ExpirationSeconds = ptr.To[int64](60)
		}, []expectedError{invalid(sp + "volumes[4].projected.sources[0].serviceAccountToken.expirationSeconds")}},
		{"projected duplicate path", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			vol(t, "token").Projected.Sources[1].DownwardAPI.Items[0].Path = "token"
		}, []expectedError{invalid(sp + "volumes[4].projected.sources[1].downwardAPI.items[0].path")}},
		{"projected source with two kinds", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			vol(t, "token").Projected.Sources[1].ConfigMap = &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}
		}, []expectedError{forbidden(sp + "volumes[4].projected.sources[1].downwardAPI")}},
		{"csi without driver", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			add(t, corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{}})
		}, []expectedError{required(extra + "csi.driver")}},
		{"ephemeral without template", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			add(t, corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}})
		}, []expectedError{required(extra + "ephemeral.volumeClaimTemplate")}},
		{"ephemeral claim without storage", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			add(t, corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{
				Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}}}}})
		}, []expectedError{required(extra + "ephemeral.volumeClaimTemplate.spec.resources.requests[storage]")}},
		{"image volume", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			add(t, corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "registry.example.com/models:v1", PullPolicy: "Daily"}})
			exporter(t).VolumeMounts = []corev1.VolumeMount{{Name: "extra", MountPath: "/models", SubPath: "x"}}
		}, []expectedError{notSupported(extra + "image.pullPolicy"), invalid(sp + "containers[1].volumeMounts[0].subPath")}},
	})
}

func TestPodSpecFields(t *testing.T) {
	runTemplateCases(t, []templateCase{
		{"bad restartPolicy", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { t.Spec.RestartPolicy = "Sometimes" },
			[]expectedError{notSupported(sp + "restartPolicy")}},
		{"restartPolicy must be Always", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.RestartPolicy = corev1.RestartPolicyNever
		},
			[]expectedError{notSupported(sp + "restartPolicy")}},
		{"restartPolicy Never without requirement", func(t *corev1.PodTemplateSpec, o *PodValidationOptions) {
			t.Spec.RestartPolicy = corev1.RestartPolicyNever
			o.RequiredRestartPolicy = ""
		}, nil},
		{"allowed restart policies", func(t *corev1.PodTemplateSpec, o *PodValidationOptions) {
			t.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
			o.RequiredRestartPolicy = ""
			o.AllowedRestartPolicies = []corev1.RestartPolicy{corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}
		}, nil},
		{"empty restartPolicy counts as Always", func(_ *corev1.PodTemplateSpec, o *PodValidationOptions) {
			o.RequiredRestartPolicy = ""
			o.AllowedRestartPolicies = []corev1.RestartPolicy{corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}
		}, []expectedError{notSupported(sp + "restartPolicy")}},
		{"bad dnsPolicy", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { t.Spec.DNSPolicy = "Google" },
			[]expectedError{notSupported(sp + "dnsPolicy")}},
		{"dnsPolicy None needs dnsConfig", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { t.Spec.DNSPolicy = corev1.DNSNone },
			[]expectedError{required(sp + "dnsConfig")}},
		{"dnsConfig", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.DNSPolicy = corev1.DNSNone
			t.Spec.DNSConfig = &corev1.PodDNSConfig{
				Nameservers: []string{"10.0.0.10", "bogus"},
				Searches:    []string{"svc.cluster.local.", "bad_domain!"},
				Options:     []corev1.PodDNSConfigOption{{Name: "ndots", Value: ptr.To("2")}, {}},
			}
		}, []expectedError{invalid(sp + "dnsConfig.nameservers[1]"), invalid(sp + "dnsConfig.searches[1]"), required(sp + "dnsConfig.options[1].name")}},
		{"negative terminationGracePeriodSeconds", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.TerminationGracePeriodSeconds = ptr.To[int64](-1)
		}, []expectedError{invalid(sp + "terminationGracePeriodSeconds")}},
		{"activeDeadlineSeconds forbidden", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.ActiveDeadlineSeconds = ptr.To[int64](600)
		}, []expectedError{forbidden(sp + "activeDeadlineSeconds")}},
		{"activeDeadlineSeconds allowed", func(t *corev1.PodTemplateSpec, o *PodValidationOptions) {
			t.Spec.ActiveDeadlineSeconds = ptr.To[int64](600)
			o.ForbidActiveDeadlineSeconds = false
		}, nil},
		{"activeDeadlineSeconds zero", func(t *corev1.PodTemplateSpec, o *PodValidationOptions) {
			t.Spec.ActiveDeadlineSeconds = ptr.To[int64](0)
			o.ForbidActiveDeadlineSeconds = false
		}, []expectedError{invalid(sp + "activeDeadlineSeconds")}},
		{"bad nodeSelector", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { t.Spec.NodeSelector["disk type"] = "ssd" },
			[]expectedError{invalid(sp + "nodeSelector")}},
		{"bad hostname and subdomain", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.Hostname = "Web.1"
			t.Spec.Subdomain = "web_headless"
		}, []expectedError{invalid(sp + "hostname"), invalid(sp + "subdomain")}},
		{"bad serviceAccountName", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { t.Spec.ServiceAccountName = "Web_SA" },
			[]expectedError{invalid(sp + "serviceAccountName")}},
		{"bad priorityClassName", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { t.Spec.PriorityClassName = "High Priority" },
			[]expectedError{invalid(sp + "priorityClassName")}},
		{"bad runtimeClassName", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { t.Spec.RuntimeClassName = ptr.To("gVisor!") },
			[]expectedError{invalid(sp + "runtimeClassName")}},
		{"bad preemptionPolicy", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.PreemptionPolicy = ptr.To(corev1.PreemptionPolicy("Always"))
		}, []expectedError{notSupported(sp + "preemptionPolicy")}},
		{"empty imagePullSecret", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.ImagePullSecrets = append(t.Spec.ImagePullSecrets, corev1.LocalObjectReference{})
		}, []expectedError{required(sp + "imagePullSecrets[1].name")}},
		{"bad readiness gate", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.ReadinessGates = append(t.Spec.ReadinessGates, corev1.PodReadinessGate{ConditionType: "not a condition"})
		}, []expectedError{invalid(sp + "readinessGates[1].conditionType")}},
		{"scheduling gates", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "example.com/quota"}, {Name: "example.com/quota"}, {Name: "bad gate"}}
		}, []expectedError{duplicate(sp + "schedulingGates[1].name"), invalid(sp + "schedulingGates[2].name")}},
		{"bad hostAliases", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.HostAliases = []corev1.HostAlias{{IP: "10.0.0.1", Hostnames: []string{"db.local", "Bad_Host"}}, {IP: "nope"}}
		}, []expectedError{invalid(sp + "hostAliases[0].hostnames[1]"), invalid(sp + "hostAliases[1].ip")}},
		{"bad os", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { t.Spec.OS = &corev1.PodOS{Name: "plan9"} },
			[]expectedError{notSupported(sp + "os.name")}},
	})
}

func TestTolerations(t *testing.T) {
	runTemplateCases(t, []templateCase{
		{"bad operator", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { t.Spec.Tolerations[0].Operator = "In" },
			[]expectedError{notSupported(sp + "tolerations[0].operator")}},
		{"empty key needs Exists", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { t.Spec.Tolerations[0].Key = "" },
			[]expectedError{invalid(sp + "tolerations[0].operator")}},
		{"empty key with Exists tolerates everything", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.Tolerations = append(t.Spec.Tolerations, corev1.Toleration{Operator: corev1.TolerationOpExists})
		}, nil},
		{"tolerationSeconds needs NoExecute", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.Tolerations[0].TolerationSeconds = ptr.To[int64](60)
		}, []expectedError{invalid(sp + "tolerations[0].effect")}},
		{"bad effect", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { t.Spec.Tolerations[0].Effect = "NoAdmit" },
			[]expectedError{notSupported(sp + "tolerations[0].effect")}},
		{"Exists with value", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { t.Spec.Tolerations[1].Value = "x" },
			[]expectedError{invalid(sp + "tolerations[1].value")}},
		{"bad value", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { t.Spec.Tolerations[0].Value = "not valid!" },
			[]expectedError{invalid(sp + "tolerations[0].value")}},
		{"bad key", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { t.Spec.Tolerations[0].Key = "dedicated node" },
			[]expectedError{invalid(sp + "tolerations[0].key")}},
	})
}

func TestAffinity(t *testing.T) {
	const na = sp + "affinity.nodeAffinity."
	const req = na + "requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]."
	nodeReq := func(t *corev1.PodTemplateSpec) *corev1.NodeSelectorRequirement {
		return &t.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0]
	}
	runTemplateCases(t, []templateCase{
		{"In without values", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { nodeReq(t).Values = nil },
			[]expectedError{required(req + "matchExpressions[0].values")}},
		{"Exists with values", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			nodeReq(t).Operator = corev1.NodeSelectorOpExists
		},
			[]expectedError{forbidden(req + "matchExpressions[0].values")}},
		{"DoesNotExist without values", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			nodeReq(t).Operator = corev1.NodeSelectorOpDoesNotExist
			nodeReq(t).Values = nil
		}, nil},
		{"Gt with two values", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			nodeReq(t).Operator = corev1.NodeSelectorOpGt
			nodeReq(t).Values = []string{"1", "2"}
		}, []expectedError{required(req + "matchExpressions[0].values")}},
		{"Lt with non-integer", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			nodeReq(t).Operator = corev1.NodeSelectorOpLt
			nodeReq(t).Values = []string{"zone-a"}
		}, []expectedError{invalid(req + "matchExpressions[0].values[0]")}},
		{"bad operator", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { nodeReq(t).Operator = "Matches" },
			[]expectedError{invalid(req + "matchExpressions[0].operator")}},
		{"bad key", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { nodeReq(t).Key = "zone name" },
			[]expectedError{invalid(req + "matchExpressions[0].key")}},
		{"bad required value", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) { nodeReq(t).Values[1] = "zone b" },
			[]expectedError{invalid(req + "matchExpressions[0].values[1]")}},
		{"no node selector terms", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms = nil
		}, []expectedError{required(na + "requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms")}},
		{"matchFields", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchFields = []corev1.NodeSelectorRequirement{
				{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"node-1"}},
				{Key: "metadata.uid", Operator: corev1.NodeSelectorOpExists},
			}
		}, []expectedError{invalid(req + "matchFields[1].key"), invalid(req + "matchFields[1].operator")}},
		{"preferred weight out of range", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].Weight = 0
		}, []expectedError{invalid(na + "preferredDuringSchedulingIgnoredDuringExecution[0].weight")}},
		{"pod anti-affinity without topologyKey", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm.TopologyKey = ""
		}, []expectedError{required(sp + "affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey")}},
		{"pod affinity bad selector and namespace", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.Affinity.PodAffinity = &corev1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
				LabelSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpIn}}},
				Namespaces:    []string{"default", "Bad_NS"},
				TopologyKey:   "kubernetes.io/hostname",
			}}}
		}, []expectedError{
			required(sp + "affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchExpressions[0].values"),
			invalid(sp + "affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].namespaces[1]"),
		}},
	})
}

func TestTopologySpreadConstraints(t *testing.T) {
	const tsc = sp + "topologySpreadConstraints[0]."
	runTemplateCases(t, []templateCase{
		{"maxSkew zero", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.TopologySpreadConstraints[0].MaxSkew = 0
		},
			[]expectedError{invalid(tsc + "maxSkew")}},
		{"topologyKey required", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.TopologySpreadConstraints[0].TopologyKey = ""
		},
			[]expectedError{required(tsc + "topologyKey")}},
		{"bad whenUnsatisfiable", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.TopologySpreadConstraints[0].WhenUnsatisfiable = "Ignore"
		}, []expectedError{notSupported(tsc + "whenUnsatisfiable"), invalid(tsc + "minDomains")}},
		{"minDomains with ScheduleAnyway", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.TopologySpreadConstraints[0].WhenUnsatisfiable = corev1.ScheduleAnyway
		}, []expectedError{invalid(tsc + "minDomains")}},
		{"bad labelSelector", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.TopologySpreadConstraints[0].LabelSelector.MatchLabels["bad key"] = "x"
		}, []expectedError{invalid(tsc + "labelSelector.matchLabels")}},
		{"bad nodeAffinityPolicy", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			t.Spec.TopologySpreadConstraints[0].NodeAffinityPolicy = ptr.To(corev1.NodeInclusionPolicy("Maybe"))
		}, []expectedError{notSupported(tsc + "nodeAffinityPolicy")}},
		{"duplicate constraint", func(t *corev1.PodTemplateSpec, _ *PodValidationOptions) {
			c := t.Spec.TopologySpreadConstraints[0]
			t.Spec.TopologySpreadConstraints = append(t.Spec.TopologySpreadConstraints, c)
		}, []expectedError{duplicate(sp + "topologySpreadConstraints[1].{topologyKey, whenUnsatisfiable}")}},
	})
}
