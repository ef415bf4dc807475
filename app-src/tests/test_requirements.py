"""packages.txt is what CI and the image install: it must be exactly what these tests run on.

CI installs the list with apt before running this suite, the Dockerfile installs the same
list, so these checks tie the image to the code the other tests exercised: every pin is
the version dpkg reports installed here, the interpreter and the app's imports are
Debian's (not a pip install), and nothing the served app loads comes from an unpinned
package.
"""

import importlib
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

APP_SRC = Path(__file__).resolve().parent.parent
PACKAGES = APP_SRC / "packages.txt"
DIST_PACKAGES = "/usr/lib/python3/dist-packages/"

# The selection command of the header comment, of CI and of the Dockerfile.
SELECT = "grep -v '^#' packages.txt"

# Debian package names and versions (Debian Policy 5.6.1, 5.6.12), as name=version, or a
# bare name for the interpreter packages that take the mirror's current security revision.
PIN = re.compile(r"(?P<name>[a-z0-9][a-z0-9+.-]+)(=(?P<version>[0-9][A-Za-z0-9.+~:-]*))?")

# The bare names: CPython 3.11.2 as bookworm ships it, at whatever deb12uN revision is current.
FLOATING = {"python3.11", "python3.11-minimal", "libpython3.11-stdlib", "libpython3.11-minimal"}
FLOATING_VERSION = re.compile(r"3\.11\.2-6\+deb12u[0-9]+")


def pins():
    """name -> version (None for a bare name) for every line; anything else fails."""
    result = {}
    for number, line in enumerate(PACKAGES.read_text().splitlines(), 1):
        if line.startswith("#") or not line.strip():
            continue
        match = PIN.fullmatch(line)
        assert match, f"packages.txt:{number}: not a bare name=version line: {line!r}"
        assert match["name"] not in result, f"packages.txt:{number}: {match['name']} pinned twice"
        result[match["name"]] = match["version"]
    return result


def owners(paths):
    """path -> the Debian package that installed it, for the paths dpkg knows."""
    proc = subprocess.run(["dpkg-query", "-S", *paths], capture_output=True, text=True)
    result = {}
    for line in proc.stdout.splitlines():
        if line.startswith("diversion by "):
            continue
        package, _, path = line.partition(": ")
        # "libpython3.11-minimal:amd64" for Multi-Arch: same packages.
        result[path] = package.split(",")[0].split(":")[0]
    return result


def test_the_selection_command_yields_exactly_the_pins():
    """CI and the Dockerfile hand apt the words of this command's output: only the pins."""
    out = subprocess.run(["sh", "-c", SELECT], cwd=APP_SRC, capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == [name if version is None else f"{name}={version}" for name, version in pins().items()]


def test_only_the_interpreter_floats():
    """Everything the app imports is pinned exactly; only CPython's security revision floats."""
    assert {name for name, version in pins().items() if version is None} == FLOATING


def test_the_interpreter_and_the_apps_packages_are_pinned():
    assert {
        "python3", "python3.11", "python3.11-minimal", "libpython3.11-stdlib", "libpython3.11-minimal",
        "python3-flask", "python3-werkzeug", "python3-jinja2", "python3-markupsafe",
        "python3-itsdangerous", "python3-click", "gunicorn", "python3-gunicorn",
        "python3-pkg-resources", "python3-prometheus-client",
    } <= set(pins())


def test_pins_equal_the_installed_versions():
    """Test what ships: every pin is the version dpkg reports as installed here."""
    wanted = pins()
    proc = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Package}\t${Version}\t${db:Status-Abbrev}\n", *wanted],
        capture_output=True, text=True,
    )
    installed = {}
    for line in proc.stdout.splitlines():
        name, version, status = line.split("\t")
        if status.strip() == "ii":
            installed[name] = version
    mismatches = {
        name: (version or FLOATING_VERSION.pattern, installed.get(name, "not installed"))
        for name, version in wanted.items()
        if (installed.get(name) != version if version else not FLOATING_VERSION.fullmatch(installed.get(name, "")))
    }
    assert mismatches == {}


def test_the_tests_run_on_debians_python():
    """The pinned python3.11 is the interpreter running this suite, with its own stdlib."""
    assert os.path.realpath(sys.executable) == "/usr/bin/python3.11"
    assert os.path.realpath(os.__file__).startswith("/usr/lib/python3.11/")
    found = owners([os.path.realpath(sys.executable), os.path.realpath(os.__file__)])
    assert set(found.values()) == {"python3.11-minimal", "libpython3.11-minimal"}


def test_the_apps_imports_are_debians_packages():
    """Loaded from Debian's dist-packages, not from a pip install (/usr/local, a venv, ~/.local)."""
    places = {}
    for name in ("flask", "werkzeug", "jinja2", "markupsafe", "itsdangerous", "click",
                 "blinker", "gunicorn", "pkg_resources", "prometheus_client", "decorator"):
        places[name] = os.path.realpath(importlib.import_module(name).__file__)
    assert {name: path for name, path in places.items() if not path.startswith(DIST_PACKAGES)} == {}


# Loads the app the way `gunicorn -c gunicorn.conf.py` does (config file, WSGI app, the
# configured worker class, the admin app and its server), serves a few requests, and writes
# the file of every module loaded since the interpreter started (site and .pth imports
# excluded) to $MODULE_LIST as JSON.
LOADER = textwrap.dedent("""
    import json, os, sys
    before = set(sys.modules)
    import gunicorn.app.wsgiapp, gunicorn.arbiter, gunicorn.workers.gthread
    sys.argv = ["gunicorn", "-c", "gunicorn.conf.py"]
    application = gunicorn.app.wsgiapp.WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]")
    assert application.cfg.worker_class.__name__ == "HeaderTimeoutWorker"
    wsgi = application.load()
    client = wsgi.test_client()
    for path in ("/", "/config", "/healthz", "/readyz", "/metrics", "/missing"):
        client.get(path)
    import app, app.admin
    listener = app.admin.listen("127.0.0.1", 0)
    app.admin.serve_in_background(listener, app.create_admin_app())
    import urllib.request
    for path in ("/metrics", "/healthz"):
        urllib.request.urlopen(f"http://127.0.0.1:{listener.getsockname()[1]}{path}", timeout=10).read()
    files = {getattr(module, "__file__", None)
             for name, module in list(sys.modules.items()) if name not in before}
    files = sorted(os.path.realpath(f) for f in files if f)
    with open(os.environ["MODULE_LIST"], "w") as out:
        json.dump(files, out)
""")


def test_everything_the_served_app_loads_comes_from_a_pinned_package(tmp_path):
    """A module from an unpinned package would be code the image gets at another version."""
    listing = tmp_path / "modules.json"
    (tmp_path / "metrics").mkdir()  # gunicorn's on_starting hook would create it
    env = {
        **os.environ,  # the same module search path as this suite (PYTHONPATH included)
        "MODULE_LIST": str(listing),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "SECRET_KEY": "x", "DB_PASSWORD": "y", "API_BASE_URL": "http://api.example.invalid",
    }
    proc = subprocess.run([sys.executable, "-c", LOADER], cwd=APP_SRC, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    files = json.loads(listing.read_text())
    assert len(files) > 100  # flask, werkzeug, jinja2, gunicorn, prometheus_client, stdlib

    # The app's own modules ship from app-src; everything else must be a pinned package's.
    # /usr/bin/python3 runs /usr/bin/gunicorn (its #! line) and is a symlink to the binary.
    checked = [f for f in files if not f.startswith(str(APP_SRC) + os.sep)]
    checked += ["/usr/bin/python3", os.path.realpath(sys.executable)]
    found = owners(checked)
    pinned = set(pins())
    unpinned = {path: found.get(path, "no package") for path in checked if found.get(path) not in pinned}
    assert unpinned == {}
    # The ones named in the header comment really are loaded (else the comment is stale).
    assert {"python3-blinker", "python3-decorator", "python3-pkg-resources",
            "python3-markupsafe", "python3-minimal"} <= set(found.values())
