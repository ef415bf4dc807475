package eks

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
)

// PoolShape is what decides whether Auto Mode can launch a node for a pod in a pool: the
// pool's taints, and the values its requirements allow for each label (its nodes carry one of
// them). Karpenter also labels every node with its pool's name (LabelNodePool).
type PoolShape struct {
	Name         string
	Taints       []Taint
	Requirements map[string][]string
}

// Shapes are the pools of a cluster: the program's two, and the built-in ones when they are on.
func Shapes(app, platform NodePoolConfig, builtIn bool) []PoolShape {
	shapes := []PoolShape{shapeOf(AppPool, app, AppTaint), shapeOf(PlatformPool, platform, CriticalAddonsOnlyTaint)}
	if builtIn {
		shapes = append(shapes, BuiltInPoolShapes()...)
	}
	return shapes
}

func shapeOf(name string, c NodePoolConfig, taint Taint) PoolShape {
	req := map[string][]string{
		LabelCapacityType:     c.CapacityTypes,
		LabelArch:             c.Architectures,
		LabelInstanceCategory: c.Categories,
	}
	if len(c.Sizes) > 0 {
		req[LabelInstanceSize] = c.Sizes
	}
	return PoolShape{Name: name, Taints: []Taint{taint}, Requirements: req}
}

// BuiltInPoolShapes are Auto Mode's built-in pools as documented: system has the
// CriticalAddonsOnly taint and "supports both amd64 and arm64"; general-purpose "uses only
// amd64"; both "use only on-demand EC2 capacity" and "the C, M, and R EC2 instance families"
// (https://docs.aws.amazon.com/eks/latest/userguide/set-builtin-node-pools.html).
func BuiltInPoolShapes() []PoolShape {
	common := func(arch ...string) map[string][]string {
		return map[string][]string{
			LabelCapacityType:     {CapacityOnDemand},
			LabelArch:             arch,
			LabelInstanceCategory: {"c", "m", "r"},
		}
	}
	return []PoolShape{
		{Name: "system", Taints: []Taint{CriticalAddonsOnlyTaint}, Requirements: common("amd64", "arm64")},
		{Name: "general-purpose", Requirements: common("amd64")},
	}
}

// wellKnownLabels are the labels every Auto Mode node carries whether or not a pool's
// requirements name them ("EKS Auto Mode Supported Labels",
// https://docs.aws.amazon.com/eks/latest/userguide/create-node-pool.html#auto-supported-labels):
// a selector on one the pool leaves open is satisfiable, as Karpenter allows undefined
// well-known labels. Auto Mode nodes run Linux only.
var wellKnownLabels = []string{
	"topology.kubernetes.io/zone", "topology.kubernetes.io/region", "node.kubernetes.io/instance-type",
	LabelArch, LabelCapacityType, "eks.amazonaws.com/compute-type",
}

// Fits returns nil when Auto Mode could launch a node of the pool for a pod with this
// nodeSelector and these tolerations, else why not: every NoSchedule or NoExecute taint must
// be tolerated (core/v1's own matching), and every selected label must be one the pool's nodes
// carry with that value. This is the part of Karpenter's scheduling that selectors and
// tolerations decide (sigs.k8s.io/karpenter pkg/scheduling: Taints.ToleratesPod and
// Requirements.Compatible with undefined well-known labels allowed); affinities and topology
// spread are not modelled.
func (p PoolShape) Fits(nodeSelector map[string]string, tolerations []corev1.Toleration) error {
	for _, t := range p.Taints {
		if t.Effect != NoSchedule && t.Effect != NoExecute {
			continue
		}
		taint := &corev1.Taint{Key: t.Key, Value: t.Value, Effect: corev1.TaintEffect(t.Effect)}
		if !slices.ContainsFunc(tolerations, func(tol corev1.Toleration) bool {
			return tol.ToleratesTaint(klog.Background(), taint, false)
		}) {
			return fmt.Errorf("pool %s: taint %s=%s:%s not tolerated", p.Name, t.Key, t.Value, t.Effect)
		}
	}
	for k, v := range nodeSelector {
		switch values, ok := p.Requirements[k]; {
		case k == LabelNodePool:
			if v != p.Name {
				return fmt.Errorf("pool %s: selects pool %s", p.Name, v)
			}
		case k == "kubernetes.io/os":
			if v != "linux" {
				return fmt.Errorf("pool %s: Auto Mode runs Linux only, selector asks %s", p.Name, v)
			}
		case ok:
			if !slices.Contains(values, v) {
				return fmt.Errorf("pool %s: %s=%s, pool allows %s", p.Name, k, v, strings.Join(values, ","))
			}
		case slices.Contains(wellKnownLabels, k) || strings.HasPrefix(k, "eks.amazonaws.com/instance-"):
		default:
			return fmt.Errorf("pool %s: no node of it has label %s", p.Name, k)
		}
	}
	return nil
}
