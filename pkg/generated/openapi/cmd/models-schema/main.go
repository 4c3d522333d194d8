// Command models-schema prints the OpenAPI v2 definitions generated in
// pkg/generated/openapi as one Swagger document. hack/update-codegen.sh feeds
// it to applyconfiguration-gen, whose generated Extract functions need the
// schemas (list types, map keys) to split an object by field manager.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/generated/openapi"
)

func main() {
	if err := printSwagger(); err != nil {
		fmt.Fprintf(os.Stderr, "models-schema: %v\n", err)
		os.Exit(1)
	}
}

func printSwagger() error {
	definitions := openapi.GetOpenAPIDefinitions(func(name string) spec.Ref {
		return spec.MustCreateRef("#/definitions/" + name)
	})
	schemas := make(map[string]spec.Schema, len(definitions))
	for name, def := range definitions {
		// Some definitions carry a separate v2 form (v3-only constructs such
		// as oneOf); applyconfiguration-gen reads Swagger 2.0, so prefer it.
		if v2, ok := def.Schema.Extensions[common.ExtensionV2Schema].(spec.Schema); ok {
			schemas[name] = v2
			continue
		}
		schemas[name] = def.Schema
	}
	doc := spec.Swagger{SwaggerProps: spec.SwaggerProps{
		Swagger:     "2.0",
		Info:        &spec.Info{InfoProps: spec.InfoProps{Title: "kruise-apiserver", Version: "unversioned"}},
		Definitions: schemas,
	}}
	out, err := json.Marshal(&doc)
	if err != nil {
		return fmt.Errorf("encoding definitions: %w", err)
	}
	_, err = os.Stdout.Write(out)
	return err
}
