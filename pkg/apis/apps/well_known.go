package apps

const (
	// LegacyExcludePreparingDeleteLabel is the v1alpha1-era label that turns
	// on what v1beta1 calls spec.scaleStrategy.excludePreparingDelete. It
	// stays a label in every version; the controller honours either.
	LegacyExcludePreparingDeleteLabel = "apps.kruise.io/cloneset-scaling-exclude-preparing-delete"

	// The v1alpha1-era annotations for what v1beta1 holds in
	// rollingUpdate.inPlaceUpdateStrategy.imagePreDownload*; likewise kept as
	// annotations and honoured by the controller when the field is unset.
	LegacyImagePreDownloadParallelismAnnotation     = "apps.kruise.io/image-predownload-parallelism"
	LegacyImagePreDownloadTimeoutSecondsAnnotation  = "apps.kruise.io/image-predownload-timeout-seconds"
	LegacyImagePreDownloadMinUpdatedReadyAnnotation = "apps.kruise.io/image-predownload-min-updated-ready-pods"
)
