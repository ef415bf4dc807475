// The AWS half: one tagged provider, the network, the EKS cluster with its classes, the image,
// and the DNS zone and certificate.

package main

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
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
	Network  *vpc.Network
	// PublicSubnetCIDRs are the networks the internet-facing ALBs send from.
	PublicSubnetCIDRs []string
	Image             *app.Image
	// Zone is the stack's Route 53 zone, nil without hostedZone.
	Zone    *dns.Zone
	Cluster *eks.Cluster
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

	if a.Network, err = vpc.NewNetwork(ctx, "network", &vpc.NetworkArgs{
		CidrBlock:  cfg.Network.VpcCidr,
		AzCount:    cfg.Network.AzCount,
		NatMode:    cfg.Network.NatMode,
		Region:     cfg.Region,
		NamePrefix: cfg.namePrefix(),
	}, withAWS, pulumi.Protect(prod)); err != nil {
		return nil, err
	}
	if a.PublicSubnetCIDRs, _, err = vpc.SubnetCIDRs(cfg.Network.VpcCidr, cfg.Network.AzCount); err != nil {
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
		Name:                 cfg.namePrefix(),
		Version:              cfg.Cluster.KubernetesVersion,
		ServiceCIDR:          cfg.Cluster.ServiceCidr,
		Region:               cfg.Region,
		VpcID:                a.Network.VpcID,
		PrivateSubnetIDs:     a.Network.PrivateSubnetIDs,
		EgressReady:          a.Network.PrivateEgress,
		EndpointPublicAccess: cfg.Cluster.EndpointPublicAccess,
		PublicAccessCidrs:    cfg.Cluster.PublicAccessCidrs,
		LogTypes:             cfg.Cluster.LogTypes,
		AdminPrincipalArns:   cfg.Cluster.AdminPrincipalArns,
		ViewerPrincipalArns:  cfg.Cluster.ViewerPrincipalArns,
		StorageClassName:     storageClassName,
		ALBs:                 albClasses(cfg, certificateArn),
		AccessLogDays:        cfg.Ingress.AccessLogDays,
		Protect:              prod,
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
	cert, err := dns.NewCertificate(ctx, "certificate", &dns.CertificateArgs{Domains: in.hosts(), Zone: a.Zone}, a.withProvider())
	if err != nil {
		return nil, err
	}
	return cert.Arn, nil
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
