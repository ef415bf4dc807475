// readConfig: every key read into Config and validated, one section at a time, so that bad
// config fails with one error naming every bad key before any resource is declared.

package main

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/example/flask-eks/addons/dns"
	"github.com/example/flask-eks/addons/externalsecrets"
	"github.com/example/flask-eks/addons/keda"
	"github.com/example/flask-eks/eks"
	"github.com/example/flask-eks/internal/validate"
	"github.com/example/flask-eks/monitoring"
	"github.com/example/flask-eks/vpc"
)

var (
	logTypes         = []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}
	requiredLogTypes = []string{"api", "audit", "authenticator"}
	logLevels        = []string{"DEBUG", "INFO", "WARNING", "ERROR"}
	serviceTypes     = []string{"ClusterIP", "NodePort", "LoadBalancer"}
	reservedTags     = []string{"Project", "Environment", "Stack", "ManagedBy"}
)

// tagHeadroom is how many tags the program and pulumi-eks add to a resource besides the default
// tags (Name, subnet role and tier tags, the cluster's own). User tags must leave room for them
// within AWS's 50 tags per resource.
const tagHeadroom = 6

// readConfig reads and validates the whole stack configuration. On any problem it returns one
// error that lists every bad key with its value and what is accepted, and no Config. today
// dates the Kubernetes version checks.
func readConfig(project, stack string, src configSource, today time.Time) (*Config, error) {
	schemaProject, schema, err := projectSchema()
	if err != nil {
		return nil, err
	}
	if schemaProject != project {
		return nil, fmt.Errorf("the program is built for project %q but runs as project %q", schemaProject, project)
	}
	r := &reader{project: project, src: src, schema: schema}

	c := &Config{Project: project, Stack: stack}
	c.Environment = r.oneOf("environment", environments)
	c.ClusterMode = r.oneOf("clusterMode", []string{modeEKS, modeExisting})
	if c.ClusterMode == modeEKS {
		region, _ := src.Get("aws:region")
		c.Region = region
		if !validate.Region(region) {
			r.problems = append(r.problems, fmt.Sprintf(
				"aws:region: %q is not an AWS region; accepted: a region such as eu-west-1 (required in clusterMode eks)", region))
		}
	}
	c.Tags = readTags(r, c)
	// The name prefix "<project>-<stack>" starts the names of S3 buckets (with a generated
	// suffix, 63 characters at most), IAM roles and the EKS cluster.
	if n := len(c.namePrefix()); n > maxNamePrefix {
		r.problems = append(r.problems, fmt.Sprintf(
			"stack %q: %q is %d characters; accepted: a stack name that keeps \"<project>-<stack>\" at %d characters or fewer (it starts the names of buckets, roles and the cluster)",
			c.Stack, c.namePrefix(), n, maxNamePrefix))
	}

	c.Network = readNetwork(r, c)
	c.Cluster = readCluster(r, c, today)
	c.Registry = RegistryConfig{
		KeepImages:  r.integer("ecrKeepImages", 1, 1000),
		ForceDelete: r.boolean("ecrForceDelete"),
	}
	c.App = readApp(r, c)
	c.Ingress = readIngress(r, c)
	c.Monitoring = readMonitoring(r)
	if c.ClusterMode == modeEKS {
		c.Nodes = readNodes(r, c)
	}
	readAddons(r, c)
	c.CostAssumptions = readCostAssumptions(r)

	if c.ClusterMode == modeExisting {
		if c.Cluster.KubeContext == "" {
			r.fail("kubeContext", "is empty; accepted: the name of a context in your kubeconfig (required in clusterMode existing)")
		}
		if c.App.Image == "" {
			r.fail("image", "is empty; accepted: an image reference such as flask-app:dev (required in clusterMode existing)")
		}
	}

	if len(r.problems) > 0 {
		sort.Strings(r.problems)
		return nil, errors.New("invalid stack config (nothing was deployed):\n  - " + strings.Join(r.problems, "\n  - "))
	}
	c.Warnings = r.warnings
	return c, nil
}

func readTags(r *reader, c *Config) map[string]string {
	tags := map[string]string{
		"Project":     c.Project,
		"Environment": c.Environment,
		"Stack":       c.Stack,
		"ManagedBy":   "pulumi",
	}
	user := r.object("tags")
	for _, k := range slices.Sorted(maps.Keys(user)) {
		v := user[k]
		if slices.Contains(reservedTags, k) {
			r.fail("tags", "key %q is set by the program; accepted: any other key", k)
		} else if why := validate.TagKey(k); why != "" {
			r.fail("tags", "key %q %s; accepted: an AWS tag key", k, why)
		} else if why := validate.TagValue(v); why != "" {
			r.fail("tags", "value %q of %q %s; accepted: an AWS tag value", v, k, why)
		} else {
			tags[k] = v
		}
	}
	if max := validate.MaxTagsPerResource - len(reservedTags) - tagHeadroom; len(user) > max {
		r.fail("tags", "has %d tags; accepted: at most %d (AWS allows %d per resource, the program sets %d and keeps %d for its own)",
			len(user), max, validate.MaxTagsPerResource, len(reservedTags), tagHeadroom)
	}
	return tags
}

// readNetwork reads the VPC to create, or the existing one to deploy into.
func readNetwork(r *reader, c *Config) NetworkConfig {
	n := NetworkConfig{
		VpcCidr:          r.str("vpcCidr"),
		AzCount:          r.integer("azCount", 2, 3),
		NatMode:          vpc.NatMode(r.oneOf("natMode", []string{string(vpc.NatSingle), string(vpc.NatOnePerAZ)})),
		ExistingVpcID:    r.str("vpcId"),
		PrivateSubnetIDs: r.list("privateSubnetIds"),
		PublicSubnetIDs:  r.list("publicSubnetIds"),
	}
	if err := vpc.ValidateCIDR(n.VpcCidr); err != nil {
		r.fail("vpcCidr", "%q %v", n.VpcCidr, err)
	}
	if !n.existing() {
		for _, key := range []string{"privateSubnetIds", "publicSubnetIds"} {
			if len(r.list(key)) > 0 {
				r.fail(key, "is set without vpcId; accepted: empty (the program creates the subnets), or vpcId with the existing VPC's subnets")
			}
		}
		return n
	}
	if _, set := r.src.Get(r.fullKey("natMode")); set {
		r.fail("natMode", "is set together with vpcId; accepted: unset (the network's own stack decides its NAT gateways)")
	}
	if c.ClusterMode == modeExisting {
		r.fail("vpcId", "%q is set in clusterMode existing; accepted: \"\" (an existing network is for clusterMode eks)", n.ExistingVpcID)
	}
	if !validate.VPCID(n.ExistingVpcID) {
		r.fail("vpcId", "%q is not a VPC ID; accepted: vpc- and 8 or 17 hexadecimal digits, such as a network stack's vpcId output", n.ExistingVpcID)
	}
	seen := map[string]string{}
	for _, list := range []struct {
		key string
		ids []string
	}{{"privateSubnetIds", n.PrivateSubnetIDs}, {"publicSubnetIds", n.PublicSubnetIDs}} {
		if len(list.ids) != n.AzCount {
			r.fail(list.key, "has %d subnets, but azCount is %d; accepted: one subnet per AZ, azCount of them (2 or 3)", len(list.ids), n.AzCount)
		}
		for _, id := range list.ids {
			switch prev, dup := seen[id]; {
			case !validate.SubnetID(id):
				r.fail(list.key, "%q is not a subnet ID; accepted: subnet- and 8 or 17 hexadecimal digits", id)
			case dup:
				r.fail(list.key, "%q is listed twice (also in %s); accepted: distinct private and public subnets", id, prev)
			default:
				seen[id] = list.key
			}
		}
	}
	return n
}

func readCluster(r *reader, c *Config, today time.Time) ClusterConfig {
	cl := ClusterConfig{
		KubernetesVersion:         r.str("kubernetesVersion"),
		EndpointPublicAccess:      r.boolean("endpointPublicAccess"),
		PublicAccessCidrs:         r.list("publicAccessCidrs"),
		APIAccessCidrs:            r.list("apiAccessCidrs"),
		APIAccessSecurityGroupIDs: r.list("apiAccessSecurityGroupIds"),
		LogTypes:                  r.list("clusterLogTypes"),
		AdminPrincipalArns:        r.list("adminPrincipalArns"),
		ViewerPrincipalArns:       r.list("viewerPrincipalArns"),
		ViewOnlyPrincipalArns:     r.list("viewOnlyPrincipalArns"),
		DeployPrincipalArn:        r.str("deployPrincipalArn"),
		KubeContext:               r.str("kubeContext"),
		ServiceCidr:               r.str("serviceCidr"),
	}
	readKubernetesVersion(r, c.Environment, cl.KubernetesVersion, today)
	readServiceCIDR(r, cl.ServiceCidr, c.Network.VpcCidr)
	for _, cidr := range cl.PublicAccessCidrs {
		p, ok := validate.IPv4Network(cidr)
		switch {
		case !ok:
			r.fail("publicAccessCidrs", "%q is not an IPv4 network CIDR; accepted: CIDRs such as 192.168.10.0/24 with no host bits", cidr)
		case c.prod() && cl.EndpointPublicAccess && p.Bits() < 16:
			// Catches 0.0.0.0/0 and every split of it (0.0.0.0/1 with 128.0.0.0/1, ...).
			r.fail("publicAccessCidrs", "%q is a /%d and opens the prod API endpoint to a large part of the internet; accepted: /16 or narrower CIDRs of your runners and offices, or endpointPublicAccess false", cidr, p.Bits())
		case c.prod() && cl.EndpointPublicAccess && validate.DocumentationRange(p):
			r.fail("publicAccessCidrs", "%q is an RFC 5737 documentation range that no client has, so the prod API would be unreachable; accepted: the egress CIDRs of your deploy runners and offices, or endpointPublicAccess false with a runner inside the VPC", cidr)
		}
	}
	if cl.EndpointPublicAccess && len(cl.PublicAccessCidrs) == 0 {
		r.fail("publicAccessCidrs", "is empty while endpointPublicAccess is true; accepted: at least one CIDR")
	}
	readAPIAccess(r, c, &cl)
	for _, t := range cl.LogTypes {
		if !slices.Contains(logTypes, t) {
			r.fail("clusterLogTypes", "%q is not a log type; accepted values: %s", t, strings.Join(logTypes, ", "))
		}
	}
	for _, t := range requiredLogTypes {
		if !slices.Contains(cl.LogTypes, t) {
			r.fail("clusterLogTypes", "%q is missing; accepted: a list that includes %s", t, strings.Join(requiredLogTypes, ", "))
		}
	}
	readAccessLists(r, &cl)
	return cl
}

// readAccessLists checks the principals that get EKS access entries, and the deploying
// principal, which must get none.
func readAccessLists(r *reader, cl *ClusterConfig) {
	seen := map[string]string{}
	for _, list := range []struct {
		key  string
		arns []string
	}{{"adminPrincipalArns", cl.AdminPrincipalArns}, {"viewerPrincipalArns", cl.ViewerPrincipalArns}, {"viewOnlyPrincipalArns", cl.ViewOnlyPrincipalArns}} {
		key := list.key
		for _, arn := range list.arns {
			if !validate.IAMPrincipalARN(arn) {
				r.fail(key, "%q is not an IAM role or user ARN; accepted: arn:aws:iam::<account>:role/<name> or :user/<name> (not an assumed-role session ARN)", arn)
				continue
			}
			// EKS allows one access entry per principal, and the entries are keyed by a name
			// derived from the ARN: a principal may appear once in the lists together.
			id := eks.AccessEntryName(arn)
			if prev, dup := seen[id]; dup {
				r.fail(key, "%q is listed twice (also in %s); accepted: each principal once, in adminPrincipalArns, viewerPrincipalArns or viewOnlyPrincipalArns", arn, prev)
				continue
			}
			seen[id] = key
		}
	}
	if d := cl.DeployPrincipalArn; d != "" {
		if !validate.IAMPrincipalARN(d) {
			r.fail("deployPrincipalArn", "%q is not an IAM role or user ARN; accepted: the ARN of the role that runs `pulumi up`, arn:aws:iam::<account>:role/<name> (not an assumed-role session ARN)", d)
		} else if list, dup := seen[eks.AccessEntryName(d)]; dup {
			r.fail("deployPrincipalArn", "%q is also in %s; accepted: a deploying principal in no access list (EKS gives the cluster's creator an admin entry itself, and a second one fails with 409 ResourceInUseException)", d, list)
		}
	}
}

// readAddons checks the platform add-ons against each other and the cluster mode. prod turns all
// three on (Pulumi.prod.yaml); turning one off there is allowed, with a warning.
func readAddons(r *reader, c *Config) {
	a, m := &c.App, &c.Monitoring
	if d, err := time.ParseDuration(a.SecretsRefreshInterval); err != nil || d < time.Minute || d > 24*time.Hour {
		r.fail("secretsRefreshInterval", "%q is not a refresh interval; accepted: a Go duration from 1m to 24h, such as 5m or 1h (how long a new value in Secrets Manager takes to reach the pods)", a.SecretsRefreshInterval)
	}
	readSecretsPrincipals(r, c)
	if a.ExternalSecrets {
		if c.ClusterMode == modeExisting {
			r.fail("externalSecrets", "true is set in clusterMode existing; accepted: false (External Secrets reads AWS Secrets Manager through EKS Pod Identity, which only clusterMode eks has)")
		}
		// Never echo the values: they are secrets.
		for key, v := range map[string]secretValue{"secretKey": a.SecretKey, "dbPassword": a.DBPassword} {
			if v.IsSet() {
				r.fail(key, "is set while externalSecrets is true; accepted: unset (`pulumi config rm %s`): the value lives in AWS Secrets Manager, set it there", key)
			}
		}
	}
	if a.KEDA {
		if !m.Enabled {
			r.fail("keda", "true needs monitoringEnabled; accepted: false, or monitoringEnabled true (KEDA scales on the request rate Prometheus scrapes from the app)")
		}
		if a.MaxReplicas <= a.Replicas {
			r.fail("keda", "true with appMaxReplicas %d not above appReplicas %d; accepted: false, or appMaxReplicas > appReplicas (the range KEDA scales in)", a.MaxReplicas, a.Replicas)
		}
	}
	if m.Logs {
		if c.ClusterMode == modeExisting {
			r.fail("logs", "true is set in clusterMode existing; accepted: false (Loki stores in an S3 bucket through EKS Pod Identity, which only clusterMode eks has)")
		}
		if !m.Enabled {
			r.fail("logs", "true needs monitoringEnabled; accepted: false, or monitoringEnabled true (Loki is Grafana's log data source)")
		}
	}
	if c.prod() {
		for _, addon := range []struct {
			key string
			on  bool
		}{{"externalSecrets", a.ExternalSecrets}, {"keda", a.KEDA}, {"logs", m.Logs}} {
			if !addon.on {
				r.warn("%s is off on a prod stack: prod runs every platform add-on unless there is a reason not to (docs/configuration.md)", addon.key)
			}
		}
	}
}

// readSecretsPrincipals checks who administers the app secret's key besides the program: with
// externalSecrets, the deploying principal and a break-glass role of the same account are
// required (the key policy names both, and nobody else may administer the key).
func readSecretsPrincipals(r *reader, c *Config) {
	bg, deploy := c.App.SecretsBreakGlassPrincipalArn, c.Cluster.DeployPrincipalArn
	if !c.App.ExternalSecrets {
		if bg != "" {
			r.fail("secretsBreakGlassPrincipalArn", "is set while externalSecrets is false; accepted: \"\" (it administers the Secrets Manager secret of externalSecrets)")
		}
		return
	}
	if deploy == "" {
		r.fail("deployPrincipalArn", "is empty while externalSecrets is true; accepted: the ARN of the role that runs `pulumi up`, such as arn:aws:iam::<account>:role/github-actions-deploy-<stack> (the secret's KMS key names it as an administrator)")
	}
	switch {
	case bg == "":
		r.fail("secretsBreakGlassPrincipalArn", "is empty while externalSecrets is true; accepted: the ARN of an emergency administrator role, arn:aws:iam::<account>:role/<name> (without it the secret's KMS key would depend on the deploy role alone)")
	case !validate.IAMPrincipalARN(bg) || !strings.Contains(bg, ":role/"):
		r.fail("secretsBreakGlassPrincipalArn", "%q is not an IAM role ARN; accepted: arn:aws:iam::<account>:role/<name> (a role someone assumes in an emergency, not a user or a session)", bg)
	case validate.IAMPrincipalARN(deploy) && arnAccount(deploy) != arnAccount(bg):
		r.fail("secretsBreakGlassPrincipalArn", "%q is in account %s, deployPrincipalArn in %s; accepted: a role of the stack's account (the secret's policy admits that account's principals only)", bg, arnAccount(bg), arnAccount(deploy))
	}
}

// arnAccount is the account field of an ARN.
func arnAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 5 {
		return ""
	}
	return parts[4]
}

// reservedNamespaces are namespaces the app may not take: Kubernetes' own, and those of the
// platform components this program installs.
func reservedNamespaces() []string {
	return []string{"default", "kube-system", "kube-public", "kube-node-lease", monitoring.Namespace, monitoring.NodeExporterNamespace,
		externalsecrets.OperatorNamespace, externalsecrets.ReloaderNamespace, keda.Namespace, dns.ExternalDNSNamespace}
}

func readApp(r *reader, c *Config) AppConfig {
	a := AppConfig{
		Namespace:                     r.str("appNamespace"),
		Replicas:                      r.integer("appReplicas", 1, 100),
		MaxReplicas:                   r.integer("appMaxReplicas", 1, 100),
		LogLevel:                      r.oneOf("logLevel", logLevels),
		APIBaseURL:                    r.str("apiBaseUrl"),
		MaxConnections:                r.integer("maxConnections", 1, 10000),
		GunicornWorkers:               r.integer("gunicornWorkers", 1, 16),
		GunicornThreads:               r.integer("gunicornThreads", 1, 64),
		MemoryMiB:                     r.mebibytes("appMemory", 128, 4096),
		RevealSecrets:                 r.boolean("revealSecrets"),
		Image:                         r.str("image"),
		PodIdentityPolicyArns:         r.list("podIdentityPolicyArns"),
		SecretKey:                     r.secret("secretKey"),
		DBPassword:                    r.secret("dbPassword"),
		ExternalSecrets:               r.boolean("externalSecrets"),
		SecretsRefreshInterval:        r.str("secretsRefreshInterval"),
		SecretsBreakGlassPrincipalArn: r.str("secretsBreakGlassPrincipalArn"),
		KEDA:                          r.boolean("keda"),
		KEDATargetRPS:                 r.integer("kedaTargetRequestsPerSecond", 1, 100000),
	}
	if !validate.DNSLabel(a.Namespace) {
		r.fail("appNamespace", "%q is not a Kubernetes namespace name; accepted: a DNS label (lower case letters, digits, -; at most 63)", a.Namespace)
	} else if slices.Contains(reservedNamespaces(), a.Namespace) {
		r.fail("appNamespace", "%q belongs to Kubernetes or to a platform component; accepted: a namespace of the app's own, not one of %s", a.Namespace, strings.Join(reservedNamespaces(), ", "))
	}
	if a.MaxReplicas < a.Replicas {
		r.fail("appMaxReplicas", "%d is below appReplicas (%d); accepted: an integer >= appReplicas (equal turns autoscaling off)", a.MaxReplicas, a.Replicas)
	}
	if u, err := url.Parse(a.APIBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.fail("apiBaseUrl", "%q is not an absolute URL; accepted: an http:// or https:// URL", a.APIBaseURL)
	}
	if a.GunicornWorkers > 0 && a.GunicornThreads > 0 && a.MemoryMiB > 0 {
		need := appMemoryEstimate(a.GunicornWorkers, a.GunicornThreads)
		if limit := int(float64(a.MemoryMiB) * appMemoryHeadroom); need > limit {
			r.fail("gunicornWorkers", "%d workers x %d threads need about %d MiB, more than %d%% of appMemory %dMi; accepted: fewer workers or threads, or a larger appMemory (each worker about %d MiB)",
				a.GunicornWorkers, a.GunicornThreads, need, int(appMemoryHeadroom*100), a.MemoryMiB, appMemoryPerWorkerMiB)
		}
	}
	if a.RevealSecrets && c.Environment != envLocal {
		r.fail("revealSecrets", "true is refused on a %s stack; accepted: false (REVEAL_SECRETS is a debugging aid for the local stack only)", c.Environment)
	}
	for _, arn := range a.PodIdentityPolicyArns {
		if !validate.IAMPolicyARN(arn) {
			r.fail("podIdentityPolicyArns", "%q is not an IAM policy ARN; accepted: arn:aws:iam::aws:policy/<name> or arn:aws:iam::<account>:policy/<name>", arn)
		}
	}
	return a
}

func readIngress(r *reader, c *Config) IngressConfig {
	in := IngressConfig{
		Domain:              strings.ToLower(r.str("domain")),
		GrafanaDomain:       strings.ToLower(r.str("grafanaDomain")),
		HostedZone:          r.str("hostedZone"),
		CertificateArn:      r.str("certificateArn"),
		GrafanaExposure:     r.oneOf("grafanaExposure", []string{grafanaInternal, grafanaPublic, grafanaNone}),
		GrafanaInboundCidrs: r.list("grafanaInboundCidrs"),
		AccessLogDays:       r.integer("albAccessLogDays", 1, 3650),
		ClassName:           r.str("ingressClassName"),
		ServiceType:         r.oneOf("serviceType", serviceTypes),
	}
	for key, host := range map[string]string{"domain": in.Domain, "grafanaDomain": in.GrafanaDomain} {
		switch {
		case host == "":
		case strings.Contains(host, "*"):
			r.fail(key, "%q is a wildcard; accepted: the one host name the ALB serves, such as app.example.com (an Ingress rule and a DNS record need a host)", host)
		case !validate.Hostname(host):
			r.fail(key, "%q is not a host name; accepted: a fully qualified name such as app.example.com, without a trailing dot", host)
		case in.HostedZone != "" && !validate.HostedZoneID(in.HostedZone) && !validate.InZone(host, in.HostedZone):
			r.fail(key, "%q is not in hostedZone %q; accepted: a name in that zone, such as app.%s", host, in.HostedZone, strings.TrimSuffix(in.HostedZone, "."))
		case c.ClusterMode == modeExisting:
			r.fail(key, "%q is set in clusterMode existing; accepted: \"\" (host names, certificates and DNS are made for the ALBs of clusterMode eks)", host)
		}
	}
	if in.GrafanaDomain != "" && in.GrafanaDomain == in.Domain {
		r.fail("grafanaDomain", "%q is the app's domain; accepted: a host name of Grafana's own, such as grafana.example.com", in.GrafanaDomain)
	}
	if in.HostedZone != "" && !validate.HostedZoneID(in.HostedZone) && !validate.Hostname(strings.TrimSuffix(in.HostedZone, ".")) {
		r.fail("hostedZone", "%q is neither a zone name nor a zone ID; accepted: a name such as example.com, or an ID such as Z0123456789ABCDEFGHIJ", in.HostedZone)
	}
	if in.Domain != "" && in.HostedZone == "" && in.CertificateArn == "" {
		r.fail("domain", "%q is set, but there is no certificate for it; accepted: together with hostedZone (the program requests and validates the certificate there) or certificateArn (a certificate managed elsewhere)", in.Domain)
	}
	if in.GrafanaDomain != "" && in.Domain == "" {
		r.fail("grafanaDomain", "%q is set without domain; accepted: a Grafana host name together with the app's domain", in.GrafanaDomain)
	}
	if in.Domain == "" && in.CertificateArn != "" {
		r.fail("certificateArn", "is set without domain; accepted: a certificate together with the host name it covers (a certificate cannot match the ALB's generated name)")
	}
	if c.prod() && c.ClusterMode == modeEKS && in.Domain == "" {
		r.fail("domain", "is empty on a prod stack; accepted: the app's host name (prod serves HTTPS on its own domain; the ALB's generated name has no valid certificate)")
	}
	if in.CertificateArn != "" {
		region, ok := validate.ACMCertificateARN(in.CertificateArn)
		switch {
		case !ok:
			r.fail("certificateArn", "%q is not an ACM certificate ARN; accepted: arn:aws:acm:<region>:<account>:certificate/<uuid>", in.CertificateArn)
		case c.ClusterMode == modeEKS && region != c.Region:
			r.fail("certificateArn", "%q is in %s, but the ALBs are in aws:region %s; accepted: a certificate of %s (an ALB can only use certificates of its own region)", in.CertificateArn, region, c.Region, c.Region)
		}
	}
	if c.ClusterMode == modeExisting && in.GrafanaExposure != grafanaNone {
		r.fail("grafanaExposure", "%q is set in clusterMode existing; accepted: none (internal and public are ALBs of clusterMode eks; reach Grafana with kubectl port-forward)", in.GrafanaExposure)
	}
	switch in.GrafanaExposure {
	case grafanaPublic:
		if in.GrafanaDomain == "" || !in.TLS() {
			r.fail("grafanaExposure", "public needs grafanaDomain and a certificate; accepted: internal or none, or public with grafanaDomain and domain/hostedZone (Grafana is TLS-only whenever it is public)")
		}
		if len(in.GrafanaInboundCidrs) == 0 {
			r.fail("grafanaInboundCidrs", "is empty while grafanaExposure is public; accepted: the CIDRs that may reach Grafana, such as your office's 192.0.2.0/24 (0.0.0.0/0 is refused)")
		}
	default:
		if len(in.GrafanaInboundCidrs) > 0 {
			r.fail("grafanaInboundCidrs", "is set while grafanaExposure is %s; accepted: empty (only a public Grafana takes an allow-list)", in.GrafanaExposure)
		}
	}
	for _, cidr := range in.GrafanaInboundCidrs {
		if p, ok := validate.IPv4Network(cidr); !ok || p.Bits() < 8 {
			r.fail("grafanaInboundCidrs", "%q is not an IPv4 network CIDR of /8 or narrower; accepted: CIDRs such as 192.168.10.0/24 with no host bits", cidr)
		}
	}
	if in.ClassName != "" && !validate.DNSLabel(in.ClassName) {
		r.fail("ingressClassName", "%q is not an IngressClass name; accepted: a DNS label", in.ClassName)
	}
	return in
}

func readMonitoring(r *reader) MonitoringConfig {
	m := MonitoringConfig{
		Enabled:               r.boolean("monitoringEnabled"),
		PrometheusRetention:   r.str("prometheusRetention"),
		PrometheusStorageSize: r.str("prometheusStorageSize"),
		GrafanaStorageSize:    r.str("grafanaStorageSize"),
		NodeExporter:          r.boolean("nodeExporter"),
		AlertWebhookURL:       r.secret("alertWebhookUrl"),
		Logs:                  r.boolean("logs"),
		LogRetentionDays:      r.integer("logRetentionDays", 1, 3650),
		LokiStorageSize:       r.str("lokiStorageSize"),
	}
	if m.AlertWebhookURL.IsSet() {
		// Never echo the URL: a webhook URL is a credential.
		if u, err := url.Parse(m.AlertWebhookURL.Reveal()); err != nil || u.Scheme != "https" || u.Host == "" {
			r.fail("alertWebhookUrl", "is not an https:// URL; accepted: a Slack incoming-webhook URL or another https webhook")
		}
	}
	if !validate.Retention(m.PrometheusRetention) {
		r.fail("prometheusRetention", "%q is not a retention; accepted: a whole number of h, d, w or y, such as 7d", m.PrometheusRetention)
	}
	for key, v := range map[string]string{"prometheusStorageSize": m.PrometheusStorageSize, "grafanaStorageSize": m.GrafanaStorageSize, "lokiStorageSize": m.LokiStorageSize} {
		if !validate.VolumeSize(v) {
			r.fail(key, "%q is not a volume size; accepted: a whole number of Mi, Gi or Ti, such as 20Gi", v)
		}
	}
	return m
}

// readAPIAccess checks who may reach the API server's private endpoint. The cluster security
// group admits only itself, and EKS's cluster-endpoint page says a network that is to reach a
// private endpoint needs a rule for 443 in it
// (https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html, "Accessing a private
// only API server"). So a private-only endpoint needs apiAccessCidrs or
// apiAccessSecurityGroupIds. And in a VPC that the same `up` creates, no runner can be connected
// before the VPC exists: the first `up` of such a stack cannot reach its cluster, which is why
// the prod example brings its network (vpcId) from a network stack the runner already lives in.
func readAPIAccess(r *reader, c *Config, cl *ClusterConfig) {
	if c.ClusterMode != modeEKS {
		return
	}
	vpcCIDR, _ := validate.IPv4Network(c.Network.VpcCidr)
	for _, cidr := range cl.APIAccessCidrs {
		p, ok := validate.IPv4Network(cidr)
		switch {
		case !ok:
			r.fail("apiAccessCidrs", "%q is not an IPv4 network CIDR; accepted: CIDRs such as 10.40.0.0/24 with no host bits", cidr)
		case p.Bits() < 8:
			r.fail("apiAccessCidrs", "%q is a /%d; accepted: the networks of your runners and operators, /8 or narrower", cidr, p.Bits())
		case !c.Network.existing() && vpcCIDR.IsValid() && vpcCIDR.Overlaps(p):
			r.fail("apiAccessCidrs", "%q overlaps the VPC %s that this stack creates, where nothing but the cluster runs; accepted: a connected network's CIDR, or vpcId for a network that holds your runners", cidr, c.Network.VpcCidr)
		}
	}
	for _, sg := range cl.APIAccessSecurityGroupIDs {
		if !validate.SecurityGroupID(sg) {
			r.fail("apiAccessSecurityGroupIds", "%q is not a security group ID; accepted: sg- and 8 or 17 hexadecimal digits", sg)
		}
	}
	if cl.EndpointPublicAccess {
		return
	}
	if len(cl.APIAccessCidrs) == 0 && len(cl.APIAccessSecurityGroupIDs) == 0 {
		r.fail("endpointPublicAccess", "false leaves the API server reachable by nothing but the cluster's own security group, so no `pulumi up` could reach it; accepted: apiAccessSecurityGroupIds or apiAccessCidrs for your deploy runners (in a network that exists before this stack: vpcId), or endpointPublicAccess true with publicAccessCidrs")
	}
	if !c.Network.existing() {
		r.warn("endpointPublicAccess is false in a VPC this stack creates: the first `pulumi up` can reach the API only once the runners' network is connected to the new VPC (docs/ci.md, \"Bootstrap order\"); a network stack (vpcId) avoids that")
	}
}

// placeholderValues are the values of the keys whose example values in the committed stack files make a real
// deployment fail partway (an access entry or policy in an account that is not yours, a zone
// that does not exist, an allow-list nobody is in, a network that is not there).
func placeholderValues(c *Config) []struct{ key, value string } {
	var out []struct{ key, value string }
	add := func(key string, values ...string) {
		for _, v := range values {
			if v != "" {
				out = append(out, struct{ key, value string }{key, v})
			}
		}
	}
	add("adminPrincipalArns", c.Cluster.AdminPrincipalArns...)
	add("viewerPrincipalArns", c.Cluster.ViewerPrincipalArns...)
	add("viewOnlyPrincipalArns", c.Cluster.ViewOnlyPrincipalArns...)
	add("deployPrincipalArn", c.Cluster.DeployPrincipalArn)
	add("secretsBreakGlassPrincipalArn", c.App.SecretsBreakGlassPrincipalArn)
	add("podIdentityPolicyArns", c.App.PodIdentityPolicyArns...)
	add("certificateArn", c.Ingress.CertificateArn)
	add("domain", c.Ingress.Domain)
	add("grafanaDomain", c.Ingress.GrafanaDomain)
	add("hostedZone", c.Ingress.HostedZone)
	if c.Cluster.EndpointPublicAccess {
		add("publicAccessCidrs", c.Cluster.PublicAccessCidrs...)
	}
	add("apiAccessCidrs", c.Cluster.APIAccessCidrs...)
	add("apiAccessSecurityGroupIds", c.Cluster.APIAccessSecurityGroupIDs...)
	add("grafanaInboundCidrs", c.Ingress.GrafanaInboundCidrs...)
	add("vpcId", c.Network.ExistingVpcID)
	add("privateSubnetIds", c.Network.PrivateSubnetIDs...)
	add("publicSubnetIds", c.Network.PublicSubnetIDs...)
	return out
}

// refusePlaceholders fails a deployment (`pulumi up`, never a preview or a mock plan) of a stack
// that still holds example values, with one error naming every such key. The committed stack
// files are examples: Pulumi.dev.yaml and Pulumi.prod.yaml name account 123456789012 and
// example.com until a team sets its own values (README, "Your values").
func refusePlaceholders(c *Config) error {
	var problems []string
	for _, kv := range placeholderValues(c) {
		if why := validate.Placeholder(kv.value); why != "" {
			problems = append(problems, fmt.Sprintf("%s:%s: %q %s; accepted: your own value (pulumi config set %s ...)", c.Project, kv.key, kv.value, why, kv.key))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return errors.New("stack config still holds example values, so `pulumi up` would fail partway (nothing was deployed); `pulumi preview` accepts them:\n  - " +
		strings.Join(problems, "\n  - "))
}

// serviceRangeBlocks are the private blocks EKS takes a cluster's service range from.
var serviceRangeBlocks = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"), netip.MustParsePrefix("192.168.0.0/16"),
}

// readServiceCIDR checks serviceCidr against EKS's rules for a cluster's service range
// (KubernetesNetworkConfigRequest.serviceIpv4Cidr,
// https://docs.aws.amazon.com/eks/latest/APIReference/API_KubernetesNetworkConfigRequest.html):
// within 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, between /12 and /24, and not overlapping
// the VPC. EKS fixes the range when it creates the cluster.
func readServiceCIDR(r *reader, cidr, vpcCidr string) {
	const accepted = "accepted: an IPv4 network CIDR within 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, from /12 to /24, that does not overlap vpcCidr, such as 172.20.0.0/16"
	p, ok := validate.IPv4Network(cidr)
	switch {
	case !ok:
		r.fail("serviceCidr", "%q is not an IPv4 network CIDR; %s", cidr, accepted)
	case p.Bits() < 12 || p.Bits() > 24:
		r.fail("serviceCidr", "%q is a /%d; %s", cidr, p.Bits(), accepted)
	case !slices.ContainsFunc(serviceRangeBlocks, func(b netip.Prefix) bool { return b.Contains(p.Addr()) && p.Bits() >= b.Bits() }):
		r.fail("serviceCidr", "%q is not within 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16; %s", cidr, accepted)
	default:
		if vpc, ok := validate.IPv4Network(vpcCidr); ok && vpc.Overlaps(p) {
			r.fail("serviceCidr", "%q overlaps vpcCidr %s; %s", cidr, vpcCidr, accepted)
		}
	}
}
