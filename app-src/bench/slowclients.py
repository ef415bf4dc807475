#!/usr/bin/python3
"""Do idle and slow-header clients on the public port starve the health probes?

Starts real gunicorn with the real gunicorn.conf.py on loopback (the default
2 workers x 4 threads), then for DURATION seconds holds N idle connections
(connect, send nothing) and N slow-header clients (send a request head one byte
every SLOW_INTERVAL seconds) against the PUBLIC port. When the server closes
one of them, the client reconnects at once, so N of each stay open the whole
time, as a determined client would. Meanwhile, every PROBE_INTERVAL seconds,
it sends `GET /healthz` with a PROBE_TIMEOUT-second timeout, on a fresh
connection, to (a) the public port and (b) the admin port, the way kubelet
probes do (DURATION // PROBE_INTERVAL probes each, all finished before the load
stops), and finally prints how many probes failed on each, how often the server
closed the clients' connections, and how the kernel spread the connections
over the workers (which decides how many probes meet a worker whose threads
are all held).

Not part of the test suite. Needs only Debian's python3 and the packages in
packages.txt.

Knobs (environment):
  N (8)  DURATION (45)  PROBE_INTERVAL (3)  PROBE_TIMEOUT (2)  SLOW_INTERVAL (1)
  MODE (both | idle | slow)  RECONNECT (1; 0 = each client connects once)
  GUNICORN_WORKERS (2)  GUNICORN_THREADS (4)  GUNICORN_HEADER_TIMEOUT (config default)
"""

import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

APP_SRC = Path(__file__).resolve().parent.parent
PYTHON = os.environ.get("PYTHON", "/usr/bin/python3")
N = int(os.environ.get("N", "8"))
DURATION = float(os.environ.get("DURATION", "45"))
PROBE_INTERVAL = float(os.environ.get("PROBE_INTERVAL", "3"))
PROBE_TIMEOUT = float(os.environ.get("PROBE_TIMEOUT", "2"))
SLOW_INTERVAL = float(os.environ.get("SLOW_INTERVAL", "1"))
MODE = os.environ.get("MODE", "both")
RECONNECT = os.environ.get("RECONNECT", "1") == "1"

# What a slow-header client sends, one byte at a time: a request head that
# would be valid if it ever finished.
SLOW_HEAD = b"GET / HTTP/1.1\r\nHost: bench\r\nX-Padding: " + b"a" * 4000 + b"\r\n\r\n"


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def probe(port):
    """None when GET /healthz answers 200 within PROBE_TIMEOUT, else a short reason."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=PROBE_TIMEOUT)
    try:
        conn.request("GET", "/healthz")
        status = conn.getresponse().status
        return None if status == 200 else f"status {status}"
    except (socket.timeout, TimeoutError):
        return "timeout"
    except ConnectionRefusedError:
        return "refused"
    except (OSError, http.client.HTTPException) as err:
        return type(err).__name__
    finally:
        conn.close()


class Stats:
    """Thread-safe tallies: probe outcomes per port, and server-side drops per client kind."""

    def __init__(self):
        self.lock = threading.Lock()
        self.probes = {}  # port name -> list of None/reason
        self.drops = {"idle": 0, "slow": 0}
        self.connects = {"idle": 0, "slow": 0}

    def add_probe(self, name, outcome):
        with self.lock:
            self.probes.setdefault(name, []).append(outcome)

    def add(self, table, kind):
        with self.lock:
            getattr(self, table)[kind] += 1


def connect(port):
    """Open a connection to the server on loopback, or back off briefly and return None."""
    try:
        return socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError:
        time.sleep(0.2)
        return None


def idle_client(port, stop, stats):
    """Connect and send nothing; when the server hangs up, reconnect (if RECONNECT)."""
    while not stop.is_set():
        sock = connect(port)
        if sock is None:
            continue
        stats.add("connects", "idle")
        sock.settimeout(0.5)
        try:
            while not stop.is_set():
                try:
                    if sock.recv(1024) == b"":
                        stats.add("drops", "idle")
                        break
                except socket.timeout:
                    continue
                except OSError:
                    stats.add("drops", "idle")
                    break
        finally:
            sock.close()
        if not RECONNECT:
            stop.wait()


def slow_client(port, stop, stats):
    """Send SLOW_HEAD one byte every SLOW_INTERVAL; reconnect when the server hangs up."""
    while not stop.is_set():
        sock = connect(port)
        if sock is None:
            continue
        stats.add("connects", "slow")
        try:
            for i in range(len(SLOW_HEAD)):
                if stop.wait(0 if i == 0 else SLOW_INTERVAL):
                    break
                sock.sendall(SLOW_HEAD[i:i + 1])
                if _hung_up(sock):
                    stats.add("drops", "slow")
                    break
        except OSError:
            stats.add("drops", "slow")
        finally:
            sock.close()
        if not RECONNECT:
            stop.wait()


def _hung_up(sock):
    """True when the server closed the connection (EOF or any answer: it gave up on us)."""
    sock.setblocking(False)
    try:
        return sock.recv(1024) is not None
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        sock.setblocking(True)


def prober(name, port, start, count, stats):
    """Send `count` probes, one every PROBE_INTERVAL from `start`, each on its own thread
    (a slow probe does not delay the next); return when all have finished."""
    threads = []
    for i in range(count):
        time.sleep(max(0.0, start + i * PROBE_INTERVAL - time.monotonic()))
        t = threading.Thread(target=lambda: stats.add_probe(name, probe(port)))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()


def start_server(workdir, port, admin_port):
    """gunicorn -c gunicorn.conf.py on 127.0.0.1:port; returns the process once / answers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMETHEUS_")}
    env.update(
        SECRET_KEY="bench-fake-secret", DB_PASSWORD="bench-fake-password",
        API_BASE_URL="http://api.example.invalid", APP_VERSION="bench",
        ADMIN_PORT=str(admin_port), PROMETHEUS_MULTIPROC_DIR=str(workdir / "multiproc"),
        LOG_LEVEL=os.environ.get("LOG_LEVEL", "INFO"), PYTHONDONTWRITEBYTECODE="1",
    )
    log = open(workdir / "gunicorn.log", "w")
    proc = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"],
        cwd=APP_SRC, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"gunicorn exited ({proc.returncode}); see {workdir / 'gunicorn.log'}")
        if probe(port) is None:
            return proc
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    sys.exit("gunicorn did not start in 30 s")


def _established_inodes(port):
    """Socket inodes of ESTABLISHED TCP connections whose local port is `port` (from /proc/net)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                inodes.add(fields[9])
    return inodes


def connections_per_worker(master_pid, port):
    """{worker pid: open client connections on `port`}: shows how the kernel spread the load."""
    inodes, counts = _established_inodes(port), {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) != master_pid:
                continue
            fds = list((stat.parent / "fd").iterdir())
            links = {os.readlink(fd) for fd in fds}
        except (OSError, ValueError, IndexError):
            continue
        pid = int(stat.parent.name)
        counts[pid] = sum(1 for link in links if link.startswith("socket:[") and link[8:-1] in inodes)
    return counts


def report(stats, workdir):
    """Print the per-port failure counts and how often the server hung up on the clients."""
    print()
    for name in ("public", "admin"):
        outcomes = stats.probes.get(name, [])
        failed = [o for o in outcomes if o is not None]
        reasons = {r: failed.count(r) for r in sorted(set(failed))}
        detail = ", ".join(f"{k}: {v}" for k, v in reasons.items()) or "-"
        print(f"{name:7s} /healthz probes failed: {len(failed):2d} of {len(outcomes):2d}   ({detail})")
    for kind in ("idle", "slow"):
        if stats.connects[kind]:
            print(f"{kind:5s} clients: {stats.connects[kind]} connections, "
                  f"{stats.drops[kind]} closed by the server")
    dropped_lines = sum(1 for line in (workdir / "gunicorn.log").read_text().splitlines()
                        if "request head" in line and "dropped" in line)
    print(f"server log lines about dropped connections: {dropped_lines}")


def main():
    port, admin_port = free_port(), free_port()
    with tempfile.TemporaryDirectory(prefix="slowclients-") as tmp:
        workdir = Path(tmp)
        proc = start_server(workdir, port, admin_port)
        print(f"machine: {os.cpu_count()} CPUs; gunicorn {os.environ.get('GUNICORN_WORKERS', '2')} workers x "
              f"{os.environ.get('GUNICORN_THREADS', '4')} threads; public 127.0.0.1:{port}, admin 127.0.0.1:{admin_port}")
        print(f"load on the public port: MODE={MODE} N={N} (idle: connect, send nothing; slow: one head byte "
              f"every {SLOW_INTERVAL:g} s), RECONNECT={int(RECONNECT)}, for {DURATION:g} s")
        print(f"probes: GET /healthz, {PROBE_TIMEOUT:g} s timeout, every {PROBE_INTERVAL:g} s, on each port")
        stats, stop = Stats(), threading.Event()
        clients = []
        kinds = {"both": ("idle", "slow"), "idle": ("idle",), "slow": ("slow",)}[MODE]
        for kind in kinds:
            target = idle_client if kind == "idle" else slow_client
            clients += [threading.Thread(target=target, args=(port, stop, stats), daemon=True) for _ in range(N)]
        try:
            for t in clients:
                t.start()
            time.sleep(1)  # let the clients connect first, as they would in an attack
            start, count = time.monotonic(), int(DURATION // PROBE_INTERVAL)
            probers = [threading.Thread(target=prober, args=(name, p, start, count, stats))
                       for name, p in (("public", port), ("admin", admin_port))]
            for t in probers:
                t.start()
            time.sleep(DURATION / 2)
            spread = connections_per_worker(proc.pid, port)
            # The load stays on until the last probe has its answer or its timeout.
            for t in probers:
                t.join()
            stop.set()
            for t in clients:
                t.join(timeout=10)
        finally:
            stop.set()
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        report(stats, workdir)
        print("open connections on the public port per worker, mid-run: "
              + (", ".join(str(n) for n in sorted(spread.values(), reverse=True)) or "n/a"))


if __name__ == "__main__":
    main()
