package workflowcheck

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// verifyFixture is what AWS answers, per command, for a deployed dev stack that matches its
// config; each case changes one answer.
func verifyFixture() map[string]any {
	tags := []map[string]string{
		{"Key": "Project", "Value": "flask-eks"}, {"Key": "Environment", "Value": "dev"},
		{"Key": "Stack", "Value": "dev"}, {"Key": "ManagedBy", "Value": "pulumi"},
		{"Key": "CostCenter", "Value": "platform-dev"}, {"Key": "eks:eks-cluster-name", "Value": "flask-eks-dev"},
	}
	return map[string]any{
		"elbv2 describe-load-balancers": map[string]any{"LoadBalancers": []any{
			map[string]any{"DNSName": "k8s-other-0.eu-west-1.elb.amazonaws.com", "LoadBalancerArn": "arn:other", "SecurityGroups": []string{"sg-other"}},
			map[string]any{"DNSName": "k8s-flaskeksdev-1.eu-west-1.elb.amazonaws.com", "LoadBalancerArn": "arn:alb", "SecurityGroups": []string{"sg-front", "sg-back"}},
		}},
		"elbv2 describe-listeners": map[string]any{"Listeners": []any{
			map[string]any{"Port": 80, "Protocol": "HTTP"},
			map[string]any{"Port": 443, "Protocol": "HTTPS", "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"},
		}},
		"ec2 describe-security-groups": map[string]any{"SecurityGroups": []any{
			map[string]any{"GroupId": "sg-front", "IpPermissions": []any{
				map[string]any{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": []any{map[string]string{"CidrIp": "0.0.0.0/0"}}},
				map[string]any{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": []any{map[string]string{"CidrIp": "0.0.0.0/0"}}},
			}},
			map[string]any{"GroupId": "sg-back", "IpPermissions": []any{}},
		}},
		"elbv2 describe-tags": map[string]any{"TagDescriptions": []any{map[string]any{"ResourceArn": "arn:alb", "Tags": tags}}},
		"ec2 describe-instances": map[string]any{"Reservations": []any{map[string]any{"Instances": []any{
			map[string]any{"InstanceId": "i-0abc", "Tags": tags},
		}}}},
		"ec2 describe-volumes": map[string]any{"Volumes": []any{map[string]any{"VolumeId": "vol-0abc", "Tags": tags}}},
		"eks describe-cluster": map[string]any{"cluster": map[string]any{"name": "flask-eks-dev",
			"kubernetesNetworkConfig": map[string]any{"serviceIpv4Cidr": "172.20.0.0/16"}}},
	}
}

// smokeChecks is the dev stack's smokeChecks output (outputs.go).
const smokeChecks = `{"region":"eu-west-1","clusterName":"flask-eks-dev","serviceCidr":"172.20.0.0/16","kubernetesServiceAddress":"172.20.0.1",` +
	`"tags":{"CostCenter":"platform-dev","Environment":"dev","ManagedBy":"pulumi","Project":"flask-eks","Stack":"dev"},` +
	`"appAlb":{"sslPolicy":"ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09","inboundCidrs":["0.0.0.0/0"]}}`

// TestVerifyAWS runs .github/verify-aws for real against stand-ins for the AWS and Pulumi CLIs
// that answer as AWS would: a stack as configured passes, and each way AWS can differ from the
// stack's config fails, naming the difference.
func TestVerifyAWS(t *testing.T) {
	needTools(t, "bash", "jq")
	cases := []struct {
		name   string
		change func(f map[string]any)
		want   string // "" passes; otherwise a fragment of the failure
	}{
		{"as configured", func(map[string]any) {}, ""},
		{"a weaker TLS policy", func(f map[string]any) {
			f["elbv2 describe-listeners"].(map[string]any)["Listeners"].([]any)[1].(map[string]any)["SslPolicy"] = "ELBSecurityPolicy-2016-08"
		}, "uses policy 'ELBSecurityPolicy-2016-08', want ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"},
		{"an extra network on the listener", func(f map[string]any) {
			perms := f["ec2 describe-security-groups"].(map[string]any)["SecurityGroups"].([]any)[1].(map[string]any)
			perms["IpPermissions"] = []any{map[string]any{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": []any{map[string]string{"CidrIp": "10.0.0.0/8"}}}}
		}, "admit 0.0.0.0/0,10.0.0.0/8 on its listener ports, want 0.0.0.0/0"},
		{"a node without the stack's tags", func(f map[string]any) {
			f["ec2 describe-instances"] = map[string]any{"Reservations": []any{map[string]any{"Instances": []any{
				map[string]any{"InstanceId": "i-0abc", "Tags": []any{map[string]string{"Key": "eks:eks-cluster-name", "Value": "flask-eks-dev"}}},
			}}}}
		}, "node i-0abc lacks the stack's tags CostCenter=platform-dev Environment=dev ManagedBy=pulumi Project=flask-eks Stack=dev"},
		{"a volume with another cost center", func(f map[string]any) {
			f["ec2 describe-volumes"] = map[string]any{"Volumes": []any{map[string]any{"VolumeId": "vol-0abc", "Tags": []any{
				map[string]string{"Key": "Project", "Value": "flask-eks"}, map[string]string{"Key": "Environment", "Value": "dev"},
				map[string]string{"Key": "Stack", "Value": "dev"}, map[string]string{"Key": "ManagedBy", "Value": "pulumi"},
				map[string]string{"Key": "CostCenter", "Value": "shared"},
			}}}}
		}, "volume vol-0abc lacks the stack's tags CostCenter=platform-dev"},
		{"the ALB does not exist", func(f map[string]any) {
			f["elbv2 describe-load-balancers"] = map[string]any{"LoadBalancers": []any{}}
		}, "no load balancer is named k8s-flaskeksdev-1.eu-west-1.elb.amazonaws.com"},
		{"EKS picked its own service range", func(f map[string]any) {
			f["eks describe-cluster"] = map[string]any{"cluster": map[string]any{"kubernetesNetworkConfig": map[string]any{"serviceIpv4Cidr": "10.100.0.0/16"}}}
		}, "the service range '10.100.0.0/16', want 172.20.0.0/16 (the kubernetes Service at 172.20.0.1)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			f := verifyFixture()
			c.change(f)
			for cmd, answer := range f {
				b, _ := json.Marshal(answer)
				if err := os.WriteFile(filepath.Join(dir, strings.ReplaceAll(cmd, " ", "_")+".json"), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			stub(t, dir, "aws", `[ "$1 $2 $3 $4" = "--region eu-west-1 --output json" ] || { echo "unexpected: aws $*" >&2; exit 3; }
shift 4
cat "`+dir+`/$1_$2.json"
`)
			stub(t, dir, "pulumi", `case "$*" in
"stack output smokeChecks --stack dev") printf '%s\n' '`+smokeChecks+`' ;;
"stack output albHostname --stack dev") echo k8s-flaskeksdev-1.eu-west-1.elb.amazonaws.com ;;
*) echo "unexpected: pulumi $*" >&2; exit 3 ;;
esac
`)
			out, errOut, code := run(t, dir, nil, "verify-aws", "dev")
			switch {
			case c.want == "" && code != 0:
				t.Errorf("exit %d, want 0\nstdout: %s\nstderr: %s", code, out, errOut)
			case c.want != "" && (code != 1 || !strings.Contains(errOut, c.want)):
				t.Errorf("exit %d, want 1 with %q\nstdout: %s\nstderr: %s", code, c.want, out, errOut)
			}
		})
	}
	if _, _, code := run(t, t.TempDir(), nil, "verify-aws"); code != 2 {
		t.Errorf("no stack: exit %d, want 2", code)
	}
}
