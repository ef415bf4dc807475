package eks

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const testKubeconfig = `{"apiVersion":"v1","kind":"Config","clusters":[{"name":"kubernetes","cluster":{"server":"https://ABC.gr7.eu-west-1.eks.amazonaws.com","certificate-authority-data":"LS0t"}}],"contexts":[{"name":"aws","context":{"cluster":"kubernetes","user":"aws"}}],"current-context":"aws","users":[{"name":"aws","user":{"exec":{"apiVersion":"client.authentication.k8s.io/v1beta1","command":"aws","args":["--region","eu-west-1","eks","get-token","--cluster-name","flask-eks-test","--output","json"]}}}]}`

// eksMocks answers as pulumi-eks's remote Cluster component and the Kubernetes API would.
type eksMocks struct {
	mu        sync.Mutex
	resources []pulumi.MockResourceArgs
}

func (m *eksMocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	m.mu.Lock()
	m.resources = append(m.resources, args)
	m.mu.Unlock()
	out := args.Inputs.Copy()
	if args.TypeToken == "eks:index:Cluster" {
		// A remote component: it has no ID, and its outputs are what pulumi-eks computes.
		for k, v := range map[string]string{
			"kubeconfigJson":  testKubeconfig,
			"oidcProviderArn": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC",
			"oidcProviderUrl": "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC",
			"oidcIssuer":      "oidc.eks.eu-west-1.amazonaws.com/id/ABC",
		} {
			out[resource.PropertyKey(k)] = resource.NewStringProperty(v)
		}
		return "", out, nil
	}
	if !args.Custom {
		return "", out, nil
	}
	return args.Name + "-id", out, nil
}

func (m *eksMocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return nil, fmt.Errorf("unexpected invoke %s", args.Token)
}

func (m *eksMocks) byType(typ string) []pulumi.MockResourceArgs {
	var out []pulumi.MockResourceArgs
	for _, r := range m.resources {
		if r.TypeToken == typ {
			out = append(out, r)
		}
	}
	return out
}

func (m *eksMocks) one(t *testing.T, typ string) pulumi.MockResourceArgs {
	t.Helper()
	rs := m.byType(typ)
	if len(rs) != 1 {
		t.Fatalf("%d resources of type %s, want 1", len(rs), typ)
	}
	return rs[0]
}

func testArgs() *ClusterArgs {
	return &ClusterArgs{
		Name:                 "flask-eks-test",
		Version:              "1.33",
		VpcID:                pulumi.String("vpc-0123"),
		PrivateSubnetIDs:     pulumi.ToStringArray([]string{"subnet-priv-a", "subnet-priv-b", "subnet-priv-c"}),
		EndpointPublicAccess: true,
		PublicAccessCidrs:    []string{"198.51.100.0/24"},
		LogTypes:             []string{"api", "audit", "authenticator"},
		AdminPrincipalArns:   []string{"arn:aws:iam::123456789012:role/admin", "arn:aws:iam::123456789012:role/ci"},
		ViewerPrincipalArns:  []string{"arn:aws:iam::123456789012:role/ci/preview"},
		StorageClassName:     "gp3",
		IngressClassName:     "alb",
	}
}

type clusterRun struct {
	mocks   *eksMocks
	cluster *Cluster
	outputs map[string]any
}

func runCluster(t *testing.T, mutate func(*ClusterArgs), opts ...func(*pulumi.Context) pulumi.ResourceOption) (*clusterRun, error) {
	t.Helper()
	r := &clusterRun{mocks: &eksMocks{}, outputs: map[string]any{}}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		// A stand-in for the VPC's NAT routes, which the cluster must wait for.
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
		r.cluster = c
		// Read the outputs inside the program, while the mock engine still runs.
		pulumi.All(c.ClusterName, c.Kubeconfig, c.IngressClassName, c.StorageClassName, c.OidcProviderArn).ApplyT(func(v []any) error {
			r.outputs["clusterName"], r.outputs["kubeconfig"], r.outputs["ingressClassName"], r.outputs["storageClassName"], r.outputs["oidcProviderArn"] = v[0], v[1], v[2], v[3], v[4]
			return nil
		})
		return nil
	}, pulumi.WithMocks("flask-eks", "test", r.mocks))
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

func TestClusterInputs(t *testing.T) {
	r := mustRunCluster(t, nil)
	c := r.mocks.one(t, "eks:index:Cluster")
	in := c.Inputs
	if !c.RegisterRPC.GetRemote() {
		t.Error("pulumi-eks Cluster is not registered as a remote component")
	}
	if !in["autoMode"].ObjectValue()["enabled"].BoolValue() {
		t.Error("Auto Mode is not enabled")
	}
	if pools := strs(in["autoMode"].ObjectValue()["computeConfig"].ObjectValue()["nodePools"]); !slices.Equal(pools, []string{"general-purpose", "system"}) {
		t.Errorf("node pools = %v", pools)
	}
	if in["authenticationMode"].StringValue() != "API" {
		t.Errorf("authenticationMode = %v", in["authenticationMode"])
	}
	if got := strs(in["privateSubnetIds"]); !slices.Equal(got, []string{"subnet-priv-a", "subnet-priv-b", "subnet-priv-c"}) {
		t.Errorf("privateSubnetIds = %v", got)
	}
	for _, k := range []resource.PropertyKey{"publicSubnetIds", "subnetIds", "nodeSubnetIds"} {
		if v, ok := in[k]; ok && !v.IsNull() {
			t.Errorf("%s = %v: the cluster must only get private subnets, or Auto Mode may put nodes in public ones", k, v)
		}
	}
	if in["nodeAssociatePublicIpAddress"].BoolValue() {
		t.Error("nodes get public IPs")
	}
	if !in["endpointPrivateAccess"].BoolValue() || !in["endpointPublicAccess"].BoolValue() {
		t.Errorf("endpoint access private %v public %v", in["endpointPrivateAccess"], in["endpointPublicAccess"])
	}
	if got := strs(in["publicAccessCidrs"]); !slices.Equal(got, []string{"198.51.100.0/24"}) {
		t.Errorf("publicAccessCidrs = %v", got)
	}
	if got := strs(in["enabledClusterLogTypes"]); !slices.Equal(got, []string{"api", "audit", "authenticator"}) {
		t.Errorf("log types = %v", got)
	}
	if in["name"].StringValue() != "flask-eks-test" || in["version"].StringValue() != "1.33" || in["vpcId"].StringValue() != "vpc-0123" {
		t.Errorf("name/version/vpc = %v %v %v", in["name"], in["version"], in["vpcId"])
	}
	// Entries are keyed by the principal, not by list position: reordering the config list
	// must not replace them.
	entries := in["accessEntries"].ObjectValue()
	want := map[string][2]string{
		"123456789012-role-admin":      {"arn:aws:iam::123456789012:role/admin", ClusterAdminPolicyArn},
		"123456789012-role-ci":         {"arn:aws:iam::123456789012:role/ci", ClusterAdminPolicyArn},
		"123456789012-role-ci-preview": {"arn:aws:iam::123456789012:role/ci/preview", AdminViewPolicyArn},
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
	// Auto Mode runs DNS on each node; the CoreDNS add-on pulumi-eks would create is off.
	if co := in["corednsAddonOptions"].ObjectValue(); co["enabled"].BoolValue() {
		t.Errorf("corednsAddonOptions = %v, want the CoreDNS add-on disabled in Auto Mode", co)
	}
	if !slices.Contains(c.RegisterRPC.GetDependencies(), "urn:pulumi:test::flask-eks::pulumi:providers:kubernetes::egress-stand-in") {
		t.Errorf("cluster does not wait for NAT egress: %v", c.RegisterRPC.GetDependencies())
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
		got := r.mocks.one(t, "eks:index:Cluster").RegisterRPC.GetProviders()["aws"]
		if !strings.HasPrefix(got, "urn:pulumi:test::flask-eks::pulumi:providers:aws::tagged::") {
			t.Errorf("%s: pulumi-eks gets AWS provider %q, want the one given to the component", name, got)
		}
	}
}

func TestPrivateOnlyEndpoint(t *testing.T) {
	r := mustRunCluster(t, func(a *ClusterArgs) { a.EndpointPublicAccess = false })
	in := r.mocks.one(t, "eks:index:Cluster").Inputs
	if in["endpointPublicAccess"].BoolValue() || !in["endpointPrivateAccess"].BoolValue() {
		t.Error("want a private-only endpoint")
	}
	if v, ok := in["publicAccessCidrs"]; ok && !v.IsNull() {
		t.Errorf("publicAccessCidrs = %v for a private-only endpoint", v)
	}
}

func TestProviderUsesClusterKubeconfig(t *testing.T) {
	r := mustRunCluster(t, nil)
	var p pulumi.MockResourceArgs
	for _, x := range r.mocks.byType("pulumi:providers:kubernetes") {
		if x.Name == "cluster" {
			p = x
		}
	}
	kc := p.Inputs["kubeconfig"]
	if !kc.IsSecret() {
		t.Fatalf("provider kubeconfig is not secret: %v", kc)
	}
	if kc.SecretValue().Element.StringValue() != testKubeconfig {
		t.Error("provider kubeconfig is not the cluster's kubeconfig")
	}
	if r.outputs["kubeconfig"] != testKubeconfig || !pulumi.IsSecret(r.cluster.Kubeconfig) {
		t.Error("kubeconfig output is wrong or not secret")
	}
	if r.outputs["clusterName"] != "flask-eks-test" || r.outputs["ingressClassName"] != "alb" || r.outputs["storageClassName"] != "gp3" {
		t.Errorf("outputs = %v", r.outputs)
	}
	if !strings.HasPrefix(r.outputs["oidcProviderArn"].(string), "arn:aws:iam::") {
		t.Errorf("oidcProviderArn = %v", r.outputs["oidcProviderArn"])
	}
}

func TestClasses(t *testing.T) {
	r := mustRunCluster(t, nil)
	sc := r.mocks.one(t, "kubernetes:storage.k8s.io/v1:StorageClass").Inputs
	meta := sc["metadata"].ObjectValue()
	if meta["name"].StringValue() != "gp3" || meta["annotations"].ObjectValue()["storageclass.kubernetes.io/is-default-class"].StringValue() != "true" {
		t.Errorf("StorageClass metadata = %v", meta)
	}
	if sc["provisioner"].StringValue() != "ebs.csi.eks.amazonaws.com" || sc["volumeBindingMode"].StringValue() != "WaitForFirstConsumer" {
		t.Errorf("StorageClass = %v", sc)
	}
	params := sc["parameters"].ObjectValue()
	if params["type"].StringValue() != "gp3" || params["encrypted"].StringValue() != "true" {
		t.Errorf("StorageClass parameters = %v", params)
	}

	icp := r.mocks.one(t, "kubernetes:eks.amazonaws.com/v1:IngressClassParams").Inputs
	if icp["spec"].ObjectValue()["scheme"].StringValue() != "internet-facing" || icp["metadata"].ObjectValue()["name"].StringValue() != "alb" {
		t.Errorf("IngressClassParams = %v", icp)
	}

	ic := r.mocks.one(t, "kubernetes:networking.k8s.io/v1:IngressClass").Inputs
	spec := ic["spec"].ObjectValue()
	ref := spec["parameters"].ObjectValue()
	if spec["controller"].StringValue() != "eks.amazonaws.com/alb" || ref["apiGroup"].StringValue() != "eks.amazonaws.com" ||
		ref["kind"].StringValue() != "IngressClassParams" || ref["name"].StringValue() != "alb" {
		t.Errorf("IngressClass spec = %v", spec)
	}

	// Every Kubernetes object goes through the cluster's provider, under the Classes
	// component, which itself belongs to the Cluster component.
	classesURN := "urn:pulumi:test::flask-eks::flask-eks:eks:Cluster$flask-eks:eks:Classes::cluster"
	for _, x := range r.mocks.resources {
		if !strings.HasPrefix(x.TypeToken, "kubernetes:") {
			continue
		}
		if !strings.HasPrefix(x.RegisterRPC.GetProvider(), "urn:pulumi:test::flask-eks::flask-eks:eks:Cluster$pulumi:providers:kubernetes::cluster::") {
			t.Errorf("%s uses provider %q", x.TypeToken, x.RegisterRPC.GetProvider())
		}
		if x.RegisterRPC.GetParent() != classesURN {
			t.Errorf("%s parent = %q", x.TypeToken, x.RegisterRPC.GetParent())
		}
	}
	for _, x := range r.mocks.resources {
		if x.TypeToken == "flask-eks:eks:Classes" || x.TypeToken == "eks:index:Cluster" || x.TypeToken == "pulumi:providers:kubernetes" && x.Name == "cluster" {
			if x.RegisterRPC.GetParent() != "urn:pulumi:test::flask-eks::flask-eks:eks:Cluster::cluster" {
				t.Errorf("%s parent = %q, want the Cluster component", x.TypeToken, x.RegisterRPC.GetParent())
			}
		}
	}
}

// TestClassesAloneNeedOnlyAProvider: the integration test deploys Classes to a bare API
// server, without any AWS resource.
func TestClassesAloneNeedOnlyAProvider(t *testing.T) {
	m := &eksMocks{}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		p, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		_, err = NewClasses(ctx, "classes", &ClassesArgs{Provider: p, StorageClassName: "gp3", IngressClassName: "alb", Scheme: "internal"})
		return err
	}, pulumi.WithMocks("flask-eks", "test", m))
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range m.resources {
		if strings.HasPrefix(x.TypeToken, "aws:") || strings.HasPrefix(x.TypeToken, "eks:") {
			t.Errorf("Classes created %s", x.TypeToken)
		}
	}
	if got := m.one(t, "kubernetes:eks.amazonaws.com/v1:IngressClassParams").Inputs["spec"].ObjectValue()["scheme"].StringValue(); got != "internal" {
		t.Errorf("scheme = %s", got)
	}
}

func TestClusterArgsValidation(t *testing.T) {
	for name, mutate := range map[string]func(*ClusterArgs){
		"no name":               func(a *ClusterArgs) { a.Name = "" },
		"no subnets":            func(a *ClusterArgs) { a.PrivateSubnetIDs = nil },
		"public without CIDRs":  func(a *ClusterArgs) { a.PublicAccessCidrs = nil },
		"no ingress class name": func(a *ClusterArgs) { a.IngressClassName = "" },
		"no storage class name": func(a *ClusterArgs) { a.StorageClassName = "" },
		"no Kubernetes version": func(a *ClusterArgs) { a.Version = "" },
		"no VPC":                func(a *ClusterArgs) { a.VpcID = nil },
	} {
		r, err := runCluster(t, mutate)
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
		if len(r.mocks.byType("eks:index:Cluster")) != 0 {
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
