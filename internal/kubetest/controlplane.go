//go:build unix

package kubetest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// FieldManager is the server-side apply field manager of [ControlPlane.Apply],
// [ControlPlane.ApplyFiles] and [ControlPlane.DryRunApply].
const FieldManager = "flask-eks-kubetest"

// ControlPlane is a running etcd + kube-apiserver pair bound to 127.0.0.1, started by [Start].
// It has no controllers and no nodes (see the package documentation). Its methods are safe to
// call from the test's goroutine; the clients it returns are safe for concurrent use.
type ControlPlane struct {
	// Server is the API server's URL, https://127.0.0.1:<port>.
	Server string
	// Dir is the temporary directory with etcd's data, the keys, the kubeconfig and the
	// processes' logs (etcd.log, kube-apiserver.log). t.TempDir removes it after the test.
	Dir string
	// StartDuration is how long it took until the API server's /readyz answered ok.
	StartDuration time.Duration

	kubeconfigPath string
	kubeconfig     string
	token          string
	caData         []byte
	config         *rest.Config
	dyn            dynamic.Interface
	mapper         *restmapper.DeferredDiscoveryRESTMapper
	procs          []*process

	stopOnce    sync.Once
	tailsLogged bool
}

// process is a child process running in its own process group.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	err     error         // its exit status, valid after done
}

// Start starts etcd and kube-apiserver on free loopback ports in a fresh t.TempDir(), waits
// until the API server's /readyz is ok (about 4 s on 2 cores; it gives up after 3 minutes) and
// writes a kubeconfig for a cluster-admin user. It registers a t.Cleanup that stops both (see
// [ControlPlane.Stop]), also when the test fails or panics; on Linux each child also gets
// SIGKILL if the test binary dies without cleaning up (e.g. on -timeout). The binaries come
// from [ToolPaths]. Any error fails the test (t.Fatal), with the tails of the processes' logs.
//
// The API server runs with RBAC, a static bearer token in system:masters, its own self-signed
// serving certificate (a new CA on every start), the ServiceAccount admission plugin disabled
// (nothing would create the default ServiceAccounts), privileged containers allowed, and no
// endpoint reconciler.
func Start(t testing.TB) *ControlPlane {
	t.Helper()
	tp := ToolPaths(t, ToolEtcd, ToolKubeAPIServer)
	// TempDir first: cleanups run last-in first-out, so the processes are stopped before
	// their directory is removed.
	dir := t.TempDir()
	cp := &ControlPlane{Dir: dir}
	t.Cleanup(func() { cp.Stop(t) })
	start := time.Now()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	ports := freePorts(t, 3)
	etcdClient := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	etcdPeer := fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	etcd := cp.spawn(t, "etcd", tp.Etcd,
		"--name=kubetest",
		"--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+etcdClient,
		"--advertise-client-urls="+etcdClient,
		"--listen-peer-urls="+etcdPeer,
		"--initial-advertise-peer-urls="+etcdPeer,
		"--initial-cluster=kubetest="+etcdPeer,
		"--initial-cluster-state=new",
		// Throwaway data: skip fsync, which is most of etcd's cost here.
		"--unsafe-no-fsync",
		"--log-level=warn",
	)
	waitFor(ctx, t, etcd, "etcd /health", func(ctx context.Context) error {
		return httpOK(ctx, http.DefaultClient, etcdClient+"/health", "", `"health":"true"`)
	})

	// Credentials: an RSA key for service-account tokens and a static bearer token for the
	// admin user; neither leaves the temporary directory.
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
	cfg, err := clientcmd.RESTConfigFromKubeConfig([]byte(cp.kubeconfig))
	if err != nil {
		t.Fatalf("loading the kubeconfig: %v", err)
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

// Kubeconfig returns the content of a kubeconfig for the cluster-admin user (a bearer token in
// system:masters), with the API server's CA inline and "default" as the context's namespace.
// It is written fresh on every start, because the CA changes each time.
func (cp *ControlPlane) Kubeconfig() string { return cp.kubeconfig }

// KubeconfigPath returns the path of a file holding [ControlPlane.Kubeconfig], in Dir.
func (cp *ControlPlane) KubeconfigPath() string { return cp.kubeconfigPath }

// RestConfig returns a copy of the cluster-admin client configuration (QPS 50, burst 100), for
// kubernetes.NewForConfig and friends.
func (cp *ControlPlane) RestConfig() *rest.Config { return rest.CopyConfig(cp.config) }

// Dynamic returns the cluster-admin dynamic client.
func (cp *ControlPlane) Dynamic() dynamic.Interface { return cp.dyn }

func (cp *ControlPlane) writeKubeconfig(t testing.TB) {
	t.Helper()
	const name = "kubetest"
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{Server: cp.Server, CertificateAuthorityData: cp.caData}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: cp.token}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name, Namespace: "default"}
	cfg.CurrentContext = name
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatalf("encoding the kubeconfig: %v", err)
	}
	cp.kubeconfigPath = filepath.Join(cp.Dir, "kubeconfig")
	if err := os.WriteFile(cp.kubeconfigPath, data, 0o600); err != nil {
		t.Fatalf("writing the kubeconfig: %v", err)
	}
	cp.kubeconfig = string(data)
}

// spawn starts a child in its own process group with its output in a log file.
func (cp *ControlPlane) spawn(t testing.TB, name, bin string, args ...string) *process {
	t.Helper()
	logPath := filepath.Join(cp.Dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("creating %s: %v", logPath, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = cp.Dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = sysProcAttr()
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

// Stop ends kube-apiserver and etcd (their whole process groups: SIGTERM, then SIGKILL after
// 10 s) and waits for them to exit. It is idempotent, and Start registers it as a cleanup, so a
// test calls it only to stop the control plane early, e.g. to check what happens without it.
// When the test has failed, it logs the last 32 KiB of each process's log (once).
func (cp *ControlPlane) Stop(t testing.TB) {
	cp.stopOnce.Do(func() {
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
	})
	if t.Failed() && !cp.tailsLogged {
		cp.tailsLogged = true
		for _, p := range cp.procs {
			t.Logf("---- last lines of %s (%s) ----\n%s", p.name, p.logPath, tailFile(p.logPath, 32<<10))
		}
	}
}

// waitFor polls check until it succeeds, failing the test if p exits first or ctx ends.
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

// freePorts asks the kernel for n distinct free loopback TCP ports. They are released before
// use, so another process could take one in between; the kernel hands out ephemeral ports in
// sequence, which makes that unlikely.
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
