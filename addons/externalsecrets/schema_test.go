package externalsecrets

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apiextensions "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"k8s.io/kube-openapi/pkg/validation/strfmt"
	"k8s.io/kube-openapi/pkg/validation/validate"
	"sigs.k8s.io/yaml"

	"github.com/example/flask-eks/internal/modules"
)

// CRDModule is where ESO's published CRDs come from: the only version of ESO's Go module that
// the module proxy serves (its config/crds/bases). ESO's Go API types live in a nested module,
// github.com/external-secrets/external-secrets/apis, which the proxy does not serve at any
// version, so the objects are checked against the CRD schema instead, as the API server would.
// In v1.3.2 as at helm-chart-2.9.0 (the pinned chart), SecretStore and ExternalSecret are
// served and stored as v1 and v1beta1 is not served; TestCRDServesV1 checks the first half
// here. Between the two releases the v1 schemas only grew or loosened (compared field by field
// at the tags v1.3.2 and helm-chart-2.9.0): new optional fields (syncWindows, nullBytePolicy,
// valuesDecodingStrategy, the AWS provider's sessionTagsPolicy and customSessionTags), wider
// enums (creationPolicy CreateOrMerge, service CertificateManager, generator kinds), defaults
// dropped from remoteRef's strategies, and SecretStore.spec.refreshInterval widened to int or
// string. None of that touches a field this program sets, so an object v1.3.2's schema accepts
// is accepted by the installed CRDs too. ESO_CRD_DIR overrides the directory (e.g. the CRDs of
// another release).
const CRDModule = modules.ExternalSecretsModule

// crdDir returns the CRD directory of CRDModule in the module cache.
func crdDir(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("ESO_CRD_DIR"); dir != "" {
		return dir
	}
	return filepath.Join(modules.ModuleDir(t, CRDModule), "config", "crds", "bases")
}

func loadCRD(t testing.TB, plural string) *apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	path := filepath.Join(crdDir(t), "external-secrets.io_"+plural+".yaml")
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

// validator checks objects against one version of a CRD the way the API server does on
// create: unknown fields (the API server's own pruning, which strict field validation reports)
// and the OpenAPI schema (types, enums, required, formats, with kube-openapi's validator, which
// the API server's CRD validation wraps). The x-kubernetes-validations CEL rules (one in
// secretstores, on a field this program does not set) are left to the real API server of the
// integration tier: apiextensions-apiserver's validation and CEL packages would add modules
// (k8s.io/component-base, cel-go) to the root module's go.sum.
type validator struct {
	structural *structuralschema.Structural
	schema     *validate.SchemaValidator
}

func newValidator(t testing.TB, crd *apiextensionsv1.CustomResourceDefinition, version string) *validator {
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
		return &validator{structural: s, schema: validate.NewSchemaValidator(openapi, nil, "", strfmt.Default)}
	}
	t.Fatalf("CRD %s has no version %s", crd.Name, version)
	return nil
}

// errors returns every reason the API server would reject obj (a JSON-like map).
func (v *validator) errors(obj map[string]any) []string {
	var out []string
	copied := deepCopy(obj)
	unknown := pruning.PruneWithOptions(copied, v.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
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

// TestCRDServesV1: the version Store declares is the CRDs' served and stored version.
func TestCRDServesV1(t *testing.T) {
	for _, plural := range []string{"secretstores", "externalsecrets"} {
		crd := loadCRD(t, plural)
		for _, v := range crd.Spec.Versions {
			if crd.Spec.Group+"/"+v.Name == APIVersion && (!v.Served || !v.Storage) {
				t.Errorf("%s: %s served=%v storage=%v", plural, APIVersion, v.Served, v.Storage)
			}
			if v.Name == "v1beta1" && v.Served {
				t.Errorf("%s: v1beta1 is served", plural)
			}
		}
	}
}

// TestObjectsMatchTheCRDs decodes the SecretStore and ExternalSecret that SyncInto declares
// strictly against ESO's published schema; and shows that the check bites.
func TestObjectsMatchTheCRDs(t *testing.T) {
	d := deploy(t, false)
	for _, c := range []struct {
		plural, typ string
	}{{"secretstores", storeType}, {"externalsecrets", esType}} {
		v := newValidator(t, loadCRD(t, c.plural), strings.TrimPrefix(APIVersion, "external-secrets.io/"))
		obj := d.m.Only(t, c.typ).Inputs
		if errs := v.errors(obj); len(errs) > 0 {
			t.Errorf("%s rejected by the CRD schema:\n%s", c.plural, strings.Join(errs, "\n"))
		}
		// A misspelt field, and a value outside an enum, are caught.
		bad := deepCopy(obj)
		spec := bad["spec"].(map[string]any)
		spec["refreshIntervall"] = "1h"
		if c.plural == "externalsecrets" {
			spec["target"].(map[string]any)["creationPolicy"] = "Owned"
		} else {
			spec["provider"].(map[string]any)["aws"].(map[string]any)["service"] = "SecretManager"
		}
		errs := strings.Join(v.errors(bad), "\n")
		if !strings.Contains(errs, "refreshIntervall") || !strings.Contains(errs, "should be one of") {
			t.Errorf("%s: the broken object was not rejected for both faults:\n%s", c.plural, errs)
		}
	}
}
