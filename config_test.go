package main

import (
	"fmt"
	"io"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

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
		{"old Kubernetes", map[string]string{"flask-eks:kubernetesVersion": "1.27"}, nil,
			[]string{"flask-eks:kubernetesVersion", `"1.27"`, "1.29 or newer"}},
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
		{"REVEAL_SECRETS in prod", map[string]string{"flask-eks:environment": "prod", "flask-eks:publicAccessCidrs": `["198.51.100.0/24"]`, "flask-eks:revealSecrets": "true"}, nil,
			[]string{"flask-eks:revealSecrets", "refused in prod"}},
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
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := validDev()
			maps.Copy(cfg, c.set)
			for _, k := range c.unset {
				delete(cfg, k)
			}
			rec, err := runProgram(t, "dev", cfg)
			if err == nil {
				t.Fatal("program accepted bad config")
			}
			msg := err.Error()
			if !strings.Contains(msg, "invalid stack config") {
				t.Errorf("error is not the config error: %v", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not contain %q:\n%s", w, msg)
				}
			}
			if n := len(rec.graph()); n != 0 {
				t.Errorf("%d resources were registered before the config error, want 0", n)
			}
			if strings.Contains(msg, "hunter2") {
				t.Error("error message leaks the secret value")
			}
		})
	}
}

// TestConfigErrorListsEveryProblem checks that several mistakes come back in one error.
func TestConfigErrorListsEveryProblem(t *testing.T) {
	cfg := validDev()
	cfg["flask-eks:azCount"] = "5"
	cfg["flask-eks:natMode"] = "none"
	_, err := readConfig("flask-eks", "dev", func(k string) (string, bool) { v, ok := cfg[k]; return v, ok })
	if err == nil || !strings.Contains(err.Error(), "azCount") || !strings.Contains(err.Error(), "natMode") {
		t.Fatalf("want one error naming azCount and natMode, got %v", err)
	}
}

func TestDefaultsComeFromPulumiYAML(t *testing.T) {
	cfg, err := readConfig("flask-eks", "dev", func(k string) (string, bool) { v, ok := validDev()[k]; return v, ok })
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

// TestREADMEDocumentsEveryKey keeps the README's config reference in step with Pulumi.yaml.
func TestREADMEDocumentsEveryKey(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, schema, err := projectSchema()
	if err != nil {
		t.Fatal(err)
	}
	for key := range schema {
		short := strings.TrimPrefix(key, "flask-eks:")
		if !strings.Contains(string(readme), "`"+short+"`") {
			t.Errorf("README.md does not document config key `%s`", short)
		}
	}
}
