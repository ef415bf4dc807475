package vpc

import (
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/internal/pulumitest"
)

func runNetwork(t *testing.T, args NetworkArgs) (*pulumitest.Mocks, *Network) {
	t.Helper()
	m := pulumitest.New("p", "s")
	var net *Network
	err := pulumitest.Run(t, m, nil, nil, func(ctx *pulumi.Context) error {
		var err error
		net, err = NewNetwork(ctx, "net", &args)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m, net
}

func tags(r pulumitest.Node) map[string]string {
	out := map[string]string{}
	for k, v := range r.Raw["tags"].ObjectValue() {
		out[string(k)] = v.StringValue()
	}
	return out
}

func args(mode NatMode, azs int) NetworkArgs {
	return NetworkArgs{CidrBlock: "10.0.0.0/16", AzCount: azs, NatMode: mode, Region: "eu-west-1", NamePrefix: "flask-eks-test"}
}

func TestNetworkSubnets(t *testing.T) {
	m, _ := runNetwork(t, args(NatSingle, 3))
	vpc := m.ByType("aws:ec2/vpc:Vpc")
	if len(vpc) != 1 || !vpc[0].Raw["enableDnsSupport"].BoolValue() || !vpc[0].Raw["enableDnsHostnames"].BoolValue() {
		t.Fatalf("want one VPC with DNS support and hostnames, got %v", vpc)
	}
	subnets := m.ByType("aws:ec2/subnet:Subnet")
	if len(subnets) != 6 {
		t.Fatalf("%d subnets, want 6", len(subnets))
	}
	var gotPublic, gotPrivate []string
	for _, s := range subnets {
		tg := tags(s)
		cidr := s.Raw["cidrBlock"].StringValue()
		az := s.Raw["availabilityZone"].StringValue()
		if s.Raw["vpcId"].StringValue() != m.One(t, "aws:ec2/vpc:Vpc", "net").ID {
			t.Errorf("%s is not in the VPC", s.Name)
		}
		switch tg["tier"] {
		case "public":
			gotPublic = append(gotPublic, az+"="+cidr)
			if tg[PublicELBTag] != "1" || tg[InternalELBTag] != "" {
				t.Errorf("public subnet %s tags = %v", s.Name, tg)
			}
			if s.Raw["mapPublicIpOnLaunch"].BoolValue() {
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
		nats, eips := m.ByType("aws:ec2/natGateway:NatGateway"), m.ByType("aws:ec2/eip:Eip")
		if len(nats) != c.want || len(eips) != c.want {
			t.Errorf("%s/%d AZs: %d NAT gateways and %d EIPs, want %d", c.mode, c.azs, len(nats), len(eips), c.want)
		}
		publicSubnets := map[string]bool{}
		for _, s := range m.ByType("aws:ec2/subnet:Subnet") {
			if tags(s)["tier"] == "public" {
				publicSubnets[m.One(t, "aws:ec2/subnet:Subnet", s.Name).ID] = true
			}
		}
		igw := m.ByType("aws:ec2/internetGateway:InternetGateway")[0]
		for _, n := range nats {
			if !publicSubnets[n.Raw["subnetId"].StringValue()] {
				t.Errorf("NAT gateway %s is not in a public subnet", n.Name)
			}
			if !slices.Contains(n.Dependencies, igw.URN) {
				t.Errorf("NAT gateway %s does not depend on the internet gateway: %v", n.Name, n.Dependencies)
			}
		}
		for _, e := range eips {
			if e.Raw["domain"].StringValue() != "vpc" {
				t.Errorf("EIP %s domain = %v", e.Name, e.Raw["domain"])
			}
		}
	}
}

func TestNetworkRoutes(t *testing.T) {
	for _, mode := range []NatMode{NatSingle, NatOnePerAZ} {
		m, _ := runNetwork(t, args(mode, 3))
		igwID := m.One(t, "aws:ec2/internetGateway:InternetGateway", "net").ID
		natIDs := map[string]bool{}
		for _, n := range m.ByType("aws:ec2/natGateway:NatGateway") {
			natIDs[m.One(t, "aws:ec2/natGateway:NatGateway", n.Name).ID] = true
		}

		pub := m.One(t, "aws:ec2/route:Route", "net-public-default")
		if pub.Raw["gatewayId"].StringValue() != igwID || pub.Raw["destinationCidrBlock"].StringValue() != "0.0.0.0/0" {
			t.Errorf("public default route = %v", pub.Inputs)
		}
		usedNATs := map[string]bool{}
		for _, az := range []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"} {
			route := m.One(t, "aws:ec2/route:Route", "net-private-"+az+"-default")
			nat := route.Raw["natGatewayId"].StringValue()
			if !natIDs[nat] || route.Raw["destinationCidrBlock"].StringValue() != "0.0.0.0/0" {
				t.Errorf("%s private route = %v", az, route.Inputs)
			}
			if route.Raw["routeTableId"].StringValue() != m.One(t, "aws:ec2/routeTable:RouteTable", "net-private-"+az).ID {
				t.Errorf("%s private route is not in the %s route table", az, az)
			}
			usedNATs[nat] = true
			assoc := m.One(t, "aws:ec2/routeTableAssociation:RouteTableAssociation", "net-private-"+az)
			if assoc.Raw["subnetId"].StringValue() != m.One(t, "aws:ec2/subnet:Subnet", "net-private-"+az).ID || assoc.Raw["routeTableId"].StringValue() != m.One(t, "aws:ec2/routeTable:RouteTable", "net-private-"+az).ID {
				t.Errorf("%s private association = %v", az, assoc.Inputs)
			}
			pubAssoc := m.One(t, "aws:ec2/routeTableAssociation:RouteTableAssociation", "net-public-"+az)
			if pubAssoc.Raw["routeTableId"].StringValue() != m.One(t, "aws:ec2/routeTable:RouteTable", "net-public").ID {
				t.Errorf("%s public subnet is not associated with the public route table", az)
			}
		}
		wantNATs := map[NatMode]int{NatSingle: 1, NatOnePerAZ: 3}[mode]
		if len(usedNATs) != wantNATs {
			t.Errorf("%s: private routes use %d NAT gateways, want %d", mode, len(usedNATs), wantNATs)
		}
		s3 := m.ByType("aws:ec2/vpcEndpoint:VpcEndpoint")
		if len(s3) != 1 || s3[0].Raw["serviceName"].StringValue() != "com.amazonaws.eu-west-1.s3" || len(s3[0].Raw["routeTableIds"].ArrayValue()) != 3 {
			t.Errorf("S3 gateway endpoint = %v", s3)
		}
	}
}

func TestNetworkChildrenAreParented(t *testing.T) {
	m, _ := runNetwork(t, args(NatOnePerAZ, 3))
	component := m.One(t, "flask-eks:vpc:Network", "net").URN
	for _, r := range m.Graph() {
		if r.Custom && r.Parent != component {
			t.Errorf("%s %s parent = %q, want the Network", r.Type, r.Name, r.Parent)
		}
	}
}

func TestNetworkOutputs(t *testing.T) {
	var outs [3]*pulumitest.Value
	m := pulumitest.New("p", "s")
	err := pulumitest.Run(t, m, nil, nil, func(ctx *pulumi.Context) error {
		a := args(NatSingle, 2)
		n, err := NewNetwork(ctx, "net", &a)
		if err != nil {
			return err
		}
		outs = [3]*pulumitest.Value{pulumitest.Capture(n.AvailabilityZones), pulumitest.Capture(n.PublicSubnetIDs), pulumitest.Capture(n.PrivateSubnetIDs)}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	strs := func(v *pulumitest.Value) []string { return v.Get(t).([]string) }
	azs, public, private := strs(outs[0]), strs(outs[1]), strs(outs[2])
	if !slices.Equal(azs, []string{"eu-west-1a", "eu-west-1b"}) || len(public) != 2 || len(private) != 2 {
		t.Errorf("outputs: azs %v public %v private %v", azs, public, private)
	}
	if slices.ContainsFunc(append(public, private...), func(s string) bool { return !strings.HasPrefix(s, "subnet-") }) {
		t.Errorf("subnet outputs are not subnet IDs: %v %v", public, private)
	}
}

func TestNetworkRejectsBadArgs(t *testing.T) {
	for _, c := range []struct {
		args NetworkArgs
		want string // a fragment of the one error
	}{
		{NetworkArgs{CidrBlock: "10.0.0.0/24", AzCount: 3, NatMode: NatSingle}, `VPC CIDR "10.0.0.0/24" has prefix /24`},
		{NetworkArgs{CidrBlock: "10.0.0.0/16", AzCount: 4, NatMode: NatSingle}, "azCount 4: accepted 1 to 3"},
		{NetworkArgs{CidrBlock: "10.0.0.0/16", AzCount: 3, NatMode: "none"}, `NAT mode "none": accepted "single" or "one-per-az"`},
	} {
		a := c.args
		m := pulumitest.New("p", "s")
		err := pulumitest.Run(t, m, nil, nil, func(ctx *pulumi.Context) error {
			_, err := NewNetwork(ctx, "net", &a)
			return err
		})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one containing %q", a, err, c.want)
		}
		if n := len(m.Graph()); n != 0 {
			t.Errorf("%+v registered %d resources before failing", a, n)
		}
	}
}
