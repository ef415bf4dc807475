//go:build integration

package main

// This file is the integration tests' harness: a throwaway, loopback-only
// Kubernetes control plane (etcd plus kube-apiserver, with no controllers, so
// no Pods ever run and Deployments never roll out) that a test starts in its own
// temporary directory, plus helpers to apply manifests to it with server-side
// apply and strict field validation, the way the Pulumi Kubernetes provider
// and a real cluster see them. The binaries come from .ci/build-tools.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Names of the tools that toolPaths can be asked for.
const (
	toolEtcd          = "etcd"
	toolKubeAPIServer = "kube-apiserver"
	toolPulumi        = "pulumi"
	toolPulumiK8s     = "pulumi-kubernetes"
)

// tools holds the paths of the binaries that .ci/build-tools builds.
type tools struct {
	Etcd          string // ETCD: the etcd binary
	KubeAPIServer string // KUBE_APISERVER: the kube-apiserver binary
	// PulumiCLIDir (PULUMI_CLI_DIR) is the directory holding the `pulumi`
	// binary, as auto.NewPulumiCommand's Root option wants it.
	PulumiCLIDir string
	// PulumiHome (PULUMI_HOME) is the isolated Pulumi home in which the
	// kubernetes plugin is installed, as version PulumiKubernetesPluginVersion.
	PulumiHome                    string
	PulumiKubernetesPluginVersion string
}

// toolPaths returns the paths of the wanted tools (all of them when want is
// empty). It takes each from its environment variable, as set by
// `eval "$(.ci/build-tools --print-env)"`, and asks `.ci/build-tools --print-env
// --no-build` for the rest, which only reports the cache and never compiles. A
// wanted tool that is not built fails the test, telling how to build it: with
// the integration tag on, missing tools are an error, not a reason to skip.
func toolPaths(t testing.TB, want ...string) tools {
	t.Helper()
	if len(want) == 0 {
		want = []string{toolEtcd, toolKubeAPIServer, toolPulumi, toolPulumiK8s}
	}
	vars := map[string][]string{
		toolEtcd:          {"ETCD"},
		toolKubeAPIServer: {"KUBE_APISERVER"},
		toolPulumi:        {"PULUMI_CLI_DIR"},
		toolPulumiK8s:     {"PULUMI_HOME", "PULUMI_KUBERNETES_PLUGIN_VERSION"},
	}
	env := map[string]string{}
	var unset []string
	for _, tool := range want {
		names, ok := vars[tool]
		if !ok {
			t.Fatalf("toolPaths: unknown tool %q", tool)
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

	tp := tools{
		Etcd:                          env["ETCD"],
		KubeAPIServer:                 env["KUBE_APISERVER"],
		PulumiCLIDir:                  env["PULUMI_CLI_DIR"],
		PulumiHome:                    env["PULUMI_HOME"],
		PulumiKubernetesPluginVersion: env["PULUMI_KUBERNETES_PLUGIN_VERSION"],
	}
	for _, tool := range want {
		var err error
		switch tool {
		case toolEtcd:
			err = checkExecutable(tp.Etcd)
		case toolKubeAPIServer:
			err = checkExecutable(tp.KubeAPIServer)
		case toolPulumi:
			err = checkExecutable(filepath.Join(tp.PulumiCLIDir, "pulumi"))
		case toolPulumiK8s:
			err = checkExecutable(filepath.Join(tp.PulumiHome, "plugins",
				"resource-kubernetes-v"+tp.PulumiKubernetesPluginVersion, "pulumi-resource-kubernetes"))
		}
		if err != nil {
			t.Fatalf("tool %s is not usable (%v); build it with `.ci/build-tools %s` and "+
				"`eval \"$(.ci/build-tools --print-env)\"`", tool, err, tool)
		}
	}
	return tp
}

// buildToolsEnv runs `.ci/build-tools --print-env --no-build TOOLS...` through
// bash and returns the variables it exports.
func buildToolsEnv(t testing.TB, toolNames []string) map[string]string {
	t.Helper()
	script, err := findRepoFile(filepath.Join(".ci", "build-tools"))
	if err != nil {
		t.Fatalf("locating .ci/build-tools: %v", err)
	}
	// The script's status lines go to stderr; eval its exports and print
	// them NUL-separated so that any path survives.
	const names = "ETCD KUBE_APISERVER PULUMI_CLI_DIR PULUMI_HOME PULUMI_KUBERNETES_PLUGIN_VERSION"
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

// findRepoFile finds rel in the working directory (the package directory
// under `go test`) or the nearest parent that has it.
func findRepoFile(rel string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%s not found above the working directory", rel)
		}
		dir = parent
	}
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

// controlPlane is a running etcd + kube-apiserver pair bound to loopback.
type controlPlane struct {
	// KubeconfigPath is a kubeconfig file for the cluster-admin user (a
	// bearer token in system:masters), written fresh on every start because
	// the API server's self-signed CA changes each time; Kubeconfig is its
	// content.
	KubeconfigPath string
	Kubeconfig     string
	Server         string // https://127.0.0.1:<port>
	Dir            string // the temporary directory with data, keys and logs
	// StartDuration is how long it took until /readyz answered ok.
	StartDuration time.Duration

	token  string
	caData []byte
	config *rest.Config
	dyn    dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
	procs  []*process
}

// process is a child process running in its own process group.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	err     error         // its exit status, valid after done
}

// startControlPlane starts etcd and kube-apiserver on free loopback ports in a
// fresh t.TempDir(), waits until the API server's /readyz is ok and writes a
// kubeconfig. A t.Cleanup always stops both (their process groups, SIGTERM and
// then SIGKILL), also when the test fails or panics; each child also gets
// SIGKILL if the test binary dies without cleaning up. Their logs go to files in
// the temporary directory, and their tails are logged if the test failed.
func startControlPlane(t testing.TB) *controlPlane {
	t.Helper()
	tp := toolPaths(t, toolEtcd, toolKubeAPIServer)
	// TempDir first: cleanups run last-in first-out, so the processes are
	// stopped before their directory is removed.
	dir := t.TempDir()
	cp := &controlPlane{Dir: dir}
	t.Cleanup(func() { cp.stop(t) })
	start := time.Now()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	ports := freePorts(t, 3)
	etcdClient := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	etcdPeer := fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	etcd := cp.spawn(t, "etcd", tp.Etcd,
		"--name=harness",
		"--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+etcdClient,
		"--advertise-client-urls="+etcdClient,
		"--listen-peer-urls="+etcdPeer,
		"--initial-advertise-peer-urls="+etcdPeer,
		"--initial-cluster=harness="+etcdPeer,
		"--initial-cluster-state=new",
		// Throwaway data: skip fsync, which is most of etcd's cost here.
		"--unsafe-no-fsync",
		"--log-level=warn",
	)
	waitFor(ctx, t, etcd, "etcd /health", func(ctx context.Context) error {
		return httpOK(ctx, http.DefaultClient, etcdClient+"/health", "", `"health":"true"`)
	})

	// Credentials: an RSA key for service-account tokens and a static bearer
	// token for the admin user; neither leaves the temporary directory.
	saKey := filepath.Join(dir, "sa.key")
	writeRSAKey(t, saKey)
	token := randomHex(t, 32)
	tokenFile := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokenFile, []byte(token+",admin,admin-uid,system:masters\n"), 0o600); err != nil {
		t.Fatalf("writing the token file: %v", err)
	}

	certDir := filepath.Join(dir, "pki")
	cp.Server = fmt.Sprintf("https://127.0.0.1:%d", ports[2])
	apiserver := cp.spawn(t, "kube-apiserver", tp.KubeAPIServer,
		"--etcd-servers="+etcdClient,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", ports[2]),
		"--cert-dir="+certDir, // the API server self-signs into it
		"--service-cluster-ip-range=10.0.0.0/24",
		"--service-account-issuer="+cp.Server,
		"--service-account-key-file="+saKey,
		"--service-account-signing-key-file="+saKey,
		"--token-auth-file="+tokenFile,
		"--authorization-mode=RBAC",
		// No controller manager creates default ServiceAccounts.
		"--disable-admission-plugins=ServiceAccount",
		"--allow-privileged=true",
		// Stops the "loopback advertise address" complaint every 10 s.
		"--endpoint-reconciler-type=none",
	)

	// The self-signed certificate file also holds the CA that signed it.
	certFile := filepath.Join(certDir, "apiserver.crt")
	var client *http.Client
	waitFor(ctx, t, apiserver, "kube-apiserver /readyz", func(ctx context.Context) error {
		if client == nil {
			ca, err := os.ReadFile(certFile)
			if err != nil {
				return err
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(ca) {
				return fmt.Errorf("no certificate in %s yet", certFile)
			}
			cp.caData = ca
			client = &http.Client{Transport: &http.Transport{
				TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			}}
		}
		return httpOK(ctx, client, cp.Server+"/readyz", token, "ok")
	})
	cp.StartDuration = time.Since(start)
	cp.token = token

	cp.writeKubeconfig(t)
	cfg, err := clientcmd.RESTConfigFromKubeConfig([]byte(cp.Kubeconfig))
	if err != nil {
		t.Fatalf("loading the harness kubeconfig: %v", err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	cp.config = cfg
	if cp.dyn, err = dynamic.NewForConfig(cfg); err != nil {
		t.Fatalf("creating the dynamic client: %v", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatalf("creating the discovery client: %v", err)
	}
	cp.mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	t.Logf("control plane ready in %s at %s (dir %s)", cp.StartDuration.Round(time.Millisecond), cp.Server, dir)
	return cp
}

// restConfig returns a copy of the admin client configuration.
func (cp *controlPlane) restConfig() *rest.Config { return rest.CopyConfig(cp.config) }

// dynamicClient returns the admin dynamic client.
func (cp *controlPlane) dynamicClient() dynamic.Interface { return cp.dyn }

func (cp *controlPlane) writeKubeconfig(t testing.TB) {
	t.Helper()
	const name = "flask-eks-harness"
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{Server: cp.Server, CertificateAuthorityData: cp.caData}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: cp.token}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name, Namespace: "default"}
	cfg.CurrentContext = name
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatalf("encoding the kubeconfig: %v", err)
	}
	cp.KubeconfigPath = filepath.Join(cp.Dir, "kubeconfig")
	if err := os.WriteFile(cp.KubeconfigPath, data, 0o600); err != nil {
		t.Fatalf("writing the kubeconfig: %v", err)
	}
	cp.Kubeconfig = string(data)
}

// spawn starts a child in its own process group with its output in a log file.
func (cp *controlPlane) spawn(t testing.TB, name, bin string, args ...string) *process {
	t.Helper()
	logPath := filepath.Join(cp.Dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("creating %s: %v", logPath, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = cp.Dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Pdeathsig covers a test binary that dies without running cleanups
	// (e.g. on -timeout); Go does not retire the forking OS thread early.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	cp.procs = append(cp.procs, p)
	return p
}

// stop ends the processes in reverse start order and, if the test failed,
// logs the tail of each log file.
func (cp *controlPlane) stop(t testing.TB) {
	for i := len(cp.procs) - 1; i >= 0; i-- {
		p := cp.procs[i]
		select {
		case <-p.done:
			continue
		default:
		}
		pgid := p.cmd.Process.Pid // == the group id, thanks to Setpgid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.done
		}
	}
	if t.Failed() {
		for _, p := range cp.procs {
			t.Logf("---- last lines of %s (%s) ----\n%s", p.name, p.logPath, tailFile(p.logPath, 32<<10))
		}
	}
}

// waitFor polls check until it succeeds, failing the test if p exits first or
// ctx ends.
func waitFor(ctx context.Context, t testing.TB, p *process, what string, check func(context.Context) error) {
	t.Helper()
	var last error
	for {
		attempt, cancel := context.WithTimeout(ctx, 5*time.Second)
		last = check(attempt)
		cancel()
		if last == nil {
			return
		}
		select {
		case <-p.done:
			t.Fatalf("waiting for %s: %s exited (%v); last check: %v", what, p.name, p.err, last)
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v; last check: %v", what, ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// httpOK GETs url and checks for status 200 and a body containing want.
func httpOK(ctx context.Context, client *http.Client, url, token, want string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, bytes.TrimSpace(body))
	}
	return nil
}

// freePorts asks the kernel for n distinct free loopback TCP ports. They are
// released before use, so another process could take one in between; the
// kernel hands out ephemeral ports in sequence, which makes that unlikely.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("finding a free port: %v", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

func writeRSAKey(t testing.TB, path string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generating the service-account key: %v", err)
	}
	block := &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatalf("writing the service-account key: %v", err)
	}
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("reading random bytes: %v", err)
	}
	return hex.EncodeToString(b)
}

// tailFile returns at most the last max bytes of a file, from a line start.
func tailFile(path string, max int64) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err.Error()
	}
	if fi.Size() > max {
		if _, err := f.Seek(fi.Size()-max, io.SeekStart); err != nil {
			return err.Error()
		}
		r := bufio.NewReader(f)
		_, _ = r.ReadString('\n') // drop the partial first line
		rest, _ := io.ReadAll(r)
		return "[...]\n" + string(rest)
	}
	all, _ := io.ReadAll(f)
	return string(all)
}

// applyFiles server-side applies every object in the YAML (or JSON) files,
// with strict field validation, and waits until each CustomResourceDefinition
// among them is Established, so that its kinds can be used right after.
func (cp *controlPlane) applyFiles(t testing.TB, paths ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var crds []string
	for _, path := range paths {
		objs, err := readObjects(path)
		if err != nil {
			t.Fatalf("reading %s: %v", path, err)
		}
		for _, obj := range objs {
			if _, err := cp.apply(ctx, obj); err != nil {
				t.Fatalf("applying %s %q from %s: %v", obj.GetKind(), obj.GetName(), path, err)
			}
			if obj.GroupVersionKind().GroupKind() == crdGK {
				crds = append(crds, obj.GetName())
			}
		}
	}
	for _, name := range crds {
		if err := cp.waitEstablished(ctx, name); err != nil {
			t.Fatalf("CRD %s: %v", name, err)
		}
	}
	if len(crds) > 0 {
		cp.mapper.Reset() // new kinds: forget the cached discovery
	}
}

var (
	crdGK  = schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}
	crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
)

// apply server-side applies one object with fieldValidation=Strict (force, as
// field manager "flask-eks-harness"); a namespaced object without a namespace
// goes to "default". It retries while the object's kind is not discoverable
// yet, for a CRD that was just established, and returns the API's error
// otherwise, so that tests can assert on rejections.
func (cp *controlPlane) apply(ctx context.Context, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	data, err := json.Marshal(obj.Object)
	if err != nil {
		return nil, err
	}
	gvk := obj.GroupVersionKind()
	for {
		mapping, err := cp.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if meta.IsNoMatchError(err) {
			cp.mapper.Reset()
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("kind %s is not served: %w", gvk, err)
			case <-time.After(200 * time.Millisecond):
				continue
			}
		}
		if err != nil {
			return nil, err
		}
		ri := dynamic.ResourceInterface(cp.dyn.Resource(mapping.Resource))
		if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
			ns := obj.GetNamespace()
			if ns == "" {
				ns = metav1.NamespaceDefault
			}
			ri = cp.dyn.Resource(mapping.Resource).Namespace(ns)
		}
		force := true
		return ri.Patch(ctx, obj.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{
			FieldManager:    "flask-eks-harness",
			Force:           &force,
			FieldValidation: metav1.FieldValidationStrict,
		})
	}
}

// waitEstablished waits for a CRD's Established condition to be True.
func (cp *controlPlane) waitEstablished(ctx context.Context, name string) error {
	for {
		crd, err := cp.dyn.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		if err == nil {
			conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
			for _, c := range conds {
				m, _ := c.(map[string]any)
				if m["type"] == "Established" && m["status"] == "True" {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not Established: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// readObjects decodes every non-empty document of a YAML or JSON file.
func readObjects(path string) ([]*unstructured.Unstructured, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 64<<10)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, err
		}
		if len(m) == 0 {
			continue // an empty document, e.g. after a leading "---"
		}
		obj := &unstructured.Unstructured{Object: m}
		if obj.GetKind() == "" || obj.GetAPIVersion() == "" || obj.GetName() == "" {
			return nil, fmt.Errorf("document %d has no apiVersion, kind or metadata.name", len(objs)+1)
		}
		objs = append(objs, obj)
	}
}

// TestControlPlaneSmoke checks the harness end to end: the control plane
// starts, the CRDs in testdata/crds install and become Established, a
// ServiceMonitor server-side applies, and strict field validation rejects a
// misspelt field, while the IngressClassParams stand-in rejects a value
// outside its enum.
func TestControlPlaneSmoke(t *testing.T) {
	cp := startControlPlane(t)
	crdFiles, err := filepath.Glob(filepath.Join("testdata", "crds", "*.yaml"))
	if err != nil || len(crdFiles) == 0 {
		t.Fatalf("no CRDs in testdata/crds (%v)", err)
	}
	cp.applyFiles(t, crdFiles...)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// The typed clientset works from the same configuration, and the API
	// server created the namespace that namespaced objects default to.
	clientset, err := kubernetes.NewForConfig(cp.restConfig())
	if err != nil {
		t.Fatalf("creating a clientset: %v", err)
	}
	if _, err := clientset.CoreV1().Namespaces().Get(ctx, metav1.NamespaceDefault, metav1.GetOptions{}); err != nil {
		t.Errorf("getting namespace %q: %v", metav1.NamespaceDefault, err)
	}

	serviceMonitor := func(endpoint map[string]any) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "monitoring.coreos.com/v1",
			"kind":       "ServiceMonitor",
			"metadata":   map[string]any{"name": "flask", "namespace": "default"},
			"spec": map[string]any{
				"selector":  map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "flask"}},
				"endpoints": []any{endpoint},
			},
		}}
	}

	got, err := cp.apply(ctx, serviceMonitor(map[string]any{"port": "http", "path": "/metrics", "interval": "30s"}))
	if err != nil {
		t.Fatalf("applying a valid ServiceMonitor: %v", err)
	}
	endpoints, _, _ := unstructured.NestedSlice(got.Object, "spec", "endpoints")
	if len(endpoints) != 1 || endpoints[0].(map[string]any)["interval"] != "30s" {
		t.Errorf("stored ServiceMonitor endpoints = %v, want one with interval 30s", endpoints)
	}

	// Server-side apply rejects the misspelt field while building the typed
	// patch (kube-apiserver 1.34 answers 500, so only the message is checked).
	_, err = cp.apply(ctx, serviceMonitor(map[string]any{"port": "http", "scrapeInterval": "30s"}))
	if err == nil {
		t.Fatal("a ServiceMonitor with the unknown field endpoints[0].scrapeInterval was accepted; want it rejected")
	}
	if want := ".spec.endpoints[0].scrapeInterval: field not declared in schema"; !strings.Contains(err.Error(), want) {
		t.Errorf("apply with an unknown field: got %v, want an error containing %q", err, want)
	}

	// The same typo through a plain create, the path kubectl --validate=strict
	// and client-go take, must fail with a strict decoding error too.
	bad := serviceMonitor(map[string]any{"port": "http", "scrapeInterval": "30s"})
	bad.SetName("flask-create")
	_, err = cp.dynamicClient().Resource(schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "servicemonitors"}).
		Namespace("default").Create(ctx, bad, metav1.CreateOptions{FieldValidation: metav1.FieldValidationStrict})
	if err == nil || !strings.Contains(err.Error(), `unknown field "spec.endpoints[0].scrapeInterval"`) {
		t.Errorf("create with an unknown field: got %v, want a strict decoding error naming spec.endpoints[0].scrapeInterval", err)
	}

	params := func(scheme string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "eks.amazonaws.com/v1",
			"kind":       "IngressClassParams",
			"metadata":   map[string]any{"name": "alb"},
			"spec":       map[string]any{"scheme": scheme, "group": map[string]any{"name": "flask"}},
		}}
	}
	if _, err := cp.apply(ctx, params("internet-facing")); err != nil {
		t.Errorf("applying a valid IngressClassParams: %v", err)
	}
	if _, err := cp.apply(ctx, params("public")); !apierrors.IsInvalid(err) {
		t.Errorf("IngressClassParams with scheme \"public\": got %v, want Invalid (not in the enum)", err)
	}
}
