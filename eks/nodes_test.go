package eks

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
	kjson "sigs.k8s.io/json"

	"github.com/example/flask-eks/internal/crdschema"
	"github.com/example/flask-eks/internal/pulumitest"
)

const (
	nodeClassType   = "kubernetes:eks.amazonaws.com/v1:NodeClass"
	nodePoolType    = "kubernetes:karpenter.sh/v1:NodePool"
	ingressParams   = "kubernetes:eks.amazonaws.com/v1:IngressClassParams"
	storageClass    = "kubernetes:storage.k8s.io/v1:StorageClass"
	rolePolicyType  = "aws:iam/rolePolicy:RolePolicy"
	kmsKeyType      = "aws:kms/key:Key"
	accessEntryType = "aws:eks/accessEntry:AccessEntry"
	associationType = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
)

func testNodeClass() NodeClassConfig {
	return NodeClassConfig{
		Name: "flask-eks-test", EphemeralStorageSize: "80Gi", EphemeralStorageIOPS: 3000, EphemeralStorageThroughput: 125,
		NetworkPolicy: "DefaultAllow", NetworkPolicyEventLogs: true, SNATPolicy: "Random",
	}
}

func testAppPool() NodePoolConfig {
	return NodePoolConfig{
		CapacityTypes: []string{CapacitySpot, CapacityOnDemand}, Categories: []string{"c", "m", "r"}, MinGeneration: 5,
		Architectures: []string{"amd64"}, CPU: "8", Memory: "32Gi",
		ConsolidationPolicy: "WhenEmptyOrUnderutilized", ConsolidateAfter: time.Minute, ExpireAfter: 336 * time.Hour, Budget: "10%",
	}
}

func testPlatformPool() NodePoolConfig {
	return NodePoolConfig{
		CapacityTypes: []string{CapacityOnDemand}, Categories: []string{"c", "m", "r"}, MinGeneration: 5,
		Sizes: []string{"large", "xlarge"}, Architectures: []string{"amd64"}, CPU: "8", Memory: "32Gi",
		ConsolidationPolicy: "WhenEmptyOrUnderutilized", ConsolidateAfter: 5 * time.Minute, ExpireAfter: 336 * time.Hour, Budget: "1",
		Window: &MaintenanceWindow{Start: "0 2 * * 0", Duration: 4 * time.Hour},
	}
}

// karpenterPool is the part of a recorded NodePool the tests read.
type karpenterPool struct {
	Spec struct {
		Template struct {
			Spec struct {
				NodeClassRef struct{ Group, Kind, Name string }
				Requirements []struct {
					Key, Operator string
					Values        []string
				}
				Taints      []Taint
				ExpireAfter string
			}
		}
		Limits     map[string]string
		Disruption struct {
			ConsolidationPolicy, ConsolidateAfter string
			Budgets                               []DisruptionBudget
		}
	}
}

func (p karpenterPool) requirement(key string) (string, []string) {
	for _, r := range p.Spec.Template.Spec.Requirements {
		if r.Key == key {
			return r.Operator, r.Values
		}
	}
	return "", nil
}

func pools(t *testing.T, m *pulumitest.Mocks) map[string]karpenterPool {
	t.Helper()
	out := map[string]karpenterPool{}
	for _, n := range m.ByType(nodePoolType) {
		var p karpenterPool
		b, _ := json.Marshal(n.Inputs)
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		out[n.Inputs["metadata"].(map[string]any)["name"].(string)] = p
	}
	return out
}

// nodeClass decodes the recorded NodeClass into the documented fields the way the API server
// decodes strictly: field names match case-sensitively (encoding/json would take "kmsKeyId"
// for kmsKeyID), and unknown and duplicate fields are errors.
func nodeClass(t *testing.T, m *pulumitest.Mocks) documentedNodeClass {
	t.Helper()
	b, err := json.Marshal(m.Only(t, nodeClassType).Inputs)
	if err != nil {
		t.Fatal(err)
	}
	var nc documentedNodeClass
	strict, err := kjson.UnmarshalStrict(b, &nc)
	if err != nil || len(strict) > 0 {
		t.Fatalf("the NodeClass does not decode strictly into the documented fields: %v %v\n%s", err, strict, b)
	}
	return nc
}

// TestNodeClass: the NodeClass, decoded strictly into the documented fields, puts nodes in
// the cluster's private subnets with its security group, as the NodeClass's role, on a root
// volume encrypted with the stack's key, and tags them with the stack's tags.
func TestNodeClass(t *testing.T) {
	r := mustRunCluster(t, nil)
	nc := nodeClass(t, r.m)
	if nc.APIVersion != NodeClassAPIVersion || nc.Kind != NodeClassKind || nc.Metadata.Name != "flask-eks-test" {
		t.Errorf("NodeClass %s %s %q", nc.APIVersion, nc.Kind, nc.Metadata.Name)
	}
	s := nc.Spec
	var subnets []string
	for _, term := range s.SubnetSelectorTerms {
		subnets = append(subnets, term.ID)
	}
	if want := []string{"subnet-0a1b2c3d4e5f60718", "subnet-0a1b2c3d4e5f60719", "subnet-0a1b2c3d4e5f6071a"}; !slices.Equal(subnets, want) {
		t.Errorf("subnets %v, want the cluster's private subnets %v", subnets, want)
	}
	// The cluster security group, which pulumi-eks returns as clusterSecurityGroupId.
	if len(s.SecurityGroupSelectorTerms) != 1 || !strings.HasPrefix(s.SecurityGroupSelectorTerms[0].ID, "sg-") {
		t.Errorf("security groups %v, want the cluster security group alone", s.SecurityGroupSelectorTerms)
	}
	key := r.m.Only(t, kmsKeyType).ID
	if st := s.EphemeralStorage; st == nil || st.Size != "80Gi" || st.IOPS != 3000 || st.Throughput != 125 || !strings.HasSuffix(st.KMSKeyID, ":key/"+key) {
		t.Errorf("ephemeral storage %+v, want 80Gi, 3000 IOPS, 125 MiB/s encrypted with key %s", st, key)
	}
	if s.NetworkPolicy != "DefaultAllow" || s.NetworkPolicyEventLogs != "Enabled" || s.SNATPolicy != "Random" {
		t.Errorf("network policy %q, event logs %q, SNAT %q", s.NetworkPolicy, s.NetworkPolicyEventLogs, s.SNATPolicy)
	}
	if an := s.AdvancedNetworking; an == nil || an.AssociatePublicIPAddress == nil || *an.AssociatePublicIPAddress {
		t.Errorf("advancedNetworking %+v, want associatePublicIPAddress false", an)
	}
	if !maps.Equal(s.Tags, testArgs().Tags) {
		t.Errorf("NodeClass tags %v, want the stack's %v", s.Tags, testArgs().Tags)
	}
}

// TestNodeClassMatchesStandInCRD: the recorded NodeClass passes the stand-in's schema, and a
// misspelt field or a value outside an enum does not.
func TestNodeClassMatchesStandInCRD(t *testing.T) {
	v := crdschema.New(t, crdschema.Load(t, nodeClassCRD(t)), "v1")
	obj := mustRunCluster(t, nil).m.Only(t, nodeClassType).Inputs
	if errs := v.Errors(obj); len(errs) > 0 {
		t.Errorf("NodeClass rejected by the stand-in:\n%s", strings.Join(errs, "\n"))
	}
	bad := crdschema.DeepCopy(obj)
	spec := bad["spec"].(map[string]any)
	spec["snatPolicy"] = "Enabled"
	spec["ephemeralStorage"].(map[string]any)["kmsKeyId"] = "alias/typo"
	errs := strings.Join(v.Errors(bad), "\n")
	if !strings.Contains(errs, "kmsKeyId") || !strings.Contains(errs, "should be one of") {
		t.Errorf("the broken NodeClass was not rejected for both faults:\n%s", errs)
	}
}

// TestNodePoolsMatchKarpenterCRD: both NodePools pass Karpenter v1.1.5's published schema,
// and a misspelt field or an unknown consolidation policy does not.
func TestNodePoolsMatchKarpenterCRD(t *testing.T) {
	v := crdschema.New(t, crdschema.Load(t, karpenterNodePoolCRD(t)), "v1")
	r := mustRunCluster(t, nil)
	nodes := r.m.ByType(nodePoolType)
	if len(nodes) != 2 {
		t.Fatalf("%d NodePools, want 2", len(nodes))
	}
	for _, n := range nodes {
		if errs := v.Errors(n.Inputs); len(errs) > 0 {
			t.Errorf("%s rejected by the Karpenter CRD:\n%s", n.Name, strings.Join(errs, "\n"))
		}
		bad := crdschema.DeepCopy(n.Inputs)
		d := bad["spec"].(map[string]any)["disruption"].(map[string]any)
		d["consolidationPolicy"] = "WhenUnderutilized"
		d["consolidateAfterr"] = "1m"
		errs := strings.Join(v.Errors(bad), "\n")
		if !strings.Contains(errs, "consolidateAfterr") || !strings.Contains(errs, "should be one of") {
			t.Errorf("%s: the broken NodePool was not rejected for both faults:\n%s", n.Name, errs)
		}
	}
}

// TestNodePools: each pool launches what its configuration allows, on the NodeClass, with its
// taint, limits and disruption settings; the maintenance window becomes a zero budget for
// drift and consolidation over the rest of the week.
func TestNodePools(t *testing.T) {
	r := mustRunCluster(t, nil)
	ps := pools(t, r.m)
	for name, want := range map[string]struct {
		capacity []string
		taint    Taint
		sizes    []string
		budgets  []DisruptionBudget
		after    string
	}{
		"app": {[]string{"spot", "on-demand"}, Taint{Key: "dedicated", Value: "app", Effect: "NoSchedule"}, nil, []DisruptionBudget{{Nodes: "10%"}}, "1m"},
		// The built-in system pool's taint.
		"platform": {[]string{"on-demand"}, Taint{Key: "CriticalAddonsOnly", Effect: "NoSchedule"}, []string{"large", "xlarge"}, []DisruptionBudget{
			{Nodes: "1"}, {Nodes: "0", Schedule: "0 6 * * 0", Duration: "164h", Reasons: []string{"Drifted", "Underutilized"}},
		}, "5m"},
	} {
		p, ok := ps[name]
		if !ok {
			t.Errorf("no NodePool %s among %v", name, slices.Collect(maps.Keys(ps)))
			continue
		}
		ts := p.Spec.Template.Spec
		if ref := ts.NodeClassRef; ref.Group != "eks.amazonaws.com" || ref.Kind != NodeClassKind || ref.Name != "flask-eks-test" {
			t.Errorf("%s: nodeClassRef %+v", name, ref)
		}
		for key, w := range map[string][2]any{
			// Auto Mode's supported labels (create-node-pool.html#auto-supported-labels).
			"karpenter.sh/capacity-type":            {"In", want.capacity},
			"kubernetes.io/arch":                    {"In", []string{"amd64"}},
			"eks.amazonaws.com/instance-category":   {"In", []string{"c", "m", "r"}},
			"eks.amazonaws.com/instance-generation": {"Gt", []string{"4"}},
			"eks.amazonaws.com/instance-size":       {"In", want.sizes},
		} {
			op, values := p.requirement(key)
			if w[1].([]string) == nil && op == "" {
				continue
			}
			if op != w[0] || !slices.Equal(values, w[1].([]string)) {
				t.Errorf("%s: requirement %s %s %v, want %s %v", name, key, op, values, w[0], w[1])
			}
		}
		if !slices.Equal(ts.Taints, []Taint{want.taint}) {
			t.Errorf("%s: taints %v, want %v", name, ts.Taints, want.taint)
		}
		if ts.ExpireAfter != "336h" || !maps.Equal(p.Spec.Limits, map[string]string{"cpu": "8", "memory": "32Gi"}) {
			t.Errorf("%s: expireAfter %s, limits %v", name, ts.ExpireAfter, p.Spec.Limits)
		}
		d := p.Spec.Disruption
		if d.ConsolidationPolicy != "WhenEmptyOrUnderutilized" || d.ConsolidateAfter != want.after ||
			!slices.EqualFunc(d.Budgets, want.budgets, func(a, b DisruptionBudget) bool {
				return a.Nodes == b.Nodes && a.Schedule == b.Schedule && a.Duration == b.Duration && slices.Equal(a.Reasons, b.Reasons)
			}) {
			t.Errorf("%s: disruption %+v, want consolidate after %s with budgets %+v", name, d, want.after, want.budgets)
		}
	}
	// Both pools wait for the NodeClass (they read its name).
	nc := r.m.Only(t, nodeClassType).URN
	for _, n := range r.m.ByType(nodePoolType) {
		if !slices.Contains(n.Dependencies, nc) {
			t.Errorf("%s does not wait for the NodeClass: %v", n.Name, n.Dependencies)
		}
	}
}

// TestSpotOnlyWhereAllowed: Spot appears in the graph exactly where the configuration asks for
// it; an on-demand app pool leaves no Spot anywhere.
func TestSpotOnlyWhereAllowed(t *testing.T) {
	spot := func(m *pulumitest.Mocks) []string {
		var out []string
		for name, p := range pools(t, m) {
			if _, v := p.requirement(LabelCapacityType); slices.Contains(v, CapacitySpot) {
				out = append(out, name)
			}
		}
		return out
	}
	if got := spot(mustRunCluster(t, nil).m); !slices.Equal(got, []string{AppPool}) {
		t.Errorf("pools allowing Spot: %v, want only %s", got, AppPool)
	}
	onDemand := mustRunCluster(t, func(a *ClusterArgs) { a.AppPool.CapacityTypes = []string{CapacityOnDemand} })
	if got := spot(onDemand.m); len(got) != 0 {
		t.Errorf("pools allowing Spot with an on-demand app pool: %v", got)
	}
}

// TestBuiltInPoolsOff: without the built-in pools the program brings the node role, with the
// EC2 access entry and AmazonEKSAutoNodePolicy that AWS requires for a custom NodeClass, and
// the NodeClass waits for them.
func TestBuiltInPoolsOff(t *testing.T) {
	r := mustRunCluster(t, nil)
	role := r.m.One(t, "aws:iam/role:Role", "cluster-node")
	var trust struct {
		Statement []struct {
			Principal struct{ Service string }
			Action    string
		}
	}
	if err := json.Unmarshal([]byte(role.Inputs["assumeRolePolicy"].(string)), &trust); err != nil ||
		len(trust.Statement) != 1 || trust.Statement[0].Principal.Service != "ec2.amazonaws.com" || trust.Statement[0].Action != "sts:AssumeRole" {
		t.Errorf("node role trust policy %v (%v), want EC2 alone", role.Inputs["assumeRolePolicy"], err)
	}
	var attached []string
	for _, a := range r.m.ByType("aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
		if a.Inputs["role"] == role.ID {
			attached = append(attached, a.Inputs["policyArn"].(string))
		}
	}
	// The managed policies AWS suggests for an Auto Mode node role.
	if want := []string{"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly", "arn:aws:iam::aws:policy/AmazonEKSWorkerNodeMinimalPolicy"}; !slices.Equal(slices.Sorted(slices.Values(attached)), want) {
		t.Errorf("node role policies %v, want %v", attached, want)
	}
	roleArn := "arn:aws:iam::" + pulumitest.Account + ":role/" + role.ID
	entry := r.m.Only(t, accessEntryType).Inputs
	// "you need to use the EC2 access entry type" and associate AmazonEKSAutoNodePolicy.
	if entry["principalArn"] != roleArn || entry["type"] != "EC2" || entry["clusterName"] != "flask-eks-test" {
		t.Errorf("access entry %v, want type EC2 for %s", entry, roleArn)
	}
	assoc := r.m.Only(t, associationType)
	if assoc.Inputs["policyArn"] != "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAutoNodePolicy" || assoc.Inputs["principalArn"] != roleArn ||
		assoc.Inputs["accessScope"].(map[string]any)["type"] != "cluster" {
		t.Errorf("access policy association %v", assoc.Inputs)
	}
	if nc := nodeClass(t, r.m); nc.Spec.Role != role.ID {
		t.Errorf("NodeClass role %q, want the program's node role %q", nc.Spec.Role, role.ID)
	}
	if !slices.Contains(r.m.Only(t, nodeClassType).Dependencies, assoc.URN) {
		t.Error("the NodeClass does not wait for the node role's access policy")
	}
	// The role needs no cluster: created beside it, it is off a cold `up`'s critical path.
	if cl := r.m.Only(t, "eks:index:Cluster"); pulumitest.DependsOn(r.m.Graph(), role.URN, cl.URN) {
		t.Error("the node role waits for the cluster")
	}
}

// TestBuiltInPoolsOn: with the built-in pools, pulumi-eks creates their node role and EKS its
// access entry; the NodeClass uses that role and the program creates neither.
func TestBuiltInPoolsOn(t *testing.T) {
	r := mustRunCluster(t, func(a *ClusterArgs) { a.BuiltInNodePools = true })
	am := r.m.Only(t, "eks:index:Cluster").Raw["autoMode"].ObjectValue()
	if pools := strs(am["computeConfig"].ObjectValue()["nodePools"]); !slices.Equal(pools, []string{"general-purpose", "system"}) || !am["createNodeRole"].BoolValue() {
		t.Errorf("built-in pools %v, createNodeRole %v", pools, am["createNodeRole"])
	}
	if n := len(r.m.ByType(accessEntryType)) + len(r.m.ByType(associationType)) + len(r.m.ByType("aws:iam/role:Role")); n != 0 {
		t.Errorf("%d node role resources declared although pulumi-eks and EKS provide them", n)
	}
	role := nodeClass(t, r.m).Spec.Role
	if !strings.HasPrefix(role, "cluster-nodeRole-role-") {
		t.Errorf("NodeClass role %q, want pulumi-eks's autoModeNodeRoleName", role)
	}
}

// TestTagsOnEveryLayer: the stack's tags reach every place Auto Mode creates AWS resources
// from, and the cluster role may apply them.
func TestTagsOnEveryLayer(t *testing.T) {
	r := mustRunCluster(t, nil)
	want := testArgs().Tags

	params := r.m.Only(t, storageClass).Inputs["parameters"].(map[string]any)
	got := map[string]string{}
	for k, v := range params {
		if strings.HasPrefix(k, "tagSpecification_") {
			key, value, _ := strings.Cut(v.(string), "=")
			got[key] = value
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("StorageClass tags %v, want %v", got, want)
	}
	for _, n := range r.m.ByType(ingressParams) {
		got := map[string]string{}
		for _, tag := range n.Inputs["spec"].(map[string]any)["tags"].([]any) {
			got[tag.(map[string]any)["key"].(string)] = tag.(map[string]any)["value"].(string)
		}
		if !maps.Equal(got, want) {
			t.Errorf("%s tags %v, want %v", n.Name, got, want)
		}
	}
	if got := nodeClass(t, r.m).Spec.Tags; !maps.Equal(got, want) {
		t.Errorf("NodeClass tags %v, want %v", got, want)
	}

	// The cluster role is the one EKS reports for the cluster; its extra policy allows the
	// creating calls with tags, for this cluster only.
	pol := r.m.Only(t, rolePolicyType)
	if role, want := pol.Inputs["role"], pulumitest.ClusterRoleName("cluster"); role != want {
		t.Errorf("tagging policy on role %q, want the cluster's role as EKS reports it, %q", role, want)
	}
	var doc struct {
		Statement []struct {
			Sid       string
			Action    any
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(pol.Inputs["policy"].(string)), &doc); err != nil {
		t.Fatal(err)
	}
	actions := map[string]bool{}
	for _, s := range doc.Statement {
		if s.Condition["StringEquals"]["aws:RequestTag/eks:eks-cluster-name"] != "${aws:PrincipalTag/eks:eks-cluster-name}" {
			t.Errorf("statement %s is not scoped to the cluster: %v", s.Sid, s.Condition)
		}
		switch a := s.Action.(type) {
		case string:
			actions[a] = true
		case []any:
			for _, x := range a {
				actions[x.(string)] = true
			}
		}
	}
	for _, a := range []string{"ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate", "ec2:CreateVolume",
		"ec2:CreateNetworkInterface", "elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup", "ec2:CreateSecurityGroup"} {
		if !actions[a] {
			t.Errorf("the cluster role may not tag what %s creates", a)
		}
	}
	// Nodes launch only once the cluster role may tag them.
	if !slices.Contains(r.m.Only(t, nodeClassType).Dependencies, pol.URN) {
		t.Error("the NodeClass does not wait for the tagging policy")
	}
}

// TestNodeVolumeKey: the root volume key lets the cluster role (as EKS reports it) use it and
// grant it to AWS resources only, leaves administration to the account, rotates, and is kept
// longer and protected in production.
func TestNodeVolumeKey(t *testing.T) {
	r := mustRunCluster(t, nil)
	key := r.m.Only(t, kmsKeyType)
	clusterRole := "arn:aws:iam::" + pulumitest.Account + ":role/" + pulumitest.ClusterRoleName("cluster")
	var doc struct {
		Statement []struct {
			Effect    string
			Principal struct{ AWS string }
			Action    any
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(key.Inputs["policy"].(string)), &doc); err != nil {
		t.Fatal(err)
	}
	principals := map[string]int{}
	for _, s := range doc.Statement {
		principals[s.Principal.AWS]++
		if acts, ok := s.Action.([]any); ok && slices.Contains(acts, any("kms:CreateGrant")) &&
			s.Condition["Bool"]["kms:GrantIsForAWSResource"] != "true" {
			t.Errorf("grants are not limited to AWS resources: %v", s.Condition)
		}
	}
	if principals[clusterRole] != 2 || principals["arn:aws:iam::"+pulumitest.Account+":root"] != 1 || len(principals) != 2 {
		t.Errorf("key policy principals %v, want the cluster role %s twice and the account root", principals, clusterRole)
	}
	if !key.Inputs["enableKeyRotation"].(bool) || key.Inputs["deletionWindowInDays"].(float64) != keyDeletionWindow || key.Protect {
		t.Errorf("key %v protect %v", key.Inputs, key.Protect)
	}
	prod := mustRunCluster(t, func(a *ClusterArgs) { a.Protect = true }).m.Only(t, kmsKeyType)
	if prod.Inputs["deletionWindowInDays"].(float64) != protectedKeyDeletionWindow || !prod.Protect {
		t.Errorf("protected key: window %v protect %v", prod.Inputs["deletionWindowInDays"], prod.Protect)
	}
}

// TestPlacement: each placement selects its pool and tolerates its taint and no other pool's
// (checked with core/v1's own toleration matching); the every-node tolerations tolerate both.
func TestPlacement(t *testing.T) {
	ps := pools(t, mustRunCluster(t, nil).m)
	tolerates := func(tols []Toleration, pool string) bool {
		for _, taint := range ps[pool].Spec.Template.Spec.Taints {
			ok := false
			for _, tol := range tols {
				ct := corev1.Toleration{Key: tol.Key, Operator: corev1.TolerationOperator(tol.Operator), Value: tol.Value, Effect: corev1.TaintEffect(tol.Effect)}
				ok = ok || ct.ToleratesTaint(klog.Background(), &corev1.Taint{Key: taint.Key, Value: taint.Value, Effect: corev1.TaintEffect(taint.Effect)}, false)
			}
			if !ok {
				return false
			}
		}
		return true
	}
	for pool, p := range map[string]Placement{AppPool: AppPlacement(), PlatformPool: PlatformPlacement()} {
		// Karpenter labels every node with the name of its NodePool.
		if !maps.Equal(p.NodeSelector, map[string]string{"karpenter.sh/nodepool": pool}) {
			t.Errorf("%s placement selects %v", pool, p.NodeSelector)
		}
		for other := range ps {
			if got := tolerates(p.Tolerations, other); got != (other == pool) {
				t.Errorf("%s placement tolerates pool %s: %v", pool, other, got)
			}
		}
	}
	for pool := range ps {
		if !tolerates(EveryNodeTolerations(), pool) {
			t.Errorf("the every-node tolerations do not tolerate pool %s", pool)
		}
	}
}

func TestMaintenanceWindowComplement(t *testing.T) {
	for _, c := range []struct {
		start, closed string
		d, length     time.Duration
	}{
		{"0 2 * * 0", "0 6 * * 0", 4 * time.Hour, 164 * time.Hour},
		{"30 22 * * 6", "30 1 * * 0", 3 * time.Hour, 165 * time.Hour},
		{"0 1 * * *", "0 3 * * *", 2 * time.Hour, 22 * time.Hour},
		{"45 23 * * *", "15 1 * * *", 90 * time.Minute, 1350 * time.Minute},
	} {
		closed, length, err := MaintenanceWindow{Start: c.start, Duration: c.d}.complement()
		if err != nil || closed != c.closed || length != c.length {
			t.Errorf("window %q for %s: closed %q for %s (%v), want %q for %s", c.start, c.d, closed, length, err, c.closed, c.length)
		}
	}
	for _, w := range []MaintenanceWindow{
		{"0 2 * * 1-5", 4 * time.Hour}, {"0 24 * * 0", time.Hour}, {"0 2 * * 0", 30 * time.Minute},
		{"0 2 * * *", 24 * time.Hour}, {"@weekly", 2 * time.Hour},
	} {
		if _, _, err := w.complement(); err == nil {
			t.Errorf("window %+v accepted", w)
		}
	}
}

func TestNodeArgsValidation(t *testing.T) {
	for name, mutate := range map[string]func(*ClusterArgs){
		"NodeClass named default": func(a *ClusterArgs) { a.NodeClass.Name = "default" },
		"IOPS out of range":       func(a *ClusterArgs) { a.NodeClass.EphemeralStorageIOPS = 20000 },
		"storage too small":       func(a *ClusterArgs) { a.NodeClass.EphemeralStorageSize = "512Mi" },
		"unknown network policy":  func(a *ClusterArgs) { a.NodeClass.NetworkPolicy = "Deny" },
		"unknown capacity type":   func(a *ClusterArgs) { a.AppPool.CapacityTypes = []string{"reserved"} },
		"unknown architecture":    func(a *ClusterArgs) { a.PlatformPool.Architectures = []string{"x86_64"} },
		"no CPU limit":            func(a *ClusterArgs) { a.AppPool.CPU = "" },
		"lifetime over 21 days":   func(a *ClusterArgs) { a.AppPool.ExpireAfter = 22 * 24 * time.Hour },
		"budget not a count":      func(a *ClusterArgs) { a.AppPool.Budget = "ten" },
		"window not weekly":       func(a *ClusterArgs) { a.AppPool.Window = &MaintenanceWindow{"0 2 1 * *", time.Hour} },
		"restricted tag":          func(a *ClusterArgs) { a.Tags["karpenter.sh/nodepool"] = "x" },
		"templated tag value":     func(a *ClusterArgs) { a.Tags["Owner"] = "{{ .PVCName }}" },
	} {
		r, err := runCluster(t, mutate)
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
		if n := len(r.m.Graph()); n > 1 { // the egress stand-in provider only
			t.Errorf("%s: %d resources declared despite bad args", name, n)
		}
	}
}

// TestNodesAloneNeedOnlyAProvider: the integration test deploys Nodes to a bare API server.
func TestNodesAloneNeedOnlyAProvider(t *testing.T) {
	m := pulumitest.New("flask-eks", "test")
	err := pulumitest.Run(t, m, nil, nil, func(ctx *pulumi.Context) error {
		p, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		_, err = NewNodes(ctx, "nodes", &NodesArgs{
			Provider: p, NodeClass: testNodeClass(), RoleName: pulumi.String("node-role"),
			SubnetIDs: pulumi.ToStringArray([]string{"subnet-0a"}), SecurityGroupIDs: pulumi.ToStringArray([]string{"sg-0a"}),
			Tags: map[string]string{"Owner": "x"}, App: testAppPool(), Platform: testPlatformPool(),
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range m.Graph() {
		if strings.HasPrefix(n.Type, "aws:") || strings.HasPrefix(n.Type, "eks:") {
			t.Errorf("Nodes created %s", n.Type)
		}
	}
	if _, ok := m.Only(t, nodeClassType).Inputs["spec"].(map[string]any)["ephemeralStorage"].(map[string]any)["kmsKeyID"]; ok {
		t.Error("kmsKeyID set without a key")
	}
}

// TestPoolsLeaveSomewhereToRun: with the built-in pools off, the app's placement fits only the
// app pool, the platform's only the platform pool, a DaemonSet with the every-node
// tolerations fits both, and a pod with neither placement fits none; with them on, such a pod
// lands on general-purpose.
func TestPoolsLeaveSomewhereToRun(t *testing.T) {
	core := func(tols []Toleration) []corev1.Toleration {
		var out []corev1.Toleration
		for _, tol := range tols {
			out = append(out, tol.Core())
		}
		return out
	}
	fitting := func(shapes []PoolShape, sel map[string]string, tols []corev1.Toleration) []string {
		var out []string
		for _, s := range shapes {
			if s.Fits(sel, tols) == nil {
				out = append(out, s.Name)
			}
		}
		return out
	}
	off := Shapes(testAppPool(), testPlatformPool(), false)
	for name, c := range map[string]struct {
		sel  map[string]string
		tols []corev1.Toleration
		want []string
	}{
		"app":                   {AppPlacement().NodeSelector, core(AppPlacement().Tolerations), []string{"app"}},
		"platform":              {PlatformPlacement().NodeSelector, core(PlatformPlacement().Tolerations), []string{"platform"}},
		"daemonset":             {map[string]string{"kubernetes.io/os": "linux"}, core(EveryNodeTolerations()), []string{"app", "platform"}},
		"unplaced":              {nil, nil, nil},
		"platform on arm64":     {map[string]string{"karpenter.sh/nodepool": "platform", "kubernetes.io/arch": "arm64"}, core(PlatformPlacement().Tolerations), nil},
		"custom label":          {map[string]string{"node-role": "infra"}, core(EveryNodeTolerations()), nil},
		"spot on platform pool": {map[string]string{"karpenter.sh/capacity-type": "spot"}, core(PlatformPlacement().Tolerations), nil},
	} {
		if got := fitting(off, c.sel, c.tols); !slices.Equal(got, c.want) {
			t.Errorf("%s: fits %v, want %v", name, got, c.want)
		}
	}
	on := Shapes(testAppPool(), testPlatformPool(), true)
	if got := fitting(on, nil, nil); !slices.Equal(got, []string{"general-purpose"}) {
		t.Errorf("an unplaced pod with the built-in pools on fits %v, want general-purpose", got)
	}
	if got := fitting(on, nil, []corev1.Toleration{{Key: "CriticalAddonsOnly", Operator: "Exists"}}); !slices.Equal(got, []string{"platform", "system", "general-purpose"}) {
		t.Errorf("a pod tolerating CriticalAddonsOnly fits %v", got)
	}
}
