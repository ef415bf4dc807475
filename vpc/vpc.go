// Package vpc provides Network, the VPC an EKS Auto Mode cluster and its internet-facing ALBs
// live in: one public and one private subnet per availability zone, NAT egress for the private
// tier, and the subnet tags that EKS Auto Mode uses to find where to put load balancers.
package vpc

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// NatMode says how many NAT gateways carry the private subnets' egress.
type NatMode string

const (
	// NatSingle puts one NAT gateway in the first AZ; every private subnet routes through it.
	// Cheaper, but egress from all AZs fails with that one AZ.
	NatSingle NatMode = "single"
	// NatOnePerAZ puts a NAT gateway in every AZ; each private subnet routes through its own
	// AZ's, so losing an AZ never takes egress away from the others.
	NatOnePerAZ NatMode = "one-per-az"
)

// Subnet role tags. EKS Auto Mode's load balancing (like the AWS Load Balancer Controller)
// picks subnets for internet-facing load balancers by the elb tag and for internal ones by
// the internal-elb tag. Nodes do not use these tags: the cluster is only given private subnets.
const (
	PublicELBTag   = "kubernetes.io/role/elb"
	InternalELBTag = "kubernetes.io/role/internal-elb"
)

// NetworkArgs configures a Network.
type NetworkArgs struct {
	// CidrBlock is the VPC CIDR; see SubnetCIDRs for how subnets are cut from it.
	CidrBlock string
	// AzCount is how many AZs (2 or 3) get a public and a private subnet.
	AzCount int
	// NatMode chooses one NAT gateway or one per AZ.
	NatMode NatMode
	// Region names the S3 gateway endpoint's service (com.amazonaws.<region>.s3).
	Region string
	// NamePrefix starts every Name tag, e.g. "flask-eks-dev".
	NamePrefix string
}

// Network is a VPC with public and private subnets across AZs and NAT egress.
type Network struct {
	pulumi.ResourceState

	VpcID             pulumi.StringOutput      `pulumi:"vpcId"`
	PublicSubnetIDs   pulumi.StringArrayOutput `pulumi:"publicSubnetIds"`
	PrivateSubnetIDs  pulumi.StringArrayOutput `pulumi:"privateSubnetIds"`
	AvailabilityZones pulumi.StringArrayOutput `pulumi:"availabilityZones"`

	// PrivateEgress holds the private routes to the NAT gateways, the route table associations
	// and the S3 endpoint. Nothing reads their outputs, but whatever runs in a cluster must
	// depend on them (the cluster's Kubernetes provider does): nodes need egress to join and
	// pull images, and on destroy the workloads must go before the routes and NAT gateways. The
	// control plane needs no egress, so the cluster itself does not wait for them.
	PrivateEgress []pulumi.Resource
	// PublicReady holds what an internet-facing load balancer in the public subnets needs: the
	// subnets, their route table associations, the default route and the internet gateway. The
	// ALBs are not Pulumi's (Auto Mode makes them for Ingresses), so whatever holds an Ingress
	// must depend on these: on destroy the ALB, deleted when its Ingress's finalizer runs, then
	// goes before them, instead of the subnets and the gateway failing with DependencyViolation.
	PublicReady []pulumi.Resource
}

// NewNetwork declares the VPC, its subnets, gateways, routes and an S3 gateway endpoint.
func NewNetwork(ctx *pulumi.Context, name string, args *NetworkArgs, opts ...pulumi.ResourceOption) (*Network, error) {
	if args == nil {
		return nil, fmt.Errorf("vpc %q: args are required", name)
	}
	if args.NatMode != NatSingle && args.NatMode != NatOnePerAZ {
		return nil, fmt.Errorf("vpc %q: NAT mode %q: accepted %q or %q", name, args.NatMode, NatSingle, NatOnePerAZ)
	}
	publicCIDRs, privateCIDRs, err := SubnetCIDRs(args.CidrBlock, args.AzCount)
	if err != nil {
		return nil, fmt.Errorf("vpc %q: %w", name, err)
	}

	n := &Network{}
	if err := ctx.RegisterComponentResource("flask-eks:vpc:Network", name, n, opts...); err != nil {
		return nil, fmt.Errorf("registering vpc %q: %w", name, err)
	}
	parent := pulumi.Parent(n)

	// A plain invoke, not an output: the AZ names must be known while declaring, because they
	// decide how many subnets exist. It runs in preview too, so the plan shows real AZs.
	// Local Zones and Wavelength Zones need opting in and are excluded.
	azs, err := aws.GetAvailabilityZones(ctx, &aws.GetAvailabilityZonesArgs{
		State:   pulumi.StringRef("available"),
		Filters: []aws.GetAvailabilityZonesFilter{{Name: "opt-in-status", Values: []string{"opt-in-not-required"}}},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("vpc %q: looking up availability zones: %w", name, err)
	}
	if len(azs.Names) < args.AzCount {
		return nil, fmt.Errorf("vpc %q: %d AZs requested but the region has only %d: %v", name, args.AzCount, len(azs.Names), azs.Names)
	}
	zones := azs.Names[:args.AzCount]

	tag := func(suffix string, extra map[string]string) pulumi.StringMap {
		m := pulumi.StringMap{"Name": pulumi.String(args.NamePrefix + "-" + suffix)}
		for k, v := range extra {
			m[k] = pulumi.String(v)
		}
		return m
	}

	vpc, err := ec2.NewVpc(ctx, name, &ec2.VpcArgs{
		CidrBlock:          pulumi.String(args.CidrBlock),
		EnableDnsSupport:   pulumi.Bool(true), // required for private EKS endpoint and VPC endpoints
		EnableDnsHostnames: pulumi.Bool(true),
		Tags:               tag("vpc", nil),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("vpc %q: creating VPC: %w", name, err)
	}

	igw, err := ec2.NewInternetGateway(ctx, name, &ec2.InternetGatewayArgs{
		VpcId: vpc.ID(),
		Tags:  tag("igw", nil),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("vpc %q: creating internet gateway: %w", name, err)
	}

	publicRT, err := ec2.NewRouteTable(ctx, name+"-public", &ec2.RouteTableArgs{
		VpcId: vpc.ID(),
		Tags:  tag("public", nil),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("vpc %q: creating public route table: %w", name, err)
	}
	publicRoute, err := ec2.NewRoute(ctx, name+"-public-default", &ec2.RouteArgs{
		RouteTableId:         publicRT.ID(),
		DestinationCidrBlock: pulumi.String("0.0.0.0/0"),
		GatewayId:            igw.ID(),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("vpc %q: creating public default route: %w", name, err)
	}
	n.PublicReady = append(n.PublicReady, igw, publicRoute)

	var publicIDs, privateIDs pulumi.StringArray
	var natGateways []*ec2.NatGateway
	var privateRTs pulumi.StringArray
	for i, az := range zones {
		pub, err := ec2.NewSubnet(ctx, fmt.Sprintf("%s-public-%s", name, az), &ec2.SubnetArgs{
			VpcId:            vpc.ID(),
			CidrBlock:        pulumi.String(publicCIDRs[i]),
			AvailabilityZone: pulumi.String(az),
			// Nothing launched here should get a public IP by accident: only NAT gateways
			// (with their EIPs) and ALB nodes live in the public tier.
			MapPublicIpOnLaunch: pulumi.Bool(false),
			Tags:                tag("public-"+az, map[string]string{PublicELBTag: "1", "tier": "public"}),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("vpc %q: creating public subnet in %s: %w", name, az, err)
		}
		publicIDs = append(publicIDs, pub.ID().ToStringOutput())
		pubAssoc, err := ec2.NewRouteTableAssociation(ctx, fmt.Sprintf("%s-public-%s", name, az), &ec2.RouteTableAssociationArgs{
			SubnetId:     pub.ID(),
			RouteTableId: publicRT.ID(),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("vpc %q: associating public subnet in %s: %w", name, az, err)
		}
		n.PublicReady = append(n.PublicReady, pub, pubAssoc)

		if i == 0 || args.NatMode == NatOnePerAZ {
			eip, err := ec2.NewEip(ctx, fmt.Sprintf("%s-nat-%s", name, az), &ec2.EipArgs{
				Domain: pulumi.String("vpc"),
				Tags:   tag("nat-"+az, nil),
			}, parent)
			if err != nil {
				return nil, fmt.Errorf("vpc %q: creating NAT EIP in %s: %w", name, az, err)
			}
			nat, err := ec2.NewNatGateway(ctx, fmt.Sprintf("%s-%s", name, az), &ec2.NatGatewayArgs{
				AllocationId: eip.ID(),
				SubnetId:     pub.ID(),
				Tags:         tag("nat-"+az, nil),
				// AWS: a NAT gateway only forwards once the VPC has an internet gateway,
				// and nothing in the NAT's inputs says so.
			}, parent, pulumi.DependsOn([]pulumi.Resource{igw}))
			if err != nil {
				return nil, fmt.Errorf("vpc %q: creating NAT gateway in %s: %w", name, az, err)
			}
			natGateways = append(natGateways, nat)
		}
		nat := natGateways[len(natGateways)-1]

		priv, err := ec2.NewSubnet(ctx, fmt.Sprintf("%s-private-%s", name, az), &ec2.SubnetArgs{
			VpcId:            vpc.ID(),
			CidrBlock:        pulumi.String(privateCIDRs[i]),
			AvailabilityZone: pulumi.String(az),
			Tags:             tag("private-"+az, map[string]string{InternalELBTag: "1", "tier": "private"}),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("vpc %q: creating private subnet in %s: %w", name, az, err)
		}
		privateIDs = append(privateIDs, priv.ID().ToStringOutput())

		// One private route table per AZ even with a single NAT gateway: switching natMode to
		// one-per-az then only changes routes, never subnets or tables.
		rt, err := ec2.NewRouteTable(ctx, fmt.Sprintf("%s-private-%s", name, az), &ec2.RouteTableArgs{
			VpcId: vpc.ID(),
			Tags:  tag("private-"+az, nil),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("vpc %q: creating private route table in %s: %w", name, az, err)
		}
		privateRTs = append(privateRTs, rt.ID().ToStringOutput())
		route, err := ec2.NewRoute(ctx, fmt.Sprintf("%s-private-%s-default", name, az), &ec2.RouteArgs{
			RouteTableId:         rt.ID(),
			DestinationCidrBlock: pulumi.String("0.0.0.0/0"),
			NatGatewayId:         nat.ID(),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("vpc %q: creating private default route in %s: %w", name, az, err)
		}
		assoc, err := ec2.NewRouteTableAssociation(ctx, fmt.Sprintf("%s-private-%s", name, az), &ec2.RouteTableAssociationArgs{
			SubnetId:     priv.ID(),
			RouteTableId: rt.ID(),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("vpc %q: associating private subnet in %s: %w", name, az, err)
		}
		n.PrivateEgress = append(n.PrivateEgress, route, assoc)
	}

	// ECR stores image layers in S3. A gateway endpoint (free) keeps those pulls off the NAT
	// gateways, which bill per GB.
	s3, err := ec2.NewVpcEndpoint(ctx, name+"-s3", &ec2.VpcEndpointArgs{
		VpcId:           vpc.ID(),
		ServiceName:     pulumi.Sprintf("com.amazonaws.%s.s3", args.Region),
		VpcEndpointType: pulumi.String("Gateway"),
		RouteTableIds:   privateRTs,
		Tags:            tag("s3", nil),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("vpc %q: creating S3 gateway endpoint: %w", name, err)
	}
	n.PrivateEgress = append(n.PrivateEgress, s3)

	n.VpcID = vpc.ID().ToStringOutput()
	n.PublicSubnetIDs = publicIDs.ToStringArrayOutput()
	n.PrivateSubnetIDs = privateIDs.ToStringArrayOutput()
	n.AvailabilityZones = pulumi.ToStringArray(zones).ToStringArrayOutput()
	if err := ctx.RegisterResourceOutputs(n, pulumi.Map{
		"vpcId":             n.VpcID,
		"publicSubnetIds":   n.PublicSubnetIDs,
		"privateSubnetIds":  n.PrivateSubnetIDs,
		"availabilityZones": n.AvailabilityZones,
	}); err != nil {
		return nil, fmt.Errorf("vpc %q: registering outputs: %w", name, err)
	}
	return n, nil
}
