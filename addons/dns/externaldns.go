package dns

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	helmv4 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v4"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/internal/charts"
	"github.com/example/flask-eks/internal/kube"
	"github.com/example/flask-eks/internal/netpol"
	"github.com/example/flask-eks/internal/podidentity"
	"github.com/example/flask-eks/internal/validate"
)

// ExternalDNSChart is the external-dns chart at the published release
// external-dns-helm-chart-1.21.1 (https://github.com/kubernetes-sigs/external-dns/releases/tag/external-dns-helm-chart-1.21.1,
// app v0.21.0). No template carries a Helm hook, so it is a Pulumi Chart v4; its CRDs (crds/) are
// only for the crd source and registry, which this program does not use, and are skipped. Value
// keys checked in charts/external-dns/values.yaml at that tag: provider.name, sources, policy,
// registry, txtOwnerId, domainFilters, extraArgs, interval, env, serviceAccount.{create,name},
// resources, nodeSelector, tolerations. policy is always set: chart 1.22.0 makes it required.
// TestChartValuesExist checks the values against the chart in modules.ExternalDNSModule.
//
// The chart is not awaited (SkipAwait). The namespaces that hold Ingresses depend on it so that,
// on destroy, ExternalDNS outlives them and deletes their records; Pulumi orders creation by the
// same edge, so an awaited install (about 1.5 min with its first node) would hold the app's
// release, External Secrets and kube-prometheus-stack back on a cold `up` (docs/estimate.md,
// "The wait that stays"). Nothing in the `up` needs ExternalDNS running: it starts beside them,
// and its work is checked where it shows, by the deploy's smoke test, which resolves the app's
// name and fetches https://<domain>/ (.github/smoke-test).
var ExternalDNSChart = charts.Chart{Name: "external-dns", Repo: "https://kubernetes-sigs.github.io/external-dns/", Version: "1.21.1", SkipCRDs: true, SkipAwait: true}

// Where ExternalDNS runs, and the ServiceAccount its Pod Identity association names.
const (
	ExternalDNSNamespace      = "external-dns"
	ExternalDNSServiceAccount = "external-dns"
)

// ExternalDNSArgs configures ExternalDNS.
type ExternalDNSArgs struct {
	Provider    *kubernetes.Provider
	ClusterName pulumi.StringInput
	Region      string
	// Zone is the only zone ExternalDNS may change.
	Zone *Zone
	// OwnerID marks the records this stack owns (TXT registry), e.g. "flask-eks-prod".
	OwnerID string
	// IngressClasses are the classes whose Ingresses get records: the internet-facing ALBs'.
	// An Ingress of any other class, such as Grafana's internal ALB, gets none, so an internal
	// load balancer's name never lands in the public zone.
	IngressClasses []string
	// Hosts are the only names ExternalDNS may write, each in Zone: the hosts of the Ingresses
	// of IngressClasses. Its IAM policy names them and their registry records (RecordNames).
	Hosts []string
	// APIServer is where ExternalDNS reaches the Kubernetes API server.
	APIServer netpol.APIServer
	// DependsOn are what the chart must wait for (the cluster's classes).
	DependsOn []pulumi.Resource
	// Placement is where ExternalDNS's pod runs (the platform NodePool on EKS); zero keeps the
	// chart's defaults.
	Placement kube.Placement
}

// ExternalDNS points the host names of the cluster's Ingresses at their ALBs.
type ExternalDNS struct {
	pulumi.ResourceState
	Chart *helmv4.Chart
}

// NewExternalDNS installs ExternalDNS with an IAM role, through EKS Pod Identity, that may change
// records only in the stack's zone.
//
// policy: sync, not upsert-only. With the TXT registry, ExternalDNS deletes only the records it
// created for this owner ID, so sync cannot touch records made by hand or by another stack; and
// when an Ingress or its host goes, its record goes too, instead of lingering as a name that
// points at a deleted load balancer (a dangling record, open to takeover).
func NewExternalDNS(ctx *pulumi.Context, name string, args *ExternalDNSArgs, opts ...pulumi.ResourceOption) (*ExternalDNS, error) {
	if args == nil || args.Provider == nil || args.ClusterName == nil || args.Zone == nil || args.OwnerID == "" || args.Region == "" ||
		len(args.IngressClasses) == 0 || len(args.Hosts) == 0 {
		return nil, fmt.Errorf("external-dns %q: provider, cluster, zone, owner ID, region, Ingress classes and hosts are required", name)
	}
	for _, h := range args.Hosts {
		if h != strings.ToLower(h) || !validate.InZone(h, args.Zone.Name) {
			return nil, fmt.Errorf("external-dns %q: host %q is not a lower-case name in zone %s", name, h, args.Zone.Name)
		}
	}
	e := &ExternalDNS{}
	if err := ctx.RegisterComponentResource("flask-eks:dns:ExternalDNS", name, e, opts...); err != nil {
		return nil, fmt.Errorf("registering external-dns %q: %w", name, err)
	}
	policy, err := ExternalDNSPolicy(args.Zone.Arn, args.Hosts)
	if err != nil {
		return nil, fmt.Errorf("external-dns %q: %w", name, err)
	}
	identity, err := podidentity.New(ctx, name, e, podidentity.Args{
		ClusterName:    args.ClusterName,
		Namespace:      ExternalDNSNamespace,
		ServiceAccount: ExternalDNSServiceAccount,
		Policy:         pulumi.String(policy),
		Description:    "ExternalDNS: records in " + args.Zone.Name,
	})
	if err != nil {
		return nil, fmt.Errorf("external-dns %q: %w", name, err)
	}
	k8s := []pulumi.ResourceOption{pulumi.Parent(e), pulumi.Provider(args.Provider)}
	ns, err := kube.RestrictedNamespace(ctx, name+"-ns", ExternalDNSNamespace, netpol.Egress{
		APIServer: args.APIServer, Internet: true, PodIdentity: true,
	}, append(k8s, pulumi.DependsOn(args.DependsOn))...)
	if err != nil {
		return nil, fmt.Errorf("external-dns %q: %w", name, err)
	}
	e.Chart, err = charts.Install(ctx, name, ExternalDNSChart, ns, ExternalDNSValues(args), args.Provider,
		pulumi.Parent(e), pulumi.DependsOn(append([]pulumi.Resource{identity.Association}, args.DependsOn...)))
	if err != nil {
		return nil, fmt.Errorf("external-dns %q: %w", name, err)
	}
	if err := ctx.RegisterResourceOutputs(e, pulumi.Map{}); err != nil {
		return nil, fmt.Errorf("external-dns %q: registering outputs: %w", name, err)
	}
	return e, nil
}

// ExternalDNSValues are the chart values: Ingresses of IngressClasses only (--ingress-class,
// "specify multiple times to allow more than one class", pkg/apis/externaldns/types.go at
// v0.21.0; the chart renders a list under extraArgs as one flag per item), this public zone
// only (by name and ID), records owned by OwnerID, on the pool args.Placement names
// (nodeSelector and tolerations, values.yaml L162 and L171 at the tag). txtPrefix and
// txtSuffix stay unset: the registry's record names are then those RecordNames lists.
func ExternalDNSValues(args *ExternalDNSArgs) pulumi.Map {
	values := pulumi.Map{
		"provider":      pulumi.Map{"name": pulumi.String("aws")},
		"sources":       pulumi.ToStringArray([]string{"ingress"}),
		"policy":        pulumi.String("sync"),
		"registry":      pulumi.String("txt"),
		"txtOwnerId":    pulumi.String(args.OwnerID),
		"domainFilters": pulumi.ToStringArray([]string{args.Zone.Name}),
		"extraArgs": pulumi.Map{
			"aws-zone-type":  pulumi.String("public"),
			"zone-id-filter": pulumi.ToStringArray([]string{args.Zone.ID}),
			"ingress-class":  pulumi.ToStringArray(args.IngressClasses),
		},
		"interval": pulumi.String("1m"),
		// The AWS SDK's default chain finds the Pod Identity credentials; the region is set.
		"env": pulumi.Array{pulumi.Map{"name": pulumi.String("AWS_DEFAULT_REGION"), "value": pulumi.String(args.Region)}},
		"serviceAccount": pulumi.Map{
			"create": pulumi.Bool(true),
			"name":   pulumi.String(ExternalDNSServiceAccount),
		},
		"resources": pulumi.Map{"requests": pulumi.Map{"cpu": pulumi.String("20m"), "memory": pulumi.String("64Mi")}},
	}
	for k, v := range pulumi.ToMap(args.Placement.Values()) {
		values[k] = v
	}
	return values
}

// RecordTypes are the record types ExternalDNS writes for an Ingress behind an ALB: an alias A
// record and its AAAA counterpart (provider/aws/aws.go, AdjustEndpoints, at v0.21.0), and the
// TXT records of its registry.
var RecordTypes = []string{"A", "AAAA", "TXT"}

// RecordNames are the names ExternalDNS may change for hosts, as Route 53 normalizes them for
// the condition key route53:ChangeResourceRecordSetsNormalizedRecordNames (lower case, no
// trailing dot: https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/specifying-rrset-conditions.html):
// each host, and the TXT registry's record of each type ExternalDNS writes for it. With no
// txtPrefix or txtSuffix, ExternalDNS v0.21.0 names that record "<type>-<first label>.<rest>"
// (registry/mapper/mapper.go, AffixNameMapper.ToTXTName), where an alias A record's type is
// CNAME (registry/txt/registry.go, generateTXTRecordWithFilter): cname-app.example.com and
// aaaa-app.example.com for app.example.com. a- is listed too, for a plain A record.
func RecordNames(hosts []string) []string {
	var out []string
	for _, h := range hosts {
		h = strings.TrimSuffix(strings.ToLower(h), ".")
		out = append(out, h)
		for _, t := range []string{"a", "aaaa", "cname"} {
			out = append(out, t+"-"+h)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ExternalDNSPolicy lets ExternalDNS read the one zone and change in it only the records of
// hosts (RecordNames) of RecordTypes: a compromised ExternalDNS cannot repoint another name
// of the zone (www, MX, the certificate's validation records) at a host of its choosing.
// Listing zones cannot be scoped to a resource (the ExternalDNS AWS tutorial,
// docs/tutorials/aws.md). ForAllValues: every name and type in a change batch must be listed
// (a batch mixing one allowed and one other name is refused).
func ExternalDNSPolicy(zoneArn string, hosts []string) (string, error) {
	if zoneArn == "" || len(hosts) == 0 {
		return "", fmt.Errorf("external-dns policy: the zone's ARN and the hosts are required")
	}
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{
			map[string]any{
				"Sid":      "ChangeOnlyTheHostsRecords",
				"Effect":   "Allow",
				"Action":   []string{"route53:ChangeResourceRecordSets"},
				"Resource": []string{zoneArn},
				"Condition": map[string]any{"ForAllValues:StringEquals": map[string]any{
					"route53:ChangeResourceRecordSetsNormalizedRecordNames": RecordNames(hosts),
					"route53:ChangeResourceRecordSetsRecordTypes":           RecordTypes,
				}},
			},
			map[string]any{
				"Sid":      "ReadTheZone",
				"Effect":   "Allow",
				"Action":   []string{"route53:ListResourceRecordSets", "route53:ListTagsForResources"},
				"Resource": []string{zoneArn},
			},
			map[string]any{
				"Sid":      "ListZones",
				"Effect":   "Allow",
				"Action":   []string{"route53:ListHostedZones"},
				"Resource": []string{"*"},
			},
		},
	}
	b, err := json.Marshal(doc)
	return string(b), err
}
