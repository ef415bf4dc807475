// The stack outputs: every one documented in outputDocs (the README's outputs table is
// generated from it), gathered while the program runs and exported in one place.

package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/eks"
	"github.com/example/flask-eks/internal/netpol"
)

// outputDoc documents one stack output.
type outputDoc struct {
	Name string
	// Stacks says where the output exists: "all", "eks" (clusterMode eks), or a condition.
	Stacks      string
	Description string
}

// outputDocs are the stack outputs in the order the README lists them.
var outputDocs = []outputDoc{
	{"appUrl", "all", "The app's URL: `https://<domain>/` (known at preview), or `http://<ALB name>/` without a domain; empty where the app has no Ingress."},
	{"configUrl", "all", "`<appUrl>config`: the app's settings, secrets shown only as set or unset."},
	{"albHostname", "all", "The DNS name of the app's ALB, read back from its Ingress (empty until the load balancer exists)."},
	{"mode", "all", "How the app is reached: HTTPS on its domain, plain HTTP on the ALB's name (trial), or an existing cluster."},
	{"imageRef", "all", "The image the app runs: `<repository>@sha256:<digest>` in eks mode, the `image` key in existing mode."},
	{"grafanaUrl", "monitoringEnabled", "Grafana's URL (on its own ALB, or empty with `grafanaExposure: none`). An internal Grafana's host name gets no public record: it resolves through a private hosted zone of your network."},
	{"grafanaAdminUser", "monitoringEnabled", "Grafana's admin user."},
	{"grafanaAdminPassword", "monitoringEnabled", "Grafana's admin password (secret)."},
	{"logsBucket", "logs", "The S3 bucket Loki stores the logs in."},
	{"appHpaName", "keda", "The HPA that KEDA makes for the app (`keda-hpa-flask-app`)."},
	{"appSecretArn", "externalSecrets", "The ARN of the Secrets Manager secret holding SECRET_KEY and DB_PASSWORD (no value)."},
	{"appSecretName", "externalSecrets", "Its name, `flask-eks-<stack>/app`: set and rotate the values there."},
	{"vpcId", "eks", "The VPC's ID."},
	{"publicSubnetIds", "eks", "The public subnets (NAT gateways and internet-facing ALBs), one per AZ."},
	{"privateSubnetIds", "eks", "The private subnets (nodes, pods, the API server's interfaces, internal ALBs), one per AZ."},
	{"availabilityZones", "eks", "The AZs the subnets are in."},
	{"clusterName", "eks", "The EKS cluster's name, `flask-eks-<stack>`."},
	{"kubeconfig", "eks", "A kubeconfig for the cluster that authenticates with `aws eks get-token` (secret)."},
	{"oidcProviderArn", "eks", "The cluster's IAM OIDC provider, for tools that use IRSA."},
	{"oidcIssuer", "eks", "The cluster's OIDC issuer, without `https://`."},
	{"albAccessLogsBucket", "eks", "The S3 bucket that receives the ALBs' access logs."},
	{"repositoryUrl", "eks", "The ECR repository the image is pushed to."},
	{"imageDigest", "eks", "The digest of the pushed image."},
	{"smokeChecks", "eks", "What `.github/verify-aws` reads back from AWS after `up`: the region, the cluster, the service range and the `kubernetes` Service address, the tags every AWS resource carries, and the app ALB's TLS policy and allowed networks."},
}

// outputs are stack outputs by name.
type outputs map[string]pulumi.Input

// add copies o's outputs into out.
func (out outputs) add(o outputs) { maps.Copy(out, o) }

// export exports every output, refusing a name outputDocs does not document.
func (out outputs) export(ctx *pulumi.Context) error {
	for _, name := range slices.Sorted(maps.Keys(out)) {
		if !slices.ContainsFunc(outputDocs, func(d outputDoc) bool { return d.Name == name }) {
			return fmt.Errorf("stack output %q is not documented in outputDocs (outputs.go)", name)
		}
		ctx.Export(name, out[name])
	}
	return nil
}

// smokeChecks are what the program asked AWS for and what .github/verify-aws reads back after
// `up`: settings that no test here can check against AWS itself (Auto Mode's ALB settings, the
// tags Auto Mode propagates, the service range EKS took).
type smokeChecks struct {
	Region                   string            `json:"region"`
	ClusterName              string            `json:"clusterName"`
	ServiceCIDR              string            `json:"serviceCidr"`
	KubernetesServiceAddress string            `json:"kubernetesServiceAddress"`
	Tags                     map[string]string `json:"tags"`
	// AppALB is the app's load balancer: its HTTPS listener's policy ("" without a
	// certificate) and the networks its security group admits on the listener ports.
	AppALB struct {
		SSLPolicy    string   `json:"sslPolicy"`
		InboundCIDRs []string `json:"inboundCidrs"`
	} `json:"appAlb"`
}

// newSmokeChecks derives the smoke checks from the config and the ALB classes the program
// declares.
func newSmokeChecks(cfg *Config) smokeChecks {
	s := smokeChecks{Region: cfg.Region, ClusterName: cfg.namePrefix(), ServiceCIDR: cfg.Cluster.ServiceCidr, Tags: cfg.Tags}
	s.KubernetesServiceAddress, _ = netpol.ServiceAddress(cfg.Cluster.ServiceCidr)
	for _, c := range albClasses(cfg, nil) {
		if c.Name != publicALBClass {
			continue
		}
		s.AppALB.InboundCIDRs = c.InboundCIDRs
		if len(s.AppALB.InboundCIDRs) == 0 {
			s.AppALB.InboundCIDRs = []string{"0.0.0.0/0"} // an ALB without inbound-cidrs is open
		}
	}
	if cfg.Ingress.TLS() {
		s.AppALB.SSLPolicy = eks.TLSPolicy
	}
	return s
}

// awsOutputs are the AWS half's outputs.
func awsOutputs(cfg *Config, a *awsHalf) outputs {
	checks, err := json.Marshal(newSmokeChecks(cfg))
	if err != nil {
		panic(err) // plain strings and maps: cannot fail
	}
	return outputs{
		"smokeChecks":         pulumi.String(string(checks)),
		"vpcId":               a.Network.VpcID,
		"publicSubnetIds":     a.Network.PublicSubnetIDs,
		"privateSubnetIds":    a.Network.PrivateSubnetIDs,
		"availabilityZones":   a.Network.AvailabilityZones,
		"clusterName":         a.Cluster.ClusterName,
		"kubeconfig":          a.Cluster.Kubeconfig,
		"oidcProviderArn":     a.Cluster.OidcProviderArn,
		"oidcIssuer":          a.Cluster.OidcIssuer,
		"albAccessLogsBucket": a.Cluster.AccessLogsBucket,
		"repositoryUrl":       a.Image.RepositoryURL,
		"imageDigest":         a.Image.Digest,
	}
}

// workloadOutputs are the Kubernetes half's outputs. Without a domain the stack serves HTTP on
// the ALB's generated name: the mode output says so. imageRef is the image the app runs.
func workloadOutputs(cfg *Config, w *workloads, imageRef pulumi.StringInput) outputs {
	mode := "https on " + cfg.Ingress.Domain
	switch {
	case cfg.ClusterMode == modeExisting:
		mode = "local: an existing cluster, reached with kubectl port-forward or its own ingress"
	case cfg.Ingress.Domain == "":
		mode = "trial: plain HTTP on the load balancer's generated name; set domain and hostedZone for HTTPS on your own host name"
	}
	out := outputs{
		"imageRef":    imageRef,
		"appUrl":      w.App.AppURL,
		"configUrl":   w.App.ConfigURL,
		"albHostname": w.App.Hostname,
		"mode":        pulumi.String(mode),
	}
	if m := w.Monitoring; m != nil {
		if cfg.Monitoring.Logs {
			out["logsBucket"] = m.LogsBucket
		}
		out["grafanaUrl"] = m.GrafanaURL
		out["grafanaAdminUser"] = m.GrafanaAdminUser
		out["grafanaAdminPassword"] = m.GrafanaAdminPassword
	}
	return out
}
