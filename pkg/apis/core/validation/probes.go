package validation

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

type probeKind int

const (
	livenessProbe probeKind = iota
	readinessProbe
	startupProbe
)

// handler gathers the actions of a ProbeHandler or a LifecycleHandler; at
// most one may be set.
type handler struct {
	exec      *corev1.ExecAction
	httpGet   *corev1.HTTPGetAction
	tcpSocket *corev1.TCPSocketAction
	grpc      *corev1.GRPCAction
	sleep     *corev1.SleepAction
}

// validateProbe checks a liveness, readiness or startup probe. Thresholds and
// periods are only required to be non-negative: zero means "use the
// default", which Kubernetes fills in before its own validation.
func validateProbe(probe *corev1.Probe, kind probeKind, fldPath *field.Path, gracePeriod int64) field.ErrorList {
	if probe == nil {
		return nil
	}
	var allErrs field.ErrorList
	allErrs = append(allErrs, validateHandler(handler{
		exec:      probe.Exec,
		httpGet:   probe.HTTPGet,
		tcpSocket: probe.TCPSocket,
		grpc:      probe.GRPC,
	}, fldPath, gracePeriod)...)

	allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(probe.InitialDelaySeconds), fldPath.Child("initialDelaySeconds"))...)
	allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(probe.TimeoutSeconds), fldPath.Child("timeoutSeconds"))...)
	allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(probe.PeriodSeconds), fldPath.Child("periodSeconds"))...)
	allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(probe.SuccessThreshold), fldPath.Child("successThreshold"))...)
	allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(probe.FailureThreshold), fldPath.Child("failureThreshold"))...)

	if probe.TerminationGracePeriodSeconds != nil {
		p := fldPath.Child("terminationGracePeriodSeconds")
		switch {
		case kind == readinessProbe:
			allErrs = append(allErrs, field.Invalid(p, *probe.TerminationGracePeriodSeconds, "must not be set for readinessProbes"))
		case *probe.TerminationGracePeriodSeconds <= 0:
			allErrs = append(allErrs, field.Invalid(p, *probe.TerminationGracePeriodSeconds, "must be greater than 0"))
		}
	}
	// Liveness and startup probes succeed on the first success; 0 is the
	// undefaulted value (defaulted to 1).
	if kind != readinessProbe && probe.SuccessThreshold != 0 && probe.SuccessThreshold != 1 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("successThreshold"), probe.SuccessThreshold, "must be 1"))
	}
	return allErrs
}

// validateLifecycle checks postStart and preStop hooks.
func validateLifecycle(lc *corev1.Lifecycle, fldPath *field.Path, gracePeriod int64) field.ErrorList {
	var allErrs field.ErrorList
	for _, h := range []struct {
		name string
		h    *corev1.LifecycleHandler
	}{{"postStart", lc.PostStart}, {"preStop", lc.PreStop}} {
		if h.h == nil {
			continue
		}
		allErrs = append(allErrs, validateHandler(handler{
			exec:      h.h.Exec,
			httpGet:   h.h.HTTPGet,
			tcpSocket: h.h.TCPSocket,
			sleep:     h.h.Sleep,
		}, fldPath.Child(h.name), gracePeriod)...)
	}
	return allErrs
}

// validateHandler requires exactly one action and validates it.
func validateHandler(h handler, fldPath *field.Path, gracePeriod int64) field.ErrorList {
	var allErrs field.ErrorList
	n := 0
	add := func(set bool, name string, validate func(*field.Path) field.ErrorList) {
		if !set {
			return
		}
		p := fldPath.Child(name)
		if n > 0 {
			allErrs = append(allErrs, field.Forbidden(p, "may not specify more than 1 handler type"))
			return
		}
		n++
		allErrs = append(allErrs, validate(p)...)
	}
	add(h.exec != nil, "exec", func(p *field.Path) field.ErrorList {
		if len(h.exec.Command) == 0 {
			return field.ErrorList{field.Required(p.Child("command"), "")}
		}
		return nil
	})
	add(h.httpGet != nil, "httpGet", func(p *field.Path) field.ErrorList { return validateHTTPGetAction(h.httpGet, p) })
	add(h.tcpSocket != nil, "tcpSocket", func(p *field.Path) field.ErrorList {
		return validatePortNumOrName(h.tcpSocket.Port, p.Child("port"))
	})
	add(h.grpc != nil, "grpc", func(p *field.Path) field.ErrorList {
		return invalidEach(p.Child("port"), h.grpc.Port, utilvalidation.IsValidPortNum(int(h.grpc.Port)))
	})
	add(h.sleep != nil, "sleep", func(p *field.Path) field.ErrorList { return validateSleepAction(h.sleep, p, gracePeriod) })
	if n == 0 {
		allErrs = append(allErrs, field.Required(fldPath, "must specify a handler type"))
	}
	return allErrs
}

// validateHTTPGetAction: path and scheme may be empty (defaulted to "/" and
// HTTP); the port must be a valid number or name.
func validateHTTPGetAction(http *corev1.HTTPGetAction, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	allErrs = append(allErrs, validatePortNumOrName(http.Port, fldPath.Child("port"))...)
	allErrs = append(allErrs, validateEnum(http.Scheme, true, fldPath.Child("scheme"), corev1.URISchemeHTTP, corev1.URISchemeHTTPS)...)
	for i, header := range http.HTTPHeaders {
		allErrs = append(allErrs, invalidEach(fldPath.Child("httpHeaders").Index(i).Child("name"), header.Name, utilvalidation.IsHTTPHeaderName(header.Name))...)
	}
	return allErrs
}

// validatePortNumOrName accepts a port number 1-65535 or an IANA service
// name (at most 15 lowercase alphanumerics and '-', at least one letter).
func validatePortNumOrName(port intstr.IntOrString, fldPath *field.Path) field.ErrorList {
	switch port.Type {
	case intstr.Int:
		return invalidEach(fldPath, port.IntValue(), utilvalidation.IsValidPortNum(port.IntValue()))
	case intstr.String:
		if port.StrVal == "" {
			return field.ErrorList{field.Required(fldPath, "")}
		}
		return invalidEach(fldPath, port.StrVal, utilvalidation.IsValidPortName(port.StrVal))
	default:
		return field.ErrorList{field.Invalid(fldPath, port.String(), "must be a port number or name")}
	}
}

// validateSleepAction: a sleep hook may not outlast the grace period.
func validateSleepAction(sleep *corev1.SleepAction, fldPath *field.Path, gracePeriod int64) field.ErrorList {
	// A negative grace period is reported on its own field.
	if gracePeriod < 0 {
		return nil
	}
	if sleep.Seconds < 0 || sleep.Seconds > gracePeriod {
		return field.ErrorList{field.Invalid(fldPath.Child("seconds"), sleep.Seconds,
			fmt.Sprintf("must be non-negative and less than terminationGracePeriodSeconds (%d)", gracePeriod))}
	}
	return nil
}
