package eks

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/example/flask-eks/internal/kube"
)

// Node control in EKS Auto Mode is two kinds of object: one NodeClass (eks.amazonaws.com/v1:
// where and how the EC2 instances run: subnets, security groups, node role, root volume, tags,
// network policy defaults) and NodePools (karpenter.sh/v1: which instances, how many, how
// they are disrupted). Auto Mode's NodePool is Karpenter's: "Some CRDs (nodepools.karpenter.sh
// and nodeclaims.karpenter.sh) are shared between EKS Auto Mode and Karpenter", and migrating
// to Auto Mode needs "Karpenter v1.1 or later"
// (https://docs.aws.amazon.com/eks/latest/userguide/auto-migrate-karpenter.html).
const (
	// NodeClassAPIVersion and NodeClassKind are Auto Mode's NodeClass
	// (https://docs.aws.amazon.com/eks/latest/userguide/create-node-class.html).
	NodeClassAPIVersion = "eks.amazonaws.com/v1"
	NodeClassKind       = "NodeClass"
	// NodePoolAPIVersion and NodePoolKind are Karpenter's NodePool
	// (https://docs.aws.amazon.com/eks/latest/userguide/create-node-pool.html).
	NodePoolAPIVersion = "karpenter.sh/v1"
	NodePoolKind       = "NodePool"
)

// The program's own NodePools: the app's, and the platform add-ons'. Their names differ from
// the built-in pools (general-purpose, system), which may run beside them.
const (
	AppPool      = "app"
	PlatformPool = "platform"
)

// Well-known labels of Auto Mode's nodes, from "EKS Auto Mode Supported Labels"
// (https://docs.aws.amazon.com/eks/latest/userguide/create-node-pool.html#auto-supported-labels).
const (
	LabelCapacityType       = "karpenter.sh/capacity-type"
	LabelArch               = "kubernetes.io/arch"
	LabelInstanceCategory   = "eks.amazonaws.com/instance-category"
	LabelInstanceGeneration = "eks.amazonaws.com/instance-generation"
	LabelInstanceSize       = "eks.amazonaws.com/instance-size"
	// LabelNodePool is the label Karpenter puts on every node it launches: the name of its
	// NodePool. A pod selects a pool with it.
	LabelNodePool = "karpenter.sh/nodepool"
)

// Capacity types (karpenter.sh/capacity-type: "Capacity types include spot, on-demand").
const (
	CapacitySpot     = "spot"
	CapacityOnDemand = "on-demand"
)

// Taint effects a pool may set.
const (
	NoSchedule = "NoSchedule"
	NoExecute  = "NoExecute"
)

// CriticalAddonsOnlyTaint is the taint of Auto Mode's built-in system pool: "This NodePool has
// a CriticalAddonsOnly taint. Many EKS addons, such as CoreDNS, tolerate this taint. Use this
// system node pool to segregate cluster-critical applications"
// (https://docs.aws.amazon.com/eks/latest/userguide/set-builtin-node-pools.html). The platform
// pool carries the same taint, so an add-on set up for the built-in system pool runs on it.
var CriticalAddonsOnlyTaint = Taint{Key: "CriticalAddonsOnly", Effect: NoSchedule}

// AppTaint keeps every pod that does not tolerate it off the app pool, which stays the app's
// alone.
var AppTaint = Taint{Key: "dedicated", Value: AppPool, Effect: NoSchedule}

// MaxNodeLifetime is the longest Auto Mode lets a node live: "EKS Auto Mode enforces a maximum
// lifetime of 21 days for those instances"
// (https://docs.aws.amazon.com/eks/latest/userguide/automode-learn-instances.html). An
// expireAfter beyond it would not hold.
const MaxNodeLifetime = 21 * 24 * time.Hour

// Taint is one taint of a NodePool's nodes (karpenter.sh/v1 spec.template.spec.taints).
type Taint struct {
	Key    string `json:"key"`
	Value  string `json:"value,omitempty"`
	Effect string `json:"effect"`
}

// Toleration is a pod's toleration as a chart's values take it (core/v1 Toleration).
type Toleration = kube.Toleration

// Placement is what a pod needs to run on a pool's nodes: a nodeSelector that picks the pool,
// and the tolerations of its taints. It is kube.Placement, the plain data the add-ons take, so
// that they need not import this package.
type Placement = kube.Placement

// DisruptionBudget is one karpenter.sh/v1 budget: at most Nodes (a count or a percentage) of
// the pool's nodes disrupted at once, for Reasons (all when empty), while Schedule (cron, UTC)
// and Duration are active (always when both are empty)
// (https://karpenter.sh/docs/concepts/disruption/#nodepool-disruption-budgets).
type DisruptionBudget struct {
	Nodes    string   `json:"nodes"`
	Schedule string   `json:"schedule,omitempty"`
	Duration string   `json:"duration,omitempty"`
	Reasons  []string `json:"reasons,omitempty"`
}

// MaintenanceWindow is when a pool may replace drifted nodes (a new Auto Mode AMI, a changed
// NodeClass) and consolidate running ones: Start is a cron time ("M H * * D", D a weekday 0-6,
// or "M H * * *" for every day), UTC, and the window lasts Duration. Outside it, a budget of
// zero blocks those two reasons; empty nodes may still go at any time. Expiry ignores
// budgets: a node still goes at its expireAfter (Karpenter v1's expiration is forceful).
type MaintenanceWindow struct {
	Start    string
	Duration time.Duration
}

// NodePoolConfig configures one NodePool.
type NodePoolConfig struct {
	// CapacityTypes are spot and/or on-demand. With both, Auto Mode launches Spot and falls
	// back to on-demand when Spot has no capacity.
	CapacityTypes []string
	// Categories are instance categories (c, m, r, ...); MinGeneration the oldest generation
	// allowed (5 matches the built-in pools' "generation 5 or newer"); Sizes, when set, the
	// instance sizes allowed (large, xlarge, ...).
	Categories    []string
	MinGeneration int
	Sizes         []string
	// Architectures are amd64 and/or arm64.
	Architectures []string
	// CPU and Memory cap the pool's total capacity (Kubernetes quantities, e.g. "16", "64Gi"):
	// a cost guard that stops scale-out at that size.
	CPU, Memory string
	// ConsolidationPolicy is WhenEmpty or WhenEmptyOrUnderutilized; ConsolidateAfter how long
	// a node must be consolidatable first.
	ConsolidationPolicy string
	ConsolidateAfter    time.Duration
	// ExpireAfter replaces nodes older than it (at most MaxNodeLifetime).
	ExpireAfter time.Duration
	// Budget is the share of nodes that may be disrupted at once ("10%", "1").
	Budget string
	// Window, when set, confines drift replacement and consolidation to a maintenance window.
	Window *MaintenanceWindow
}

// NodeClassConfig configures the NodeClass (fields of "Create a Node Class for Amazon EKS",
// https://docs.aws.amazon.com/eks/latest/userguide/create-node-class.html).
type NodeClassConfig struct {
	// Name names the NodeClass. It must not be "default", the built-in pools' NodeClass.
	Name string
	// EphemeralStorageSize, EphemeralStorageIOPS and EphemeralStorageThroughput size each
	// node's root volume (documented ranges: 1-59000Gi, 3000-16000 IOPS, 125-1000 MiB/s).
	EphemeralStorageSize       string
	EphemeralStorageIOPS       int
	EphemeralStorageThroughput int
	// NetworkPolicy is the default for pods no NetworkPolicy selects: DefaultAllow or
	// DefaultDeny. NetworkPolicyEventLogs turns on the network policy agent's decision logs.
	NetworkPolicy          string
	NetworkPolicyEventLogs bool
	// SNATPolicy is Random (pods reach outside the VPC through the node's address) or
	// Disabled (they keep their own, for egress through a NAT gateway that sees them).
	SNATPolicy string
}

// NodesArgs configures Nodes.
type NodesArgs struct {
	// Provider is the explicit Kubernetes provider of the target cluster.
	Provider *kubernetes.Provider
	// NodeClass configures the NodeClass; RoleName is the node IAM role its nodes run as,
	// SubnetIDs and SecurityGroupIDs where they run (selected by ID), KMSKeyArn the key that
	// encrypts their root volumes (empty: the account's aws/ebs key), Tags the tags Auto Mode
	// puts on the instances, their volumes and network interfaces.
	NodeClass        NodeClassConfig
	RoleName         pulumi.StringInput
	SubnetIDs        pulumi.StringArrayInput
	SecurityGroupIDs pulumi.StringArrayInput
	KMSKeyArn        pulumi.StringInput
	Tags             map[string]string
	// App and Platform configure the app's pool and the platform add-ons' pool.
	App, Platform NodePoolConfig
	// DependsOn must exist before the NodeClass: the node role's access entry, without which
	// nodes cannot join.
	DependsOn []pulumi.Resource
}

// Nodes is the cluster's node control: one NodeClass that carries the stack's network, node
// role, encrypted root volume and tags to every instance, and two NodePools on it, the app's
// (tainted, so it stays the app's) and the platform add-ons' (with the built-in system pool's
// CriticalAddonsOnly taint). It creates only Kubernetes objects, so it can be deployed to any
// API server that has the two CRDs (the integration test does).
type Nodes struct {
	pulumi.ResourceState

	NodeClassName pulumi.StringOutput `pulumi:"nodeClassName"`

	// NodeClass and the pools (App, Platform) are exposed for dependencies: workloads that
	// need nodes are created after them and deleted before them.
	NodeClass     *apiextensions.CustomResource
	App, Platform *apiextensions.CustomResource

	app, platform NodePoolConfig
}

// Resources lists the pools, which workloads wait for.
func (n *Nodes) Resources() []pulumi.Resource { return []pulumi.Resource{n.App, n.Platform} }

// AppPlacement puts a pod on the app pool.
func AppPlacement() Placement { return placement(AppPool, AppTaint) }

// PlatformPlacement puts a pod on the platform pool.
func PlatformPlacement() Placement { return placement(PlatformPool, CriticalAddonsOnlyTaint) }

// EveryNodeTolerations are the tolerations of a DaemonSet that must run on every node of
// every pool (log and metrics agents): one per taint of the program's pools.
func EveryNodeTolerations() []Toleration {
	return []Toleration{toleration(AppTaint), toleration(CriticalAddonsOnlyTaint)}
}

func placement(pool string, taint Taint) Placement {
	return Placement{NodeSelector: map[string]string{LabelNodePool: pool}, Tolerations: []Toleration{toleration(taint)}}
}

func toleration(t Taint) Toleration {
	if t.Value == "" {
		return Toleration{Key: t.Key, Operator: "Exists", Effect: t.Effect}
	}
	return Toleration{Key: t.Key, Operator: "Equal", Value: t.Value, Effect: t.Effect}
}

// NewNodes declares the NodeClass and the two NodePools.
func NewNodes(ctx *pulumi.Context, name string, args *NodesArgs, opts ...pulumi.ResourceOption) (*Nodes, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("eks nodes %q: %w", name, err)
	}
	n := &Nodes{app: args.App, platform: args.Platform}
	if err := ctx.RegisterComponentResource("flask-eks:eks:Nodes", name, n, opts...); err != nil {
		return nil, fmt.Errorf("registering eks nodes %q: %w", name, err)
	}
	k8s := []pulumi.ResourceOption{pulumi.Parent(n), pulumi.Provider(args.Provider)}

	nc, err := apiextensions.NewCustomResource(ctx, name+"-"+args.NodeClass.Name, &apiextensions.CustomResourceArgs{
		ApiVersion:  pulumi.String(NodeClassAPIVersion),
		Kind:        pulumi.String(NodeClassKind),
		Metadata:    &metav1.ObjectMetaArgs{Name: pulumi.String(args.NodeClass.Name)},
		OtherFields: kubernetes.UntypedArgs{"spec": nodeClassSpec(args)},
	}, slices.Concat(k8s, []pulumi.ResourceOption{pulumi.DependsOn(args.DependsOn)})...)
	if err != nil {
		return nil, fmt.Errorf("eks nodes %q: creating the NodeClass: %w", name, err)
	}
	n.NodeClass = nc
	// Read from the NodeClass, so every pool waits for it (and goes before it on delete).
	ncName := nc.Metadata.Name().Elem()
	pool := func(pool string, c NodePoolConfig, taint Taint) (*apiextensions.CustomResource, error) {
		p, err := apiextensions.NewCustomResource(ctx, name+"-"+pool, &apiextensions.CustomResourceArgs{
			ApiVersion:  pulumi.String(NodePoolAPIVersion),
			Kind:        pulumi.String(NodePoolKind),
			Metadata:    &metav1.ObjectMetaArgs{Name: pulumi.String(pool)},
			OtherFields: kubernetes.UntypedArgs{"spec": nodePoolSpec(c, ncName, taint)},
		}, k8s...)
		if err != nil {
			return nil, fmt.Errorf("eks nodes %q: creating NodePool %s: %w", name, pool, err)
		}
		return p, nil
	}
	if n.App, err = pool(AppPool, args.App, AppTaint); err != nil {
		return nil, err
	}
	if n.Platform, err = pool(PlatformPool, args.Platform, CriticalAddonsOnlyTaint); err != nil {
		return nil, err
	}

	n.NodeClassName = ncName
	if err := ctx.RegisterResourceOutputs(n, pulumi.Map{"nodeClassName": n.NodeClassName}); err != nil {
		return nil, fmt.Errorf("eks nodes %q: registering outputs: %w", name, err)
	}
	return n, nil
}

// nodeClassSpec is the NodeClass's spec. Subnets and security groups are selected by ID: the
// stack knows them, and a tag selector could pick up another stack's subnets in a shared VPC.
func nodeClassSpec(args *NodesArgs) pulumi.Map {
	c := args.NodeClass
	byID := func(ids pulumi.StringArrayInput) pulumi.ArrayOutput {
		return ids.ToStringArrayOutput().ApplyT(func(ids []string) []any {
			terms := make([]any, len(ids))
			for i, id := range ids {
				terms[i] = map[string]any{"id": id}
			}
			return terms
		}).(pulumi.ArrayOutput)
	}
	storage := pulumi.Map{
		"size":       pulumi.String(c.EphemeralStorageSize),
		"iops":       pulumi.Int(c.EphemeralStorageIOPS),
		"throughput": pulumi.Int(c.EphemeralStorageThroughput),
	}
	if args.KMSKeyArn != nil {
		storage["kmsKeyID"] = args.KMSKeyArn
	}
	return pulumi.Map{
		"role":                       args.RoleName,
		"subnetSelectorTerms":        byID(args.SubnetIDs),
		"securityGroupSelectorTerms": byID(args.SecurityGroupIDs),
		"snatPolicy":                 pulumi.String(c.SNATPolicy),
		"networkPolicy":              pulumi.String(c.NetworkPolicy),
		"networkPolicyEventLogs":     pulumi.String(enabled(c.NetworkPolicyEventLogs)),
		"ephemeralStorage":           storage,
		// The subnets are private; an explicit false keeps nodes off public addresses even in
		// a subnet that maps them on launch.
		"advancedNetworking": pulumi.Map{"associatePublicIPAddress": pulumi.Bool(false)},
		"tags":               pulumi.ToStringMap(args.Tags),
	}
}

func enabled(b bool) string {
	if b {
		return "Enabled"
	}
	return "Disabled"
}

// nodePoolSpec is a NodePool's spec (karpenter.sh/v1).
func nodePoolSpec(c NodePoolConfig, nodeClass pulumi.StringInput, taint Taint) pulumi.Map {
	req := func(key, op string, values ...string) pulumi.Map {
		return pulumi.Map{"key": pulumi.String(key), "operator": pulumi.String(op), "values": pulumi.ToStringArray(values)}
	}
	requirements := pulumi.Array{
		req(LabelCapacityType, "In", c.CapacityTypes...),
		req(LabelArch, "In", c.Architectures...),
		req(LabelInstanceCategory, "In", c.Categories...),
		// Gt is strict: generation MinGeneration or newer.
		req(LabelInstanceGeneration, "Gt", strconv.Itoa(c.MinGeneration-1)),
	}
	if len(c.Sizes) > 0 {
		requirements = append(requirements, req(LabelInstanceSize, "In", c.Sizes...))
	}
	t := pulumi.Map{"key": pulumi.String(taint.Key), "effect": pulumi.String(taint.Effect)}
	if taint.Value != "" {
		t["value"] = pulumi.String(taint.Value)
	}
	budgets := pulumi.Array{}
	for _, b := range c.budgets() {
		m := pulumi.Map{"nodes": pulumi.String(b.Nodes)}
		if b.Schedule != "" {
			m["schedule"], m["duration"] = pulumi.String(b.Schedule), pulumi.String(b.Duration)
		}
		if len(b.Reasons) > 0 {
			m["reasons"] = pulumi.ToStringArray(b.Reasons)
		}
		budgets = append(budgets, m)
	}
	return pulumi.Map{
		"template": pulumi.Map{"spec": pulumi.Map{
			"nodeClassRef": pulumi.Map{
				"group": pulumi.String(strings.Split(NodeClassAPIVersion, "/")[0]),
				"kind":  pulumi.String(NodeClassKind),
				"name":  nodeClass,
			},
			"requirements": requirements,
			"taints":       pulumi.Array{t},
			"expireAfter":  pulumi.String(karpenterDuration(c.ExpireAfter)),
		}},
		"limits": pulumi.Map{"cpu": pulumi.String(c.CPU), "memory": pulumi.String(c.Memory)},
		"disruption": pulumi.Map{
			"consolidationPolicy": pulumi.String(c.ConsolidationPolicy),
			"consolidateAfter":    pulumi.String(karpenterDuration(c.ConsolidateAfter)),
			"budgets":             budgets,
		},
	}
}

// budgets are the pool's disruption budgets: Budget at any time, and, with a maintenance
// window, none for drift and consolidation from the window's end to its next start.
func (c NodePoolConfig) budgets() []DisruptionBudget {
	out := []DisruptionBudget{{Nodes: c.Budget}}
	if c.Window != nil {
		closed, length, err := c.Window.complement()
		if err == nil { // validate has refused the window otherwise
			out = append(out, DisruptionBudget{Nodes: "0", Schedule: closed, Duration: karpenterDuration(length),
				Reasons: []string{"Drifted", "Underutilized"}})
		}
	}
	return out
}

// windowStart is the cron form a MaintenanceWindow's Start takes.
var windowStart = regexp.MustCompile(`^([0-9]{1,2}) ([0-9]{1,2}) \* \* ([0-6*])$`)

// complement is the cron start and length of the time outside the window, until it next opens.
func (w MaintenanceWindow) complement() (string, time.Duration, error) {
	m := windowStart.FindStringSubmatch(w.Start)
	if m == nil {
		return "", 0, fmt.Errorf("start %q: accepted \"M H * * D\" (D a weekday 0-6) or \"M H * * *\"", w.Start)
	}
	minute, _ := strconv.Atoi(m[1])
	hour, _ := strconv.Atoi(m[2])
	period := 24 * time.Hour
	if m[3] != "*" {
		period = 7 * 24 * time.Hour
	}
	switch {
	case minute > 59 || hour > 23:
		return "", 0, fmt.Errorf("start %q: minute 0-59, hour 0-23", w.Start)
	case w.Duration < time.Hour || w.Duration >= period || w.Duration%time.Minute != 0:
		return "", 0, fmt.Errorf("duration %s: accepted whole minutes from 1h to less than %s", w.Duration, period)
	}
	end := time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute + w.Duration
	if m[3] != "*" {
		day, _ := strconv.Atoi(m[3])
		end += time.Duration(day) * 24 * time.Hour
		end %= period
		return fmt.Sprintf("%d %d * * %d", int(end.Minutes())%60, int(end.Hours())%24, int(end.Hours())/24), period - w.Duration, nil
	}
	end %= period
	return fmt.Sprintf("%d %d * * *", int(end.Minutes())%60, int(end.Hours())), period - w.Duration, nil
}

// karpenterDuration writes a duration the way Karpenter's schema takes it (hours and minutes,
// e.g. "336h", "1h30m", "30s").
func karpenterDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		if d > time.Hour {
			return fmt.Sprintf("%dh%dm", d/time.Hour, (d%time.Hour)/time.Minute)
		}
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

func (a *NodesArgs) validate() error {
	switch {
	case a == nil || a.Provider == nil:
		return fmt.Errorf("an explicit Kubernetes provider is required")
	case a.RoleName == nil || a.SubnetIDs == nil || a.SecurityGroupIDs == nil:
		return fmt.Errorf("the node role, subnets and security groups are required")
	}
	if err := a.NodeClass.Validate(); err != nil {
		return err
	}
	if err := ValidateTags(a.Tags); err != nil {
		return err
	}
	if err := a.App.Validate(); err != nil {
		return fmt.Errorf("NodePool %s: %w", AppPool, err)
	}
	if err := a.Platform.Validate(); err != nil {
		return fmt.Errorf("NodePool %s: %w", PlatformPool, err)
	}
	return nil
}

// Validate checks a NodeClass configuration against the documented fields and ranges.
func (c NodeClassConfig) Validate() error {
	size, err := resource.ParseQuantity(c.EphemeralStorageSize)
	switch {
	case c.Name == "" || c.Name == "default":
		return fmt.Errorf("NodeClass name %q: accepted any name but \"default\" (the built-in pools' NodeClass)", c.Name)
	case err != nil || size.Cmp(resource.MustParse("1Gi")) < 0 || size.Cmp(resource.MustParse("59000Gi")) > 0:
		return fmt.Errorf("ephemeral storage size %q: accepted 1Gi to 59000Gi", c.EphemeralStorageSize)
	case c.EphemeralStorageIOPS < 3000 || c.EphemeralStorageIOPS > 16000:
		return fmt.Errorf("ephemeral storage IOPS %d: accepted 3000 to 16000", c.EphemeralStorageIOPS)
	case c.EphemeralStorageThroughput < 125 || c.EphemeralStorageThroughput > 1000:
		return fmt.Errorf("ephemeral storage throughput %d: accepted 125 to 1000 (MiB/s)", c.EphemeralStorageThroughput)
	case c.NetworkPolicy != "DefaultAllow" && c.NetworkPolicy != "DefaultDeny":
		return fmt.Errorf("network policy default %q: accepted DefaultAllow or DefaultDeny", c.NetworkPolicy)
	case c.SNATPolicy != "Random" && c.SNATPolicy != "Disabled":
		return fmt.Errorf("SNAT policy %q: accepted Random or Disabled", c.SNATPolicy)
	}
	return nil
}

// Validate checks a pool's configuration: known capacity types and architectures, parseable
// limits, and durations and budgets that Karpenter and Auto Mode accept.
func (c NodePoolConfig) Validate() error {
	for _, ct := range c.CapacityTypes {
		if ct != CapacitySpot && ct != CapacityOnDemand {
			return fmt.Errorf("capacity type %q: accepted spot or on-demand", ct)
		}
	}
	for _, a := range c.Architectures {
		if a != "amd64" && a != "arm64" {
			return fmt.Errorf("architecture %q: accepted amd64 or arm64", a)
		}
	}
	for _, q := range []struct{ name, v string }{{"CPU", c.CPU}, {"memory", c.Memory}} {
		if v, err := resource.ParseQuantity(q.v); err != nil || v.Sign() <= 0 {
			return fmt.Errorf("%s limit %q: accepted a positive Kubernetes quantity", q.name, q.v)
		}
	}
	switch {
	case len(c.CapacityTypes) == 0 || len(c.Architectures) == 0 || len(c.Categories) == 0:
		return fmt.Errorf("capacity types, architectures and instance categories are required")
	case c.MinGeneration < 1:
		return fmt.Errorf("minimum instance generation %d: accepted 1 or more", c.MinGeneration)
	case c.ConsolidationPolicy != "WhenEmpty" && c.ConsolidationPolicy != "WhenEmptyOrUnderutilized":
		return fmt.Errorf("consolidation policy %q: accepted WhenEmpty or WhenEmptyOrUnderutilized", c.ConsolidationPolicy)
	case c.ConsolidateAfter < 0 || c.ConsolidateAfter%time.Second != 0:
		return fmt.Errorf("consolidateAfter %s: accepted whole seconds", c.ConsolidateAfter)
	case c.ExpireAfter < time.Hour || c.ExpireAfter > MaxNodeLifetime || c.ExpireAfter%time.Minute != 0:
		return fmt.Errorf("expireAfter %s: accepted whole minutes from 1h to %s (Auto Mode's maximum node lifetime, 21 days)", c.ExpireAfter, MaxNodeLifetime)
	}
	if err := ValidateBudget(c.Budget); err != nil {
		return err
	}
	if c.Window != nil {
		if err := c.Window.Validate(); err != nil {
			return fmt.Errorf("maintenance window: %w", err)
		}
	}
	return nil
}

// ValidateBudget checks a disruption budget's nodes value against karpenter.sh/v1's pattern.
func ValidateBudget(nodes string) error {
	if !budgetNodes.MatchString(nodes) {
		return fmt.Errorf("disruption budget %q: accepted a node count or a percentage such as 10%%", nodes)
	}
	return nil
}

// Validate checks that the window has a start this package can turn into a budget schedule.
func (w MaintenanceWindow) Validate() error {
	_, _, err := w.complement()
	return err
}

// budgetNodes is the pattern of karpenter.sh/v1's budget nodes field.
var budgetNodes = regexp.MustCompile(`^((100|[0-9]{1,2})%|[0-9]+)$`)

// restrictedTagPrefixes are the NodeClass tag keys Auto Mode refuses ("Cannot use restricted
// tags like: kubernetes.io/cluster/*, karpenter.sh/provisioner-name, karpenter.sh/nodepool,
// karpenter.sh/nodeclaim, karpenter.sh/managed-by, eks.amazonaws.com/nodeclass",
// https://docs.aws.amazon.com/eks/latest/userguide/create-node-class.html), and the EBS CSI
// driver's own volume tags (https://github.com/kubernetes-sigs/aws-ebs-csi-driver/blob/master/docs/tagging.md).
var restrictedTagPrefixes = []string{
	"kubernetes.io/cluster/", "karpenter.sh/", "eks.amazonaws.com/nodeclass",
	"CSIVolumeName", "CSIVolumeSnapshotName", "ebs.csi.aws.com/",
}

// ValidateTags checks the stack's tags for the places Auto Mode copies them to: NodeClass tags
// (restricted keys), StorageClass tagSpecification parameters ("key=value", the value a Go
// template, so no "=" in the key and no "{{" in the value) and IngressClassParams tags.
func ValidateTags(tags map[string]string) error {
	for k, v := range tags {
		switch {
		case k == "" || strings.Contains(k, "="):
			return fmt.Errorf("tag key %q: accepted a non-empty key without \"=\" (StorageClass tags are key=value)", k)
		case strings.Contains(v, "{{"):
			return fmt.Errorf("tag %s value %q: accepted a value without \"{{\" (the EBS driver reads it as a template)", k, v)
		case slices.ContainsFunc(restrictedTagPrefixes, func(p string) bool { return strings.HasPrefix(k, p) }):
			return fmt.Errorf("tag key %q: reserved by Auto Mode or the EBS driver (%s)", k, strings.Join(restrictedTagPrefixes, ", "))
		}
	}
	return nil
}
