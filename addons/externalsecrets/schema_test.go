package externalsecrets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"github.com/example/flask-eks/internal/crdschema"
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

// loadCRD is ESO's CRD of plural (e.g. "secretstores") in crdDir.
func loadCRD(t testing.TB, plural string) *apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	return crdschema.Load(t, filepath.Join(crdDir(t), "external-secrets.io_"+plural+".yaml"))
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
		v := crdschema.New(t, loadCRD(t, c.plural), strings.TrimPrefix(APIVersion, "external-secrets.io/"))
		obj := d.m.Only(t, c.typ).Inputs
		if errs := v.Errors(obj); len(errs) > 0 {
			t.Errorf("%s rejected by the CRD schema:\n%s", c.plural, strings.Join(errs, "\n"))
		}
		// A misspelt field, and a value outside an enum, are caught.
		bad := crdschema.DeepCopy(obj)
		spec := bad["spec"].(map[string]any)
		spec["refreshIntervall"] = "1h"
		if c.plural == "externalsecrets" {
			spec["target"].(map[string]any)["creationPolicy"] = "Owned"
		} else {
			spec["provider"].(map[string]any)["aws"].(map[string]any)["service"] = "SecretManager"
		}
		errs := strings.Join(v.Errors(bad), "\n")
		if !strings.Contains(errs, "refreshIntervall") || !strings.Contains(errs, "should be one of") {
			t.Errorf("%s: the broken object was not rejected for both faults:\n%s", c.plural, errs)
		}
	}
}
