package main

import (
	"fmt"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/example/flask-eks/eks"
)

// appCPURequest is the CPU the app's pod requests: the chart's default
// (app/chart/values.yaml resources.requests.cpu), which the program leaves alone.
// TestAppCPURequestIsTheChartDefault holds the two together.
const appCPURequest = "100m"

// NodesConfig is node control: the NodeClass every node of the program's pools runs on, the
// app's pool and the platform add-ons' pool, and whether Auto Mode's built-in pools run beside
// them.
type NodesConfig struct {
	BuiltInPools    bool
	AllowSpotInProd bool
	NodeClass       eks.NodeClassConfig
	App, Platform   eks.NodePoolConfig
}

// readNodes reads node control: one clear error per bad key, then the eks package's own checks
// of what Auto Mode and Karpenter accept.
func readNodes(r *reader, c *Config) NodesConfig {
	n := NodesConfig{
		BuiltInPools:    r.boolean("builtInNodePools"),
		AllowSpotInProd: r.boolean("allowSpotInProd"),
		NodeClass: eks.NodeClassConfig{
			Name:                       c.namePrefix(),
			EphemeralStorageSize:       r.str("nodeVolumeSize"),
			EphemeralStorageIOPS:       r.integer("nodeVolumeIops", 3000, 16000),
			EphemeralStorageThroughput: r.integer("nodeVolumeThroughput", 125, 1000),
			NetworkPolicy:              r.oneOf("networkPolicyDefault", []string{"DefaultAllow", "DefaultDeny"}),
			NetworkPolicyEventLogs:     r.boolean("networkPolicyEventLogs"),
			SNATPolicy:                 r.oneOf("snatPolicy", []string{"Random", "Disabled"}),
		},
	}
	disruption := func(p *eks.NodePoolConfig) {
		p.ConsolidationPolicy = r.oneOf("nodeConsolidationPolicy", []string{"WhenEmptyOrUnderutilized", "WhenEmpty"})
		p.ConsolidateAfter = duration(r, "nodeConsolidateAfter", 0, 24*time.Hour)
		p.ExpireAfter = duration(r, "nodeExpireAfter", time.Hour, eks.MaxNodeLifetime)
		p.Budget = r.str("nodeDisruptionBudget")
		if start := r.str("nodeMaintenanceWindow"); start != "" {
			p.Window = &eks.MaintenanceWindow{Start: start, Duration: duration(r, "nodeMaintenanceWindowDuration", time.Hour, 167*time.Hour)}
		}
	}
	n.App = eks.NodePoolConfig{
		CapacityTypes: r.list("appCapacityTypes"),
		Categories:    r.list("appInstanceCategories"),
		MinGeneration: r.integer("appInstanceGeneration", 1, 10),
		Sizes:         r.list("appInstanceSizes"),
		Architectures: r.list("appArchitectures"),
		CPU:           r.str("appNodesCpuLimit"),
		Memory:        r.str("appNodesMemoryLimit"),
	}
	if len(n.App.CapacityTypes) == 0 {
		// The environment's default: Spot (falling back to on-demand) outside prod.
		n.App.CapacityTypes = []string{eks.CapacitySpot, eks.CapacityOnDemand}
		if c.prod() {
			n.App.CapacityTypes = []string{eks.CapacityOnDemand}
		}
	}
	disruption(&n.App)
	// The platform pool runs Prometheus, Loki and the operators, with volumes: on-demand only.
	n.Platform = eks.NodePoolConfig{
		CapacityTypes: []string{eks.CapacityOnDemand},
		Categories:    r.list("platformInstanceCategories"),
		MinGeneration: r.integer("platformInstanceGeneration", 1, 10),
		Architectures: r.list("platformArchitectures"),
		CPU:           r.str("platformNodesCpuLimit"),
		Memory:        r.str("platformNodesMemoryLimit"),
	}
	disruption(&n.Platform)

	// Every pod the program deploys is placed on the app or the platform pool
	// (TestEveryPodHasAPool), so the built-in pools serve only what others deploy unplaced.
	if n.BuiltInPools {
		r.warn("builtInNodePools is true: Auto Mode's general-purpose and system pools run beside the app and platform pools, on the built-in NodeClass, " +
			"whose nodes carry none of the stack's tags and whose root volumes are not encrypted with the stack's key. Every pod this program deploys runs on its own pools; " +
			"keep true only for a cluster created with it (EKS does not let the node role change) or for workloads deployed outside this program without a placement")
	}
	for _, ct := range n.App.CapacityTypes {
		if ct != eks.CapacitySpot && ct != eks.CapacityOnDemand {
			r.fail("appCapacityTypes", "%q is not a capacity type; accepted: spot, on-demand", ct)
		}
	}
	if c.prod() && slices.Contains(n.App.CapacityTypes, eks.CapacitySpot) && !n.AllowSpotInProd {
		r.fail("appCapacityTypes", "%v includes spot in prod; accepted: [on-demand], or spot with allowSpotInProd: true (Spot nodes can be reclaimed with two minutes' notice)", n.App.CapacityTypes)
	}
	if slices.Contains(n.App.Architectures, "arm64") && imagePlatform == "linux/amd64" {
		r.fail("appArchitectures", "%v includes arm64, but the image is built for %s only; accepted: [amd64] until the image is built for linux/arm64 too", n.App.Architectures, imagePlatform)
	}
	for key, arches := range map[string][]string{"appArchitectures": n.App.Architectures, "platformArchitectures": n.Platform.Architectures} {
		for _, a := range arches {
			if a != "amd64" && a != "arm64" {
				r.fail(key, "%q is not an architecture; accepted: amd64, arm64", a)
			}
		}
	}
	// The app pool's limits must leave room for the app at its most replicas: Auto Mode stops
	// adding nodes once the pool's capacity reaches them.
	cpuNeed := resource.MustParse(appCPURequest)
	cpuNeed.Mul(int64(c.App.MaxReplicas))
	memNeed := resource.MustParse(fmt.Sprintf("%dMi", c.App.MemoryMiB))
	memNeed.Mul(int64(c.App.MaxReplicas))
	for _, q := range []struct {
		key, value string
		need       resource.Quantity
		what       string
	}{
		{"appNodesCpuLimit", n.App.CPU, cpuNeed, appCPURequest + " CPU"},
		{"appNodesMemoryLimit", n.App.Memory, memNeed, fmt.Sprintf("%dMi", c.App.MemoryMiB)},
		{"platformNodesCpuLimit", n.Platform.CPU, resource.MustParse("1"), ""},
		{"platformNodesMemoryLimit", n.Platform.Memory, resource.MustParse("1Gi"), ""},
	} {
		v, err := resource.ParseQuantity(q.value)
		switch {
		case err != nil:
			r.fail(q.key, "%q is not a Kubernetes quantity; accepted: a quantity such as 16 (CPUs) or 64Gi", q.value)
		case q.what != "" && v.Cmp(q.need) < 0:
			r.fail(q.key, "%s leaves no room for appMaxReplicas (%d) pods of %s; accepted: %s or more", q.value, c.App.MaxReplicas, q.what, q.need.String())
		case v.Cmp(q.need) < 0:
			r.fail(q.key, "%s is below %s; accepted: %s or more (the add-ons need a node)", q.value, q.need.String(), q.need.String())
		}
	}
	if err := eks.ValidateBudget(n.App.Budget); err != nil {
		r.fail("nodeDisruptionBudget", "%v", err)
	}
	if w := n.App.Window; w != nil {
		if err := w.Validate(); err != nil {
			r.fail("nodeMaintenanceWindow", "%q: %v", w.Start, err)
		}
	}
	for key, cats := range map[string][]string{"appInstanceCategories": n.App.Categories, "platformInstanceCategories": n.Platform.Categories} {
		if len(cats) == 0 {
			r.fail(key, "is empty; accepted: instance categories such as [c, m, r]")
		}
	}
	if err := eks.ValidateTags(c.Tags); err != nil {
		r.fail("tags", "%v", err)
	}
	// What remains is what Auto Mode and Karpenter accept (ranges, budgets, the window).
	if err := n.NodeClass.Validate(); err != nil {
		r.fail("nodeVolumeSize", "%v", err)
	}
	for pool, p := range map[string]eks.NodePoolConfig{eks.AppPool: n.App, eks.PlatformPool: n.Platform} {
		if err := p.Validate(); err != nil && len(r.problems) == 0 {
			r.problems = append(r.problems, fmt.Sprintf("NodePool %s: %v", pool, err))
		}
	}
	return n
}

// duration reads a Go duration such as "336h" or "30s" within [lo, hi].
func duration(r *reader, key string, lo, hi time.Duration) time.Duration {
	v := r.str(key)
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		r.fail(key, "%q is not a duration from %s to %s; accepted: a Go duration such as 5m or 336h", v, lo, hi)
	}
	return d
}
