// Package crdschema checks objects against a CustomResourceDefinition's schema the way the API
// server does on create, without an API server: the tests of the program's custom resources
// (NodePools, the NodeClass, External Secrets' objects) use it against the CRDs their
// controllers publish.
package crdschema

import (
	"encoding/json"
	"os"
	"testing"

	apiextensions "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"k8s.io/kube-openapi/pkg/validation/strfmt"
	"k8s.io/kube-openapi/pkg/validation/validate"
	"sigs.k8s.io/yaml"
)

// Load decodes the CRD at path strictly.
func Load(t testing.TB, path string) *apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.UnmarshalStrict(data, crd); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return crd
}

// Validator checks objects against one version of a CRD the way the API server does on create:
// unknown fields (its own pruning, which strict field validation reports) and the OpenAPI
// schema (types, enums, required, formats, patterns, ranges, with kube-openapi's validator,
// which the API server's CRD validation wraps). CEL rules (x-kubernetes-validations) are left
// to the real API server of the integration tier: apiextensions-apiserver's validation and CEL
// packages would add modules (k8s.io/component-base, cel-go) to the root module's go.sum.
type Validator struct {
	structural *structuralschema.Structural
	schema     *validate.SchemaValidator
}

// New returns the Validator of version of crd; the test fails when the CRD has no such version.
func New(t testing.TB, crd *apiextensionsv1.CustomResourceDefinition, version string) *Validator {
	t.Helper()
	for _, v := range crd.Spec.Versions {
		if v.Name != version {
			continue
		}
		internal := &apiextensions.JSONSchemaProps{}
		if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v.Schema.OpenAPIV3Schema, internal, nil); err != nil {
			t.Fatal(err)
		}
		s, err := structuralschema.NewStructural(internal)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(v.Schema.OpenAPIV3Schema)
		if err != nil {
			t.Fatal(err)
		}
		openapi := &spec.Schema{}
		if err := json.Unmarshal(raw, openapi); err != nil {
			t.Fatal(err)
		}
		return &Validator{structural: s, schema: validate.NewSchemaValidator(openapi, nil, "", strfmt.Default)}
	}
	t.Fatalf("CRD %s has no version %s", crd.Name, version)
	return nil
}

// Errors returns every reason the API server would reject obj (a JSON-like map).
func (v *Validator) Errors(obj map[string]any) []string {
	var out []string
	unknown := pruning.PruneWithOptions(DeepCopy(obj), v.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
	for _, u := range unknown {
		out = append(out, "unknown field "+u)
	}
	for _, e := range v.schema.Validate(obj).Errors {
		out = append(out, e.Error())
	}
	return out
}

// DeepCopy copies a JSON-like map through JSON.
func DeepCopy(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}
