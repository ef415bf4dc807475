package eks

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	apiextensions "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"k8s.io/kube-openapi/pkg/validation/strfmt"
	"k8s.io/kube-openapi/pkg/validation/validate"
	"sigs.k8s.io/yaml"

	"github.com/example/flask-eks/internal/kubetest"
	"github.com/example/flask-eks/internal/modules"
)

// The CRDs the node control is checked against: Karpenter's NodePool (modules.KarpenterModule,
// pkg/apis/crds) and the NodeClass stand-in (see testdata/crds/README.md).
const (
	karpenterCRDDir  = "pkg/apis/crds"
	nodePoolsCRDFile = "karpenter.sh_nodepools.yaml"
	nodeClassCRDFile = "eks.amazonaws.com_nodeclasses.yaml"
)

// karpenterNodePoolCRD is the path of Karpenter's NodePool CRD in the module cache.
func karpenterNodePoolCRD(t testing.TB) string {
	t.Helper()
	return filepath.Join(modules.ModuleDir(t, modules.KarpenterModule), karpenterCRDDir, nodePoolsCRDFile)
}

// nodeClassCRD is the path of the NodeClass stand-in.
func nodeClassCRD(t testing.TB) string {
	t.Helper()
	return filepath.Join(kubetest.RepoRoot(t), "testdata", "crds", nodeClassCRDFile)
}

func loadCRD(t testing.TB, path string) *apiextensionsv1.CustomResourceDefinition {
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

// crdValidator checks objects against one version of a CRD the way the API server does on
// create: unknown fields (its own pruning, which strict field validation reports) and the
// OpenAPI schema (types, enums, required, patterns, ranges, with kube-openapi's validator,
// which the API server's CRD validation wraps). CEL rules (x-kubernetes-validations) are left
// to the real API server of the integration tier.
type crdValidator struct {
	structural *structuralschema.Structural
	schema     *validate.SchemaValidator
}

func newCRDValidator(t testing.TB, crd *apiextensionsv1.CustomResourceDefinition, version string) *crdValidator {
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
		return &crdValidator{structural: s, schema: validate.NewSchemaValidator(openapi, nil, "", strfmt.Default)}
	}
	t.Fatalf("CRD %s has no version %s", crd.Name, version)
	return nil
}

// errors returns every reason the API server would reject obj (a JSON-like map).
func (v *crdValidator) errors(obj map[string]any) []string {
	var out []string
	unknown := pruning.PruneWithOptions(deepCopy(obj), v.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
	for _, u := range unknown {
		out = append(out, "unknown field "+u)
	}
	for _, e := range v.schema.Validate(obj).Errors {
		out = append(out, e.Error())
	}
	return out
}

func deepCopy(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}
