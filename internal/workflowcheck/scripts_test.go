package workflowcheck

import (
	"bufio"
	"bytes"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// The scripts the workflows run (.github/smoke-test, refresh-debian-pins,
// check-secrets-provider), run for real with stand-ins for pulumi and apt-cache.

const scriptsDir = "../../.github"

// needTools skips a test whose tools are missing on a workstation, and fails it in CI (CI set),
// where .ci/setup installs them: a script test must never pass in CI by not running.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed, and CI must run this test (.ci/setup installs it)", tool)
			}
			t.Skipf("%s is not installed (CI would fail here)", tool)
		}
	}
}

// stub writes an executable shell script name into dir.
func stub(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
}

// run runs a script of .github with env added to the environment (minus CURL_CA_BUNDLE) and
// stubs first on PATH.
func run(t *testing.T, stubs string, env []string, script string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	path, err := filepath.Abs(filepath.Join(scriptsDir, script))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", append([]string{path}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CURL_CA_BUNDLE=") && !strings.HasPrefix(kv, "PATH=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "PATH="+stubs+string(os.PathListSeparator)+os.Getenv("PATH"))
	cmd.Env = append(cmd.Env, env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func TestShellcheck(t *testing.T) {
	needTools(t, "shellcheck")
	scripts := []string{"smoke-test", "refresh-debian-pins", "check-secrets-provider", "use-prebuilt-binary",
		"check-reviewed-pr", "detect-drift", "report-drift", "comment-plan", "ci-image", "verify-aws"}
	for i := range scripts {
		scripts[i] = filepath.Join(scriptsDir, scripts[i])
	}
	if out, err := exec.Command("shellcheck", scripts...).CombinedOutput(); err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}

func TestSmokeTest(t *testing.T) {
	needTools(t, "bash", "curl")
	var hits, readyAfter atomic.Int64
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		if n <= readyAfter.Load() {
			// What an ALB answers before it has healthy targets.
			http.Error(w, "no healthy targets", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, `{"status":"ready"}`)
	}))
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	// pulumi stands in for `pulumi stack output appUrl --stack dev`.
	stub(t, dir, "pulumi", `[ "$*" = "stack output appUrl --stack dev" ] || { echo "unexpected: pulumi $*" >&2; exit 3; }
printf '%s\n' "$STUB_APP_URL"
`)
	fast := []string{"SMOKE_INTERVAL=0", "SMOKE_TIMEOUT=60"}

	t.Run("ready after a 503, certificate verified", func(t *testing.T) {
		hits.Store(0)
		readyAfter.Store(1)
		env := append([]string{"STUB_APP_URL=" + srv.URL + "/", "CURL_CA_BUNDLE=" + ca}, fast...)
		out, errOut, code := run(t, dir, env, "smoke-test", "dev")
		if code != 0 || !strings.Contains(out, `answered`) || !strings.Contains(out, `{"status":"ready"}`) {
			t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
		}
	})
	t.Run("an empty appUrl fails at once, saying why", func(t *testing.T) {
		hits.Store(0)
		out, errOut, code := run(t, dir, append([]string{"STUB_APP_URL="}, fast...), "smoke-test", "dev")
		if code != 1 || !strings.Contains(errOut, "output appUrl of stack dev is empty") || hits.Load() != 0 {
			t.Errorf("exit %d, %d requests\nstdout: %s\nstderr: %s", code, hits.Load(), out, errOut)
		}
	})
	t.Run("an untrusted certificate fails (no -k)", func(t *testing.T) {
		hits.Store(0)
		readyAfter.Store(0)
		out, errOut, code := run(t, dir, []string{"SMOKE_INTERVAL=0", "SMOKE_TIMEOUT=1"}, "smoke-test", "--url", srv.URL)
		if code != 1 || !strings.Contains(strings.ToLower(errOut), "certificate") || !strings.Contains(errOut, "did not answer 2xx within 1s") {
			t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
		}
	})
	t.Run("never ready fails within the bound", func(t *testing.T) {
		hits.Store(0)
		out, errOut, code := run(t, dir, []string{"SMOKE_INTERVAL=0", "SMOKE_TIMEOUT=1", "CURL_CA_BUNDLE=" + ca}, "smoke-test", "--url", srv.URL+"/missing/")
		if code != 1 || !strings.Contains(errOut, "404") || !strings.Contains(errOut, "did not answer 2xx") {
			t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
		}
	})
	t.Run("usage", func(t *testing.T) {
		if _, _, code := run(t, dir, nil, "smoke-test"); code != 2 {
			t.Errorf("no arguments: exit %d, want 2", code)
		}
	})
}

// aptCacheStub answers `apt-cache policy NAME` from the candidates file $STUB_CANDIDATES
// ("name version" lines); an unknown name prints nothing, as apt-cache does.
const aptCacheStub = `[ "$1" = policy ] || exit 3
v=$(awk -v n="$2" '$1 == n { print $2 }' "$STUB_CANDIDATES")
[ -n "$v" ] || exit 0
printf '%s:\n  Installed: (none)\n  Candidate: %s\n  Version table:\n     %s 500\n' "$2" "$v" "$v"
`

func TestRefreshDebianPins(t *testing.T) {
	needTools(t, "bash", "awk")
	dir := t.TempDir()
	stub(t, dir, "apt-cache", aptCacheStub)
	candidates := filepath.Join(dir, "candidates")
	pins := filepath.Join(dir, "packages.txt")
	setup := func(t *testing.T, packages, cands string) {
		t.Helper()
		if err := os.WriteFile(pins, []byte(packages), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(candidates, []byte(cands), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"STUB_CANDIDATES=" + candidates}
	const packages = `# Comment: name=version lines, bare names.

# Interpreter
python3
python3.11-minimal

python3-flask=2.2.2-3
python3-click=8.1.3-2
gunicorn=20.1.0-6+deb12u1
`
	t.Run("moves pins, keeps the rest", func(t *testing.T) {
		setup(t, packages, "python3-flask 2.2.2-3+deb12u1\npython3-click 8.1.3-2\ngunicorn 20.1.0-6+deb12u2\npython3 3.11.2-1+b2\n")
		out, errOut, code := run(t, dir, env, "refresh-debian-pins", pins)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		want := strings.Replace(strings.Replace(packages, "python3-flask=2.2.2-3\n", "python3-flask=2.2.2-3+deb12u1\n", 1),
			"gunicorn=20.1.0-6+deb12u1", "gunicorn=20.1.0-6+deb12u2", 1)
		got, _ := os.ReadFile(pins)
		if string(got) != want {
			t.Errorf("file:\n%s\nwant:\n%s", got, want)
		}
		if wantOut := "python3-flask: 2.2.2-3 -> 2.2.2-3+deb12u1\ngunicorn: 20.1.0-6+deb12u1 -> 20.1.0-6+deb12u2\n"; out != wantOut {
			t.Errorf("stdout %q, want %q", out, wantOut)
		}
		if fi, _ := os.Stat(pins); fi.Mode().Perm() != 0o644 {
			t.Errorf("mode %v, want 0644 kept", fi.Mode().Perm())
		}
	})
	t.Run("a pin without a candidate fails and changes nothing", func(t *testing.T) {
		setup(t, packages, "python3-flask 2.2.2-3+deb12u1\npython3-click 8.1.3-2\n")
		_, errOut, code := run(t, dir, env, "refresh-debian-pins", pins)
		got, _ := os.ReadFile(pins)
		if code != 1 || !strings.Contains(errOut, "gunicorn has no candidate") || string(got) != packages {
			t.Errorf("exit %d, stderr %q, file changed: %v", code, errOut, string(got) != packages)
		}
	})
	t.Run("an unreadable line fails and changes nothing", func(t *testing.T) {
		bad := packages + "python3-flask = 2.2.2-3\n"
		setup(t, bad, "python3-flask 9\npython3-click 9\ngunicorn 9\n")
		_, errOut, code := run(t, dir, env, "refresh-debian-pins", pins)
		got, _ := os.ReadFile(pins)
		if code != 1 || !strings.Contains(errOut, "cannot read line") || string(got) != bad {
			t.Errorf("exit %d, stderr %q, file changed: %v", code, errOut, string(got) != bad)
		}
	})
	// The repository's own list, with the mirror unchanged: every line is understood and the
	// file stays byte for byte the same.
	t.Run("app-src/packages.txt round-trips", func(t *testing.T) {
		real, err := os.ReadFile("../../app-src/packages.txt")
		if err != nil {
			t.Fatal(err)
		}
		var cands strings.Builder
		sc := bufio.NewScanner(bytes.NewReader(real))
		n := 0
		for sc.Scan() {
			if name, version, ok := strings.Cut(sc.Text(), "="); ok && !strings.HasPrefix(sc.Text(), "#") {
				fmt.Fprintf(&cands, "%s %s\n", name, version)
				n++
			}
		}
		if n == 0 {
			t.Fatal("no pins in app-src/packages.txt")
		}
		setup(t, string(real), cands.String())
		out, errOut, code := run(t, dir, env, "refresh-debian-pins", pins)
		got, _ := os.ReadFile(pins)
		if code != 0 || out != "" || !bytes.Equal(got, real) {
			t.Errorf("exit %d, stdout %q, stderr %q, file changed: %v", code, out, errOut, !bytes.Equal(got, real))
		}
	})
}

func TestCheckSecretsProvider(t *testing.T) {
	needTools(t, "bash")
	dir := t.TempDir()
	for _, tc := range []struct {
		name, stack, file, want string
		code                    int
	}{
		{"prod's own key", "prod", "secretsprovider: awskms://alias/flask-eks-prod?region=eu-west-1\nencryptedkey: AQICAHh...\nconfig:\n  aws:region: eu-west-1\n", "uses awskms://alias/flask-eks-prod", 0},
		{"a passphrase stack", "dev", "encryptionsalt: v1:abc\nconfig:\n  aws:region: eu-west-1\n", "a passphrase stack", 1},
		{"no secrets settings at all", "dev", "config:\n  aws:region: eu-west-1\n", "change-secrets-provider --stack dev", 1},
		{"dev's key on prod", "prod", "secretsprovider: awskms://alias/flask-eks-dev?region=eu-west-1\nencryptedkey: AQICAHh...\n", "must name its stack's own KMS key", 1},
		{"a key without its encryptedkey", "prod", "secretsprovider: awskms://alias/flask-eks-prod?region=eu-west-1\n", "encryptedkey", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, "Pulumi."+tc.stack+".yaml")
			if err := os.WriteFile(file, []byte(tc.file), 0o644); err != nil {
				t.Fatal(err)
			}
			out, errOut, code := run(t, dir, nil, "check-secrets-provider", tc.stack, file)
			if code != tc.code || !strings.Contains(out+errOut, tc.want) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s\nwant %q in the output", code, tc.code, out, errOut, tc.want)
			}
		})
	}
}
