package validation

import (
	"fmt"
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const (
	isNegativeErrorMsg    = apimachineryvalidation.IsNegativeErrorMsg
	isNotPositiveErrorMsg = "must be greater than zero"
	isNotIntegerErrorMsg  = "must be an integer"
	fileModeErrorMsg      = "must be a number between 0 and 0777 (octal), both inclusive"
	maxFileMode           = 0o777
)

// invalidEach turns the messages of a util/validation check into
// field.Invalid errors for value at fldPath.
func invalidEach(fldPath *field.Path, value interface{}, msgs []string) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range msgs {
		errs = append(errs, field.Invalid(fldPath, value, msg))
	}
	return errs
}

func validateDNS1123Label(value string, fldPath *field.Path) field.ErrorList {
	return invalidEach(fldPath, value, utilvalidation.IsDNS1123Label(value))
}

func validateDNS1123Subdomain(value string, fldPath *field.Path) field.ErrorList {
	return invalidEach(fldPath, value, utilvalidation.IsDNS1123Subdomain(value))
}

func validateQualifiedName(value string, fldPath *field.Path) field.ErrorList {
	return invalidEach(fldPath, value, utilvalidation.IsQualifiedName(value))
}

// validateObjectName requires a name and checks it with nameFn
// (e.g. apimachineryvalidation.NameIsDNSSubdomain).
func validateObjectName(name string, nameFn apimachineryvalidation.ValidateNameFunc, fldPath *field.Path) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	return invalidEach(fldPath, name, nameFn(name, false))
}

// validateNonnegativeQuantity rejects negative quantities.
func validateNonnegativeQuantity(q resource.Quantity, fldPath *field.Path) field.ErrorList {
	if q.Sign() < 0 {
		return field.ErrorList{field.Invalid(fldPath, q.String(), isNegativeErrorMsg)}
	}
	return nil
}

// validatePositiveQuantity rejects zero and negative quantities.
func validatePositiveQuantity(q resource.Quantity, fldPath *field.Path) field.ErrorList {
	if q.Sign() <= 0 {
		return field.ErrorList{field.Invalid(fldPath, q.String(), isNotPositiveErrorMsg)}
	}
	return nil
}

// validateFileMode checks an optional octal file mode (defaultMode, mode).
func validateFileMode(mode *int32, fldPath *field.Path) field.ErrorList {
	if mode != nil && (*mode < 0 || *mode > maxFileMode) {
		return field.ErrorList{field.Invalid(fldPath, *mode, fileModeErrorMsg)}
	}
	return nil
}

func validateOptionalUserID(uid *int64, fldPath *field.Path) field.ErrorList {
	if uid == nil {
		return nil
	}
	return invalidEach(fldPath, *uid, utilvalidation.IsValidUserID(*uid))
}

func validateOptionalGroupID(gid *int64, fldPath *field.Path) field.ErrorList {
	if gid == nil {
		return nil
	}
	return invalidEach(fldPath, *gid, utilvalidation.IsValidGroupID(*gid))
}

// validatePathNoBacksteps rejects paths with a ".." element, with either
// separator.
func validatePathNoBacksteps(targetPath string, fldPath *field.Path) field.ErrorList {
	parts := strings.FieldsFunc(targetPath, func(r rune) bool { return r == '/' || r == '\\' })
	for _, item := range parts {
		if item == ".." {
			return field.ErrorList{field.Invalid(fldPath, targetPath, "must not contain '..'")}
		}
	}
	return nil
}

// validateLocalDescendingPath requires a relative path that does not climb
// out of its base directory (subPath, item paths, ...).
func validateLocalDescendingPath(targetPath string, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if path.IsAbs(targetPath) || strings.HasPrefix(targetPath, `\`) || isWindowsAbs(targetPath) {
		errs = append(errs, field.Invalid(fldPath, targetPath, "must be a relative path"))
	}
	errs = append(errs, validatePathNoBacksteps(targetPath, fldPath)...)
	return errs
}

// isWindowsAbs reports a drive-letter path such as C:\foo or c:/foo.
func isWindowsAbs(p string) bool {
	if len(p) < 3 || p[1] != ':' || (p[2] != '\\' && p[2] != '/') {
		return false
	}
	c := p[0]
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// validateLocalNonReservedPath is validateLocalDescendingPath for file names
// inside volumes, which additionally may not start with "..": the atomic
// writer of the kubelet reserves those names.
func validateLocalNonReservedPath(targetPath string, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateLocalDescendingPath(targetPath, fldPath)...)
	if strings.HasPrefix(targetPath, "..") && !strings.HasPrefix(targetPath, "../") {
		errs = append(errs, field.Invalid(fldPath, targetPath, "must not start with '..'"))
	}
	return errs
}

// stringsOf converts a list of string-typed enum values for
// field.NotSupported.
func stringsOf[T ~string](values ...T) []string {
	out := make([]string, 0, len(values))
	for _, v := range values {
		out = append(out, string(v))
	}
	return out
}

// validateEnum accepts the empty value when allowEmpty, and otherwise
// requires one of the supported values.
func validateEnum[T ~string](value T, allowEmpty bool, fldPath *field.Path, supported ...T) field.ErrorList {
	if value == "" {
		if allowEmpty {
			return nil
		}
		return field.ErrorList{field.Required(fldPath, "")}
	}
	for _, s := range supported {
		if value == s {
			return nil
		}
	}
	return field.ErrorList{field.NotSupported(fldPath, value, stringsOf(supported...))}
}

// kindOr returns the workload kind for messages.
func kindOr(opts PodValidationOptions, fallback string) string {
	if opts.WorkloadKind != "" {
		return opts.WorkloadKind
	}
	return fallback
}

// splitSubscriptedPath splits "metadata.labels['key']" into
// ("metadata.labels", "key", true).
func splitSubscriptedPath(fieldPath string) (string, string, bool) {
	if !strings.HasSuffix(fieldPath, "']") {
		return fieldPath, "", false
	}
	s := strings.TrimSuffix(fieldPath, "']")
	parts := strings.SplitN(s, "['", 2)
	if len(parts) < 2 || len(parts[0]) == 0 {
		return fieldPath, "", false
	}
	return parts[0], parts[1], true
}

func inclusiveRange(lo, hi int64) string {
	return fmt.Sprintf("must be between %d and %d, inclusive", lo, hi)
}
