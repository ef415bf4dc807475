package eks

import (
	"path/filepath"
	"testing"

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
