//go:build unix

package kubetest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Names of the tools that ToolPaths can be asked for; they are also .ci/build-tools' names.
const (
	ToolEtcd             = "etcd"
	ToolKubeAPIServer    = "kube-apiserver"
	ToolPulumi           = "pulumi"
	ToolPulumiKubernetes = "pulumi-kubernetes"
	ToolReloader         = "reloader"
)

// Tools holds the paths of the binaries that .ci/build-tools builds. Only the fields of the
// tools asked for are guaranteed to be set.
type Tools struct {
	Etcd          string // ETCD: the etcd binary
	KubeAPIServer string // KUBE_APISERVER: the kube-apiserver binary
	// PulumiCLIDir (PULUMI_CLI_DIR) is the directory holding the `pulumi` binary; the
	// Automation API's auto.PulumiCommandOptions.Root is the directory above it.
	PulumiCLIDir string
	// PulumiHome (PULUMI_HOME) is the isolated Pulumi home in which the kubernetes provider
	// plugin is installed, as version PulumiKubernetesPluginVersion.
	PulumiHome                    string
	PulumiKubernetesPluginVersion string
	Reloader                      string // RELOADER: Stakater Reloader (.ci/tools/reloader)
}

// PulumiCLI returns the path of the `pulumi` binary.
func (tp Tools) PulumiCLI() string { return filepath.Join(tp.PulumiCLIDir, "pulumi") }

// toolVars are the variables .ci/build-tools --print-env sets for each tool.
var toolVars = map[string][]string{
	ToolEtcd:             {"ETCD"},
	ToolKubeAPIServer:    {"KUBE_APISERVER"},
	ToolPulumi:           {"PULUMI_CLI_DIR"},
	ToolPulumiKubernetes: {"PULUMI_HOME", "PULUMI_KUBERNETES_PLUGIN_VERSION"},
	ToolReloader:         {"RELOADER"},
}

// ToolPaths returns the paths of the wanted tools (the control plane's and Pulumi's four when
// want is empty). It takes each
// from its environment variable, as set by `eval "$(.ci/build-tools --print-env)"`, and asks
// `.ci/build-tools --print-env --no-build` (found at the repository root, see [RepoRoot]) for
// the rest, which only reports the cache and never compiles. A wanted tool that is not built
// fails the test, telling how to build it: missing tools are an error, not a reason to skip.
func ToolPaths(t testing.TB, want ...string) Tools {
	t.Helper()
	if len(want) == 0 {
		want = []string{ToolEtcd, ToolKubeAPIServer, ToolPulumi, ToolPulumiKubernetes}
	}
	env := map[string]string{}
	var unset []string
	for _, tool := range want {
		names, ok := toolVars[tool]
		if !ok {
			t.Fatalf("kubetest.ToolPaths: unknown tool %q", tool)
		}
		for _, name := range names {
			if v := os.Getenv(name); v != "" {
				env[name] = v
			} else if len(unset) == 0 || unset[len(unset)-1] != tool {
				unset = append(unset, tool)
			}
		}
	}
	if len(unset) > 0 {
		for name, v := range buildToolsEnv(t, unset) {
			if _, set := env[name]; !set {
				env[name] = v
			}
		}
	}

	tp := Tools{
		Etcd:                          env["ETCD"],
		KubeAPIServer:                 env["KUBE_APISERVER"],
		PulumiCLIDir:                  env["PULUMI_CLI_DIR"],
		PulumiHome:                    env["PULUMI_HOME"],
		PulumiKubernetesPluginVersion: env["PULUMI_KUBERNETES_PLUGIN_VERSION"],
		Reloader:                      env["RELOADER"],
	}
	for _, tool := range want {
		var err error
		switch tool {
		case ToolEtcd:
			err = checkExecutable(tp.Etcd)
		case ToolKubeAPIServer:
			err = checkExecutable(tp.KubeAPIServer)
		case ToolPulumi:
			err = checkExecutable(tp.PulumiCLI())
		case ToolPulumiKubernetes:
			err = checkExecutable(filepath.Join(tp.PulumiHome, "plugins",
				"resource-kubernetes-v"+tp.PulumiKubernetesPluginVersion, "pulumi-resource-kubernetes"))
		case ToolReloader:
			err = checkExecutable(tp.Reloader)
		}
		if err != nil {
			t.Fatalf("tool %s is not usable (%v); build it with `.ci/build-tools %s` and "+
				"`eval \"$(.ci/build-tools --print-env)\"`", tool, err, tool)
		}
	}
	return tp
}

// RepoRoot returns the repository root: the nearest directory at or above the working
// directory (the package directory under `go test`) that holds a go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("kubetest.RepoRoot: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("kubetest.RepoRoot: no go.mod at or above the working directory")
		}
		dir = parent
	}
}

// buildToolsEnv runs `.ci/build-tools --print-env --no-build TOOLS...` through bash and
// returns the variables it exports.
func buildToolsEnv(t testing.TB, toolNames []string) map[string]string {
	t.Helper()
	script := filepath.Join(RepoRoot(t), ".ci", "build-tools")
	// The script's status lines go to stderr; eval its exports and print them NUL-separated
	// so that any path survives.
	var vars []string
	for _, tool := range toolNames {
		vars = append(vars, toolVars[tool]...)
	}
	names := strings.Join(vars, " ")
	args := append([]string{"-c",
		`set -euo pipefail; exports=$("$0" --print-env --no-build "$@"); eval "$exports"; ` +
			`for n in ` + names + `; do printf '%s=%s\0' "$n" "${!n:-}"; done`,
		script}, toolNames...)
	cmd := exec.Command("bash", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tools %v are not built (%v):\n%s\nbuild them with `.ci/build-tools %s` "+
			"(cold: minutes to tens of minutes on 2 cores)", toolNames, err, stderr.String(),
			strings.Join(toolNames, " "))
	}
	env := map[string]string{}
	for _, kv := range strings.Split(string(out), "\x00") {
		if name, v, ok := strings.Cut(kv, "="); ok && v != "" {
			env[name] = v
		}
	}
	return env
}

func checkExecutable(path string) error {
	if path == "" || !filepath.IsAbs(path) {
		return fmt.Errorf("path %q is not absolute", path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	return nil
}
