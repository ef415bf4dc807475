package estimate

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// The capacity model: what the pods' requests imply in Auto Mode nodes.
//
// Auto Mode (Karpenter) launches nodes for pending pods and sizes them by the pods' requests
// (https://docs.aws.amazon.com/eks/latest/userguide/automode.html). The model:
//
//   - reads each chart's pods from its values: replicas × requests, DaemonSets once per node,
//     the chart's own defaults where the values say nothing (chartWorkloads, with the tag read);
//     a pod without requests takes no room, as for the scheduler;
//   - packs them, NodePool by NodePool (the one a workload's nodeSelector names, else Auto
//     Mode's built-in general-purpose pool), onto nodes of one instance type
//     (Usage.InstanceType) whose allocatable is the
//     capacity less Karpenter's VM overhead (7.5% of memory, its vmMemoryOverheadPercent
//     default: https://karpenter.sh/docs/reference/settings/) and the EKS AMIs' kube-reserved
//     (memory 255 MiB + 11 MiB per pod of MaxPods; CPU 6% of the first core, 1% of the second,
//     0.5% of the next two, 0.25% above: https://github.com/awslabs/amazon-eks-ami, the
//     formula Karpenter also applies) and the kubelet's 100 MiB eviction threshold;
//   - takes at least one node per zone for charts that spread across zones (Karpenter treats a
//     ScheduleAnyway spread as a requirement while it can meet it:
//     https://github.com/kubernetes-sigs/karpenter/discussions/2849), and one node per replica
//     for a required anti-affinity on the host name.
//
// Pods are placed first fit by decreasing size. The result is the steady state after
// consolidation, with no headroom: real clusters run a little above it while pods roll.

// workload is one set of pods a chart runs.
type workload struct {
	name string
	// requests is the path of the pods' requests map ({cpu, memory}) in the values.
	requests string
	// replicas is the path of the replica count; defaultReplicas applies when it is absent.
	replicas        string
	defaultReplicas float64
	// perNode marks a DaemonSet; perNodeWhen, if set, is "path=value" that makes it one.
	perNode     bool
	perNodeWhen string
	// enabled is the path of a boolean that turns the workload on; absent means on.
	enabled string
	// zoneSpread: the chart spreads these pods across zones.
	zoneSpread bool
	// hostAntiAffinity is the path whose presence means one node per replica.
	hostAntiAffinity string
	// nodeSelector is the path of the pods' nodeSelector, whose karpenter.sh/nodepool names
	// the NodePool they run on (the program places every pod but a DaemonSet's on its app or
	// platform pool); a pod that selects none runs on the built-in general-purpose pool.
	nodeSelector string
}

// chartRule lists a chart's workloads and where its defaults were read.
type chartRule struct {
	source    string
	workloads []workload
}

// chartWorkloads maps a chart (its repository name, or a local chart's path) to its pods.
var chartWorkloads = map[string]chartRule{
	"./app/chart": {"app/chart/values.yaml in this repository (replicaCount, resources; topologySpread.enabled true)", []workload{
		{name: "app", requests: "resources.requests", replicas: "replicaCount", defaultReplicas: 1, zoneSpread: true, nodeSelector: "nodeSelector"},
	}},
	"kube-prometheus-stack": {"charts/kube-prometheus-stack/values.yaml at tag kube-prometheus-stack-88.5.3 (prometheusSpec.replicas, alertmanagerSpec.replicas 1; prometheusOperator.resources, kube-state-metrics 8.4.0 and prometheus-node-exporter 4.56.1 resources {}: no requests)", []workload{
		{name: "prometheus", requests: "prometheus.prometheusSpec.resources.requests", replicas: "prometheus.prometheusSpec.replicas", defaultReplicas: 1, nodeSelector: "prometheus.prometheusSpec.nodeSelector"},
		{name: "alertmanager", requests: "alertmanager.alertmanagerSpec.resources.requests", replicas: "alertmanager.alertmanagerSpec.replicas", defaultReplicas: 1, enabled: "alertmanager.enabled", nodeSelector: "alertmanager.alertmanagerSpec.nodeSelector"},
		{name: "grafana", requests: "grafana.resources.requests", replicas: "grafana.replicas", defaultReplicas: 1, enabled: "grafana.enabled", nodeSelector: "grafana.nodeSelector"},
		{name: "prometheus-operator", requests: "prometheusOperator.resources.requests", defaultReplicas: 1, nodeSelector: "prometheusOperator.nodeSelector"},
		{name: "kube-state-metrics", requests: "kube-state-metrics.resources.requests", replicas: "kube-state-metrics.replicas", defaultReplicas: 1, nodeSelector: "kube-state-metrics.nodeSelector"},
		{name: "node-exporter", requests: "prometheus-node-exporter.resources.requests", perNode: true, enabled: "nodeExporter.enabled"},
	}},
	"loki": {"the values set singleBinary.replicas and resources (chart loki 18.11.0)", []workload{
		{name: "loki", requests: "singleBinary.resources.requests", replicas: "singleBinary.replicas", defaultReplicas: 1, nodeSelector: "singleBinary.nodeSelector"},
	}},
	"alloy": {"the values set controller.type daemonset and alloy.resources (chart alloy 1.11.1)", []workload{
		{name: "alloy", requests: "alloy.resources.requests", defaultReplicas: 1, perNodeWhen: "controller.type=daemonset"},
	}},
	"metrics-server": {"the values set replicas, resources and a required anti-affinity on kubernetes.io/hostname (chart metrics-server 3.13.1)", []workload{
		{name: "metrics-server", requests: "resources.requests", replicas: "replicas", defaultReplicas: 1, hostAntiAffinity: "affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution", nodeSelector: "nodeSelector"},
	}},
	"external-dns": {"charts/external-dns/templates/deployment.yaml at tag external-dns-helm-chart-1.21.1: replicas: 1", []workload{
		{name: "external-dns", requests: "resources.requests", defaultReplicas: 1, nodeSelector: "nodeSelector"},
	}},
	"external-secrets": {"deploy/charts/external-secrets/values.yaml at tag helm-chart-2.9.0: replicaCount, webhook.replicaCount, certController.replicaCount 1", []workload{
		{name: "external-secrets", requests: "resources.requests", replicas: "replicaCount", defaultReplicas: 1, nodeSelector: "nodeSelector"},
		{name: "external-secrets-webhook", requests: "webhook.resources.requests", replicas: "webhook.replicaCount", defaultReplicas: 1, nodeSelector: "webhook.nodeSelector"},
		{name: "external-secrets-cert-controller", requests: "certController.resources.requests", replicas: "certController.replicaCount", defaultReplicas: 1, nodeSelector: "certController.nodeSelector"},
	}},
	"reloader": {"the values set reloader.deployment.replicas and resources (chart reloader 2.2.16)", []workload{
		{name: "reloader", requests: "reloader.deployment.resources.requests", replicas: "reloader.deployment.replicas", defaultReplicas: 1, nodeSelector: "reloader.deployment.nodeSelector"},
	}},
	"keda": {"the values set operator, metricsServer and webhooks replicaCount and resources (chart keda 2.20.2)", []workload{
		{name: "keda-operator", requests: "resources.operator.requests", replicas: "operator.replicaCount", defaultReplicas: 1, nodeSelector: "nodeSelector"},
		{name: "keda-metrics-apiserver", requests: "resources.metricServer.requests", replicas: "metricsServer.replicaCount", defaultReplicas: 1, nodeSelector: "nodeSelector"},
		{name: "keda-admission-webhooks", requests: "resources.webhooks.requests", replicas: "webhooks.replicaCount", defaultReplicas: 1, nodeSelector: "nodeSelector"},
	}},
}

// pods is what a chart asks of the cluster.
type pods struct {
	chart, name   string
	cpu, memMiB   float64 // per pod
	count         float64 // pods, or 1 per node for a DaemonSet
	perNode       bool
	minNodes      float64
	zoneSpreading bool
	// pool is the NodePool the pods run on.
	pool string
}

// defaultPool is Auto Mode's built-in NodePool for pods that select none.
const defaultPool = "general-purpose"

// podsOf reads a release's or chart's workloads from its values.
func podsOf(n *Node) ([]pods, error) {
	chart := chartName(n)
	rule, ok := chartWorkloads[chart]
	if !ok {
		return nil, fmt.Errorf("%s installs chart %q, which the capacity model does not know: add its pods to chartWorkloads in internal/estimate/capacity.go", label(n), chart)
	}
	values, _ := n.Inputs["values"].(map[string]any)
	var out []pods
	for _, w := range rule.workloads {
		if w.enabled != "" {
			if on, ok := lookupAs[bool](values, w.enabled); ok && !on {
				continue
			}
		}
		p := pods{chart: chart, name: w.name, count: w.defaultReplicas, perNode: w.perNode}
		if w.replicas != "" {
			if r, ok := number(values, w.replicas); ok {
				p.count = r
			}
		}
		if w.perNodeWhen != "" {
			path, want, _ := strings.Cut(w.perNodeWhen, "=")
			p.perNode = str(values, path) == want
		}
		if req, ok := lookup(values, w.requests); ok {
			if v, ok := lookup(req, "cpu"); ok {
				q, err := quantity(v)
				if err != nil {
					return nil, fmt.Errorf("%s %s: cpu request: %w", label(n), w.name, err)
				}
				p.cpu = float64(q.MilliValue()) / 1000
			}
			if v, ok := lookup(req, "memory"); ok {
				q, err := quantity(v)
				if err != nil {
					return nil, fmt.Errorf("%s %s: memory request: %w", label(n), w.name, err)
				}
				p.memMiB = float64(q.Value()) / (1 << 20)
			}
		}
		if w.hostAntiAffinity != "" {
			if _, ok := lookup(values, w.hostAntiAffinity); ok {
				p.minNodes = p.count
			}
		}
		p.zoneSpreading = w.zoneSpread
		p.pool = defaultPool
		if w.nodeSelector != "" {
			if sel, ok := lookupAs[map[string]any](values, w.nodeSelector); ok {
				if pool, ok := sel["karpenter.sh/nodepool"].(string); ok && pool != "" {
					p.pool = pool
				}
			}
		}
		if p.count > 0 || p.perNode {
			out = append(out, p)
		}
	}
	return out, nil
}

// allocatable is what one node of the type offers the pods.
func allocatable(in Instance) (cpu, memMiB float64) {
	reservedCPU := 0.0
	for core := 1.0; core <= in.VCPU; core++ {
		switch {
		case core == 1:
			reservedCPU += 0.06
		case core == 2:
			reservedCPU += 0.01
		case core <= 4:
			reservedCPU += 0.005
		default:
			reservedCPU += 0.0025
		}
	}
	mem := in.MemoryMiB*(1-0.075) - (255 + 11*in.MaxPods) - 100
	return in.VCPU - reservedCPU, mem
}

// Capacity is the modeled node count of one NodePool and what it rests on.
type Capacity struct {
	Pool string `json:"pool"`
	// Spot: the pool allows Spot capacity, which Karpenter launches as the cheaper.
	Spot      bool    `json:"spot"`
	Nodes     int     `json:"nodes"`
	Instance  string  `json:"instance"`
	CPU       float64 `json:"cpuRequested"`
	MemoryMiB float64 `json:"memoryMiBRequested"`
	Pods      float64 `json:"pods"`
	// Bound says what set the count: cpu, memory, pods, zones or anti-affinity.
	Bound string `json:"bound"`
}

// capacities packs the graph's pods onto nodes of the instance type, pool by pool, first fit by
// decreasing size, adding nodes until every pod has a place. DaemonSets run on every node of
// every pool. zones is the number of availability zones the nodes can use.
func capacities(g *graph, instance string, zones int) ([]Capacity, error) {
	in, ok := instances[instance]
	if !ok {
		return nil, fmt.Errorf("instance type %q is not modeled; accepted: %s", instance, strings.Join(instanceTypes(), ", "))
	}
	var all []pods
	for _, typ := range []string{typeRelease, typeChart} {
		for _, n := range g.ofType(typ) {
			p, err := podsOf(n)
			if err != nil {
				return nil, err
			}
			all = append(all, p...)
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].chart+all[i].name < all[j].chart+all[j].name })
	spot := spotPools(g)
	byPool := map[string][]pods{}
	var pools []string
	var ds []pods
	for _, p := range all {
		if p.perNode {
			ds = append(ds, p)
			continue
		}
		if _, ok := byPool[p.pool]; !ok {
			pools = append(pools, p.pool)
		}
		byPool[p.pool] = append(byPool[p.pool], p)
	}
	sort.Strings(pools)
	var out []Capacity
	for _, pool := range pools {
		c, err := packPool(append(byPool[pool], ds...), in, instance, zones)
		if err != nil {
			return nil, fmt.Errorf("NodePool %s: %w", pool, err)
		}
		c.Pool, c.Spot = pool, spot[pool]
		out = append(out, c)
	}
	return out, nil
}

// spotPools are the graph's NodePools (by name) that allow Spot. Auto Mode's built-in pools are
// on-demand only (https://docs.aws.amazon.com/eks/latest/userguide/set-builtin-node-pools.html).
func spotPools(g *graph) map[string]bool {
	out := map[string]bool{}
	for _, np := range g.ofType(typeNodePool) {
		reqs, _ := lookupAs[[]any](np.Inputs, "spec.template.spec.requirements")
		for _, r := range reqs {
			if str(r, "key") != "karpenter.sh/capacity-type" || str(r, "operator") != "In" {
				continue
			}
			vals, _ := lookupAs[[]any](r, "values")
			for _, v := range vals {
				if v == "spot" {
					out[str(np.Inputs, "metadata.name")] = true
				}
			}
		}
	}
	return out
}

// packPool packs one pool's pods (DaemonSets among them) onto nodes of one instance type.
func packPool(all []pods, in Instance, instance string, zones int) (Capacity, error) {
	cpu, mem := allocatable(in)
	var ds pod
	var units []pod
	minNodes, bound := 1, "one node"
	for _, p := range all {
		if p.perNode {
			ds.cpu, ds.memMiB, ds.pods = ds.cpu+p.cpu, ds.memMiB+p.memMiB, ds.pods+1
			continue
		}
		for i := 0; i < int(p.count); i++ {
			u := pod{name: p.name, cpu: p.cpu, memMiB: p.memMiB, pods: 1}
			if p.minNodes > 0 {
				u.apart = p.name
			}
			units = append(units, u)
		}
		if int(p.minNodes) > minNodes {
			minNodes, bound = int(p.minNodes), "anti-affinity ("+p.name+")"
		}
		if z := int(math.Min(p.count, float64(zones))); p.zoneSpreading && z > minNodes {
			minNodes, bound = z, "zone spread ("+p.name+")"
		}
	}
	for _, u := range units {
		if u.cpu+ds.cpu > cpu || u.memMiB+ds.memMiB > mem {
			return Capacity{}, fmt.Errorf("a %s pod (%.2f CPU, %.0f MiB) does not fit on a %s (%.2f CPU, %.0f MiB allocatable)", u.name, u.cpu, u.memMiB, instance, cpu, mem)
		}
	}
	size := func(u pod) float64 { return math.Max(u.cpu/cpu, u.memMiB/mem) }
	sort.SliceStable(units, func(i, j int) bool { return size(units[i]) > size(units[j]) })
	n := minNodes
	for {
		short := place(units, n, ds, pod{cpu: cpu, memMiB: mem, pods: in.MaxPods})
		if short == "" {
			break
		}
		n, bound = n+1, short
	}
	total := ds.scaled(float64(n))
	for _, u := range units {
		total.cpu, total.memMiB, total.pods = total.cpu+u.cpu, total.memMiB+u.memMiB, total.pods+1
	}
	return Capacity{Nodes: n, Instance: instance, CPU: round(total.cpu, 3), MemoryMiB: round(total.memMiB, 0), Pods: total.pods, Bound: bound}, nil
}

// pod is one pod to place, or a node's room.
type pod struct {
	name        string
	cpu, memMiB float64
	pods        float64
	// apart names a workload whose pods may not share a node.
	apart string
}

func (p pod) scaled(n float64) pod {
	return pod{cpu: p.cpu * n, memMiB: p.memMiB * n, pods: p.pods * n}
}

// place tries the pods on n nodes that each start with the DaemonSets' pods; it returns "" when
// all fit, else what the first pod without a place lacked.
func place(units []pod, n int, ds, room pod) string {
	type node struct {
		used  pod
		apart map[string]bool
	}
	nodes := make([]node, n)
	for i := range nodes {
		nodes[i] = node{used: ds, apart: map[string]bool{}}
	}
	for _, u := range units {
		placed, lack := false, ""
		for i := range nodes {
			nd := &nodes[i]
			switch {
			case u.apart != "" && nd.apart[u.apart]:
				lack = "anti-affinity (" + u.name + ")"
			case nd.used.cpu+u.cpu > room.cpu:
				lack = "cpu"
			case nd.used.memMiB+u.memMiB > room.memMiB:
				lack = "memory"
			case nd.used.pods+1 > room.pods:
				lack = "pods per node"
			default:
				nd.used.cpu, nd.used.memMiB, nd.used.pods = nd.used.cpu+u.cpu, nd.used.memMiB+u.memMiB, nd.used.pods+1
				if u.apart != "" {
					nd.apart[u.apart] = true
				}
				placed = true
			}
			if placed {
				break
			}
		}
		if !placed {
			return lack
		}
	}
	return ""
}

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}
