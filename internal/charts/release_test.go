package charts

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/internal/pulumitest"
)

// The inputs a Release sends are the provider's property names with exactly the values given,
// plus compat "true" as every pulumi-kubernetes SDK sends it, and nothing for an unset field. The
// graph snapshots (testdata/*.graph.json, recorded with the SDK's helm/v3 Release) hold the same
// inputs for the program's two releases.
func TestReleaseInputs(t *testing.T) {
	for _, tc := range []struct {
		name string
		args func(ns pulumi.StringOutput) *ReleaseArgs
		want map[string]any
	}{{
		name: "local chart",
		args: func(ns pulumi.StringOutput) *ReleaseArgs {
			return &ReleaseArgs{
				Name: pulumi.String("web"), Chart: pulumi.String("./chart"), Namespace: ns,
				Values: pulumi.Map{"replicas": pulumi.Int(2), "image": pulumi.Map{"tag": pulumi.String("v1")}},
				Atomic: pulumi.Bool(false), CleanupOnFail: pulumi.Bool(true), SkipAwait: pulumi.Bool(true),
				Timeout: pulumi.Int(600), MaxHistory: pulumi.Int(10),
			}
		},
		want: map[string]any{
			"name": "web", "chart": "./chart", "namespace": "apps", "compat": "true",
			"values": map[string]any{"replicas": 2.0, "image": map[string]any{"tag": "v1"}},
			"atomic": false, "cleanupOnFail": true, "skipAwait": true, "timeout": 600.0, "maxHistory": 10.0,
		},
	}, {
		name: "chart from a repository, only some fields set",
		args: func(ns pulumi.StringOutput) *ReleaseArgs {
			return &ReleaseArgs{
				Chart: pulumi.String("kube-prometheus-stack"), Version: pulumi.String("1.2.3"),
				Repo: pulumi.String("https://charts.example.org"), Namespace: ns,
			}
		},
		want: map[string]any{
			"chart": "kube-prometheus-stack", "version": "1.2.3", "namespace": "apps", "compat": "true",
			"repositoryOpts": map[string]any{"repo": "https://charts.example.org"},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			m := pulumitest.New("charts", "test")
			var name, namespace *pulumitest.Value
			err := pulumitest.Run(t, m, nil, nil, func(ctx *pulumi.Context) error {
				ns := pulumi.String("apps").ToStringOutput()
				r, err := NewRelease(ctx, "rel", tc.args(ns))
				if err != nil {
					return err
				}
				name, namespace = pulumitest.Capture(r.StatusName()), pulumitest.Capture(r.StatusNamespace())
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			got := pulumitest.Plain(m.One(t, ReleaseType, "rel").Raw)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("inputs\n got %v\nwant %v", got, tc.want)
			}
			// The mock reports a status as the provider does: the release's name (or "" when
			// the provider would generate one) and namespace.
			if got, want := namespace.String(t), "apps"; got != want {
				t.Errorf("StatusNamespace = %q, want %q", got, want)
			}
			wantName, _ := tc.want["name"].(string)
			if got := name.String(t); got != wantName {
				t.Errorf("StatusName = %q, want %q", got, wantName)
			}
		})
	}
}

func TestReleaseNeedsAChart(t *testing.T) {
	m := pulumitest.New("charts", "test")
	err := pulumitest.Run(t, m, nil, nil, func(ctx *pulumi.Context) error {
		_, err := NewRelease(ctx, "rel", &ReleaseArgs{Name: pulumi.String("web")})
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "Chart is required") {
		t.Errorf("err = %v, want one saying Chart is required", err)
	}
	if n := len(m.ByType(ReleaseType)); n != 0 {
		t.Errorf("%d releases registered, want none", n)
	}
}
