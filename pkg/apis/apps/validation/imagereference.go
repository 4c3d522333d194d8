package validation

import "github.com/distribution/reference"

// imageReferenceError says why ref is not an image reference a container
// runtime can pull, or returns "" when it is one. It uses the parser
// OpenKruise's webhook and the CRI tooling use, Docker Hub normalisation
// included, so the messages are the ones OpenKruise gives.
func imageReferenceError(ref string) string {
	if _, err := reference.ParseNormalizedNamed(ref); err != nil {
		return err.Error()
	}
	return ""
}
