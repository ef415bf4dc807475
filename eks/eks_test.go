package eks

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/internal/pulumitest"
)

const certArn = "arn:aws:acm:eu-west-1:123456789012:certificate/0f3c2a9e-6b1d-4c7e-9a52-3e8d7b41f6a0"

func testArgs() *ClusterArgs {
	return &ClusterArgs{
		Name:                  "flask-eks-test",
		Version:               "1.35",
		Region:                "eu-west-1",
		VpcID:                 pulumi.String("vpc-0123"),
		PrivateSubnetIDs:      pulumi.ToStringArray([]string{"subnet-0a1b2c3d4e5f60718", "subnet-0a1b2c3d4e5f60719", "subnet-0a1b2c3d4e5f6071a"}),
		EndpointPublicAccess:  true,
		PublicAccessCidrs:     []string{"192.168.10.0/24"},
		LogTypes:              []string{"api", "audit", "authenticator"},
		AdminPrincipalArns:    []string{"arn:aws:iam::123456789012:role/admin", "arn:aws:iam::123456789012:role/ci"},
		ViewerPrincipalArns:   []string{"arn:aws:iam::123456789012:role/ci/drift"},
		ViewOnlyPrincipalArns: []string{"arn:aws:iam::123456789012:role/ci/preview"},
		StorageClassName:      "gp3",
		ALBs: []ALBClass{
			{Name: "alb", Scheme: "internet-facing", GroupName: "flask-eks-test", CertificateArn: pulumi.String(certArn), Default: true},
			{Name: "alb-internal", Scheme: "internal", GroupName: "flask-eks-test-internal"},
		},
		AccessLogDays: 30,
		Tags:          map[string]string{"CostCenter": "platform-dev", "Owner": "platform-team", "Environment": "dev"},
		NodeClass:     testNodeClass(),
		AppPool:       testAppPool(),
		PlatformPool:  testPlatformPool(),
	}
}

type clusterRun struct {
	m       *pulumitest.Mocks
	kubecfg *pulumitest.Value
	cluster *Cluster
}

func runCluster(t *testing.T, mutate func(*ClusterArgs), opts ...func(*pulumi.Context) pulumi.ResourceOption) (*clusterRun, error) {
	t.Helper()
	r := &clusterRun{m: pulumitest.New("flask-eks", "test")}
	err := pulumitest.Run(t, r.m, nil, nil, func(ctx *pulumi.Context) error {
		// A stand-in for the VPC's NAT routes, which the cluster's workloads must wait for.
		egress, err := kubernetes.NewProvider(ctx, "egress-stand-in", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		args := testArgs()
		args.EgressReady = []pulumi.Resource{egress}
		if mutate != nil {
			mutate(args)
		}
		var ro []pulumi.ResourceOption
		for _, o := range opts {
			ro = append(ro, o(ctx))
		}
		c, err := NewCluster(ctx, "cluster", args, ro...)
		if err != nil {
			return err
		}
		r.cluster, r.kubecfg = c, pulumitest.Capture(c.Kubeconfig)
		return nil
	})
	return r, err
}

func mustRunCluster(t *testing.T, mutate func(*ClusterArgs)) *clusterRun {
	t.Helper()
	r, err := runCluster(t, mutate)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func strs(v resource.PropertyValue) []string {
	var out []string
	for _, e := range v.ArrayValue() {
		out = append(out, e.StringValue())
	}
	return out
}

// TestCluster checks the properties of the Auto Mode cluster that no stack setting changes.
func TestCluster(t *testing.T) {
	r := mustRunCluster(t, nil)
	c := r.m.Only(t, "eks:index:Cluster")
	in := c.Raw
	if !in["autoMode"].ObjectValue()["enabled"].BoolValue() {
		t.Error("Auto Mode is off")
	}
	// The built-in pools are off unless asked for, and so is the node role pulumi-eks would
	// create for them: EKS refuses a node role without pools.
	am := in["autoMode"].ObjectValue()
	if pools := strs(am["computeConfig"].ObjectValue()["nodePools"]); len(pools) != 0 || am["createNodeRole"].BoolValue() {
		t.Errorf("built-in node pools %v, createNodeRole %v; want none and false", pools, am["createNodeRole"])
	}
	if in["authenticationMode"].StringValue() != "API" {
		t.Errorf("authenticationMode = %v, want API (access entries, no aws-auth ConfigMap)", in["authenticationMode"])
	}
	// Only private subnets: Auto Mode's default NodeClass launches nodes in the cluster's subnets.
	for _, k := range []resource.PropertyKey{"publicSubnetIds", "subnetIds", "nodeSubnetIds"} {
		if v, ok := in[k]; ok && !v.IsNull() {
			t.Errorf("%s = %v: the cluster must only get private subnets, or Auto Mode may put nodes in public ones", k, v)
		}
	}
	if in["nodeAssociatePublicIpAddress"].BoolValue() || !in["endpointPrivateAccess"].BoolValue() {
		t.Errorf("nodes get public IPs (%v) or the private endpoint is off (%v)", in["nodeAssociatePublicIpAddress"], in["endpointPrivateAccess"])
	}
	// Auto Mode runs DNS on each node; the CoreDNS add-on pulumi-eks would create is off.
	if co := in["corednsAddonOptions"].ObjectValue(); co["enabled"].BoolValue() {
		t.Errorf("corednsAddonOptions = %v, want the CoreDNS add-on disabled in Auto Mode", co)
	}
	// The control plane needs no egress; everything that runs in the cluster waits for it
	// through the Kubernetes provider.
	egress := r.m.URN("", "pulumi:providers:kubernetes", "egress-stand-in")
	if slices.Contains(c.Dependencies, egress) {
		t.Errorf("the cluster waits for NAT egress, which only its nodes need: %v", c.Dependencies)
	}
	if p := r.m.One(t, "pulumi:providers:kubernetes", "cluster"); !slices.Contains(p.Dependencies, egress) {
		t.Errorf("the Kubernetes provider does not wait for NAT egress: %v", p.Dependencies)
	}
	if c.Protect {
		t.Error("the cluster is protected although Protect is off")
	}
}

// TestAccessEntries: entries are keyed by the principal, not by list position, so reordering
// the config list replaces none; viewers get the admin-view policy, which reads Secrets, and
// view-only principals the view policy, which does not.
func TestAccessEntries(t *testing.T) {
	entries := mustRunCluster(t, nil).m.Only(t, "eks:index:Cluster").Raw["accessEntries"].ObjectValue()
	want := map[string][2]string{
		"123456789012-role-admin":      {"arn:aws:iam::123456789012:role/admin", ClusterAdminPolicyArn},
		"123456789012-role-ci":         {"arn:aws:iam::123456789012:role/ci", ClusterAdminPolicyArn},
		"123456789012-role-ci-drift":   {"arn:aws:iam::123456789012:role/ci/drift", AdminViewPolicyArn},
		"123456789012-role-ci-preview": {"arn:aws:iam::123456789012:role/ci/preview", ViewPolicyArn},
	}
	if len(entries) != len(want) {
		t.Fatalf("access entries %v, want %v", slices.Sorted(maps.Keys(entries)), slices.Sorted(maps.Keys(want)))
	}
	for key, w := range want {
		e, ok := entries[resource.PropertyKey(key)]
		if !ok {
			t.Errorf("no access entry %q", key)
			continue
		}
		if got := e.ObjectValue()["principalArn"].StringValue(); got != w[0] {
			t.Errorf("entry %s principal = %s, want %s", key, got, w[0])
		}
		for _, pol := range e.ObjectValue()["accessPolicies"].ObjectValue() {
			pol := pol.ObjectValue()
			if pol["policyArn"].StringValue() != w[1] || pol["accessScope"].ObjectValue()["type"].StringValue() != "cluster" {
				t.Errorf("entry %s policy = %v, want %s on the cluster", key, pol, w[1])
			}
		}
	}
	reordered := mustRunCluster(t, func(a *ClusterArgs) { slices.Reverse(a.AdminPrincipalArns) })
	if got := reordered.m.Only(t, "eks:index:Cluster").Raw["accessEntries"].ObjectValue(); !maps.EqualFunc(got, entries, func(a, b resource.PropertyValue) bool { return a.DeepEquals(b) }) {
		t.Error("reordering adminPrincipalArns changed the access entries")
	}
}

// TestAWSProviderReachesPulumiEKS: a remote component does not inherit its parent's
// providers, so the Cluster must hand on the AWS provider it was given, whichever way.
func TestAWSProviderReachesPulumiEKS(t *testing.T) {
	for name, opt := range map[string]func(pulumi.ProviderResource) pulumi.ResourceOption{
		"Providers": func(p pulumi.ProviderResource) pulumi.ResourceOption { return pulumi.Providers(p) },
		"Provider":  func(p pulumi.ProviderResource) pulumi.ResourceOption { return pulumi.Provider(p) },
	} {
		r, err := runCluster(t, nil, func(ctx *pulumi.Context) pulumi.ResourceOption {
			p, err := aws.NewProvider(ctx, "tagged", &aws.ProviderArgs{Region: pulumi.String("eu-west-1")})
			if err != nil {
				t.Fatal(err)
			}
			return opt(p)
		})
		if err != nil {
			t.Fatal(err)
		}
		want := r.m.URN("", "pulumi:providers:aws", "tagged")
		if got := r.m.Only(t, "eks:index:Cluster").Providers["aws"]; got != want {
			t.Errorf("%s: pulumi-eks gets AWS provider %q, want %q", name, got, want)
		}
		for _, n := range r.m.Graph() {
			if strings.HasPrefix(n.Type, "aws:") && n.Provider != want {
				t.Errorf("%s: %s %s uses provider %q, want %q", name, n.Type, n.Name, n.Provider, want)
			}
		}
	}
}

// TestPrivateOnlyEndpoint: a private-only endpoint admits the configured runners' networks and
// security groups on 443, in the cluster security group that pulumi-eks reports, which
// otherwise admits only itself.
func TestPrivateOnlyEndpoint(t *testing.T) {
	r := mustRunCluster(t, func(a *ClusterArgs) {
		a.EndpointPublicAccess = false
		a.APIAccessCidrs = []string{"10.40.0.0/24"}
		a.APIAccessSecurityGroupIDs = []string{"sg-0a1b2c3d4e5f60718"}
	})
	in := r.m.Only(t, "eks:index:Cluster").Raw
	if in["endpointPublicAccess"].BoolValue() || !in["endpointPrivateAccess"].BoolValue() {
		t.Error("want a private-only endpoint")
	}
	// EKS rejects an allow-list for an endpoint that does not exist.
	if v, ok := in["publicAccessCidrs"]; ok && !v.IsNull() {
		t.Errorf("publicAccessCidrs = %v for a private-only endpoint", v)
	}
	cluster := r.m.Only(t, "eks:index:Cluster")
	rules := r.m.ByType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
	if len(rules) != 2 {
		t.Fatalf("%d ingress rules, want one per source", len(rules))
	}
	sources := map[string]bool{}
	for _, rule := range rules {
		in := rule.Inputs
		if in["fromPort"] != 443.0 || in["toPort"] != 443.0 || in["ipProtocol"] != "tcp" {
			t.Errorf("rule %s admits %v-%v/%v, want TCP 443", rule.Name, in["fromPort"], in["toPort"], in["ipProtocol"])
		}
		// The group is the cluster's: pulumi-eks's clusterSecurityGroupId output.
		if !slices.Contains(rule.PropertyDependencies["securityGroupId"], cluster.URN) || in["securityGroupId"] == nil {
			t.Errorf("rule %s is on %v, not on the cluster's security group", rule.Name, in["securityGroupId"])
		}
		for _, k := range []string{"cidrIpv4", "referencedSecurityGroupId"} {
			if v, ok := in[k].(string); ok {
				sources[v] = true
			}
		}
	}
	if !sources["10.40.0.0/24"] || !sources["sg-0a1b2c3d4e5f60718"] {
		t.Errorf("sources %v, want the runners' CIDR and security group", sources)
	}
	if _, err := runCluster(t, func(a *ClusterArgs) { a.EndpointPublicAccess = false }); err == nil ||
		!strings.Contains(err.Error(), "a private-only endpoint needs APIAccessCidrs or APIAccessSecurityGroupIDs") {
		t.Errorf("a private-only endpoint nothing may reach: %v, want it refused", err)
	}
}

// TestProviderUsesClusterKubeconfig: the Kubernetes provider talks to this cluster, never the
// ambient kubeconfig, and the kubeconfig stays secret.
func TestProviderUsesClusterKubeconfig(t *testing.T) {
	r := mustRunCluster(t, nil)
	kc := r.m.One(t, "pulumi:providers:kubernetes", "cluster").Raw["kubeconfig"]
	if !kc.IsSecret() {
		t.Fatalf("provider kubeconfig is not secret: %v", kc)
	}
	// The kubeconfig's content is pulumi-eks's (the mock's stand-in here); what the program
	// decides is where the provider's comes from: the cluster, not the ambient kubeconfig.
	provider := r.m.One(t, "pulumi:providers:kubernetes", "cluster")
	cluster := r.m.One(t, "eks:index:Cluster", "cluster")
	if deps := provider.PropertyDependencies["kubeconfig"]; !slices.Equal(deps, []string{cluster.URN}) {
		t.Errorf("the provider's kubeconfig comes from %v, want the EKS cluster %s alone", deps, cluster.URN)
	}
	for _, ambient := range []string{"context", "cluster"} {
		if _, ok := provider.Inputs[ambient]; ok {
			t.Errorf("the provider sets %s, which selects from an ambient kubeconfig", ambient)
		}
	}
	if r.kubecfg.String(t) != kc.SecretValue().Element.StringValue() || !r.kubecfg.Secret() {
		t.Error("the kubeconfig output is not the provider's, or not secret")
	}
}

// TestClasses checks the StorageClass, the ALB classes and the NetworkPolicy switch.
func TestClasses(t *testing.T) {
	r := mustRunCluster(t, nil)
	sc := r.m.Only(t, "kubernetes:storage.k8s.io/v1:StorageClass").Raw
	if sc["provisioner"].StringValue() != EBSProvisioner || sc["volumeBindingMode"].StringValue() != "WaitForFirstConsumer" ||
		sc["parameters"].ObjectValue()["encrypted"].StringValue() != "true" || sc["reclaimPolicy"].StringValue() != "Delete" {
		t.Errorf("StorageClass = %v", sc)
	}
	if sc["metadata"].ObjectValue()["annotations"].ObjectValue()["storageclass.kubernetes.io/is-default-class"].StringValue() != "true" {
		t.Error("the gp3 StorageClass is not the default")
	}

	bucket := r.m.Only(t, "aws:s3/bucketV2:BucketV2").ID
	for _, alb := range []struct {
		name, scheme, group string
		tls                 bool
	}{{"alb", "internet-facing", "flask-eks-test", true}, {"alb-internal", "internal", "flask-eks-test-internal", false}} {
		spec := r.m.One(t, "kubernetes:eks.amazonaws.com/v1:IngressClassParams", "cluster-"+alb.name+"-params").Raw["spec"].ObjectValue()
		if spec["scheme"].StringValue() != alb.scheme || spec["group"].ObjectValue()["name"].StringValue() != alb.group {
			t.Errorf("%s: scheme/group = %v", alb.name, spec)
		}
		attrs := map[string]string{}
		for _, a := range spec["loadBalancerAttributes"].ArrayValue() {
			attrs[a.ObjectValue()["key"].StringValue()] = a.ObjectValue()["value"].StringValue()
		}
		if want := map[string]string{
			"routing.http.drop_invalid_header_fields.enabled": "true",
			"access_logs.s3.enabled":                          "true",
			"access_logs.s3.bucket":                           bucket,
			"access_logs.s3.prefix":                           AccessLogsPrefix,
		}; !maps.Equal(attrs, want) {
			t.Errorf("%s: load balancer attributes = %v, want %v", alb.name, attrs, want)
		}
		_, hasCert := spec["certificateARNs"]
		if hasCert != alb.tls || (alb.tls && (spec["sslPolicy"].StringValue() != TLSPolicy || strs(spec["certificateARNs"])[0] != certArn)) {
			t.Errorf("%s: certificate %v, ssl policy %v; want TLS %v with %s", alb.name, spec["certificateARNs"], spec["sslPolicy"], alb.tls, TLSPolicy)
		}
		ic := r.m.One(t, "kubernetes:networking.k8s.io/v1:IngressClass", "cluster-"+alb.name).Raw
		ref := ic["spec"].ObjectValue()["parameters"].ObjectValue()
		if ic["spec"].ObjectValue()["controller"].StringValue() != ALBController || ref["name"].StringValue() != alb.name || ref["kind"].StringValue() != "IngressClassParams" {
			t.Errorf("%s: IngressClass spec = %v", alb.name, ic["spec"])
		}
	}
	cm := r.m.One(t, "kubernetes:core/v1:ConfigMap", "cluster-network-policy").Raw
	if md := cm["metadata"].ObjectValue(); md["name"].StringValue() != "amazon-vpc-cni" || md["namespace"].StringValue() != "kube-system" ||
		cm["data"].ObjectValue()["enable-network-policy-controller"].StringValue() != "true" {
		t.Errorf("network policy switch = %v", cm)
	}

	// Every Kubernetes object goes through the cluster's provider, under the Classes or the
	// Nodes component, which themselves belong to the Cluster component.
	// The StorageClass alone goes through a client-side-apply provider of the same cluster,
	// which can preview its replacement.
	provider := r.m.URN("flask-eks:eks:Cluster", "pulumi:providers:kubernetes", "cluster")
	storage := r.m.One(t, "pulumi:providers:kubernetes", "cluster-storage")
	classes := r.m.URN("flask-eks:eks:Cluster", "flask-eks:eks:Classes", "cluster")
	nodes := r.m.URN("flask-eks:eks:Cluster", "flask-eks:eks:Nodes", "cluster")
	for _, n := range r.m.Graph() {
		want := provider
		if n.Type == "kubernetes:storage.k8s.io/v1:StorageClass" {
			want = storage.URN
		}
		if strings.HasPrefix(n.Type, "kubernetes:") && (n.Provider != want || (n.Parent != classes && n.Parent != nodes)) {
			t.Errorf("%s %s: provider %q parent %q", n.Type, n.Name, n.Provider, n.Parent)
		}
	}
	if ssa, ok := storage.Inputs["enableServerSideApply"]; !ok || ssa != "false" && ssa != false {
		t.Errorf("the StorageClass's provider has enableServerSideApply %v, want false", ssa)
	}
	if storage.Raw["kubeconfig"].ContainsSecrets() == false {
		t.Error("the StorageClass's provider kubeconfig is not secret")
	}
}

// TestAccessLogsBucket: private, SSE-S3 (the only encryption ALB log delivery supports),
// expiring, writable only by the region's load balancer log delivery, TLS only.
func TestAccessLogsBucket(t *testing.T) {
	r := mustRunCluster(t, nil)
	if !r.m.Only(t, "aws:s3/bucketV2:BucketV2").Raw["forceDestroy"].BoolValue() {
		t.Error("an unprotected stack's log bucket cannot be destroyed with its logs")
	}
	enc := r.m.Only(t, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2").Raw
	if alg := enc["rules"].ArrayValue()[0].ObjectValue()["applyServerSideEncryptionByDefault"].ObjectValue()["sseAlgorithm"].StringValue(); alg != "AES256" {
		t.Errorf("encryption = %s, want AES256 (SSE-S3)", alg)
	}
	rule := r.m.Only(t, "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2").Raw["rules"].ArrayValue()[0].ObjectValue()
	if rule["expiration"].ObjectValue()["days"].NumberValue() != 30 || rule["status"].StringValue() != "Enabled" {
		t.Errorf("lifecycle rule = %v", rule)
	}
	pab := r.m.Only(t, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").Raw
	for _, k := range []resource.PropertyKey{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
		if !pab[k].BoolValue() {
			t.Errorf("public access block %s is off", k)
		}
	}
	for region, principal := range map[string]string{
		"eu-west-1":    `{"AWS":"arn:aws:iam::156460612806:root"}`,
		"me-central-1": `{"Service":"logdelivery.elasticloadbalancing.amazonaws.com"}`,
	} {
		doc, err := accessLogsPolicy("arn:aws:s3:::logs", region, "123456789012")
		if err != nil {
			t.Fatal(err)
		}
		var p struct {
			Statement []struct {
				Effect    string
				Principal json.RawMessage
				Resource  any
			}
		}
		if err := json.Unmarshal([]byte(doc), &p); err != nil {
			t.Fatal(err)
		}
		if string(p.Statement[0].Principal) != principal || p.Statement[0].Resource != "arn:aws:s3:::logs/alb/AWSLogs/123456789012/*" {
			t.Errorf("%s: delivery statement = %+v, want principal %s on this account's prefix", region, p.Statement[0], principal)
		}
		if p.Statement[1].Effect != "Deny" {
			t.Errorf("%s: no TLS-only deny: %+v", region, p.Statement[1])
		}
	}
}

// TestProtect: prod's cluster survives a plain destroy, its volumes keep their disks, and its
// access logs are not deleted with the bucket.
func TestProtect(t *testing.T) {
	r := mustRunCluster(t, func(a *ClusterArgs) { a.Protect = true })
	if !r.m.Only(t, "eks:index:Cluster").Protect {
		t.Error("the cluster is not protected")
	}
	if r.m.Only(t, "kubernetes:storage.k8s.io/v1:StorageClass").Raw["reclaimPolicy"].StringValue() != "Retain" {
		t.Error("volumes do not keep their disks")
	}
	if r.m.Only(t, "aws:s3/bucketV2:BucketV2").Raw["forceDestroy"].BoolValue() {
		t.Error("the access logs would be deleted with the bucket")
	}
}

// TestClassesAloneNeedOnlyAProvider: the integration test deploys Classes to a bare API
// server, without any AWS resource.
func TestClassesAloneNeedOnlyAProvider(t *testing.T) {
	m := pulumitest.New("flask-eks", "test")
	err := pulumitest.Run(t, m, nil, nil, func(ctx *pulumi.Context) error {
		p, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		_, err = NewClasses(ctx, "classes", &ClassesArgs{Provider: p, StorageClassName: "gp3", ALBs: []ALBClass{{Name: "alb", Scheme: "internal"}}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range m.Graph() {
		if strings.HasPrefix(n.Type, "aws:") || strings.HasPrefix(n.Type, "eks:") {
			t.Errorf("Classes created %s", n.Type)
		}
	}
	if len(m.ByType("kubernetes:core/v1:ConfigMap")) != 0 {
		t.Error("the NetworkPolicy switch was created although not asked for")
	}
}

func TestClusterArgsValidation(t *testing.T) {
	for name, c := range map[string]struct {
		mutate func(*ClusterArgs)
		want   string // a fragment of the one error
	}{
		"no name":              {func(a *ClusterArgs) { a.Name = "" }, "a cluster name and Kubernetes version are required"},
		"no subnets":           {func(a *ClusterArgs) { a.PrivateSubnetIDs = nil }, "a VPC ID and private subnet IDs are required"},
		"public without CIDRs": {func(a *ClusterArgs) { a.PublicAccessCidrs = nil }, "public endpoint access needs at least one CIDR"},
		"no ALB class":         {func(a *ClusterArgs) { a.ALBs = nil }, "at least one ALB class are required"},
		"two ALB classes alb":  {func(a *ClusterArgs) { a.ALBs[1].Name = "alb" }, `ALB class names must be set and distinct, got "alb" twice`},
		"unknown scheme":       {func(a *ClusterArgs) { a.ALBs[0].Scheme = "public" }, `scheme "public": accepted internet-facing or internal`},
		"no log retention":     {func(a *ClusterArgs) { a.AccessLogDays = 0 }, "the access log retention are required"},
		"no VPC":               {func(a *ClusterArgs) { a.VpcID = nil }, "a VPC ID and private subnet IDs are required"},
	} {
		r, err := runCluster(t, c.mutate)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, c.want)
		}
		if len(r.m.ByType("eks:index:Cluster")) != 0 {
			t.Errorf("%s: cluster declared despite bad args", name)
		}
	}
}

// TestAccessEntryName: the key depends on the principal alone, so it is stable across list
// reorderings, and principals that IAM treats as one (names are case-insensitive) get one key.
func TestAccessEntryName(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:iam::123456789012:role/platform-admin":      "123456789012-role-platform-admin",
		"arn:aws:iam::123456789012:role/Platform-Admin":      "123456789012-role-platform-admin",
		"arn:aws:iam::123456789012:role/ci/deploy_prod":      "123456789012-role-ci-deploy-prod",
		"arn:aws:iam::210987654321:user/alice@example.com":   "210987654321-user-alice-example-com",
		"arn:aws-us-gov:iam::123456789012:role/gov-operator": "123456789012-role-gov-operator",
	} {
		if got := AccessEntryName(arn); got != want {
			t.Errorf("AccessEntryName(%s) = %s, want %s", arn, got, want)
		}
	}
}
