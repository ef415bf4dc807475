package estimate

import "testing"

// TestEveryWorkloadReadsItsPool: every workload that is not a DaemonSet says where its
// nodeSelector is, so that pods the program places on a NodePool are packed there and not on
// the built-in general-purpose pool, which a stack without builtInNodePools does not have.
// DaemonSets run on every pool's nodes and name none.
func TestEveryWorkloadReadsItsPool(t *testing.T) {
	for chart, rule := range chartWorkloads {
		for _, w := range rule.workloads {
			if daemonSet := w.perNode || w.perNodeWhen != ""; daemonSet != (w.nodeSelector == "") {
				t.Errorf("%s %s: DaemonSet %v, nodeSelector path %q; want a path for every workload but a DaemonSet", chart, w.name, daemonSet, w.nodeSelector)
			}
		}
	}
}
