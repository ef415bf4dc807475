// Package modules finds published upstream trees in the Go module cache for tests: a chart at
// its pinned release (exactly, or with later changes that the test using it takes out), or a
// project's CRDs, fetched through the Go module proxy at test time so that no copy lives in this
// repository. The unit tests (chart values, CRD schemas) and the real-API tier
// (internal/kubetest) both use it.
package modules

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"sigs.k8s.io/yaml"
)

// The Go modules whose published CRDs the tests install: External Secrets (config/crds/bases;
// v1.3.2 serves external-secrets.io/v1 as the pinned chart does) and KEDA (config/crd/bases, at
// the pinned chart's app version, which go.mod also requires for its types).
const (
	ExternalSecretsModule = "github.com/external-secrets/external-secrets@v1.3.2"
	KEDAModule            = "github.com/kedacore/keda/v2@v2.20.2"
	// KarpenterModule holds the karpenter.sh/v1 NodePool CRD (pkg/apis/crds) that EKS Auto
	// Mode shares with Karpenter; AWS documents "Karpenter v1.1 or later"
	// (https://docs.aws.amazon.com/eks/latest/userguide/auto-migrate-karpenter.html), and
	// v1.1.5 is the newest v1.1 patch the module proxy serves.
	KarpenterModule = "sigs.k8s.io/karpenter@v1.1.5"
)

// The Go modules whose trees hold a pinned chart at exactly its release, so that the tests
// render the chart the program installs without a copy in this repository. The module proxy
// serves any tagged GitHub repository as a module.
const (
	// KEDAChartsModule is kedacore/charts at its tag v2.20.2, the release of chart keda 2.20.2
	// (directory keda/).
	KEDAChartsModule = "github.com/kedacore/charts@v2.20.2+incompatible"
	// MetricsServerModule is kubernetes-sigs/metrics-server at v0.9.0, whose
	// charts/metrics-server is chart 3.13.1, identical to the chart's release tag
	// metrics-server-helm-chart-3.13.1 (git diff of that directory between the tags is empty).
	MetricsServerModule = "sigs.k8s.io/metrics-server@v0.9.0"
)

// The Go modules whose trees hold a pinned chart's name and version but not exactly its
// release: changes made after the release tag, before the version was bumped. Only the values
// are checked against them, less the keys those changes added (see each test).
const (
	// ExternalDNSModule is kubernetes-sigs/external-dns at v0.22.0, the only release the proxy
	// serves with chart 1.21.1 in charts/external-dns; its values.yaml adds replicaCount and
	// service.enabled to the tag external-dns-helm-chart-1.21.1's.
	ExternalDNSModule = "sigs.k8s.io/external-dns@v0.22.0"
	// ReloaderModule is stakater/Reloader at v1.4.22, the only release the proxy serves with
	// chart 2.2.16 in deployments/kubernetes/chart/reloader; its values.yaml adds
	// reloader.leaderElection to the tag chart-v2.2.16's.
	ReloaderModule = "github.com/stakater/Reloader@v1.4.22"
)

// moduleDirs caches ModuleDir's answers for the test binary's life: a module at a version
// never changes.
var moduleDirs sync.Map

// ModuleDir returns the directory of a Go module ("path@version") in the module cache,
// downloading it through the module proxy if it is not there. It runs outside any module, so
// go.mod and go.sum stay untouched.
func ModuleDir(t testing.TB, module string) string {
	t.Helper()
	if dir, ok := moduleDirs.Load(module); ok {
		return dir.(string)
	}
	cmd := exec.Command("go", "mod", "download", "-json", module)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("go mod download %s: %v\n%s%s", module, err, out, stderr)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go mod download %s: no module directory in %s (%v)", module, out, err)
	}
	moduleDirs.Store(module, mod.Dir)
	return mod.Dir
}

// CRDFiles are the CRD manifests in a module directory's dir (e.g. "config/crd/bases") whose
// names match pattern (e.g. "keda.sh_*.yaml"); it fails the test when there are none.
func CRDFiles(t testing.TB, module, dir, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(ModuleDir(t, module), dir, pattern))
	if err != nil || len(files) == 0 {
		t.Fatalf("no %s in %s of %s (%v)", pattern, dir, module, err)
	}
	return files
}

// ChartDir returns the chart directory dir of a module ("path@version"), failing the test
// unless its Chart.yaml names chart name at version: the rendered chart and the program's pin
// must move together.
func ChartDir(t testing.TB, module, dir, name, version string) string {
	t.Helper()
	chart := filepath.Join(ModuleDir(t, module), dir)
	b, err := os.ReadFile(filepath.Join(chart, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct{ Name, Version string }
	if err := yaml.Unmarshal(b, &meta); err != nil {
		t.Fatalf("%s: %v", module, err)
	}
	if meta.Name != name || meta.Version != version {
		t.Fatalf("%s holds chart %s %s, the program pins %s %s: move the module with the pin", module, meta.Name, meta.Version, name, version)
	}
	return chart
}
