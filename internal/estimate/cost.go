package estimate

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
)

// Line is one monthly cost: a quantity of something at a unit price.
type Line struct {
	// Group is what the line belongs to ("NAT gateways"); a comparison reports by group.
	Group string `json:"group"`
	Item  string `json:"item"`
	// Quantity is in Unit per month, and Basis says where it comes from.
	Quantity float64 `json:"quantity"`
	Unit     string  `json:"unit"`
	Basis    string  `json:"basis"`
	UnitUSD  float64 `json:"unitUSD"`
	USD      float64 `json:"usd"`
	// Assumption is true when the quantity rests on a usage assumption rather than on the graph
	// alone.
	Assumption bool `json:"assumption"`
	// PricePage is the AWS pricing page; PriceUnverified marks a figure no offline source
	// confirmed (see Price.Checked).
	PricePage       string `json:"pricePage"`
	PriceUnverified bool   `json:"priceUnverified,omitempty"`
	// Count and Noun name how many of the group's resources the line counts ("2", "NAT
	// gateway"), for comparisons; zero when the line counts none.
	Count int    `json:"count,omitempty"`
	Noun  string `json:"noun,omitempty"`
}

// Groups of lines.
const (
	gControlPlane = "EKS control plane"
	gNodes        = "Auto Mode nodes"
	gNAT          = "NAT gateways"
	gALB          = "ALBs"
	gEBS          = "EBS volumes"
	gS3           = "S3"
	gECR          = "ECR"
	gLogs         = "CloudWatch Logs"
	gKMS          = "KMS"
	gSecrets      = "Secrets Manager"
	gIPv4         = "Public IPv4"
)

// costRules says, for every resource type the program declares, how the estimate prices it:
// the group whose lines count it, or why it costs nothing of its own. A test keeps every type of
// the committed snapshots in this table.
var costRules = map[string]string{
	typeCluster:       gControlPlane + ", " + gLogs + " (control-plane logs) and " + gNodes + " (Auto Mode)",
	typeNatGateway:    gNAT,
	typeEIP:           gNAT + " (public IPv4 of a gateway's address) or " + gIPv4,
	typeBucket:        gS3,
	typeECRRepository: gECR,
	typeKMSKey:        gKMS,
	typeSecret:        gSecrets,
	typeRelease:       gNodes + " (its pods' requests), " + gEBS + " (its volumes) and " + gALB + " (its Ingresses)",
	typeChart:         gNodes + " (its pods' requests), " + gEBS + " (its volumes) and " + gALB + " (its Ingresses)",
	typeIngressClass:  "free: the ALBs are counted from the Ingresses that use a class (" + gALB + ")",
	typeIngressParams: "free: the ALBs are counted from the Ingresses that use a class (" + gALB + ")",
	typeNodePool:      "free: a NodePool; the nodes it launches for pods are priced in " + gNodes,
	"kubernetes:eks.amazonaws.com/v1:NodeClass": "free: a NodeClass; its ephemeral storage sizes the node volumes in " + gNodes,
	typeIngress:                     "free: a read of the app's Ingress, whose ALB the app release counts",
	typeBucketLifecycle:             "free: configuration of a bucket; its expiry sets the stored GB of " + gS3,
	typeECRLifecycle:                "free: configuration of a repository; its image count sets the stored GB of " + gECR,
	"aws:ec2/vpc:Vpc":               "free: VPCs, subnets and route tables have no charge (https://aws.amazon.com/vpc/pricing/)",
	typeSubnet:                      "free: VPCs, subnets and route tables have no charge (https://aws.amazon.com/vpc/pricing/)",
	"aws:ec2/routeTable:RouteTable": "free: VPCs, subnets and route tables have no charge (https://aws.amazon.com/vpc/pricing/)",
	"aws:ec2/route:Route":           "free: VPCs, subnets and route tables have no charge (https://aws.amazon.com/vpc/pricing/)",
	"aws:ec2/routeTableAssociation:RouteTableAssociation":                                        "free: VPCs, subnets and route tables have no charge (https://aws.amazon.com/vpc/pricing/)",
	"aws:ec2/internetGateway:InternetGateway":                                                    "free: an internet gateway has no charge; data transfer out is not modeled",
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":                                  "free: security groups and their rules have no charge",
	"aws:ec2/vpcEndpoint:VpcEndpoint":                                                            "free: a gateway endpoint (S3) has no hourly or data charge (https://docs.aws.amazon.com/vpc/latest/privatelink/gateway-endpoints.html)",
	"aws:iam/role:Role":                                                                          "free: IAM has no charge",
	"aws:iam/rolePolicy:RolePolicy":                                                              "free: IAM has no charge",
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment":                                          "free: IAM has no charge",
	"aws:iam/policy:Policy":                                                                      "free: IAM has no charge",
	"aws:eks/podIdentityAssociation:PodIdentityAssociation":                                      "free: EKS Pod Identity has no charge of its own (https://docs.aws.amazon.com/eks/latest/userguide/pod-identities.html)",
	"aws:eks/accessEntry:AccessEntry":                                                            "free: an access entry is part of the cluster; EKS charges by cluster hour and by the nodes Auto Mode manages (https://aws.amazon.com/eks/pricing/)",
	"aws:eks/accessPolicyAssociation:AccessPolicyAssociation":                                    "free: an access entry is part of the cluster; EKS charges by cluster hour and by the nodes Auto Mode manages (https://aws.amazon.com/eks/pricing/)",
	"aws:acm/certificate:Certificate":                                                            "free: public ACM certificates have no charge (https://aws.amazon.com/certificate-manager/pricing/)",
	"aws:acm/certificateValidation:CertificateValidation":                                        "free: a wait for validation, not a resource",
	"aws:route53/record:Record":                                                                  "free: records in the team's existing hosted zone (looked up, not created); queries are billed per million and not modeled",
	"aws:s3/bucketOwnershipControls:BucketOwnershipControls":                                     "free: configuration of a bucket",
	"aws:s3/bucketPolicy:BucketPolicy":                                                           "free: configuration of a bucket",
	"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":                                     "free: configuration of a bucket",
	"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": "free: configuration of a bucket (SSE-S3 or the bucket key adds no charge)",
	"aws:kms/alias:Alias":                                                                        "free: an alias has no charge; the key does (" + gKMS + ")",
	"aws:secretsmanager/secretVersion:SecretVersion":                                             "free: a version of the secret, which is priced (" + gSecrets + ")",
	"aws:secretsmanager/secretPolicy:SecretPolicy":                                               "free: configuration of the secret, which is priced (" + gSecrets + ")",
	"docker:index/image:Image":                                                                   "free: the build runs on the deploying machine; the pushed image is stored in ECR (" + gECR + ")",
	"random:index/randomPassword:RandomPassword":                                                 "free: computed locally",
}

// costRule returns how a type is priced, and false for a type the table does not know.
func costRule(typ string) (string, bool) {
	switch {
	case strings.HasPrefix(typ, providerTypePrefix):
		return "free: a provider instance", true
	case strings.HasPrefix(typ, programComponentPkg):
		return "free: a component of this program; its children are priced", true
	case strings.HasPrefix(typ, "kubernetes:") && typ != typeRelease && typ != typeChart:
		if r, ok := costRules[typ]; ok {
			return r, true
		}
		return "free: a Kubernetes object, stored in the cluster's etcd", true
	}
	r, ok := costRules[typ]
	return r, ok
}

// pricer builds lines against one price table.
type pricer struct {
	t     PriceTable
	lines []Line
	err   error
}

func (p *pricer) add(l Line, priceKey string) {
	if p.err != nil {
		return
	}
	pr, err := p.t.price(priceKey)
	if err != nil {
		p.err = err
		return
	}
	l.UnitUSD, l.PricePage, l.PriceUnverified = pr.USD, pr.Page, pr.Checked == ""
	l.USD = l.Quantity * pr.USD
	p.lines = append(p.lines, l)
}

// money prices the graph. extended says the cluster's Kubernetes version has left EKS standard
// support.
func money(g *graph, t PriceTable, u Usage, extended bool) ([]Line, error) {
	for _, n := range g.nodes {
		if _, ok := costRule(n.Type); !ok {
			return nil, fmt.Errorf("no price rule for %s: add it to costRules in internal/estimate/cost.go, with its lines or the reason it is free", n.Type)
		}
	}
	p := &pricer{t: t}
	zones := azCount(g)
	for _, c := range g.ofType(typeCluster) {
		if err := p.cluster(g, c, u, extended, zones); err != nil {
			return nil, err
		}
	}
	p.nat(g, u, zones)
	p.albs(g, u)
	if err := p.volumes(g); err != nil {
		return nil, err
	}
	p.buckets(g, u)
	p.registries(g, u)
	if n := len(g.ofType(typeKMSKey)); n > 0 {
		p.add(Line{Group: gKMS, Item: "customer managed keys", Quantity: float64(n), Unit: "key-months", Basis: plural(n, "key"), Count: n, Noun: "KMS key"}, pKMSKey)
	}
	if n := len(g.ofType(typeSecret)); n > 0 {
		p.add(Line{Group: gSecrets, Item: "secrets", Quantity: float64(n), Unit: "secret-months", Basis: plural(n, "secret"), Count: n, Noun: "secret"}, pSecret)
	}
	return p.lines, p.err
}

// cluster prices the control plane, its logs, and the Auto Mode nodes the pods need.
func (p *pricer) cluster(g *graph, c *Node, u Usage, extended bool, zones int) error {
	support, key := "standard support", pEKSStandard
	if extended {
		support, key = extendedSupportLabel, pEKSExtended
	}
	p.add(Line{Group: gControlPlane, Item: "control plane, Kubernetes " + str(c.Inputs, "version") + " in " + support,
		Quantity: HoursPerMonth, Unit: "cluster-hours", Basis: "1 cluster × 730 h", Count: 1, Noun: "cluster"}, key)
	if types, ok := lookupAs[[]any](c.Inputs, "enabledClusterLogTypes"); ok && len(types) > 0 {
		p.add(Line{Group: gLogs, Item: "control-plane log ingestion", Quantity: float64(len(types)) * u.ControlPlaneLogGBPerMonth, Unit: "GB",
			Basis: fmt.Sprintf("%s × %g GB a month (controlPlaneLogGBPerMonth)", plural(len(types), "log type"), u.ControlPlaneLogGBPerMonth), Assumption: true}, pLogsIngest)
	}
	if on, _ := lookupAs[bool](c.Inputs, "autoMode.enabled"); !on {
		return nil
	}
	pools, err := capacities(g, u.InstanceType, zones)
	if err != nil {
		return err
	}
	nodes := 0
	for _, capa := range pools {
		nodes += capa.Nodes
		purchase := "on-demand"
		if capa.Spot {
			purchase = "Spot"
		}
		basis := fmt.Sprintf("%s × 730 h; %.2f vCPU and %.0f MiB requested by %.0f pods, bound by %s",
			plural(capa.Nodes, u.InstanceType+" node"), capa.CPU, capa.MemoryMiB, capa.Pods, capa.Bound)
		ec2 := Line{Group: gNodes, Item: "EC2 " + u.InstanceType + ", NodePool " + capa.Pool + " (" + purchase + ")", Quantity: float64(capa.Nodes) * HoursPerMonth,
			Unit: "instance-hours", Basis: basis, Assumption: true, Count: capa.Nodes, Noun: "node"}
		if !capa.Spot {
			p.add(ec2, ec2Key(u.InstanceType))
			continue
		}
		pr, err := p.t.price(ec2Key(u.InstanceType))
		if err != nil {
			return err
		}
		ec2.Basis += fmt.Sprintf("; Spot at %g × on-demand (spotPriceRatio)", u.SpotPriceRatio)
		ec2.UnitUSD, ec2.PricePage, ec2.PriceUnverified = pr.USD*u.SpotPriceRatio, "https://aws.amazon.com/ec2/spot/pricing/", true
		ec2.USD = ec2.Quantity * ec2.UnitUSD
		p.lines = append(p.lines, ec2)
	}
	hours := float64(nodes) * HoursPerMonth
	p.add(Line{Group: gNodes, Item: "Auto Mode management fee", Quantity: hours, Unit: "instance-hours", Basis: plural(nodes, u.InstanceType+" node") + " × 730 h", Assumption: true}, autoModeKey(u.InstanceType))
	size, source := nodeVolume(g)
	p.add(Line{Group: gNodes, Item: "node volumes (gp3)", Quantity: float64(nodes) * size, Unit: "GB-months",
		Basis: fmt.Sprintf("%s × %g GiB, %s", plural(nodes, "node"), size, source), Assumption: true}, pGP3)
	return nil
}

// nodeVolume is the size of each node's data volume: the NodeClass's ephemeralStorage.size when
// the graph declares one, else the default NodeClass's 80 GiB
// (https://docs.aws.amazon.com/eks/latest/userguide/create-node-class.html).
func nodeVolume(g *graph) (float64, string) {
	for _, nc := range g.ofType("kubernetes:eks.amazonaws.com/v1:NodeClass") {
		if v, ok := lookup(nc.Inputs, "spec.ephemeralStorage.size"); ok {
			if size, err := gib(v); err == nil && size > 0 {
				return size, "the NodeClass's ephemeral storage"
			}
		}
	}
	return nodeVolumeGiB, "the default NodeClass's ephemeral storage (https://docs.aws.amazon.com/eks/latest/userguide/create-node-class.html)"
}

// nodeVolumeGiB is the default NodeClass's ephemeralStorage.size.
const nodeVolumeGiB = 80

// azCount is the number of zones of the private subnets (the nodes' zones). For a network
// brought from another stack, whose subnets are not in the graph, it is the number of private
// subnets the cluster is given: one per zone.
func azCount(g *graph) int {
	zones := map[string]bool{}
	for _, s := range g.ofType(typeSubnet) {
		if privateSubnet(s) {
			zones[str(s.Inputs, "availabilityZone")] = true
		}
	}
	if len(zones) > 0 {
		return len(zones)
	}
	for _, c := range g.ofType(typeCluster) {
		if ids, ok := lookupAs[[]any](c.Inputs, "privateSubnetIds"); ok && len(ids) > 0 {
			return len(ids)
		}
	}
	return 1
}

// broughtNetwork reports whether the cluster's VPC comes from elsewhere (another stack): the
// graph then has no VPC, and the network's NAT gateways are that stack's cost.
func broughtNetwork(g *graph) bool {
	return len(g.ofType(typeCluster)) > 0 && len(g.ofType("aws:ec2/vpc:Vpc")) == 0
}

func privateSubnet(s *Node) bool {
	tags, _ := s.Inputs["tags"].(map[string]any)
	_, ok := tags["kubernetes.io/role/internal-elb"]
	return ok
}

func publicSubnet(s *Node) bool {
	tags, _ := s.Inputs["tags"].(map[string]any)
	_, ok := tags["kubernetes.io/role/elb"]
	return ok
}

// nat prices the NAT gateways: their hours, their data, their addresses, and the cross-zone
// traffic of zones without a gateway of their own.
func (p *pricer) nat(g *graph, u Usage, zones int) {
	gws := g.ofType(typeNatGateway)
	if len(gws) == 0 {
		return
	}
	k := len(gws)
	p.add(Line{Group: gNAT, Item: "gateway hours", Quantity: float64(k) * HoursPerMonth, Unit: "gateway-hours", Basis: plural(k, "NAT gateway") + " × 730 h", Count: k, Noun: "NAT gateway"}, pNATHour)
	p.add(Line{Group: gNAT, Item: "data processed", Quantity: u.NATGBPerMonth, Unit: "GB", Basis: "natGBPerMonth", Assumption: true}, pNATGB)
	natEIPs := map[string]bool{}
	natZones := map[string]bool{}
	subnetZone := map[string]string{}
	for _, s := range g.ofType(typeSubnet) {
		subnetZone[s.ID] = str(s.Inputs, "availabilityZone")
	}
	for _, gw := range gws {
		natZones[subnetZone[str(gw.Inputs, "subnetId")]] = true
		for _, d := range gw.Dependencies {
			if n, ok := g.byURN[d]; ok && n.Type == typeEIP {
				natEIPs[d] = true
			}
		}
	}
	if len(natEIPs) > 0 {
		p.add(Line{Group: gNAT, Item: "public IPv4 addresses", Quantity: float64(len(natEIPs)) * HoursPerMonth, Unit: "IP-hours", Basis: plural(len(natEIPs), "Elastic IP") + " × 730 h"}, pPublicIPv4)
	}
	if other := len(g.ofType(typeEIP)) - len(natEIPs); other > 0 {
		p.add(Line{Group: gIPv4, Item: "other Elastic IPs", Quantity: float64(other) * HoursPerMonth, Unit: "IP-hours", Basis: plural(other, "Elastic IP") + " × 730 h", Count: other, Noun: "Elastic IP"}, pPublicIPv4)
	}
	// Private subnets in a zone without a gateway send their egress to another zone: in-region
	// transfer between zones is charged in each direction.
	without := 0
	for _, s := range g.ofType(typeSubnet) {
		if privateSubnet(s) && !natZones[str(s.Inputs, "availabilityZone")] {
			without++
		}
	}
	if without > 0 && zones > 0 {
		share := float64(without) / float64(zones)
		p.add(Line{Group: gNAT, Item: "cross-zone transfer to the gateway", Quantity: u.NATGBPerMonth * share * 2, Unit: "GB (each direction)",
			Basis: fmt.Sprintf("natGBPerMonth × %d of %d zones without a gateway × 2 directions", without, zones), Assumption: true}, pCrossAZGB)
	}
}

// alb is one load balancer the Auto Mode load balancer controller makes: one per IngressClass
// group that an Ingress uses.
type alb struct {
	group, scheme string
}

// albs prices the ALBs the graph's Ingresses imply.
func (p *pricer) albs(g *graph, u Usage) {
	params := map[string]alb{}
	for _, n := range g.ofType(typeIngressParams) {
		group := str(n.Inputs, "spec.group.name")
		if group == "" {
			group = str(n.Inputs, "metadata.name")
		}
		params[str(n.Inputs, "metadata.name")] = alb{group, str(n.Inputs, "spec.scheme")}
	}
	classes := map[string]alb{}
	defaultClass := ""
	for _, n := range g.ofType(typeIngressClass) {
		name := str(n.Inputs, "metadata.name")
		classes[name] = params[str(n.Inputs, "spec.parameters.name")]
		if isDefaultClass(n) {
			defaultClass = name
		}
	}
	used := map[alb]bool{}
	for _, cls := range ingressClassesUsed(g) {
		if cls == "" {
			cls = defaultClass
		}
		if a, ok := classes[cls]; ok && a.group != "" {
			used[a] = true
		}
	}
	if len(used) == 0 {
		return
	}
	var all []alb
	for a := range used {
		all = append(all, a)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].group < all[j].group })
	m := len(all)
	names := make([]string, 0, m)
	public := 0
	for _, a := range all {
		names = append(names, a.group+" ("+a.scheme+")")
		if a.scheme == "internet-facing" {
			public++
		}
	}
	p.add(Line{Group: gALB, Item: "load balancer hours", Quantity: float64(m) * HoursPerMonth, Unit: "ALB-hours", Basis: plural(m, "ALB") + " × 730 h: " + strings.Join(names, ", "), Count: m, Noun: "ALB"}, pALBHour)
	p.add(Line{Group: gALB, Item: "capacity units", Quantity: float64(m) * u.ALBLCUs * HoursPerMonth, Unit: "LCU-hours", Basis: fmt.Sprintf("%s × %g LCU (albLCUs) × 730 h", plural(m, "ALB"), u.ALBLCUs), Assumption: true}, pLCUHour)
	zones := 0
	for _, s := range g.ofType(typeSubnet) {
		if publicSubnet(s) {
			zones++
		}
	}
	if zones == 0 {
		// A brought network: the ALB spans one public subnet per zone of the cluster.
		zones = azCount(g)
	}
	if public > 0 && zones > 0 {
		p.add(Line{Group: gALB, Item: "public IPv4 addresses", Quantity: float64(public*zones) * HoursPerMonth, Unit: "IP-hours",
			Basis: fmt.Sprintf("%s × %d zones (one address per public subnet) × 730 h", plural(public, "internet-facing ALB"), zones)}, pPublicIPv4)
	}
}

func isDefaultClass(n *Node) bool {
	ann, _ := lookupAs[map[string]any](n.Inputs, "metadata.annotations")
	return ann["ingressclass.kubernetes.io/is-default-class"] == "true"
}

// ingressClassesUsed lists the IngressClass of every Ingress the graph declares: in Helm values
// (an "ingress" map that is enabled, with className or ingressClassName) and as Ingress objects
// with inputs. "" is an Ingress without a class, which takes the default class.
func ingressClassesUsed(g *graph) []string {
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ing, ok := x["ingress"].(map[string]any); ok {
				if on, _ := ing["enabled"].(bool); on {
					cls, _ := ing["className"].(string)
					if cls == "" {
						cls, _ = ing["ingressClassName"].(string)
					}
					out = append(out, cls)
				}
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	for _, typ := range []string{typeRelease, typeChart} {
		for _, n := range g.ofType(typ) {
			walk(n.Inputs["values"])
		}
	}
	for _, n := range g.ofType(typeIngress) {
		if _, ok := n.Inputs["spec"]; ok {
			out = append(out, str(n.Inputs, "spec.ingressClassName"))
		}
	}
	return out
}

// volumes prices the persistent volumes the charts claim.
func (p *pricer) volumes(g *graph) error {
	total := 0.0
	var parts []string
	for _, typ := range []string{typeRelease, typeChart} {
		for _, n := range g.ofType(typ) {
			vols, err := volumesOf(n)
			if err != nil {
				return err
			}
			for _, v := range vols {
				total += v.gib * v.count
				parts = append(parts, fmt.Sprintf("%s %g × %g GiB", v.name, v.count, v.gib))
			}
		}
	}
	if total > 0 {
		p.add(Line{Group: gEBS, Item: "persistent volumes (gp3)", Quantity: total, Unit: "GB-months", Basis: strings.Join(parts, ", ")}, pGP3)
	}
	return nil
}

// volume is a chart's persistent volume claims.
type volume struct {
	name       string
	gib, count float64
}

// volumePaths are, by chart, where the values size a workload's volume, and where its enabling
// switch is ("" for always on).
var volumePaths = map[string][]struct{ workload, size, enabled string }{
	"kube-prometheus-stack": {
		{"prometheus", "prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.resources.requests.storage", ""},
		{"alertmanager", "alertmanager.alertmanagerSpec.storage.volumeClaimTemplate.spec.resources.requests.storage", ""},
		{"grafana", "grafana.persistence.size", "grafana.persistence.enabled"},
	},
	"loki": {{"loki", "singleBinary.persistence.size", "singleBinary.persistence.enabled"}},
}

// volumesOf reads a chart's volumes: one per replica of the workload that claims it.
func volumesOf(n *Node) ([]volume, error) {
	values, _ := n.Inputs["values"].(map[string]any)
	ps, err := podsOf(n)
	if err != nil {
		return nil, err
	}
	replicas := map[string]float64{}
	for _, p := range ps {
		replicas[p.name] = p.count
	}
	var out []volume
	for _, vp := range volumePaths[chartName(n)] {
		size, ok := lookup(values, vp.size)
		if !ok {
			continue
		}
		if vp.enabled != "" {
			if on, _ := lookupAs[bool](values, vp.enabled); !on {
				continue
			}
		}
		gb, err := gib(size)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", label(n), vp.size, err)
		}
		out = append(out, volume{vp.workload, gb, replicas[vp.workload]})
	}
	return out, nil
}

// claimPaths finds every place in a chart's values that sizes a volume: a volumeClaimTemplate, or
// an enabled persistence map with a size. A test checks each is in volumePaths.
func claimPaths(values any) []string {
	var out []string
	var walk func(v any, path string)
	walk = func(v any, path string) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		for k, e := range m {
			sub := strings.TrimPrefix(path+"."+k, ".")
			if k == "volumeClaimTemplate" {
				out = append(out, sub+".spec.resources.requests.storage")
				continue
			}
			if k == "persistence" {
				if pm, ok := e.(map[string]any); ok && pm["enabled"] == true && pm["size"] != nil {
					out = append(out, sub+".size")
				}
			}
			walk(e, sub)
		}
	}
	walk(values, "")
	sort.Strings(out)
	return out
}

// buckets prices the S3 buckets' storage: the logs Loki keeps, the ALBs' access logs.
func (p *pricer) buckets(g *graph, u Usage) {
	lokiBuckets := map[string]bool{}
	for _, typ := range []string{typeRelease, typeChart} {
		for _, n := range g.ofType(typ) {
			if chartName(n) == "loki" {
				if b := str(n.Inputs["values"], "loki.storage.bucketNames.chunks"); b != "" {
					lokiBuckets[b] = true
				}
			}
		}
	}
	accessLogBuckets := map[string]bool{}
	for _, n := range g.ofType(typeIngressParams) {
		attrs, _ := lookupAs[[]any](n.Inputs, "spec.loadBalancerAttributes")
		for _, a := range attrs {
			if str(a, "key") == "access_logs.s3.bucket" {
				accessLogBuckets[str(a, "value")] = true
			}
		}
	}
	for _, b := range g.ofType(typeBucket) {
		name, days := bucketLifecycle(g, b)
		switch {
		case lokiBuckets[name]:
			p.add(Line{Group: gS3, Item: "pod logs (Loki) in " + b.Name, Quantity: u.PodLogGBPerDay * days, Unit: "GB-months",
				Basis: fmt.Sprintf("podLogGBPerDay %g × %g days kept (the bucket's expiry)", u.PodLogGBPerDay, days), Assumption: true}, pS3)
		case accessLogBuckets[name]:
			p.add(Line{Group: gS3, Item: "ALB access logs in " + b.Name, Quantity: u.AccessLogGBPerDay * days, Unit: "GB-months",
				Basis: fmt.Sprintf("accessLogGBPerDay %g × %g days kept (the bucket's expiry)", u.AccessLogGBPerDay, days), Assumption: true}, pS3)
		default:
			p.add(Line{Group: gS3, Item: "bucket " + b.Name, Quantity: 0, Unit: "GB-months", Basis: "no usage assumption for this bucket's contents", Assumption: true}, pS3)
		}
	}
}

// bucketLifecycle returns a bucket's name and the days its lifecycle rules keep objects, from
// the lifecycle configuration that depends on it (the longest expiry; 0 without one).
func bucketLifecycle(g *graph, b *Node) (string, float64) {
	name := str(b.Inputs, "bucket")
	days := 0.0
	for _, lc := range g.ofType(typeBucketLifecycle) {
		if !contains(lc.Dependencies, b.URN) {
			continue
		}
		if name == "" {
			name = str(lc.Inputs, "bucket")
		}
		rules, _ := lookupAs[[]any](lc.Inputs, "rules")
		for _, r := range rules {
			if d, ok := number(r, "expiration.days"); ok && d > days {
				days = d
			}
		}
	}
	return name, days
}

func contains(s []string, x string) bool {
	for _, e := range s {
		if e == x {
			return true
		}
	}
	return false
}

// registries prices ECR storage: the images the lifecycle policy keeps.
func (p *pricer) registries(g *graph, u Usage) {
	for _, r := range g.ofType(typeECRRepository) {
		keep := 0.0
		for _, lc := range g.ofType(typeECRLifecycle) {
			if !contains(lc.Dependencies, r.URN) {
				continue
			}
			var policy struct {
				Rules []struct {
					Selection struct {
						CountType   string  `json:"countType"`
						CountNumber float64 `json:"countNumber"`
					} `json:"selection"`
				} `json:"rules"`
			}
			if json.Unmarshal([]byte(str(lc.Inputs, "policy")), &policy) == nil {
				for _, rule := range policy.Rules {
					if rule.Selection.CountType == "imageCountMoreThan" {
						keep = math.Max(keep, rule.Selection.CountNumber)
					}
				}
			}
		}
		basis := fmt.Sprintf("%g images kept (the lifecycle policy) × imageGB %g", keep, u.ImageGB)
		p.add(Line{Group: gECR, Item: "images in " + str(r.Inputs, "name"), Quantity: keep * u.ImageGB, Unit: "GB-months", Basis: basis, Assumption: true}, pECR)
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
