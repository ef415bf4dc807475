package vpc

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ec2Mocks answers like EC2 for the resources a Network creates and records them.
type ec2Mocks struct {
	mu        sync.Mutex
	resources []pulumi.MockResourceArgs
	ids       map[string]string // type::name -> ID
}

func (m *ec2Mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := ""
	if args.Custom {
		id = fmt.Sprintf("%s-%04d", strings.ToLower(args.TypeToken[strings.LastIndex(args.TypeToken, ":")+1:]), len(m.resources))
	}
	m.resources = append(m.resources, args)
	m.ids[args.TypeToken+"::"+args.Name] = id
	return id, args.Inputs, nil
}

func (m *ec2Mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	if args.Token != "aws:index/getAvailabilityZones:getAvailabilityZones" {
		return nil, fmt.Errorf("unexpected invoke %s", args.Token)
	}
	return resource.NewPropertyMapFromMap(map[string]any{
		"names": []any{"eu-west-1a", "eu-west-1b", "eu-west-1c"},
	}), nil
}

func (m *ec2Mocks) id(typ, name string) string { return m.ids[typ+"::"+name] }

func (m *ec2Mocks) of(typ string) []pulumi.MockResourceArgs {
	var out []pulumi.MockResourceArgs
	for _, r := range m.resources {
		if r.TypeToken == typ {
			out = append(out, r)
		}
	}
	return out
}

func (m *ec2Mocks) named(t *testing.T, typ, name string) pulumi.MockResourceArgs {
	t.Helper()
	for _, r := range m.of(typ) {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no %s named %s", typ, name)
	return pulumi.MockResourceArgs{}
}

func runNetwork(t *testing.T, args NetworkArgs) (*ec2Mocks, *Network) {
	t.Helper()
	m := &ec2Mocks{ids: map[string]string{}}
	var net *Network
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		var err error
		net, err = NewNetwork(ctx, "net", &args)
		return err
	}, pulumi.WithMocks("p", "s", m))
	if err != nil {
		t.Fatal(err)
	}
	return m, net
}

func tags(r pulumi.MockResourceArgs) map[string]string {
	out := map[string]string{}
	for k, v := range r.Inputs["tags"].ObjectValue() {
		out[string(k)] = v.StringValue()
	}
	return out
}

func args(mode NatMode, azs int) NetworkArgs {
	return NetworkArgs{CidrBlock: "10.0.0.0/16", AzCount: azs, NatMode: mode, Region: "eu-west-1", NamePrefix: "flask-eks-test"}
}

func TestNetworkSubnets(t *testing.T) {
	m, _ := runNetwork(t, args(NatSingle, 3))
	vpc := m.of("aws:ec2/vpc:Vpc")
	if len(vpc) != 1 || !vpc[0].Inputs["enableDnsSupport"].BoolValue() || !vpc[0].Inputs["enableDnsHostnames"].BoolValue() {
		t.Fatalf("want one VPC with DNS support and hostnames, got %v", vpc)
	}
	subnets := m.of("aws:ec2/subnet:Subnet")
	if len(subnets) != 6 {
		t.Fatalf("%d subnets, want 6", len(subnets))
	}
	var gotPublic, gotPrivate []string
	for _, s := range subnets {
		tg := tags(s)
		cidr := s.Inputs["cidrBlock"].StringValue()
		az := s.Inputs["availabilityZone"].StringValue()
		if s.Inputs["vpcId"].StringValue() != m.id("aws:ec2/vpc:Vpc", "net") {
			t.Errorf("%s is not in the VPC", s.Name)
		}
		switch tg["tier"] {
		case "public":
			gotPublic = append(gotPublic, az+"="+cidr)
			if tg[PublicELBTag] != "1" || tg[InternalELBTag] != "" {
				t.Errorf("public subnet %s tags = %v", s.Name, tg)
			}
			if s.Inputs["mapPublicIpOnLaunch"].BoolValue() {
				t.Errorf("public subnet %s maps public IPs on launch", s.Name)
			}
		case "private":
			gotPrivate = append(gotPrivate, az+"="+cidr)
			if tg[InternalELBTag] != "1" || tg[PublicELBTag] != "" {
				t.Errorf("private subnet %s tags = %v", s.Name, tg)
			}
		default:
			t.Errorf("subnet %s has no tier tag: %v", s.Name, tg)
		}
		if !strings.HasPrefix(tg["Name"], "flask-eks-test-") {
			t.Errorf("subnet %s Name tag = %q", s.Name, tg["Name"])
		}
	}
	slices.Sort(gotPublic)
	slices.Sort(gotPrivate)
	if want := []string{"eu-west-1a=10.0.192.0/22", "eu-west-1b=10.0.196.0/22", "eu-west-1c=10.0.200.0/22"}; !slices.Equal(gotPublic, want) {
		t.Errorf("public subnets = %v, want %v", gotPublic, want)
	}
	if want := []string{"eu-west-1a=10.0.0.0/18", "eu-west-1b=10.0.64.0/18", "eu-west-1c=10.0.128.0/18"}; !slices.Equal(gotPrivate, want) {
		t.Errorf("private subnets = %v, want %v", gotPrivate, want)
	}
}

func TestNetworkNATPerMode(t *testing.T) {
	for _, c := range []struct {
		mode NatMode
		azs  int
		want int
	}{{NatSingle, 3, 1}, {NatOnePerAZ, 3, 3}, {NatSingle, 2, 1}, {NatOnePerAZ, 2, 2}} {
		m, _ := runNetwork(t, args(c.mode, c.azs))
		nats, eips := m.of("aws:ec2/natGateway:NatGateway"), m.of("aws:ec2/eip:Eip")
		if len(nats) != c.want || len(eips) != c.want {
			t.Errorf("%s/%d AZs: %d NAT gateways and %d EIPs, want %d", c.mode, c.azs, len(nats), len(eips), c.want)
		}
		publicSubnets := map[string]bool{}
		for _, s := range m.of("aws:ec2/subnet:Subnet") {
			if tags(s)["tier"] == "public" {
				publicSubnets[m.id("aws:ec2/subnet:Subnet", s.Name)] = true
			}
		}
		igw := m.of("aws:ec2/internetGateway:InternetGateway")[0]
		for _, n := range nats {
			if !publicSubnets[n.Inputs["subnetId"].StringValue()] {
				t.Errorf("NAT gateway %s is not in a public subnet", n.Name)
			}
			if !slices.Contains(n.RegisterRPC.GetDependencies(), string(urnOf(n.RegisterRPC.GetParent(), igw))) {
				t.Errorf("NAT gateway %s does not depend on the internet gateway: %v", n.Name, n.RegisterRPC.GetDependencies())
			}
		}
		for _, e := range eips {
			if e.Inputs["domain"].StringValue() != "vpc" {
				t.Errorf("EIP %s domain = %v", e.Name, e.Inputs["domain"])
			}
		}
	}
}

func TestNetworkRoutes(t *testing.T) {
	for _, mode := range []NatMode{NatSingle, NatOnePerAZ} {
		m, _ := runNetwork(t, args(mode, 3))
		igwID := m.id("aws:ec2/internetGateway:InternetGateway", "net")
		natIDs := map[string]bool{}
		for _, n := range m.of("aws:ec2/natGateway:NatGateway") {
			natIDs[m.id("aws:ec2/natGateway:NatGateway", n.Name)] = true
		}

		pub := m.named(t, "aws:ec2/route:Route", "net-public-default")
		if pub.Inputs["gatewayId"].StringValue() != igwID || pub.Inputs["destinationCidrBlock"].StringValue() != "0.0.0.0/0" {
			t.Errorf("public default route = %v", pub.Inputs)
		}
		usedNATs := map[string]bool{}
		for _, az := range []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"} {
			route := m.named(t, "aws:ec2/route:Route", "net-private-"+az+"-default")
			nat := route.Inputs["natGatewayId"].StringValue()
			if !natIDs[nat] || route.Inputs["destinationCidrBlock"].StringValue() != "0.0.0.0/0" {
				t.Errorf("%s private route = %v", az, route.Inputs)
			}
			if route.Inputs["routeTableId"].StringValue() != m.id("aws:ec2/routeTable:RouteTable", "net-private-"+az) {
				t.Errorf("%s private route is not in the %s route table", az, az)
			}
			usedNATs[nat] = true
			assoc := m.named(t, "aws:ec2/routeTableAssociation:RouteTableAssociation", "net-private-"+az)
			if assoc.Inputs["subnetId"].StringValue() != m.id("aws:ec2/subnet:Subnet", "net-private-"+az) || assoc.Inputs["routeTableId"].StringValue() != m.id("aws:ec2/routeTable:RouteTable", "net-private-"+az) {
				t.Errorf("%s private association = %v", az, assoc.Inputs)
			}
			pubAssoc := m.named(t, "aws:ec2/routeTableAssociation:RouteTableAssociation", "net-public-"+az)
			if pubAssoc.Inputs["routeTableId"].StringValue() != m.id("aws:ec2/routeTable:RouteTable", "net-public") {
				t.Errorf("%s public subnet is not associated with the public route table", az)
			}
		}
		wantNATs := map[NatMode]int{NatSingle: 1, NatOnePerAZ: 3}[mode]
		if len(usedNATs) != wantNATs {
			t.Errorf("%s: private routes use %d NAT gateways, want %d", mode, len(usedNATs), wantNATs)
		}
		s3 := m.of("aws:ec2/vpcEndpoint:VpcEndpoint")
		if len(s3) != 1 || s3[0].Inputs["serviceName"].StringValue() != "com.amazonaws.eu-west-1.s3" || len(s3[0].Inputs["routeTableIds"].ArrayValue()) != 3 {
			t.Errorf("S3 gateway endpoint = %v", s3)
		}
	}
}

func TestNetworkChildrenAreParented(t *testing.T) {
	m, _ := runNetwork(t, args(NatOnePerAZ, 3))
	var component string
	for _, r := range m.resources {
		if r.TypeToken == "flask-eks:vpc:Network" {
			component = string(urnOf("", r))
		}
	}
	if component == "" {
		t.Fatal("component not registered")
	}
	for _, r := range m.resources {
		if r.Custom && r.RegisterRPC.GetParent() != component {
			t.Errorf("%s %s parent = %q, want the Network", r.TypeToken, r.Name, r.RegisterRPC.GetParent())
		}
	}
}

func TestNetworkOutputs(t *testing.T) {
	_, n := runNetwork(t, args(NatSingle, 2))
	wait := func(o pulumi.StringArrayOutput) []string {
		ch := make(chan []string, 1)
		o.ApplyT(func(v []string) []string { ch <- v; return v })
		return <-ch
	}
	azs, public, private := wait(n.AvailabilityZones), wait(n.PublicSubnetIDs), wait(n.PrivateSubnetIDs)
	if !slices.Equal(azs, []string{"eu-west-1a", "eu-west-1b"}) || len(public) != 2 || len(private) != 2 {
		t.Errorf("outputs: azs %v public %v private %v", azs, public, private)
	}
	if slices.ContainsFunc(append(public, private...), func(s string) bool { return !strings.HasPrefix(s, "subnet-") }) {
		t.Errorf("subnet outputs are not subnet IDs: %v %v", public, private)
	}
}

func TestNetworkRejectsBadArgs(t *testing.T) {
	for _, a := range []NetworkArgs{
		{CidrBlock: "10.0.0.0/24", AzCount: 3, NatMode: NatSingle},
		{CidrBlock: "10.0.0.0/16", AzCount: 4, NatMode: NatSingle},
		{CidrBlock: "10.0.0.0/16", AzCount: 3, NatMode: "none"},
	} {
		m := &ec2Mocks{ids: map[string]string{}}
		err := pulumi.RunErr(func(ctx *pulumi.Context) error {
			_, err := NewNetwork(ctx, "net", &a)
			return err
		}, pulumi.WithMocks("p", "s", m))
		if err == nil {
			t.Errorf("%+v accepted", a)
		}
		if len(m.resources) != 0 {
			t.Errorf("%+v registered %d resources before failing", a, len(m.resources))
		}
	}
}

// urnOf computes the URN the mock monitor gives a resource registered under parent.
func urnOf(parent string, r pulumi.MockResourceArgs) resource.URN {
	parentType := ""
	if parent != "" {
		parentType = string(resource.URN(parent).QualifiedType()) + "$"
	}
	return resource.URN("urn:pulumi:s::p::" + parentType + r.TypeToken + "::" + r.Name)
}
