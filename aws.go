// The AWS half: one tagged provider, the network, the EKS cluster with its classes, the image,
// and the DNS zone and certificate.

package main

import (
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/addons/dns"
	"github.com/example/flask-eks/app"
	"github.com/example/flask-eks/eks"
	"github.com/example/flask-eks/internal/validate"
	"github.com/example/flask-eks/vpc"
)

// awsHalf is what the AWS half hands the rest of the program.
type awsHalf struct {
	// Provider carries the region and the default tags; every AWS resource uses it.
	Provider *aws.Provider
	Network  *network
	Image    *app.Image
	// Zone is the stack's Route 53 zone, nil without hostedZone; Certificate the certificate the
	// program requested there, nil when config names one or there is no domain.
	Zone        *dns.Zone
	Certificate *dns.Certificate
	Cluster     *eks.Cluster
}

// network is the stack's VPC, made by this stack (vpc.Network) or brought from elsewhere
// (vpcId): what the cluster, the load balancers' policies and the outputs need of it.
type network struct {
	VpcID                                                pulumi.StringInput
	PublicSubnetIDs, PrivateSubnetIDs, AvailabilityZones pulumi.StringArrayInput
	// PublicSubnetCIDRs are the networks the internet-facing ALBs send from.
	PublicSubnetCIDRs []string
	// PrivateEgress and PublicReady are a made network's routes and gateways (vpc.Network's);
	// a brought network has none of its own here.
	PrivateEgress, PublicReady []pulumi.Resource
}

// withProvider hands the tagged AWS provider to a component's AWS children.
func (a *awsHalf) withProvider() pulumi.ResourceOption { return pulumi.Providers(a.Provider) }

// deployAWS declares the network and the cluster in it, and beside them the image (it needs
// neither) and the certificate the ALBs serve.
func deployAWS(ctx *pulumi.Context, cfg *Config) (*awsHalf, error) {
	// One explicit AWS provider carries the region and the default tags, so every AWS
	// resource, including those pulumi-eks creates inside its component, is tagged alike.
	provider, err := aws.NewProvider(ctx, "aws", &aws.ProviderArgs{
		Region:      pulumi.String(cfg.Region),
		DefaultTags: &aws.ProviderDefaultTagsArgs{Tags: pulumi.ToStringMap(cfg.Tags)},
	})
	if err != nil {
		return nil, fmt.Errorf("creating AWS provider: %w", err)
	}
	a := &awsHalf{Provider: provider}
	withAWS := a.withProvider()
	prod := cfg.prod()

	if cfg.Network.existing() {
		a.Network, err = existingNetwork(ctx, cfg, provider)
	} else {
		a.Network, err = newNetwork(ctx, cfg, withAWS)
	}
	if err != nil {
		return nil, err
	}

	// The image builds while the network and cluster come up.
	if a.Image, err = app.NewImage(ctx, "image", &app.ImageArgs{
		RepositoryName: cfg.namePrefix() + "/" + releaseName,
		Context:        appSourceDir,
		Platform:       imagePlatform,
		KeepImages:     cfg.Registry.KeepImages,
		ForceDelete:    cfg.Registry.ForceDelete,
		Protect:        prod,
		PreviousParent: "app",
	}, withAWS); err != nil {
		return nil, err
	}

	certificateArn, err := a.certificate(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if a.Cluster, err = eks.NewCluster(ctx, "cluster", &eks.ClusterArgs{
		Name:                      cfg.namePrefix(),
		Version:                   cfg.Cluster.KubernetesVersion,
		ServiceCIDR:               cfg.Cluster.ServiceCidr,
		Region:                    cfg.Region,
		VpcID:                     a.Network.VpcID,
		PrivateSubnetIDs:          a.Network.PrivateSubnetIDs,
		EgressReady:               a.Network.PrivateEgress,
		EndpointPublicAccess:      cfg.Cluster.EndpointPublicAccess,
		PublicAccessCidrs:         cfg.Cluster.PublicAccessCidrs,
		APIAccessCidrs:            cfg.Cluster.APIAccessCidrs,
		APIAccessSecurityGroupIDs: cfg.Cluster.APIAccessSecurityGroupIDs,
		LogTypes:                  cfg.Cluster.LogTypes,
		AdminPrincipalArns:        cfg.Cluster.AdminPrincipalArns,
		ViewerPrincipalArns:       cfg.Cluster.ViewerPrincipalArns,
		ViewOnlyPrincipalArns:     cfg.Cluster.ViewOnlyPrincipalArns,
		StorageClassName:          storageClassName,
		ALBs:                      albClasses(cfg, certificateArn),
		AccessLogDays:             cfg.Ingress.AccessLogDays,
		Tags:                      cfg.Tags,
		BuiltInNodePools:          cfg.Nodes.BuiltInPools,
		NodeClass:                 cfg.Nodes.NodeClass,
		AppPool:                   cfg.Nodes.App,
		PlatformPool:              cfg.Nodes.Platform,
		Protect:                   prod,
	}, withAWS); err != nil {
		return nil, err
	}
	return a, nil
}

// certificate looks up the stack's hosted zone and requests the ALBs' certificate there, unless
// config names one managed elsewhere. It returns nil without a domain.
func (a *awsHalf) certificate(ctx *pulumi.Context, cfg *Config) (pulumi.StringInput, error) {
	in := cfg.Ingress
	var arn pulumi.StringInput
	if in.CertificateArn != "" {
		arn = pulumi.String(in.CertificateArn)
	}
	if in.HostedZone == "" {
		return arn, nil
	}
	var err error
	if a.Zone, err = dns.LookupZone(ctx, in.HostedZone, validate.HostedZoneID(in.HostedZone), pulumi.Provider(a.Provider)); err != nil {
		return nil, err
	}
	if in.CertificateArn != "" {
		return arn, nil
	}
	if a.Certificate, err = dns.NewCertificate(ctx, "certificate", &dns.CertificateArgs{Domains: in.hosts(), Zone: a.Zone}, a.withProvider()); err != nil {
		return nil, err
	}
	return a.Certificate.Arn, nil
}

// newNetwork declares the stack's own VPC (vpc.Network).
func newNetwork(ctx *pulumi.Context, cfg *Config, opts ...pulumi.ResourceOption) (*network, error) {
	n, err := vpc.NewNetwork(ctx, "network", &vpc.NetworkArgs{
		CidrBlock:  cfg.Network.VpcCidr,
		AzCount:    cfg.Network.AzCount,
		NatMode:    cfg.Network.NatMode,
		Region:     cfg.Region,
		NamePrefix: cfg.namePrefix(),
	}, append(opts, pulumi.Protect(cfg.prod()))...)
	if err != nil {
		return nil, err
	}
	public, _, err := vpc.SubnetCIDRs(cfg.Network.VpcCidr, cfg.Network.AzCount)
	if err != nil {
		return nil, err
	}
	return &network{
		VpcID: n.VpcID, PublicSubnetIDs: n.PublicSubnetIDs, PrivateSubnetIDs: n.PrivateSubnetIDs,
		AvailabilityZones: n.AvailabilityZones, PublicSubnetCIDRs: public,
		PrivateEgress: n.PrivateEgress, PublicReady: n.PublicReady,
	}, nil
}

// existingNetwork looks up the VPC and subnets config names (vpcId) and checks them the way the
// cluster and Auto Mode's load balancers will use them, before anything is declared: the VPC's
// CIDR is vpcCidr (the network policies are written for it), every subnet is in the VPC, one per
// AZ, and carries the role tag by which Auto Mode picks subnets for load balancers
// (kubernetes.io/role/elb public, kubernetes.io/role/internal-elb private:
// https://docs.aws.amazon.com/eks/latest/userguide/tag-subnets-auto.html). Lookups run in
// previews too, so a wrong ID fails `pulumi preview`.
func existingNetwork(ctx *pulumi.Context, cfg *Config, provider *aws.Provider) (*network, error) {
	key := func(k string) string { return cfg.Project + ":" + k }
	id := cfg.Network.ExistingVpcID
	v, err := ec2.LookupVpc(ctx, &ec2.LookupVpcArgs{Id: pulumi.StringRef(id)}, pulumi.Provider(provider))
	if err != nil {
		return nil, fmt.Errorf("%s: looking up VPC %s: %w", key("vpcId"), id, err)
	}
	if v.CidrBlock != cfg.Network.VpcCidr {
		return nil, fmt.Errorf("%s: %q, but VPC %s is %s; accepted: the VPC's CIDR, which the network policies are written for", key("vpcCidr"), cfg.Network.VpcCidr, id, v.CidrBlock)
	}
	n := &network{VpcID: pulumi.String(id)}
	lookup := func(k, roleTag string, ids []string) (azs []string, cidrs []string, err error) {
		for _, sid := range ids {
			s, err := ec2.LookupSubnet(ctx, &ec2.LookupSubnetArgs{Id: pulumi.StringRef(sid)}, pulumi.Provider(provider))
			if err != nil {
				return nil, nil, fmt.Errorf("%s: looking up subnet %s: %w", key(k), sid, err)
			}
			switch {
			case s.VpcId != id:
				return nil, nil, fmt.Errorf("%s: subnet %s is in %s, not in vpcId %s", key(k), sid, s.VpcId, id)
			case s.Tags[roleTag] != "1":
				return nil, nil, fmt.Errorf("%s: subnet %s lacks the tag %s=1, by which Auto Mode places load balancers; accepted: subnets tagged so", key(k), sid, roleTag)
			case slices.Contains(azs, s.AvailabilityZone):
				return nil, nil, fmt.Errorf("%s: subnets %v put two in %s; accepted: one subnet per AZ", key(k), ids, s.AvailabilityZone)
			case roleTag == vpc.InternalELBTag && s.MapPublicIpOnLaunch:
				return nil, nil, fmt.Errorf("%s: subnet %s gives instances public IPs; accepted: private subnets (nodes must not be reachable from the internet)", key(k), sid)
			}
			azs, cidrs = append(azs, s.AvailabilityZone), append(cidrs, s.CidrBlock)
		}
		return azs, cidrs, nil
	}
	privateAZs, _, err := lookup("privateSubnetIds", vpc.InternalELBTag, cfg.Network.PrivateSubnetIDs)
	if err != nil {
		return nil, err
	}
	publicAZs, publicCIDRs, err := lookup("publicSubnetIds", vpc.PublicELBTag, cfg.Network.PublicSubnetIDs)
	if err != nil {
		return nil, err
	}
	if !slices.Equal(slices.Sorted(slices.Values(privateAZs)), slices.Sorted(slices.Values(publicAZs))) {
		return nil, fmt.Errorf("%s: public subnets in %v, private ones in %v; accepted: one of each in the same AZs", key("publicSubnetIds"), publicAZs, privateAZs)
	}
	n.PrivateSubnetIDs = pulumi.ToStringArray(cfg.Network.PrivateSubnetIDs)
	n.PublicSubnetIDs = pulumi.ToStringArray(cfg.Network.PublicSubnetIDs)
	n.AvailabilityZones = pulumi.ToStringArray(privateAZs)
	n.PublicSubnetCIDRs = publicCIDRs
	return n, nil
}

// albClasses are the IngressClasses of the ALBs: the app's, internet-facing, and Grafana's,
// internal (its own ALB, reachable from inside the VPC) or public (its own ALB, limited to the
// allowed networks). The certificate, when there is one, goes on every class whose Ingresses
// have a host name.
func albClasses(cfg *Config, cert pulumi.StringInput) []eks.ALBClass {
	prefix := cfg.namePrefix()
	classes := []eks.ALBClass{{Name: publicALBClass, Scheme: "internet-facing", GroupName: prefix, CertificateArn: cert, Default: true}}
	grafanaCert := cert
	if cfg.Ingress.GrafanaDomain == "" {
		grafanaCert = nil
	}
	switch cfg.Ingress.GrafanaExposure {
	case grafanaInternal:
		classes = append(classes, eks.ALBClass{Name: internalALBClass, Scheme: "internal", GroupName: prefix + "-internal", CertificateArn: grafanaCert})
	case grafanaPublic:
		classes = append(classes, eks.ALBClass{Name: grafanaALBClass, Scheme: "internet-facing", GroupName: prefix + "-grafana",
			CertificateArn: grafanaCert, InboundCIDRs: cfg.Ingress.GrafanaInboundCidrs})
	}
	return classes
}

// grafanaClass is the IngressClass of Grafana's Ingress, "" for none.
func grafanaClass(cfg *Config) string {
	switch cfg.Ingress.GrafanaExposure {
	case grafanaInternal:
		return internalALBClass
	case grafanaPublic:
		return grafanaALBClass
	}
	return ""
}
