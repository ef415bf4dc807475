// Package dns gives the app and Grafana real host names: an ACM certificate for them, validated
// by DNS records in the stack's Route 53 zone, and ExternalDNS, which points each Ingress's host
// at its ALB once Auto Mode has created it.
package dns

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/acm"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/internal/validate"
)

// Zone is a Route 53 hosted zone, looked up while declaring so that names and IDs are known in
// preview.
type Zone struct {
	ID, Name, Arn string
}

// LookupZone finds the public hosted zone by name ("example.com") or ID ("Z…").
func LookupZone(ctx *pulumi.Context, nameOrID string, isID bool, opts ...pulumi.InvokeOption) (*Zone, error) {
	args := &route53.LookupZoneArgs{PrivateZone: pulumi.BoolRef(false)}
	if isID {
		args.ZoneId = pulumi.StringRef(nameOrID)
	} else {
		args.Name = pulumi.StringRef(strings.TrimSuffix(nameOrID, "."))
	}
	z, err := route53.LookupZone(ctx, args, opts...)
	if err != nil {
		return nil, fmt.Errorf("looking up hosted zone %s: %w", nameOrID, err)
	}
	return &Zone{ID: z.ZoneId, Name: strings.TrimSuffix(z.Name, "."), Arn: z.Arn}, nil
}

// CertificateArgs configures a Certificate.
type CertificateArgs struct {
	// Domains are the host names the certificate covers: the first is its subject, the rest
	// subject alternative names. No wildcards: each host is named.
	Domains []string
	// Zone receives the DNS validation records.
	Zone *Zone
}

// Certificate is an ACM certificate validated by DNS in the stack's zone. Arn resolves only once
// ACM has issued it, so the ALBs that use it never serve an unvalidated certificate.
type Certificate struct {
	pulumi.ResourceState

	Arn pulumi.StringOutput `pulumi:"arn"`

	// Validation completes once ACM has issued the certificate; it depends on the certificate
	// and its records, so whatever must outlive all three on destroy depends on it.
	Validation *acm.CertificateValidation
}

// NewCertificate declares the certificate, one validation record per host name, and the
// validation that waits for ACM to issue it.
func NewCertificate(ctx *pulumi.Context, name string, args *CertificateArgs, opts ...pulumi.ResourceOption) (*Certificate, error) {
	if args == nil || len(args.Domains) == 0 || args.Zone == nil {
		return nil, fmt.Errorf("certificate %q: domains and a zone are required", name)
	}
	for _, d := range args.Domains {
		if !validate.InZone(d, args.Zone.Name) {
			return nil, fmt.Errorf("certificate %q: %s is not in zone %s", name, d, args.Zone.Name)
		}
	}
	c := &Certificate{}
	if err := ctx.RegisterComponentResource("flask-eks:dns:Certificate", name, c, opts...); err != nil {
		return nil, fmt.Errorf("registering certificate %q: %w", name, err)
	}
	cert, err := acm.NewCertificate(ctx, name, &acm.CertificateArgs{
		DomainName:              pulumi.String(args.Domains[0]),
		SubjectAlternativeNames: pulumi.ToStringArray(args.Domains),
		ValidationMethod:        pulumi.String("DNS"),
		KeyAlgorithm:            pulumi.String("EC_prime256v1"),
	}, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("certificate %q: requesting: %w", name, err)
	}
	// One record per host name, declared while planning (the names are known), with the record
	// ACM asks for read from the certificate. ACM names the record after the host, so each host
	// has its own, and no record is created inside an apply.
	var fqdns pulumi.StringArray
	for i, domain := range args.Domains {
		option := cert.DomainValidationOptions.ApplyT(func(opts []acm.CertificateDomainValidationOption) (acm.CertificateDomainValidationOption, error) {
			for _, o := range opts {
				if o.DomainName != nil && *o.DomainName == domain {
					return o, nil
				}
			}
			return acm.CertificateDomainValidationOption{}, fmt.Errorf("ACM returned no validation record for %s", domain)
		}).(acm.CertificateDomainValidationOptionOutput)
		record, err := route53.NewRecord(ctx, fmt.Sprintf("%s-validation-%d", name, i), &route53.RecordArgs{
			ZoneId:         pulumi.String(args.Zone.ID),
			Name:           option.ResourceRecordName().Elem(),
			Type:           option.ResourceRecordType().Elem(),
			Records:        pulumi.StringArray{option.ResourceRecordValue().Elem()},
			Ttl:            pulumi.Int(300),
			AllowOverwrite: pulumi.Bool(true),
		}, pulumi.Parent(c))
		if err != nil {
			return nil, fmt.Errorf("certificate %q: validation record for %s: %w", name, domain, err)
		}
		fqdns = append(fqdns, record.Fqdn)
	}
	validation, err := acm.NewCertificateValidation(ctx, name, &acm.CertificateValidationArgs{
		CertificateArn:        cert.Arn,
		ValidationRecordFqdns: fqdns,
	}, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("certificate %q: validation: %w", name, err)
	}
	c.Arn = validation.CertificateArn
	c.Validation = validation
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{"arn": c.Arn}); err != nil {
		return nil, fmt.Errorf("certificate %q: registering outputs: %w", name, err)
	}
	return c, nil
}
