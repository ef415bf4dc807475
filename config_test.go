package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"sigs.k8s.io/yaml"

	"github.com/example/flask-eks/vpc"
)

// validDev is a minimal valid config; cases below break one thing at a time.
func validDev() map[string]string {
	return map[string]string{
		"aws:region":            "eu-west-1",
		"flask-eks:environment": "dev",
	}
}

func TestBadConfigDeclaresNothing(t *testing.T) {
	cases := []struct {
		name  string
		set   map[string]string
		unset []string
		want  []string // fragments the one error must contain
	}{
		{"missing environment", nil, []string{"flask-eks:environment"},
			[]string{"flask-eks:environment: is not set", "accepted values: dev, staging, prod, local"}},
		{"cost assumption with a typo", map[string]string{"flask-eks:costAssumptions": `{"natGBPerMnth": 5}`}, nil,
			[]string{"flask-eks:costAssumptions", `unknown field "natGBPerMnth"`, "accepted: a map of natGBPerMonth"}},
		{"negative cost assumption", map[string]string{"flask-eks:costAssumptions": `{"albLCUs": -1}`}, nil,
			[]string{"flask-eks:costAssumptions", "albLCUs is -1", "zero or more"}},
		{"unknown instance type for the estimate", map[string]string{"flask-eks:costAssumptions": `{"instanceType": "t3.nano"}`}, nil,
			[]string{"flask-eks:costAssumptions", `"t3.nano"`, "c6a.large, m6a.large"}},
		{"unknown environment", map[string]string{"flask-eks:environment": "qa"}, nil,
			[]string{"flask-eks:environment", `"qa"`, "accepted values: dev, staging, prod, local"}},
		{"malformed CIDR", map[string]string{"flask-eks:vpcCidr": "10.0.0.0/33"}, nil,
			[]string{"flask-eks:vpcCidr", `"10.0.0.0/33"`, "is not an IPv4 CIDR", "accepted"}},
		{"CIDR too small for six subnets", map[string]string{"flask-eks:vpcCidr": "10.0.0.0/24"}, nil,
			[]string{"flask-eks:vpcCidr", `"10.0.0.0/24"`, "prefix /24", "/16 to /21"}},
		{"CIDR with host bits", map[string]string{"flask-eks:vpcCidr": "10.0.0.1/16"}, nil,
			[]string{"flask-eks:vpcCidr", `"10.0.0.1/16"`, "host bits", "10.0.0.0/16"}},
		{"public CIDR range", map[string]string{"flask-eks:vpcCidr": "8.8.0.0/16"}, nil,
			[]string{"flask-eks:vpcCidr", `"8.8.0.0/16"`, "private range"}},
		{"service range not a CIDR", map[string]string{"flask-eks:serviceCidr": "172.20.0.1/16"}, nil,
			[]string{"flask-eks:serviceCidr", `"172.20.0.1/16"`, "not an IPv4 network CIDR", "/12 to /24"}},
		{"service range too large", map[string]string{"flask-eks:serviceCidr": "10.0.0.0/11"}, nil,
			[]string{"flask-eks:serviceCidr", `"10.0.0.0/11"`, "is a /11", "from /12 to /24"}},
		{"service range too small", map[string]string{"flask-eks:serviceCidr": "10.100.0.0/25"}, nil,
			[]string{"flask-eks:serviceCidr", `"10.100.0.0/25"`, "is a /25"}},
		{"service range public", map[string]string{"flask-eks:serviceCidr": "100.64.0.0/16"}, nil,
			[]string{"flask-eks:serviceCidr", `"100.64.0.0/16"`, "not within 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16"}},
		{"service range in the VPC", map[string]string{"flask-eks:vpcCidr": "10.20.0.0/16", "flask-eks:serviceCidr": "10.20.128.0/20"}, nil,
			[]string{"flask-eks:serviceCidr", `"10.20.128.0/20"`, "overlaps vpcCidr 10.20.0.0/16", "does not overlap vpcCidr"}},
		{"AZ count 4", map[string]string{"flask-eks:azCount": "4"}, nil,
			[]string{"flask-eks:azCount", "4", "from 2 to 3"}},
		{"AZ count not a number", map[string]string{"flask-eks:azCount": "three"}, nil,
			[]string{"flask-eks:azCount", `"three"`, "not an integer"}},
		{"unknown NAT mode", map[string]string{"flask-eks:natMode": "per-subnet"}, nil,
			[]string{"flask-eks:natMode", `"per-subnet"`, "single, one-per-az"}},
		{"replicas below 1", map[string]string{"flask-eks:appReplicas": "0"}, nil,
			[]string{"flask-eks:appReplicas", "0", "from 1 to 100"}},
		{"max replicas below replicas", map[string]string{"flask-eks:appReplicas": "3", "flask-eks:appMaxReplicas": "2"}, nil,
			[]string{"flask-eks:appMaxReplicas", "2", "below appReplicas (3)"}},
		{"old Kubernetes", map[string]string{"flask-eks:kubernetesVersion": "1.29"}, nil,
			[]string{"flask-eks:kubernetesVersion", `"1.29"`, "accepted: 1.30, 1.31, 1.32, 1.33, 1.34, 1.35"}},
		{"Kubernetes patch version", map[string]string{"flask-eks:kubernetesVersion": "1.33.2"}, nil,
			[]string{"flask-eks:kubernetesVersion", `"1.33.2"`, "minor version"}},
		{"unknown log type", map[string]string{"flask-eks:clusterLogTypes": `["api","audit","authenticator","kubelet"]`}, nil,
			[]string{"flask-eks:clusterLogTypes", `"kubelet"`, "controllerManager, scheduler"}},
		{"audit logs dropped", map[string]string{"flask-eks:clusterLogTypes": `["api","authenticator"]`}, nil,
			[]string{"flask-eks:clusterLogTypes", `"audit" is missing`}},
		{"bad admin ARN", map[string]string{"flask-eks:adminPrincipalArns": `["admin"]`}, nil,
			[]string{"flask-eks:adminPrincipalArns", `"admin"`, "arn:aws:iam::<account>:role/<name>"}},
		{"prod API open to the internet", map[string]string{"flask-eks:environment": "prod"}, nil,
			[]string{"flask-eks:publicAccessCidrs", `"0.0.0.0/0"`, "prod"}},
		{"bad public access CIDR", map[string]string{"flask-eks:publicAccessCidrs": `["my-office"]`}, nil,
			[]string{"flask-eks:publicAccessCidrs", `"my-office"`, "IPv4 network CIDR"}},
		{"REVEAL_SECRETS in prod", map[string]string{"flask-eks:environment": "prod", "flask-eks:endpointPublicAccess": "false", "flask-eks:revealSecrets": "true"}, nil,
			[]string{"flask-eks:revealSecrets", "refused on a prod stack"}},
		{"REVEAL_SECRETS in dev", map[string]string{"flask-eks:revealSecrets": "true"}, nil,
			[]string{"flask-eks:revealSecrets", "refused on a dev stack", "local stack only"}},
		{"prod API open through two halves", map[string]string{"flask-eks:environment": "prod", "flask-eks:publicAccessCidrs": `["0.0.0.0/1","128.0.0.0/1"]`}, nil,
			[]string{`"0.0.0.0/1" is a /1`, `"128.0.0.0/1" is a /1`, "opens the prod API endpoint"}},
		{"prod API allow-list wider than /16", map[string]string{"flask-eks:environment": "prod", "flask-eks:publicAccessCidrs": `["52.0.0.0/8"]`}, nil,
			[]string{`"52.0.0.0/8" is a /8`, "/16 or narrower"}},
		{"prod API allow-list of documentation ranges", map[string]string{"flask-eks:environment": "prod", "flask-eks:publicAccessCidrs": `["198.51.100.0/24","203.0.113.64/27"]`}, nil,
			[]string{`"198.51.100.0/24" is an RFC 5737 documentation range`, `"203.0.113.64/27" is an RFC 5737`, "runner inside the VPC"}},
		{"private-only endpoint nothing may reach", map[string]string{"flask-eks:endpointPublicAccess": "false"}, nil,
			[]string{"flask-eks:endpointPublicAccess", "false leaves the API server reachable by nothing but the cluster's own security group", "apiAccessSecurityGroupIds or apiAccessCidrs"}},
		{"API access from inside the new VPC", map[string]string{"flask-eks:apiAccessCidrs": `["10.0.8.0/24"]`}, nil,
			[]string{"flask-eks:apiAccessCidrs", `"10.0.8.0/24" overlaps the VPC 10.0.0.0/16 that this stack creates`}},
		{"bad API access security group", map[string]string{"flask-eks:apiAccessSecurityGroupIds": `["runners"]`}, nil,
			[]string{"flask-eks:apiAccessSecurityGroupIds", `"runners" is not a security group ID`}},
		{"subnets without a VPC", map[string]string{"flask-eks:privateSubnetIds": `["subnet-0a1b2c3d4e5f60711"]`}, nil,
			[]string{"flask-eks:privateSubnetIds", "is set without vpcId"}},
		{"existing VPC, bad ID and too few subnets", map[string]string{"flask-eks:vpcId": "vpc-main", "flask-eks:azCount": "2",
			"flask-eks:privateSubnetIds": `["subnet-0a1b2c3d4e5f60711"]`, "flask-eks:publicSubnetIds": `["subnet-0a1b2c3d4e5f60714","subnet-0a1b2c3d4e5f60711"]`}, nil,
			[]string{`flask-eks:vpcId: "vpc-main" is not a VPC ID`, "flask-eks:privateSubnetIds: has 1 subnets, but azCount is 2",
				`flask-eks:publicSubnetIds: "subnet-0a1b2c3d4e5f60711" is listed twice (also in privateSubnetIds)`}},
		{"existing VPC with a NAT mode", map[string]string{"flask-eks:vpcId": "vpc-0a1b2c3d4e5f60718", "flask-eks:natMode": "single", "flask-eks:azCount": "2",
			"flask-eks:privateSubnetIds": `["subnet-0a1b2c3d4e5f60711","subnet-0a1b2c3d4e5f60712"]`, "flask-eks:publicSubnetIds": `["subnet-0a1b2c3d4e5f60714","subnet-0a1b2c3d4e5f60715"]`}, nil,
			[]string{"flask-eks:natMode: is set together with vpcId"}},
		{"duplicate admin", map[string]string{"flask-eks:adminPrincipalArns": `["arn:aws:iam::123456789012:role/admin","arn:aws:iam::123456789012:role/Admin"]`}, nil,
			[]string{"flask-eks:adminPrincipalArns", `"arn:aws:iam::123456789012:role/Admin" is listed twice`}},
		{"admin also a viewer", map[string]string{"flask-eks:adminPrincipalArns": `["arn:aws:iam::123456789012:role/ci"]`, "flask-eks:viewerPrincipalArns": `["arn:aws:iam::123456789012:role/ci"]`}, nil,
			[]string{"flask-eks:viewerPrincipalArns", "listed twice (also in adminPrincipalArns)"}},
		{"assumed-role session as admin", map[string]string{"flask-eks:adminPrincipalArns": `["arn:aws:sts::123456789012:assumed-role/admin/alice"]`}, nil,
			[]string{"flask-eks:adminPrincipalArns", "not an assumed-role session ARN"}},
		{"too many workers for the memory limit", map[string]string{"flask-eks:gunicornWorkers": "16", "flask-eks:gunicornThreads": "64"}, nil,
			[]string{"flask-eks:gunicornWorkers", "16 workers x 64 threads need about 529 MiB", "appMemory 256Mi"}},
		{"app in the default namespace", map[string]string{"flask-eks:appNamespace": "default"}, nil,
			[]string{"flask-eks:appNamespace", `"default" belongs to Kubernetes or to a platform component`}},
		{"app in kube-system", map[string]string{"flask-eks:appNamespace": "kube-system"}, nil,
			[]string{"flask-eks:appNamespace", `"kube-system"`}},
		{"app in the monitoring namespace", map[string]string{"flask-eks:appNamespace": "monitoring"}, nil,
			[]string{"flask-eks:appNamespace", `"monitoring"`}},
		{"certificate from another region", map[string]string{"flask-eks:certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0f3c2a9e-6b1d-4c7e-9a52-3e8d7b41f6a0"}, nil,
			[]string{"flask-eks:certificateArn", "is in us-east-1, but the ALBs are in aws:region eu-west-1"}},
		{"tag with a character AWS refuses", map[string]string{"flask-eks:tags": `{"Team":"platform#1"}`}, nil,
			[]string{"flask-eks:tags", `value "platform#1" of "Team"`, "outside letters, digits"}},
		{"too many tags", map[string]string{"flask-eks:tags": manyTags(41)}, nil,
			[]string{"flask-eks:tags", "has 41 tags; accepted: at most 40"}},
		{"bad log level", map[string]string{"flask-eks:logLevel": "VERBOSE"}, nil,
			[]string{"flask-eks:logLevel", `"VERBOSE"`, "DEBUG, INFO, WARNING, ERROR"}},
		{"relative API base URL", map[string]string{"flask-eks:apiBaseUrl": "api.example.com"}, nil,
			[]string{"flask-eks:apiBaseUrl", `"api.example.com"`, "http:// or https://"}},
		{"missing region", nil, []string{"aws:region"},
			[]string{"aws:region", `""`, "eu-west-1"}},
		{"reserved tag", map[string]string{"flask-eks:tags": `{"Environment":"x"}`}, nil,
			[]string{"flask-eks:tags", `"Environment"`, "set by the program"}},
		{"bad certificate ARN", map[string]string{"flask-eks:certificateArn": "arn:aws:acm:eu-west-1:123:cert"}, nil,
			[]string{"flask-eks:certificateArn", "arn:aws:acm:<region>:<account>:certificate/<uuid>"}},
		{"bad retention", map[string]string{"flask-eks:prometheusRetention": "1 week"}, nil,
			[]string{"flask-eks:prometheusRetention", `"1 week"`, "such as 7d"}},
		{"bad volume size", map[string]string{"flask-eks:prometheusStorageSize": "20GB"}, nil,
			[]string{"flask-eks:prometheusStorageSize", `"20GB"`, "such as 20Gi"}},
		{"short configured secret", map[string]string{"flask-eks:dbPassword": "hunter2"}, nil,
			[]string{"flask-eks:dbPassword", "7 characters", "at least 16"}},
		{"existing mode without context or image", map[string]string{"flask-eks:clusterMode": "existing"}, nil,
			[]string{"flask-eks:kubeContext", "flask-eks:image", "required in clusterMode existing"}},
		{"unknown cluster mode", map[string]string{"flask-eks:clusterMode": "gke"}, nil,
			[]string{"flask-eks:clusterMode", `"gke"`, "eks, existing"}},
		{"external secrets with a secret in config", map[string]string{"flask-eks:externalSecrets": "true", "flask-eks:dbPassword": "hunter2hunter2hunter2"}, nil,
			[]string{"flask-eks:dbPassword", "is set while externalSecrets is true", "pulumi config rm dbPassword", "AWS Secrets Manager"}},
		{"external secrets in existing mode", map[string]string{"flask-eks:clusterMode": "existing", "flask-eks:kubeContext": "kind-flask",
			"flask-eks:image": "flask-app:dev", "flask-eks:grafanaExposure": "none", "flask-eks:domain": "", "flask-eks:externalSecrets": "true"}, nil,
			[]string{"flask-eks:externalSecrets", "clusterMode existing", "accepted: false"}},
		{"external secrets without its principals", map[string]string{"flask-eks:externalSecrets": "true"}, nil,
			[]string{"flask-eks:deployPrincipalArn: is empty while externalSecrets is true", "flask-eks:secretsBreakGlassPrincipalArn: is empty while externalSecrets is true", "deploy role alone"}},
		{"break-glass user", map[string]string{"flask-eks:externalSecrets": "true", "flask-eks:deployPrincipalArn": "arn:aws:iam::123456789012:role/deploy",
			"flask-eks:secretsBreakGlassPrincipalArn": "arn:aws:iam::123456789012:user/alice"}, nil,
			[]string{"flask-eks:secretsBreakGlassPrincipalArn", `"arn:aws:iam::123456789012:user/alice" is not an IAM role ARN`}},
		{"break-glass session", map[string]string{"flask-eks:externalSecrets": "true", "flask-eks:deployPrincipalArn": "arn:aws:iam::123456789012:role/deploy",
			"flask-eks:secretsBreakGlassPrincipalArn": "arn:aws:sts::123456789012:assumed-role/break-glass/alice"}, nil,
			[]string{"flask-eks:secretsBreakGlassPrincipalArn", "is not an IAM role ARN"}},
		{"break-glass in another account", map[string]string{"flask-eks:externalSecrets": "true", "flask-eks:deployPrincipalArn": "arn:aws:iam::123456789012:role/deploy",
			"flask-eks:secretsBreakGlassPrincipalArn": "arn:aws:iam::210987654321:role/break-glass"}, nil,
			[]string{"flask-eks:secretsBreakGlassPrincipalArn", "is in account 210987654321, deployPrincipalArn in 123456789012"}},
		{"break-glass without external secrets", map[string]string{"flask-eks:secretsBreakGlassPrincipalArn": "arn:aws:iam::123456789012:role/break-glass"}, nil,
			[]string{"flask-eks:secretsBreakGlassPrincipalArn", "is set while externalSecrets is false"}},
		{"deploying principal a session", map[string]string{"flask-eks:deployPrincipalArn": "arn:aws:sts::123456789012:assumed-role/deploy/run-7"}, nil,
			[]string{"flask-eks:deployPrincipalArn", "not an IAM role or user ARN"}},
		{"deploying principal also an admin", map[string]string{"flask-eks:deployPrincipalArn": "arn:aws:iam::123456789012:role/deploy",
			"flask-eks:adminPrincipalArns": `["arn:aws:iam::123456789012:role/deploy"]`}, nil,
			[]string{"flask-eks:deployPrincipalArn", "is also in adminPrincipalArns", "409 ResourceInUseException"}},
		{"view-only also a viewer", map[string]string{"flask-eks:viewerPrincipalArns": `["arn:aws:iam::123456789012:role/ci"]`, "flask-eks:viewOnlyPrincipalArns": `["arn:aws:iam::123456789012:role/ci"]`}, nil,
			[]string{"flask-eks:viewOnlyPrincipalArns", "listed twice (also in viewerPrincipalArns)"}},
		{"bad view-only ARN", map[string]string{"flask-eks:viewOnlyPrincipalArns": `["preview"]`}, nil,
			[]string{"flask-eks:viewOnlyPrincipalArns", `"preview"`, "arn:aws:iam::<account>:role/<name>"}},
		{"refresh interval too short", map[string]string{"flask-eks:secretsRefreshInterval": "10s"}, nil,
			[]string{"flask-eks:secretsRefreshInterval", `"10s"`, "from 1m to 24h"}},
		{"refresh interval not a duration", map[string]string{"flask-eks:secretsRefreshInterval": "5 minutes"}, nil,
			[]string{"flask-eks:secretsRefreshInterval", `"5 minutes"`, "Go duration"}},
		{"KEDA without monitoring", map[string]string{"flask-eks:keda": "true", "flask-eks:monitoringEnabled": "false", "flask-eks:appReplicas": "2", "flask-eks:appMaxReplicas": "4"}, nil,
			[]string{"flask-eks:keda", "needs monitoringEnabled"}},
		{"KEDA with nothing to scale", map[string]string{"flask-eks:keda": "true", "flask-eks:appReplicas": "2", "flask-eks:appMaxReplicas": "2"}, nil,
			[]string{"flask-eks:keda", "appMaxReplicas 2 not above appReplicas 2"}},
		{"KEDA target of zero", map[string]string{"flask-eks:kedaTargetRequestsPerSecond": "0"}, nil,
			[]string{"flask-eks:kedaTargetRequestsPerSecond", "0", "from 1 to 100000"}},
		{"logs without monitoring", map[string]string{"flask-eks:logs": "true", "flask-eks:monitoringEnabled": "false"}, nil,
			[]string{"flask-eks:logs", "needs monitoringEnabled"}},
		{"logs in existing mode", map[string]string{"flask-eks:clusterMode": "existing", "flask-eks:kubeContext": "kind-flask",
			"flask-eks:image": "flask-app:dev", "flask-eks:grafanaExposure": "none", "flask-eks:domain": "", "flask-eks:logs": "true"}, nil,
			[]string{"flask-eks:logs", "clusterMode existing", "S3"}},
		{"log retention of zero days", map[string]string{"flask-eks:logRetentionDays": "0"}, nil,
			[]string{"flask-eks:logRetentionDays", "0", "from 1 to 3650"}},
		{"Spot in prod without the opt-in", map[string]string{"flask-eks:environment": "prod", "flask-eks:endpointPublicAccess": "false",
			"flask-eks:appCapacityTypes": `["spot","on-demand"]`}, nil,
			[]string{"flask-eks:appCapacityTypes", "includes spot in prod", "allowSpotInProd: true"}},
		{"unknown capacity type", map[string]string{"flask-eks:appCapacityTypes": `["reserved"]`}, nil,
			[]string{"flask-eks:appCapacityTypes", `"reserved"`, "accepted: spot, on-demand"}},
		{"arm64 with an amd64 image", map[string]string{"flask-eks:appArchitectures": `["amd64","arm64"]`}, nil,
			[]string{"flask-eks:appArchitectures", "includes arm64", "linux/amd64 only"}},
		{"app CPU limit below the replicas' requests", map[string]string{"flask-eks:appMaxReplicas": "30", "flask-eks:appNodesCpuLimit": "2"}, nil,
			[]string{"flask-eks:appNodesCpuLimit", "2 leaves no room for appMaxReplicas (30) pods of 100m CPU", "accepted: 3 or more"}},
		{"app memory limit below the replicas' requests", map[string]string{"flask-eks:appMaxReplicas": "10", "flask-eks:appNodesMemoryLimit": "2Gi"}, nil,
			[]string{"flask-eks:appNodesMemoryLimit", "2Gi leaves no room for appMaxReplicas (10) pods of 256Mi", "2560Mi or more"}},
		{"node lifetime over Auto Mode's 21 days", map[string]string{"flask-eks:nodeExpireAfter": "720h"}, nil,
			[]string{"flask-eks:nodeExpireAfter", `"720h"`, "1h0m0s to 504h0m0s"}},
		{"maintenance window on weekdays 1-5", map[string]string{"flask-eks:nodeMaintenanceWindow": "0 2 * * 1-5"}, nil,
			[]string{"flask-eks:nodeMaintenanceWindow", `"0 2 * * 1-5"`, `"M H * * D"`}},
		{"disruption budget not a count", map[string]string{"flask-eks:nodeDisruptionBudget": "some"}, nil,
			[]string{"flask-eks:nodeDisruptionBudget", `"some"`, "a node count or a percentage"}},
		{"tag Auto Mode reserves", map[string]string{"flask-eks:tags": `{"karpenter.sh/nodepool":"x"}`}, nil,
			[]string{"flask-eks:tags", `"karpenter.sh/nodepool"`, "reserved by Auto Mode"}},
		{"root volume IOPS out of range", map[string]string{"flask-eks:nodeVolumeIops": "20000"}, nil,
			[]string{"flask-eks:nodeVolumeIops", "20000", "from 3000 to 16000"}},
		{"unknown network policy default", map[string]string{"flask-eks:networkPolicyDefault": "Deny"}, nil,
			[]string{"flask-eks:networkPolicyDefault", `"Deny"`, "DefaultAllow, DefaultDeny"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := validDev()
			maps.Copy(cfg, c.set)
			for _, k := range c.unset {
				delete(cfg, k)
			}
			assertRefused(t, cfg, secretConfigKeys, c.want)
		})
	}
}

// A secret set without --secret sits in plain text in the stack file: refused, without echoing it.
func TestPlainTextSecretRefused(t *testing.T) {
	cfg := validDev()
	cfg["flask-eks:secretKey"] = "plain-text-secret-0123456789"
	assertRefused(t, cfg, nil, []string{"flask-eks:secretKey", "stored in plain text", "pulumi config set --secret secretKey"})
}

// assertRefused runs the program on cfg (secretKeys marked secret) and checks that it fails
// with the one config error, containing every fragment of want, before declaring anything,
// and without echoing a secret.
func assertRefused(t *testing.T, cfg map[string]string, secretKeys []string, want []string) {
	t.Helper()
	rec, err := runProgramSecrets(t, "dev", cfg, secretKeys)
	if err == nil {
		t.Fatal("program accepted bad config")
	}
	msg := err.Error()
	if !strings.Contains(msg, "invalid stack config") {
		t.Errorf("error is not the config error: %v", msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error does not contain %q:\n%s", w, msg)
		}
	}
	if n := len(rec.Graph()); n != 0 {
		t.Errorf("%d resources were registered before the config error, want 0", n)
	}
	for _, secret := range []string{"hunter2", "plain-text-secret-0123456789"} {
		if strings.Contains(msg, secret) {
			t.Error("error message leaks the secret value")
		}
	}
}

// manyTags returns a tags object with n keys.
func manyTags(n int) string {
	tags := map[string]string{}
	for i := range n {
		tags[fmt.Sprintf("Tag%02d", i)] = "x"
	}
	b, _ := json.Marshal(tags)
	return string(b)
}

// TestConfigErrorListsEveryProblem checks that several mistakes come back in one error.
func TestConfigErrorListsEveryProblem(t *testing.T) {
	cfg := validDev()
	cfg["flask-eks:azCount"] = "5"
	cfg["flask-eks:natMode"] = "none"
	_, err := readConfig("flask-eks", "dev", mapConfig{values: cfg}, testToday())
	if err == nil || !strings.Contains(err.Error(), "azCount") || !strings.Contains(err.Error(), "natMode") {
		t.Fatalf("want one error naming azCount and natMode, got %v", err)
	}
}

func TestDefaultsComeFromPulumiYAML(t *testing.T) {
	cfg, err := readConfig("flask-eks", "dev", mapConfig{values: validDev()}, testToday())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Network.VpcCidr != "10.0.0.0/16" || cfg.Network.AzCount != 3 || cfg.Network.NatMode != vpc.NatSingle {
		t.Errorf("network defaults = %+v", cfg.Network)
	}
	if !slices.Equal(cfg.Cluster.LogTypes, []string{"api", "audit", "authenticator"}) {
		t.Errorf("log type defaults = %v", cfg.Cluster.LogTypes)
	}
	if cfg.App.Replicas != 2 || cfg.App.LogLevel != "INFO" || !cfg.Monitoring.Enabled {
		t.Errorf("app/monitoring defaults = %+v %+v", cfg.App, cfg.Monitoring)
	}
	if cfg.App.SecretKey.IsSet() || cfg.App.DBPassword.IsSet() {
		t.Error("secrets must default to unset (generated)")
	}
	want := map[string]string{"Project": "flask-eks", "Environment": "dev", "Stack": "dev", "ManagedBy": "pulumi"}
	if !reflect.DeepEqual(cfg.Tags, want) {
		t.Errorf("tags = %v, want %v", cfg.Tags, want)
	}
}

// TestSecretValuesNeverPrint guards against a secret reaching logs through fmt.
func TestSecretValuesNeverPrint(t *testing.T) {
	s := secretValue{value: "s3cr3t-value-123456", set: true}
	cfg := Config{App: AppConfig{SecretKey: s}}
	for _, out := range []string{fmt.Sprint(s), fmt.Sprint(cfg), fmt.Sprintf("%#v", cfg)} {
		if strings.Contains(out, "s3cr3t") {
			t.Errorf("secret printed: %s", out)
		}
	}
}

// TestProjectFileIsValid loads Pulumi.yaml and every stack file the way the CLI does and
// checks that each stack value has the type the project schema declares.
func TestProjectFileIsValid(t *testing.T) {
	proj, err := workspace.LoadProject("Pulumi.yaml")
	if err != nil {
		t.Fatalf("Pulumi.yaml: %v", err)
	}
	for key, typ := range proj.Config {
		if typ.Description == "" || typ.TypeName() == "" {
			t.Errorf("%s needs a type and a description", key)
		}
	}
	for _, stack := range stacks {
		ps, err := workspace.LoadProjectStack(diag.DefaultSink(io.Discard, io.Discard, diag.FormatOptions{Color: colors.Never}), proj, "Pulumi."+stack+".yaml")
		if err != nil {
			t.Fatalf("Pulumi.%s.yaml: %v", stack, err)
		}
		for k, v := range ps.Config {
			full := k.Namespace() + ":" + k.Name()
			typ, declared := proj.Config[full]
			if k.Namespace() != "flask-eks" {
				continue
			}
			if !declared {
				t.Errorf("Pulumi.%s.yaml sets %s, which Pulumi.yaml does not declare", stack, full)
				continue
			}
			obj, err := v.ToObject()
			if err != nil {
				t.Fatal(err)
			}
			if !workspace.ValidateConfigValue(typ.TypeName(), typ.Items, obj) {
				t.Errorf("Pulumi.%s.yaml: %s = %v is not a %s", stack, full, obj, typ.TypeName())
			}
		}
	}
}

// TestConfigurationReference keeps docs/configuration.md equal to what configReference renders
// from Pulumi.yaml, the one source of keys, types, defaults and descriptions. Run
// `go test -run TestConfigurationReference -update .` after changing the schema.
func TestConfigurationReference(t *testing.T) {
	want, err := configReference()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "docs/configuration.md", want, "TestConfigurationReference")
}

// TestKubernetesVersionCalendar checks the version rules against the EKS calendar on fixed days.
func TestKubernetesVersionCalendar(t *testing.T) {
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	cases := []struct {
		env, version, today string
		wantErr, wantWarn   string
	}{
		{"prod", "1.34", "2026-12-02", "", ""},
		{"prod", "1.34", "2026-12-03", "left EKS standard support on 2026-12-02", ""},
		{"dev", "1.34", "2026-12-03", "", "left EKS standard support on 2026-12-02"},
		{"dev", "1.31", "2026-11-27", "left EKS extended support on 2026-11-26", ""},
		{"dev", "1.36", "2026-11-29", "not a Kubernetes minor version this program supports", ""},
	}
	for _, c := range cases {
		t.Run(c.env+"-"+c.version+"-"+c.today, func(t *testing.T) {
			values := validDev()
			values["flask-eks:environment"] = c.env
			values["flask-eks:kubernetesVersion"] = c.version
			maps.Copy(values, privateEndpoint())
			values["flask-eks:domain"], values["flask-eks:hostedZone"] = "app.example.com", "example.com"
			maps.Copy(values, allAddons())
			cfg, err := readConfig("flask-eks", c.env, mapConfig{values: values}, day(c.today))
			switch {
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, c.wantErr)
			case c.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.wantErr == "" && c.wantWarn != "" && (len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], c.wantWarn)):
				t.Errorf("warnings %v, want one containing %q", cfg.Warnings, c.wantWarn)
			case c.wantErr == "" && c.wantWarn == "" && len(cfg.Warnings) != 0:
				t.Errorf("unexpected warnings %v", cfg.Warnings)
			}
		})
	}
}

// privateEndpoint is prod's way to a private-only endpoint: a network stack's VPC, whose runners'
// security group may reach the API.
func privateEndpoint() map[string]string {
	return map[string]string{
		"flask-eks:endpointPublicAccess":      "false",
		"flask-eks:vpcId":                     "vpc-0a1b2c3d4e5f60718",
		"flask-eks:privateSubnetIds":          `["subnet-0a1b2c3d4e5f60711","subnet-0a1b2c3d4e5f60712","subnet-0a1b2c3d4e5f60713"]`,
		"flask-eks:publicSubnetIds":           `["subnet-0a1b2c3d4e5f60714","subnet-0a1b2c3d4e5f60715","subnet-0a1b2c3d4e5f60716"]`,
		"flask-eks:apiAccessSecurityGroupIds": `["sg-0a1b2c3d4e5f60718"]`,
	}
}

// allAddons turns on the three platform add-ons, as prod does, with the principals that
// External Secrets' key policy names.
func allAddons() map[string]string {
	return map[string]string{
		"flask-eks:externalSecrets": "true", "flask-eks:logs": "true", "flask-eks:keda": "true",
		"flask-eks:appReplicas": "2", "flask-eks:appMaxReplicas": "4",
		"flask-eks:deployPrincipalArn":            "arn:aws:iam::123456789012:role/deploy",
		"flask-eks:secretsBreakGlassPrincipalArn": "arn:aws:iam::123456789012:role/break-glass",
	}
}

// TestProdAddonsOff: prod may turn an add-on off, but says so, naming the key.
func TestProdAddonsOff(t *testing.T) {
	values := validDev()
	values["flask-eks:environment"] = "prod"
	maps.Copy(values, privateEndpoint())
	values["flask-eks:domain"], values["flask-eks:hostedZone"] = "app.example.com", "example.com"
	maps.Copy(values, allAddons())
	values["flask-eks:keda"] = "false"
	cfg, err := readConfig("flask-eks", "prod", mapConfig{values: values}, time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 1 || !strings.HasPrefix(cfg.Warnings[0], "keda is off on a prod stack") {
		t.Errorf("warnings %q, want one naming keda", cfg.Warnings)
	}
	values["flask-eks:keda"] = "true"
	if cfg, err = readConfig("flask-eks", "prod", mapConfig{values: values}, time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("all add-ons on: warnings %q; want none", cfg.Warnings)
	}
}

// TestBuiltInNodePoolsExplained: off by default; on is accepted, with a warning that says what
// the built-in pools cost and when they make sense.
func TestBuiltInNodePoolsExplained(t *testing.T) {
	values := validDev()
	off, err := readConfig("flask-eks", "dev", mapConfig{values: values}, testToday())
	if err != nil {
		t.Fatal(err)
	}
	if off.Nodes.BuiltInPools {
		t.Error("builtInNodePools defaults to true")
	}
	values["flask-eks:builtInNodePools"] = "true"
	on, err := readConfig("flask-eks", "dev", mapConfig{values: values}, testToday())
	if err != nil {
		t.Fatal(err)
	}
	added := slices.DeleteFunc(slices.Clone(on.Warnings), func(w string) bool { return slices.Contains(off.Warnings, w) })
	if !on.Nodes.BuiltInPools || len(added) != 1 {
		t.Fatalf("on: %v, warnings added %q; want one", on.Nodes.BuiltInPools, added)
	}
	for _, want := range []string{"builtInNodePools is true", "built-in NodeClass", "none of the stack's tags", "node role", "without a placement"} {
		if !strings.Contains(added[0], want) {
			t.Errorf("warning %q does not say %q", added[0], want)
		}
	}
}

// TestStackNameLength: a stack name that makes bucket and role names too long is refused.
func TestStackNameLength(t *testing.T) {
	_, err := readConfig("flask-eks", "a-stack-name-that-is-far-too-long", mapConfig{values: validDev()}, testToday())
	if err == nil || !strings.Contains(err.Error(), `"flask-eks-a-stack-name-that-is-far-too-long" is 43 characters`) {
		t.Errorf("error %v, want the stack name refused", err)
	}
}

// TestDefaultKubernetesVersionInStandardSupport fails once the default in Pulumi.yaml leaves EKS
// standard support: bump it (and the stacks) then, as the calendar in config.go says.
func TestDefaultKubernetesVersionInStandardSupport(t *testing.T) {
	_, schema, err := projectSchema()
	if err != nil {
		t.Fatal(err)
	}
	def := schema["flask-eks:kubernetesVersion"].Default
	if !slices.Contains(strings.Split(supportedMinors(testToday()), ", "), fmt.Sprint(def)) {
		t.Errorf("the default kubernetesVersion %v is not in EKS standard support today (in support: %s)", def, supportedMinors(testToday()))
	}
}

// TestAppCPURequestIsTheChartDefault: the CPU request the node limits are checked against is
// the one the app's chart sets (the program leaves it at the chart's default).
func TestAppCPURequestIsTheChartDefault(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("app", "chart", "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Resources struct {
			Requests struct{ CPU string }
		}
	}
	if err := yaml.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if v.Resources.Requests.CPU != appCPURequest {
		t.Errorf("the chart requests %q CPU, the node limits are checked against %q", v.Resources.Requests.CPU, appCPURequest)
	}
}
