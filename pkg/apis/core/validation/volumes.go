package validation

import (
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const (
	minServiceAccountTokenExpirationSeconds = 10 * 60
	maxServiceAccountTokenExpirationSeconds = 1 << 32
)

// validateVolumes checks spec.volumes and returns the volumes by name.
func validateVolumes(volumes []corev1.Volume, fldPath *field.Path) (map[string]*corev1.VolumeSource, field.ErrorList) {
	var allErrs field.ErrorList
	byName := make(map[string]*corev1.VolumeSource, len(volumes))
	for i := range volumes {
		vol := &volumes[i]
		p := fldPath.Index(i)
		namePath := p.Child("name")
		switch {
		case vol.Name == "":
			allErrs = append(allErrs, field.Required(namePath, ""))
		default:
			allErrs = append(allErrs, validateDNS1123Label(vol.Name, namePath)...)
			if _, dup := byName[vol.Name]; dup {
				allErrs = append(allErrs, field.Duplicate(namePath, vol.Name))
			} else {
				byName[vol.Name] = &vol.VolumeSource
			}
		}
		// The source is inlined in the volume, so its fields hang off p.
		allErrs = append(allErrs, validateVolumeSource(&vol.VolumeSource, p)...)
	}
	return byName, allErrs
}

// volumeSourceKinds lists the JSON names of the sources set in vs, in field
// order.
func volumeSourceKinds(vs *corev1.VolumeSource) []string {
	all := []struct {
		name string
		set  bool
	}{
		{"hostPath", vs.HostPath != nil},
		{"emptyDir", vs.EmptyDir != nil},
		{"gcePersistentDisk", vs.GCEPersistentDisk != nil},
		{"awsElasticBlockStore", vs.AWSElasticBlockStore != nil},
		{"gitRepo", vs.GitRepo != nil},
		{"secret", vs.Secret != nil},
		{"nfs", vs.NFS != nil},
		{"iscsi", vs.ISCSI != nil},
		{"glusterfs", vs.Glusterfs != nil},
		{"persistentVolumeClaim", vs.PersistentVolumeClaim != nil},
		{"rbd", vs.RBD != nil},
		{"flexVolume", vs.FlexVolume != nil},
		{"cinder", vs.Cinder != nil},
		{"cephfs", vs.CephFS != nil},
		{"flocker", vs.Flocker != nil},
		{"downwardAPI", vs.DownwardAPI != nil},
		{"fc", vs.FC != nil},
		{"azureFile", vs.AzureFile != nil},
		{"configMap", vs.ConfigMap != nil},
		{"vsphereVolume", vs.VsphereVolume != nil},
		{"quobyte", vs.Quobyte != nil},
		{"azureDisk", vs.AzureDisk != nil},
		{"photonPersistentDisk", vs.PhotonPersistentDisk != nil},
		{"projected", vs.Projected != nil},
		{"portworxVolume", vs.PortworxVolume != nil},
		{"scaleIO", vs.ScaleIO != nil},
		{"storageos", vs.StorageOS != nil},
		{"csi", vs.CSI != nil},
		{"ephemeral", vs.Ephemeral != nil},
		{"image", vs.Image != nil},
	}
	var kinds []string
	for _, k := range all {
		if k.set {
			kinds = append(kinds, k.name)
		}
	}
	return kinds
}

// validateVolumeSource requires exactly one source and validates the common
// ones.
func validateVolumeSource(vs *corev1.VolumeSource, fldPath *field.Path) field.ErrorList {
	kinds := volumeSourceKinds(vs)
	if len(kinds) == 0 {
		return field.ErrorList{field.Required(fldPath, "must specify a volume type")}
	}
	var allErrs field.ErrorList
	for _, k := range kinds[1:] {
		allErrs = append(allErrs, field.Forbidden(fldPath.Child(k), "may not specify more than 1 volume type"))
	}
	if len(allErrs) > 0 {
		return allErrs
	}

	p := fldPath.Child(kinds[0])
	switch {
	case vs.HostPath != nil:
		allErrs = append(allErrs, validateHostPath(vs.HostPath, p)...)
	case vs.EmptyDir != nil:
		if vs.EmptyDir.SizeLimit != nil && vs.EmptyDir.SizeLimit.Sign() < 0 {
			allErrs = append(allErrs, field.Forbidden(p.Child("sizeLimit"), "SizeLimit field must be a valid resource quantity"))
		}
		allErrs = append(allErrs, validateFileMode(vs.EmptyDir.Mode, p.Child("mode"))...)
	case vs.GitRepo != nil:
		if vs.GitRepo.Repository == "" {
			allErrs = append(allErrs, field.Required(p.Child("repository"), ""))
		}
		if vs.GitRepo.Directory != "" {
			allErrs = append(allErrs, validateLocalDescendingPath(vs.GitRepo.Directory, p.Child("directory"))...)
		}
	case vs.Secret != nil:
		if vs.Secret.SecretName == "" {
			allErrs = append(allErrs, field.Required(p.Child("secretName"), ""))
		}
		allErrs = append(allErrs, validateFileMode(vs.Secret.DefaultMode, p.Child("defaultMode"))...)
		allErrs = append(allErrs, validateKeyToPaths(vs.Secret.Items, p.Child("items"))...)
	case vs.ConfigMap != nil:
		if vs.ConfigMap.Name == "" {
			allErrs = append(allErrs, field.Required(p.Child("name"), ""))
		}
		allErrs = append(allErrs, validateFileMode(vs.ConfigMap.DefaultMode, p.Child("defaultMode"))...)
		allErrs = append(allErrs, validateKeyToPaths(vs.ConfigMap.Items, p.Child("items"))...)
	case vs.NFS != nil:
		if vs.NFS.Server == "" {
			allErrs = append(allErrs, field.Required(p.Child("server"), ""))
		}
		if vs.NFS.Path == "" {
			allErrs = append(allErrs, field.Required(p.Child("path"), ""))
		} else if !path.IsAbs(vs.NFS.Path) {
			allErrs = append(allErrs, field.Invalid(p.Child("path"), vs.NFS.Path, "must be an absolute path"))
		}
	case vs.PersistentVolumeClaim != nil:
		if vs.PersistentVolumeClaim.ClaimName == "" {
			allErrs = append(allErrs, field.Required(p.Child("claimName"), ""))
		}
	case vs.DownwardAPI != nil:
		allErrs = append(allErrs, validateFileMode(vs.DownwardAPI.DefaultMode, p.Child("defaultMode"))...)
		for i := range vs.DownwardAPI.Items {
			allErrs = append(allErrs, validateDownwardAPIVolumeFile(&vs.DownwardAPI.Items[i], p.Child("items").Index(i))...)
		}
	case vs.Projected != nil:
		allErrs = append(allErrs, validateProjectedVolume(vs.Projected, p)...)
	case vs.CSI != nil:
		allErrs = append(allErrs, validateCSIVolume(vs.CSI, p)...)
	case vs.Ephemeral != nil:
		allErrs = append(allErrs, validateEphemeralVolume(vs.Ephemeral, p)...)
	case vs.Image != nil:
		// The reference may be empty in a template (set later by tooling),
		// as Kubernetes allows for non-pod objects.
		allErrs = append(allErrs, validateEnum(vs.Image.PullPolicy, true, p.Child("pullPolicy"),
			corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever)...)
	case vs.ISCSI != nil:
		if vs.ISCSI.TargetPortal == "" {
			allErrs = append(allErrs, field.Required(p.Child("targetPortal"), ""))
		}
		if vs.ISCSI.IQN == "" {
			allErrs = append(allErrs, field.Required(p.Child("iqn"), ""))
		}
	case vs.RBD != nil:
		if len(vs.RBD.CephMonitors) == 0 {
			allErrs = append(allErrs, field.Required(p.Child("monitors"), ""))
		}
		if vs.RBD.RBDImage == "" {
			allErrs = append(allErrs, field.Required(p.Child("image"), ""))
		}
	case vs.Glusterfs != nil:
		if vs.Glusterfs.EndpointsName == "" {
			allErrs = append(allErrs, field.Required(p.Child("endpoints"), ""))
		}
		if vs.Glusterfs.Path == "" {
			allErrs = append(allErrs, field.Required(p.Child("path"), ""))
		}
	case vs.CephFS != nil:
		if len(vs.CephFS.Monitors) == 0 {
			allErrs = append(allErrs, field.Required(p.Child("monitors"), ""))
		}
	case vs.FlexVolume != nil:
		if vs.FlexVolume.Driver == "" {
			allErrs = append(allErrs, field.Required(p.Child("driver"), ""))
		}
	case vs.GCEPersistentDisk != nil:
		if vs.GCEPersistentDisk.PDName == "" {
			allErrs = append(allErrs, field.Required(p.Child("pdName"), ""))
		}
	case vs.AWSElasticBlockStore != nil:
		if vs.AWSElasticBlockStore.VolumeID == "" {
			allErrs = append(allErrs, field.Required(p.Child("volumeID"), ""))
		}
	case vs.AzureDisk != nil:
		if vs.AzureDisk.DiskName == "" {
			allErrs = append(allErrs, field.Required(p.Child("diskName"), ""))
		}
		if vs.AzureDisk.DataDiskURI == "" {
			allErrs = append(allErrs, field.Required(p.Child("diskURI"), ""))
		}
	case vs.AzureFile != nil:
		if vs.AzureFile.SecretName == "" {
			allErrs = append(allErrs, field.Required(p.Child("secretName"), ""))
		}
		if vs.AzureFile.ShareName == "" {
			allErrs = append(allErrs, field.Required(p.Child("shareName"), ""))
		}
	case vs.Cinder != nil:
		if vs.Cinder.VolumeID == "" {
			allErrs = append(allErrs, field.Required(p.Child("volumeID"), ""))
		}
	}
	return allErrs
}

var hostPathTypes = []corev1.HostPathType{
	corev1.HostPathUnset, corev1.HostPathDirectoryOrCreate, corev1.HostPathDirectory, corev1.HostPathFileOrCreate,
	corev1.HostPathFile, corev1.HostPathSocket, corev1.HostPathCharDev, corev1.HostPathBlockDev,
}

func validateHostPath(hp *corev1.HostPathVolumeSource, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if hp.Path == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("path"), ""))
	} else {
		allErrs = append(allErrs, validatePathNoBacksteps(hp.Path, fldPath.Child("path"))...)
	}
	if hp.Type != nil && *hp.Type != corev1.HostPathUnset {
		allErrs = append(allErrs, validateEnum(*hp.Type, true, fldPath.Child("type"), hostPathTypes[1:]...)...)
	}
	return allErrs
}

// validateKeyToPaths checks the items of a secret or configMap volume or
// projection.
func validateKeyToPaths(items []corev1.KeyToPath, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i, kp := range items {
		p := fldPath.Index(i)
		if kp.Key == "" {
			allErrs = append(allErrs, field.Required(p.Child("key"), ""))
		}
		if kp.Path == "" {
			allErrs = append(allErrs, field.Required(p.Child("path"), ""))
		} else {
			allErrs = append(allErrs, validateLocalNonReservedPath(kp.Path, p.Child("path"))...)
		}
		allErrs = append(allErrs, validateFileMode(kp.Mode, p.Child("mode"))...)
		allErrs = append(allErrs, validateOptionalUserID(kp.User, p.Child("user"))...)
	}
	return allErrs
}

func validateDownwardAPIVolumeFile(f *corev1.DownwardAPIVolumeFile, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if f.Path == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("path"), ""))
	} else {
		allErrs = append(allErrs, validateLocalNonReservedPath(f.Path, fldPath.Child("path"))...)
	}
	switch {
	case f.FieldRef != nil && f.ResourceFieldRef != nil:
		allErrs = append(allErrs, field.Invalid(fldPath, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"))
	case f.FieldRef != nil:
		allErrs = append(allErrs, validateObjectFieldSelector(f.FieldRef, volumeFieldPaths, fldPath.Child("fieldRef"))...)
	case f.ResourceFieldRef != nil:
		allErrs = append(allErrs, validateResourceFieldSelector(f.ResourceFieldRef, true, fldPath.Child("resourceFieldRef"))...)
	default:
		allErrs = append(allErrs, field.Required(fldPath, "one of fieldRef and resourceFieldRef is required"))
	}
	allErrs = append(allErrs, validateFileMode(f.Mode, fldPath.Child("mode"))...)
	allErrs = append(allErrs, validateOptionalUserID(f.User, fldPath.Child("user"))...)
	return allErrs
}

// validateProjectedVolume requires exactly one kind per source and file paths
// that do not collide across sources.
func validateProjectedVolume(pv *corev1.ProjectedVolumeSource, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	allErrs = append(allErrs, validateFileMode(pv.DefaultMode, fldPath.Child("defaultMode"))...)
	allErrs = append(allErrs, validateOptionalUserID(pv.DefaultUser, fldPath.Child("defaultUser"))...)
	paths := sets.New[string]()
	addPath := func(p string, at *field.Path) {
		if p == "" {
			return
		}
		if paths.Has(p) {
			allErrs = append(allErrs, field.Invalid(at, p, "conflicting duplicate paths"))
		}
		paths.Insert(p)
	}
	for i := range pv.Sources {
		src := &pv.Sources[i]
		sp := fldPath.Child("sources").Index(i)
		n := 0
		count := func(set bool, name string) bool {
			if !set {
				return false
			}
			n++
			if n > 1 {
				allErrs = append(allErrs, field.Forbidden(sp.Child(name), "may not specify more than 1 volume type per source"))
				return false
			}
			return true
		}
		if count(src.Secret != nil, "secret") {
			p := sp.Child("secret")
			if src.Secret.Name == "" {
				allErrs = append(allErrs, field.Required(p.Child("name"), ""))
			}
			allErrs = append(allErrs, validateKeyToPaths(src.Secret.Items, p.Child("items"))...)
			for j, item := range src.Secret.Items {
				addPath(item.Path, p.Child("items").Index(j).Child("path"))
			}
		}
		if count(src.ConfigMap != nil, "configMap") {
			p := sp.Child("configMap")
			if src.ConfigMap.Name == "" {
				allErrs = append(allErrs, field.Required(p.Child("name"), ""))
			}
			allErrs = append(allErrs, validateKeyToPaths(src.ConfigMap.Items, p.Child("items"))...)
			for j, item := range src.ConfigMap.Items {
				addPath(item.Path, p.Child("items").Index(j).Child("path"))
			}
		}
		if count(src.DownwardAPI != nil, "downwardAPI") {
			p := sp.Child("downwardAPI")
			for j := range src.DownwardAPI.Items {
				ip := p.Child("items").Index(j)
				allErrs = append(allErrs, validateDownwardAPIVolumeFile(&src.DownwardAPI.Items[j], ip)...)
				addPath(src.DownwardAPI.Items[j].Path, ip.Child("path"))
			}
		}
		if count(src.ServiceAccountToken != nil, "serviceAccountToken") {
			p := sp.Child("serviceAccountToken")
			sat := src.ServiceAccountToken
			if sat.ExpirationSeconds != nil {
				switch {
				case *sat.ExpirationSeconds < minServiceAccountTokenExpirationSeconds:
					allErrs = append(allErrs, field.Invalid(p.Child("expirationSeconds"), *sat.ExpirationSeconds, "may not specify a duration less than 10 minutes"))
				case *sat.ExpirationSeconds > maxServiceAccountTokenExpirationSeconds:
					allErrs = append(allErrs, field.Invalid(p.Child("expirationSeconds"), *sat.ExpirationSeconds, "may not specify a duration larger than 2^32 seconds"))
				}
			}
			if sat.Path == "" {
				allErrs = append(allErrs, field.Required(p.Child("path"), ""))
			} else {
				allErrs = append(allErrs, validateLocalNonReservedPath(sat.Path, p.Child("path"))...)
				addPath(sat.Path, p.Child("path"))
			}
			allErrs = append(allErrs, validateOptionalUserID(sat.User, p.Child("user"))...)
		}
		if count(src.ClusterTrustBundle != nil, "clusterTrustBundle") {
			p := sp.Child("clusterTrustBundle")
			ctb := src.ClusterTrustBundle
			switch {
			case ctb.Name != nil && ctb.SignerName != nil:
				allErrs = append(allErrs, field.Invalid(p, "", "only one of name and signerName may be used"))
			case ctb.Name == nil && ctb.SignerName == nil:
				allErrs = append(allErrs, field.Required(p, "either name or signerName must be specified"))
			}
			if ctb.Name != nil && ctb.LabelSelector != nil {
				allErrs = append(allErrs, field.Invalid(p.Child("labelSelector"), "", "labelSelector may only be used with signerName"))
			}
			if ctb.LabelSelector != nil {
				allErrs = append(allErrs, metav1validation.ValidateLabelSelector(ctb.LabelSelector, metav1validation.LabelSelectorValidationOptions{}, p.Child("labelSelector"))...)
			}
			if ctb.Path == "" {
				allErrs = append(allErrs, field.Required(p.Child("path"), ""))
			} else {
				allErrs = append(allErrs, validateLocalNonReservedPath(ctb.Path, p.Child("path"))...)
				addPath(ctb.Path, p.Child("path"))
			}
			allErrs = append(allErrs, validateOptionalUserID(ctb.User, p.Child("user"))...)
		}
		if count(src.PodCertificate != nil, "podCertificate") {
			p := sp.Child("podCertificate")
			pc := src.PodCertificate
			if pc.SignerName == "" {
				allErrs = append(allErrs, field.Required(p.Child("signerName"), ""))
			}
			if pc.KeyType == "" {
				allErrs = append(allErrs, field.Required(p.Child("keyType"), ""))
			}
			for _, f := range []struct {
				name, value string
			}{{"credentialBundlePath", pc.CredentialBundlePath}, {"keyPath", pc.KeyPath}, {"certificateChainPath", pc.CertificateChainPath}} {
				if f.value != "" {
					allErrs = append(allErrs, validateLocalNonReservedPath(f.value, p.Child(f.name))...)
					addPath(f.value, p.Child(f.name))
				}
			}
			if pc.CredentialBundlePath == "" && pc.KeyPath == "" && pc.CertificateChainPath == "" {
				allErrs = append(allErrs, field.Required(p, "must specify credentialBundlePath or keyPath and certificateChainPath"))
			}
			allErrs = append(allErrs, validateOptionalUserID(pc.User, p.Child("user"))...)
		}
		if n == 0 {
			allErrs = append(allErrs, field.Required(sp, "must specify exactly one volume type per source"))
		}
	}
	return allErrs
}

// validateCSIVolume: a driver name (DNS subdomain, at most 63 characters)
// and a named nodePublishSecretRef when set.
func validateCSIVolume(csi *corev1.CSIVolumeSource, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	driverPath := fldPath.Child("driver")
	switch {
	case csi.Driver == "":
		allErrs = append(allErrs, field.Required(driverPath, ""))
	case len(csi.Driver) > 63:
		allErrs = append(allErrs, field.TooLong(driverPath, csi.Driver, 63))
	default:
		allErrs = append(allErrs, validateDNS1123Subdomain(strings.ToLower(csi.Driver), driverPath)...)
	}
	if csi.NodePublishSecretRef != nil && csi.NodePublishSecretRef.Name == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("nodePublishSecretRef", "name"), ""))
	}
	return allErrs
}

// validateEphemeralVolume checks a generic ephemeral volume's claim template:
// no name (the claim is named after the pod), valid labels/annotations and
// a valid PVC spec.
func validateEphemeralVolume(ev *corev1.EphemeralVolumeSource, fldPath *field.Path) field.ErrorList {
	tp := fldPath.Child("volumeClaimTemplate")
	if ev.VolumeClaimTemplate == nil {
		return field.ErrorList{field.Required(tp, "")}
	}
	var allErrs field.ErrorList
	meta := &ev.VolumeClaimTemplate.ObjectMeta
	mp := tp.Child("metadata")
	allErrs = append(allErrs, metav1validation.ValidateLabels(meta.Labels, mp.Child("labels"))...)
	allErrs = append(allErrs, apimachineryvalidation.ValidateAnnotations(meta.Annotations, mp.Child("annotations"))...)
	allErrs = append(allErrs, validatePersistentVolumeClaimSpec(&ev.VolumeClaimTemplate.Spec, tp.Child("spec"))...)
	return allErrs
}

// validateVolumeMounts checks one container's volumeMounts.
func validateVolumeMounts(c *corev1.Container, fldPath *field.Path, ctx *containerContext) field.ErrorList {
	var allErrs field.ErrorList
	deviceNames, devicePaths := sets.New[string](), sets.New[string]()
	for _, d := range c.VolumeDevices {
		deviceNames.Insert(d.Name)
		devicePaths.Insert(d.DevicePath)
	}
	privileged := c.SecurityContext != nil && c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged

	mountPaths := sets.New[string]()
	for i := range c.VolumeMounts {
		m := &c.VolumeMounts[i]
		p := fldPath.Index(i)
		namePath := p.Child("name")
		mountPath := p.Child("mountPath")
		switch {
		case m.Name == "":
			allErrs = append(allErrs, field.Required(namePath, ""))
		case !ctx.hasVolume(m.Name):
			allErrs = append(allErrs, field.NotFound(namePath, m.Name))
		}
		if m.MountPath == "" {
			allErrs = append(allErrs, field.Required(mountPath, ""))
		} else if mountPaths.Has(m.MountPath) {
			allErrs = append(allErrs, field.Invalid(mountPath, m.MountPath, "must be unique"))
		}
		mountPaths.Insert(m.MountPath)

		if m.Name != "" && deviceNames.Has(m.Name) {
			allErrs = append(allErrs, field.Invalid(namePath, m.Name, "must not already exist in volumeDevices"))
		}
		if m.MountPath != "" && devicePaths.Has(m.MountPath) {
			allErrs = append(allErrs, field.Invalid(mountPath, m.MountPath, "must not already exist as a path in volumeDevices"))
		}

		if vol, ok := ctx.volumes[m.Name]; ok && vol.Image != nil {
			if m.SubPath != "" {
				allErrs = append(allErrs, field.Invalid(p.Child("subPath"), m.SubPath, "not allowed in image volume sources"))
			}
			if m.SubPathExpr != "" {
				allErrs = append(allErrs, field.Invalid(p.Child("subPathExpr"), m.SubPathExpr, "not allowed in image volume sources"))
			}
		}
		if m.SubPath != "" {
			allErrs = append(allErrs, validateLocalDescendingPath(m.SubPath, p.Child("subPath"))...)
		}
		if m.SubPathExpr != "" {
			if m.SubPath != "" {
				allErrs = append(allErrs, field.Invalid(p.Child("subPathExpr"), m.SubPathExpr, "subPathExpr and subPath are mutually exclusive"))
			}
			allErrs = append(allErrs, validateLocalDescendingPath(m.SubPathExpr, p.Child("subPathExpr"))...)
		}
		if m.MountPropagation != nil {
			pp := p.Child("mountPropagation")
			errs := validateEnum(*m.MountPropagation, false, pp,
				corev1.MountPropagationNone, corev1.MountPropagationHostToContainer, corev1.MountPropagationBidirectional)
			allErrs = append(allErrs, errs...)
			if len(errs) == 0 && *m.MountPropagation == corev1.MountPropagationBidirectional && !privileged {
				allErrs = append(allErrs, field.Forbidden(pp, "Bidirectional mount propagation is available only to privileged containers"))
			}
		}
		allErrs = append(allErrs, validateRecursiveReadOnly(m, p.Child("recursiveReadOnly"))...)
	}
	return allErrs
}

func validateRecursiveReadOnly(m *corev1.VolumeMount, fldPath *field.Path) field.ErrorList {
	if m.RecursiveReadOnly == nil {
		return nil
	}
	rro := *m.RecursiveReadOnly
	if errs := validateEnum(rro, false, fldPath,
		corev1.RecursiveReadOnlyDisabled, corev1.RecursiveReadOnlyIfPossible, corev1.RecursiveReadOnlyEnabled); len(errs) > 0 {
		return errs
	}
	if rro == corev1.RecursiveReadOnlyDisabled {
		return nil
	}
	var allErrs field.ErrorList
	if !m.ReadOnly {
		allErrs = append(allErrs, field.Forbidden(fldPath, "may only be specified when readOnly is true"))
	}
	if m.MountPropagation != nil && *m.MountPropagation != corev1.MountPropagationNone {
		allErrs = append(allErrs, field.Forbidden(fldPath, "may only be specified when mountPropagation is None or not specified"))
	}
	return allErrs
}

// validateVolumeDevices checks one container's volumeDevices: they must name
// a persistentVolumeClaim or ephemeral volume (or a claim template).
func validateVolumeDevices(c *corev1.Container, fldPath *field.Path, ctx *containerContext) field.ErrorList {
	var allErrs field.ErrorList
	mountNames, mountPaths := sets.New[string](), sets.New[string]()
	for _, m := range c.VolumeMounts {
		mountNames.Insert(m.Name)
		mountPaths.Insert(m.MountPath)
	}
	names, paths := sets.New[string](), sets.New[string]()
	for i, d := range c.VolumeDevices {
		p := fldPath.Index(i)
		namePath := p.Child("name")
		devPath := p.Child("devicePath")
		if d.Name == "" {
			allErrs = append(allErrs, field.Required(namePath, ""))
		} else {
			if names.Has(d.Name) {
				allErrs = append(allErrs, field.Invalid(namePath, d.Name, "must be unique"))
			}
			names.Insert(d.Name)
			if vol, ok := ctx.volumes[d.Name]; ok {
				if vol.PersistentVolumeClaim == nil && vol.Ephemeral == nil {
					allErrs = append(allErrs, field.Invalid(namePath, d.Name, "can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode"))
				}
			} else if !ctx.extraVolumes.Has(d.Name) {
				allErrs = append(allErrs, field.NotFound(namePath, d.Name))
			}
			if mountNames.Has(d.Name) {
				allErrs = append(allErrs, field.Invalid(namePath, d.Name, "must not already exist in volumeMounts"))
			}
		}
		if d.DevicePath == "" {
			allErrs = append(allErrs, field.Required(devPath, ""))
			continue
		}
		if paths.Has(d.DevicePath) {
			allErrs = append(allErrs, field.Invalid(devPath, d.DevicePath, "must be unique"))
		}
		paths.Insert(d.DevicePath)
		if len(validatePathNoBacksteps(d.DevicePath, devPath)) > 0 {
			allErrs = append(allErrs, field.Invalid(devPath, d.DevicePath, "can not contain backsteps ('..')"))
		}
		if mountPaths.Has(d.DevicePath) {
			allErrs = append(allErrs, field.Invalid(devPath, d.DevicePath, "must not already exist as a path in volumeMounts"))
		}
	}
	return allErrs
}
