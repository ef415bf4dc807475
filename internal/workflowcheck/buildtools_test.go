package workflowcheck

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// .ci/build-tools' release downloads (FLASK_EKS_TOOLS_DOWNLOAD=1), run for real against fixture
// releases served from file:// (FLASK_EKS_RELEASES_URL), with a `go` stand-in that logs its
// arguments and fails: a line from it in the log is the fallback to the source build.

// goModVersion returns the version that the go.mod file requires of module.
func goModVersion(t *testing.T, file, module string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, file))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*(?:require\s+)?` + regexp.QuoteMeta(module) + `\s+(v\S+)`).FindSubmatch(data)
	if m == nil {
		t.Fatalf("%s does not require %s", file, module)
	}
	return string(m[1])
}

// fakePulumi installs a plugin as the real CLI does: `pulumi plugin install resource NAME
// VERSION --file BIN ...` copies BIN into $PULUMI_HOME/plugins/resource-NAME-vVERSION/.
const fakePulumi = `if [ "$1 $2 $6" = "plugin install --file" ]; then
	mkdir -p "$PULUMI_HOME/plugins/$3-$4-v$5" && cp "$7" "$PULUMI_HOME/plugins/$3-$4-v$5/"
fi
`

// tarGz returns a .tar.gz holding an executable shell script (logging its name and arguments
// to $STUB_LOG; the one named pulumi also runs fakePulumi) at each of members.
func tarGz(t *testing.T, members ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := gzip.NewWriter(&buf)
	w := tar.NewWriter(z)
	for _, m := range members {
		body := fmt.Sprintf("#!/bin/sh\nprintf '%%s\\n' \"%s $*\" >>\"$STUB_LOG\"\n", filepath.Base(m))
		if filepath.Base(m) == "pulumi" {
			body += fakePulumi
		}
		if err := w.WriteHeader(&tar.Header{Name: m, Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// quote is bash's printf %q of a path (what --print-env writes).
func quote(s string) string { return strings.NewReplacer(",", `\,`, " ", `\ `).Replace(s) }

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

type buildToolsRun struct {
	cache, releases, log string
	env                  []string
}

// newBuildToolsRun makes an empty tool cache and an empty release tree in a temporary directory.
func newBuildToolsRun(t *testing.T) *buildToolsRun {
	dir := t.TempDir()
	stubs := filepath.Join(dir, "stubs")
	if err := os.Mkdir(stubs, 0o755); err != nil {
		t.Fatal(err)
	}
	stub(t, stubs, "go", `printf '%s\n' "go $*" >>"$STUB_LOG"; exit 1`)
	r := &buildToolsRun{cache: filepath.Join(dir, "cache"), releases: filepath.Join(dir, "releases"), log: filepath.Join(dir, "log")}
	r.env = []string{"PATH=" + stubs + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + dir,
		"FLASK_EKS_TOOLS=" + r.cache, "FLASK_EKS_RELEASES_URL=file://" + r.releases, "STUB_LOG=" + r.log}
	return r
}

// publish puts a release asset (path under the releases tree) and, when sums is not "", a
// checksums file listing sums for it.
func (r *buildToolsRun) publish(t *testing.T, path string, archive []byte, sumsFile, sum string) {
	t.Helper()
	writeFile(t, filepath.Join(r.releases, path), archive)
	if sumsFile != "" {
		line := fmt.Sprintf("%s  %s\n", sum, filepath.Base(path))
		writeFile(t, filepath.Join(r.releases, filepath.Dir(path), sumsFile), []byte("0000  other.tar.gz\n"+line))
	}
}

func (r *buildToolsRun) run(t *testing.T, env []string, args ...string) (stdout, stderr, log string, code int) {
	t.Helper()
	os.Remove(r.log)
	cmd := exec.Command("bash", append([]string{filepath.Join(repoRoot, ".ci/build-tools")}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PATH=") && !strings.HasPrefix(kv, "FLASK_EKS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(append(cmd.Env, r.env...), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	l, _ := os.ReadFile(r.log)
	return o.String(), e.String(), string(l), code
}

func TestBuildToolsDownloads(t *testing.T) {
	needTools(t, "curl", "tar", "sha256sum", "sha512sum")
	cli := goModVersion(t, ".ci/tools/pulumi/go.mod", "github.com/pulumi/pulumi/pkg/v3")
	plugin := strings.TrimPrefix(goModVersion(t, "go.mod", "github.com/pulumi/pulumi-kubernetes/sdk/v4"), "v")
	cliAsset := fmt.Sprintf("pulumi/pulumi/releases/download/%s/pulumi-%s-linux-x64.tar.gz", cli, cli)
	cliSums := fmt.Sprintf("pulumi-%s-checksums.txt", strings.TrimPrefix(cli, "v"))
	providerAsset := fmt.Sprintf("pulumi/pulumi-kubernetes/releases/download/v%s/pulumi-resource-kubernetes-v%s-linux-amd64.tar.gz", plugin, plugin)
	providerSums := fmt.Sprintf("pulumi-kubernetes_%s_checksums.txt", plugin)
	cliTar := tarGz(t, "pulumi/pulumi", "pulumi/pulumi-language-go")
	providerTar := tarGz(t, "pulumi-resource-kubernetes")
	sha := func(b []byte) string { return fmt.Sprintf("%x", sha256.Sum256(b)) }
	download := []string{"FLASK_EKS_TOOLS_DOWNLOAD=1"}
	builtFromSource := regexp.MustCompile(`(?m)^go `).MatchString // the go stand-in ran

	t.Run("good archives install and are reused", func(t *testing.T) {
		r := newBuildToolsRun(t)
		r.publish(t, cliAsset, cliTar, cliSums, sha(cliTar))
		r.publish(t, providerAsset, providerTar, providerSums, sha(providerTar))
		out, errOut, log, code := r.run(t, download, "--print-env", "pulumi-kubernetes")
		if code != 0 || builtFromSource(log) {
			t.Fatalf("exit %d (want 0, no source build), log %q, stderr %q", code, log, errOut)
		}
		cliDir := filepath.Join(r.cache, "pulumi", cli+"-release", "bin")
		provider := filepath.Join(r.cache, "pulumi-resource-kubernetes", plugin+"-release", "pulumi-resource-kubernetes")
		for _, want := range []string{"export PULUMI_CLI_DIR=" + quote(cliDir) + "\n", "export PULUMI_KUBERNETES_PLUGIN_VERSION=" + plugin + "\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("stdout lacks %q:\n%s", want, out)
			}
		}
		if want := "pulumi plugin install resource kubernetes " + plugin + " --file " + provider + " --reinstall\n"; log != want {
			t.Errorf("the released CLI ran %q, want %q", log, want)
		}
		for _, stamp := range []string{filepath.Join(cliDir, ".build-stamp"), filepath.Join(filepath.Dir(provider), ".build-stamp")} {
			if _, err := os.Stat(stamp); err != nil {
				t.Errorf("no stamp: %v", err)
			}
		}
		if _, err := os.Stat(filepath.Join(cliDir, "pulumi-language-go")); err == nil {
			t.Error("only the pulumi binary is installed, as from the source build")
		}
		// Cached: a second run needs no release at all.
		if err := os.RemoveAll(r.releases); err != nil {
			t.Fatal(err)
		}
		_, errOut, log, code = r.run(t, download, "--print-env", "pulumi-kubernetes")
		if code != 0 || log != "" || strings.Count(errOut, "cached release") != 2 || !strings.Contains(errOut, "kubernetes plugin "+plugin+": installed (") {
			t.Errorf("second run: exit %d, log %q, stderr %q; want both cached", code, log, errOut)
		}
	})

	t.Run("a wrong checksum falls back to the source build", func(t *testing.T) {
		r := newBuildToolsRun(t)
		r.publish(t, cliAsset, cliTar, cliSums, sha(cliTar))
		r.publish(t, providerAsset, providerTar, providerSums, sha([]byte("another archive")))
		out, _, log, code := r.run(t, download, "pulumi-kubernetes")
		if code == 0 || !builtFromSource(log) {
			t.Errorf("exit %d, log %q; want the provider built from source (the go stand-in fails)", code, log)
		}
		if n := strings.Count(out, "no release"); n != 1 || !strings.Contains(out, "pulumi-kubernetes "+plugin+": no release (sha256 of ") {
			t.Errorf("want one line naming the checksum mismatch, got:\n%s", out)
		}
		if _, err := os.Stat(filepath.Join(r.cache, "pulumi-resource-kubernetes", plugin+"-release")); err == nil {
			t.Error("the unchecked provider was installed")
		}
	})

	t.Run("envtest archives are checked against the pinned sha512", func(t *testing.T) {
		r := newBuildToolsRun(t)
		r.publish(t, "kubernetes-sigs/controller-tools/releases/download/envtest-v1.35.0/envtest-v1.35.0-linux-amd64.tar.gz",
			tarGz(t, "controller-tools/envtest/kube-apiserver", "controller-tools/envtest/etcd"), "", "")
		out, _, log, code := r.run(t, download, "kube-apiserver")
		if code == 0 || !builtFromSource(log) || !strings.Contains(out, "no release (sha512 of envtest-v1.35.0-linux-amd64.tar.gz is ") {
			t.Errorf("exit %d, log %q, stdout:\n%s\nwant the mismatch named and a source build", code, log, out)
		}
	})

	t.Run("a missing asset falls back to the source build", func(t *testing.T) {
		r := newBuildToolsRun(t)
		out, _, log, code := r.run(t, download, "pulumi")
		if code == 0 || !builtFromSource(log) || !strings.Contains(out, "no release (cannot download ") {
			t.Errorf("exit %d, log %q, stdout:\n%s", code, log, out)
		}
	})

	t.Run("downloads are off by default", func(t *testing.T) {
		r := newBuildToolsRun(t)
		r.publish(t, cliAsset, cliTar, cliSums, sha(cliTar))
		out, _, log, code := r.run(t, nil, "pulumi")
		if code == 0 || !builtFromSource(log) || strings.Contains(out, "release") {
			t.Errorf("exit %d, log %q, stdout:\n%s\nwant the source build only", code, log, out)
		}
	})
}
