"""The image recipe, checked as text without building it: pin down what the chart relies on."""

import re
import subprocess
from pathlib import Path

from test_requirements import SELECT, owners, pins

APP_SRC = Path(__file__).resolve().parent.parent
BASE = "debian:bookworm-slim@sha256:abd67ffcfa541b485a3dff59865ab629aa048a6c613e639d36e7456b0b229241"


def instructions():
    text = (APP_SRC / "Dockerfile").read_text().replace("\\\n", " ")
    # Whitespace runs collapsed, so continued lines read as one.
    return [" ".join(line.split()) for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def runs():
    return [i for i in instructions() if i.startswith("RUN ")]


def test_base_is_bookworm_slim_pinned_by_digest():
    """The same Debian release as the tests' packages, and no other stage."""
    assert [i for i in instructions() if i.startswith("FROM ")] == [f"FROM {BASE}"]


def test_installs_exactly_packages_txt_with_apt():
    ins = instructions()
    assert "COPY packages.txt ./" in ins
    installs = [i for i in runs() if "apt-get install" in i]
    assert len(installs) == 1
    run = installs[0]
    assert ins.index("COPY packages.txt ./") < ins.index(run)
    assert run.startswith("RUN apt-get update && ")
    # The selection CI uses, so both install the same pins (see test_requirements.py).
    assert re.search(r"apt-get install -y --no-install-recommends \$\(" + re.escape(SELECT) + r"\)", run)
    assert "rm -rf /var/lib/apt/lists/*" in run
    # The whole point: no second source of Python code.
    assert not [i for i in runs() if re.search(r"\bpip3?\b|easy_install|\bcurl\b|\bwget\b", i)]


def test_app_version_is_a_build_arg_defaulting_to_dev():
    ins = instructions()
    assert "ARG APP_VERSION=dev" in ins
    assert ins.index("ARG APP_VERSION=dev") < ins.index("ENV APP_VERSION=$APP_VERSION")


def test_bytecode_is_compiled_for_the_read_only_root():
    ins = instructions()
    compile_run = "RUN python3 -m compileall -q /app"
    assert compile_run in ins
    assert ins.index("COPY app/ ./app/") < ins.index(compile_run)


def test_runs_as_numeric_non_root_user_10001():
    users = [i.split()[1] for i in instructions() if i.startswith("USER ")]
    assert users == ["10001:10001"]
    assert any("useradd --system --uid 10001 --gid 10001" in i for i in runs())


def test_serves_gunicorn_with_the_tested_config_on_8080_and_9090():
    ins = instructions()
    assert "EXPOSE 8080 9090" in ins
    envs = " ".join(i for i in ins if i.startswith("ENV "))
    assert "PORT=8080" in envs and "ADMIN_PORT=9090" in envs
    assert "WORKDIR /app" in ins and "COPY gunicorn.conf.py ./" in ins
    assert ins[-1] == 'CMD ["gunicorn", "-c", "gunicorn.conf.py"]'


def test_the_commands_the_image_runs_come_from_pinned_packages():
    """CMD's gunicorn and compose's healthcheck python3 exist in the image: pinned packages own them."""
    compose = (APP_SRC / "compose.yaml").read_text()
    health = re.search(r'test: \["CMD", "([^"]+)"', compose)
    assert health, "compose.yaml healthcheck is not an exec-form CMD"
    paths = ["/usr/bin/gunicorn", f"/usr/bin/{health[1]}"]
    assert set(owners(paths).values()) <= set(pins()) and len(owners(paths)) == 2


def test_the_images_gunicorn_command_runs_the_pinned_gunicorn():
    """The tests start `python3 -m gunicorn`; the image's /usr/bin/gunicorn must be the same code."""
    upstream = pins()["python3-gunicorn"].split("-")[0]
    assert Path("/usr/bin/gunicorn").read_text().startswith("#!/usr/bin/python3\n")
    out = subprocess.run(["/usr/bin/gunicorn", "--version"], capture_output=True, text=True, check=True)
    assert f"(version {upstream})" in out.stdout + out.stderr


def test_compose_publishes_both_ports_and_probes_the_admin_port():
    compose = (APP_SRC / "compose.yaml").read_text()
    assert '"127.0.0.1:8080:8080"' in compose and '"127.0.0.1:9090:9090"' in compose
    assert "http://127.0.0.1:9090/readyz" in compose


def test_build_context_is_an_allow_list_without_tests_bench_or_env():
    lines = [line.strip() for line in (APP_SRC / ".dockerignore").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0] == "*"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert allowed == {"packages.txt", "gunicorn.conf.py", "app"}
