//go:build integration

package kubetest

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// InlineStack creates stack name of the inline program in workDir with the built Pulumi CLI and
// kubernetes plugin (ToolPaths), a file backend of its own and a passphrase: nothing of the
// caller's Pulumi setup leaks in. Only under the integration tag, so the unit tests that use
// this package do not compile the Automation API.
func InlineStack(ctx context.Context, t *testing.T, workDir, name string, program pulumi.RunFunc) auto.Stack {
	t.Helper()
	tp := ToolPaths(t)
	cmd, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{
		// Root is the directory above bin/pulumi.
		Root: filepath.Dir(tp.PulumiCLIDir), SkipVersionCheck: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	backend := "file://" + t.TempDir()
	stack, err := auto.UpsertStackInlineSource(ctx, name, "flask-eks", program,
		auto.Pulumi(cmd),
		auto.WorkDir(workDir),
		auto.EnvVars(map[string]string{
			"PULUMI_HOME":                                 tp.PulumiHome,
			"PULUMI_CONFIG_PASSPHRASE":                    "integration-test-passphrase",
			"PULUMI_BACKEND_URL":                          backend,
			"PULUMI_SKIP_UPDATE_CHECK":                    "true",
			"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
			"PULUMI_IGNORE_AMBIENT_PLUGINS":               "true",
			"PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK":    "true",
		}),
		auto.SecretsProvider("passphrase"),
		auto.Project(workspace.Project{
			Name:    "flask-eks",
			Runtime: workspace.NewProjectRuntimeInfo("go", nil),
			Backend: &workspace.ProjectBackend{URL: backend},
		}),
	)
	if err != nil {
		t.Fatalf("creating the stack: %v", err)
	}
	return stack
}

// Log is a writer for Pulumi's progress output (optup.ProgressStreams and the like) that sends
// it to the test log line by line, each under prefix.
func Log(t *testing.T, prefix string) io.Writer { return testLog{t, prefix} }

type testLog struct {
	t      *testing.T
	prefix string
}

func (w testLog) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		if strings.TrimSpace(line) != "" {
			w.t.Logf("%s | %s", w.prefix, line)
		}
	}
	return len(p), nil
}
