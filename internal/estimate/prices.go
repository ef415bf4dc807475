package estimate

import (
	"fmt"
	"sort"
	"strings"
)

// HoursPerMonth is AWS's convention for monthly figures (365 × 24 / 12).
const HoursPerMonth = 730

// Price is one list price in USD, the AWS pricing page it belongs to, and how the figure was
// checked. AWS renders most regional tables on those pages in the browser, so a copy of the page
// often has no figures: Checked names the source the figure was read from, or is empty when no
// source could be read and the figure must be checked on the page before it is relied on (the
// report marks those).
type Price struct {
	USD     float64
	Unit    string
	Page    string
	Checked string
}

// PriceTable is the price list of one region, as of a date.
type PriceTable struct {
	Region string
	AsOf   string
	Prices map[string]Price
}

// Price keys. Instance prices are keyed "ec2:<type>" (on-demand, Linux) and "automode:<type>"
// (EKS Auto Mode's management fee for an instance of that type).
const (
	pEKSStandard = "eks-standard-support"
	pEKSExtended = "eks-extended-support"
	pNATHour     = "nat-gateway-hour"
	pNATGB       = "nat-gateway-gb"
	pPublicIPv4  = "public-ipv4-hour"
	pCrossAZGB   = "cross-az-gb"
	pALBHour     = "alb-hour"
	pLCUHour     = "alb-lcu-hour"
	pGP3         = "ebs-gp3-gb-month"
	pS3          = "s3-standard-gb-month"
	pECR         = "ecr-gb-month"
	pLogsIngest  = "cloudwatch-logs-ingest-gb"
	pKMSKey      = "kms-key-month"
	pSecret      = "secretsmanager-secret-month"
)

func ec2Key(instance string) string      { return "ec2:" + instance }
func autoModeKey(instance string) string { return "automode:" + instance }

// The pricing pages.
const (
	pageEKS     = "https://aws.amazon.com/eks/pricing/"
	pageEC2     = "https://aws.amazon.com/ec2/pricing/on-demand/"
	pageVPC     = "https://aws.amazon.com/vpc/pricing/"
	pageELB     = "https://aws.amazon.com/elasticloadbalancing/pricing/"
	pageEBS     = "https://aws.amazon.com/ebs/pricing/"
	pageS3      = "https://aws.amazon.com/s3/pricing/"
	pageECR     = "https://aws.amazon.com/ecr/pricing/"
	pageLogs    = "https://aws.amazon.com/cloudwatch/pricing/"
	pageKMS     = "https://aws.amazon.com/kms/pricing/"
	pageSecrets = "https://aws.amazon.com/secrets-manager/pricing/"
)

// Sources the figures were read from, where the page itself had none.
const (
	chkEKSBlog = "AWS Containers blog, \"Amazon EKS extended support for Kubernetes versions pricing\": $0.10 (standard) and $0.60 (extended) per cluster-hour, all commercial regions (https://aws.amazon.com/blogs/containers/amazon-eks-extended-support-for-kubernetes-versions-pricing/)"
	chkIPv4    = "AWS News blog, \"New – AWS Public IPv4 Address Charge\": $0.005 per IP per hour, all regions (https://aws.amazon.com/blogs/aws/new-aws-public-ipv4-address-charge-public-ip-insights/)"
	chkNATUS   = "the VPC page's worked example ($0.045 per NAT gateway-hour and per GB), as transcribed on 2026-09-20 (https://raw.githubusercontent.com/api-evangelist/amazon-vpc/refs/heads/main/plans/amazon-vpc-plans-pricing.yml)"
	chkSecrets = "the page's worked examples ($0.40 per secret-month), as transcribed on 2026-09-20 (https://raw.githubusercontent.com/api-evangelist/amazon-secrets-manager/refs/heads/main/plans/amazon-secrets-manager-plans-pricing.yml)"
	chkKarpUS  = "the AWS Price List API, as generated into karpenter-provider-aws on 2026-01-19 (pkg/providers/pricing/zz_generated.pricing_aws.go at commit 031e72b6099630e960dacb88b48a7e9bb780945f)"
)

// priceTables holds one dated table per region. Add a region with every key of the others.
//
// EKS Auto Mode's management fee is listed per instance type on the EKS page, which no offline
// copy carries; the figures here are derived as 12% of the instance's on-demand price, the
// markup reported at https://www.factualminds.com/blog/amazon-eks-pricing-control-plane-addons-auto-mode/,
// and so are marked unchecked. The eu-west-1 EC2 prices could not be read offline either.
var priceTables = map[string]PriceTable{
	"us-east-1": {Region: "us-east-1", AsOf: "2026-12-07", Prices: map[string]Price{
		pEKSStandard:             {0.10, "cluster-hour", pageEKS, chkEKSBlog},
		pEKSExtended:             {0.60, "cluster-hour", pageEKS, chkEKSBlog},
		pNATHour:                 {0.045, "NAT gateway-hour", pageVPC, chkNATUS},
		pNATGB:                   {0.045, "GB processed", pageVPC, chkNATUS},
		pPublicIPv4:              {0.005, "IP-hour", pageVPC, chkIPv4},
		pCrossAZGB:               {0.01, "GB, each direction", pageEC2, ""},
		pALBHour:                 {0.0225, "ALB-hour", pageELB, "regional table copied at https://cal53.calculator.city/aws-alb-cost-calculator/"},
		pLCUHour:                 {0.008, "LCU-hour", pageELB, ""},
		pGP3:                     {0.08, "GB-month", pageEBS, ""},
		pS3:                      {0.023, "GB-month (first 50 TB)", pageS3, ""},
		pECR:                     {0.10, "GB-month", pageECR, ""},
		pLogsIngest:              {0.50, "GB ingested", pageLogs, "us-east-1 table copied at https://c3x.dev/blog/cloudwatch-logs-cost-optimization (June 2026)"},
		pKMSKey:                  {1.00, "key-month", pageKMS, ""},
		pSecret:                  {0.40, "secret-month", pageSecrets, chkSecrets},
		ec2Key("c6a.large"):      {0.0765, "instance-hour", pageEC2, chkKarpUS},
		ec2Key("m6a.large"):      {0.0864, "instance-hour", pageEC2, chkKarpUS},
		autoModeKey("c6a.large"): {0.00918, "instance-hour", pageEKS, ""},
		autoModeKey("m6a.large"): {0.010368, "instance-hour", pageEKS, ""},
	}},
	"eu-west-1": {Region: "eu-west-1", AsOf: "2026-12-07", Prices: map[string]Price{
		pEKSStandard:             {0.10, "cluster-hour", pageEKS, chkEKSBlog},
		pEKSExtended:             {0.60, "cluster-hour", pageEKS, chkEKSBlog},
		pNATHour:                 {0.048, "NAT gateway-hour", pageVPC, "Europe (Ireland) range copied at https://cloudpipelines.pages.dev/guides/aws-nat-gateway-pricing-2026/"},
		pNATGB:                   {0.048, "GB processed", pageVPC, "Europe (Ireland) range copied at https://cloudpipelines.pages.dev/guides/aws-nat-gateway-pricing-2026/"},
		pPublicIPv4:              {0.005, "IP-hour", pageVPC, chkIPv4},
		pCrossAZGB:               {0.01, "GB, each direction", pageEC2, ""},
		pALBHour:                 {0.0252, "ALB-hour", pageELB, "regional table copied at https://cal53.calculator.city/aws-alb-cost-calculator/"},
		pLCUHour:                 {0.008, "LCU-hour", pageELB, ""},
		pGP3:                     {0.088, "GB-month", pageEBS, ""},
		pS3:                      {0.023, "GB-month (first 50 TB)", pageS3, ""},
		pECR:                     {0.10, "GB-month", pageECR, ""},
		pLogsIngest:              {0.57, "GB ingested", pageLogs, ""},
		pKMSKey:                  {1.00, "key-month", pageKMS, ""},
		pSecret:                  {0.40, "secret-month", pageSecrets, chkSecrets},
		ec2Key("c6a.large"):      {0.0864, "instance-hour", pageEC2, ""},
		ec2Key("m6a.large"):      {0.0963, "instance-hour", pageEC2, ""},
		autoModeKey("c6a.large"): {0.010368, "instance-hour", pageEKS, ""},
		autoModeKey("m6a.large"): {0.011556, "instance-hour", pageEKS, ""},
	}},
}

// Prices returns the price table of a region.
func Prices(region string) (PriceTable, error) {
	t, ok := priceTables[region]
	if !ok {
		return PriceTable{}, fmt.Errorf("no price table for region %q; tables exist for %s (internal/estimate/prices.go)", region, strings.Join(Regions(), ", "))
	}
	return t, nil
}

// Regions lists the regions with a price table.
func Regions() []string {
	var out []string
	for r := range priceTables {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// price looks a key up, failing loudly: a missing price must never read as free.
func (t PriceTable) price(key string) (Price, error) {
	p, ok := t.Prices[key]
	if !ok {
		return Price{}, fmt.Errorf("the %s price table has no %q", t.Region, key)
	}
	return p, nil
}

// Instance is an EC2 instance type as the capacity model sees it.
type Instance struct {
	VCPU      float64
	MemoryMiB float64
	// MaxPods is the node's pod limit, which the kube-reserved memory formula also takes. Auto
	// Mode assigns pod IPs by prefix delegation (https://docs.aws.amazon.com/eks/latest/userguide/create-node-class.html),
	// under which EKS recommends 110 pods on instances with fewer than 30 vCPUs
	// (https://docs.aws.amazon.com/eks/latest/userguide/cni-increase-ip-addresses.html).
	MaxPods float64
	Source  string
}

// instances are the types the model can assume Auto Mode launches.
var instances = map[string]Instance{
	"c6a.large": {2, 4096, 110, "https://aws.amazon.com/ec2/instance-types/c6a/"},
	"m6a.large": {2, 8192, 110, "https://aws.amazon.com/ec2/instance-types/m6a/"},
}
