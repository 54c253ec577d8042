"""The deployment files (docs/deploy.md): ``Dockerfile`` and ``.dockerignore``,
``deploy/compose.yaml`` with ``deploy/nginx.conf``, the Helm chart ``deploy/helm/mockllm``.

Always run (fast): the files say what users rely on: two replicas sharing one Redis state
behind a proxy that routes to both and passes streams through; an image that runs as a
non-root user, installs the ``redis`` extra and health-checks ``/-/health`` (the check's own
command is run against a live server); a build context without the virtual environment; a
chart whose default config is valid. When ``nginx`` is installed, ``deploy/nginx.conf`` itself
proxies two live servers.

When ``helm`` is on PATH: ``helm lint`` and ``helm template`` (probes, ConfigMap, HPA, Redis
state, the admin token). When a Docker daemon answers: the image is built and its container
answers the OpenAI SDK. Otherwise those tests are skipped with the reason (``pytest -ra``).
"""

from __future__ import annotations

import base64
import fnmatch
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from openai import OpenAI

from mockllm import __version__
from mockllm.rules.loader import parse_config
from mockllm.settings import Settings
from mockllm.testing import MockServer, free_port

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE = ROOT / "deploy" / "compose.yaml"
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
CHART = ROOT / "deploy" / "helm" / "mockllm"

SKY = "The sky is blue during a clear day due to a phenomenon called Rayleigh scattering."
"""The embedded default config's answer to "what colour is the sky?"."""


# --- Dockerfile ----------------------------------------------------------------------------


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` of each instruction, continuation lines joined and
    comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, rest = (pending + line).partition(" ")
        out.append((keyword.upper(), rest.strip()))
        pending = ""
    return out


def final_stage() -> list[tuple[str, str]]:
    """The instructions of the image's last stage, from its ``FROM`` (build ARGs resolved in
    the ``FROM`` line)."""
    instructions = dockerfile_instructions(DOCKERFILE.read_text(encoding="utf-8"))
    args: dict[str, str] = {}
    for keyword, rest in instructions:
        if keyword == "FROM":
            break
        if keyword == "ARG" and "=" in rest:
            name, _, value = rest.partition("=")
            args[name] = value
    start = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    stage = list(instructions[start:])
    stage[0] = ("FROM", re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], stage[0][1]))
    return stage


def healthcheck_command() -> list[str]:
    """The image's HEALTHCHECK command (exec form)."""
    (check,) = [rest for keyword, rest in final_stage() if keyword == "HEALTHCHECK"]
    _options, cmd, exec_form = check.partition("CMD ")
    assert cmd, f"HEALTHCHECK without CMD: {check}"
    command: list[str] = json.loads(exec_form)
    return command


def test_the_image_runs_as_a_non_root_numeric_user_the_chart_agrees_with() -> None:
    users = [rest for keyword, rest in final_stage() if keyword == "USER"]
    assert users, "the image runs as root: no USER in its last stage"
    user, _, group = users[-1].partition(":")
    assert user not in ("root", "0") and group not in ("root", "0"), users[-1]
    # Kubernetes' runAsNonRoot can only check a numeric user; the chart runs the same one.
    assert user.isdigit(), f"USER {users[-1]}: Kubernetes cannot verify a user name"
    values = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    assert values["podSecurityContext"]["runAsNonRoot"] is True
    assert values["podSecurityContext"]["runAsUser"] == int(user)


def test_the_image_is_slim_python_serving_mockllm_on_8000_for_everyone() -> None:
    stage = final_stage()
    assert stage[0] == ("FROM", "python:3.12-slim")
    assert ("EXPOSE", "8000") in stage
    env = " ".join(rest for keyword, rest in stage if keyword == "ENV")
    # The server's default is 127.0.0.1: unreachable from outside a container.
    assert "MOCKLLM_HOST=0.0.0.0" in env.split()
    assert "MOCKLLM_PORT=8000" in env.split()
    (cmd,) = [rest for keyword, rest in stage if keyword == "CMD"]
    assert json.loads(cmd) == ["mockllm", "serve"]


def test_the_image_installs_mockllm_with_the_redis_extra() -> None:
    runs = [
        rest
        for keyword, rest in dockerfile_instructions(DOCKERFILE.read_text())
        if keyword == "RUN"
    ]
    installs = [r for r in runs if re.search(r"pip install [^&]*\[redis\]", r)]
    assert installs, "no `pip install ...[redis]` in the Dockerfile"


def test_the_image_gets_the_redis_client_through_what_it_installs() -> None:
    # pip only warns about an extra a package does not declare: the image would build, maybe
    # without the Redis client, and fail at the first MOCKLLM_STATE=redis://... start.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert "redis" in extras, (
        "pyproject.toml declares no `redis` extra (the Dockerfile installs it)"
    )
    installed = [*project["dependencies"], *extras["redis"]]
    assert any(re.match(r"redis\b", spec) for spec in installed), installed


def test_the_healthcheck_passes_on_a_serving_port_and_fails_on_a_closed_one(
    server: MockServer,
) -> None:
    command = healthcheck_command()
    assert "/-/health" in " ".join(command)
    assert command[0] == "python"  # no curl in the slim image

    def check(port: int) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, MOCKLLM_PORT=str(port))
        # A proxy set in the container must not take the check off the loopback.
        env.update(http_proxy="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9")
        return subprocess.run(
            [sys.executable, *command[1:]], env=env, capture_output=True, text=True, timeout=30
        )

    passing = check(server.port)
    assert passing.returncode == 0, passing.stderr
    failing = check(free_port())
    assert failing.returncode != 0


# --- .dockerignore -------------------------------------------------------------------------


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves ``path`` (relative, with ``/``) out of the build context: the
    last pattern matching it or one of its parent folders wins; ``!`` re-includes."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = pattern.lstrip("!").strip("/")
        variants = {body, body[3:]} if body.startswith("**/") else {body}
        if any(fnmatch.fnmatchcase(c, v) for c in candidates for v in variants):
            ignored = not negated
    return ignored


def test_the_build_context_holds_what_the_image_is_built_from_and_nothing_heavy() -> None:
    lines = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    for heavy in (
        ".venv/bin/python",
        ".git/HEAD",
        "tests/js/node_modules/openai/package.json",
        "bench/results/run.json",
        "build/lib/mockllm/app.py",
        "dist/mockllm-1.0.0-py3-none-any.whl",
        ".mypy_cache/3.11/x.json",
        "src/mockllm/__pycache__/app.cpython-312.pyc",
        "src/mockllm.egg-info/PKG-INFO",
    ):
        assert dockerignored(heavy, patterns), f"{heavy} would be sent to the Docker daemon"
    copied = [
        source
        for keyword, rest in dockerfile_instructions(DOCKERFILE.read_text(encoding="utf-8"))
        if keyword == "COPY" and "--from" not in rest
        for source in rest.split()[:-1]
    ]
    assert "src" in copied
    for needed in [*copied, "src/mockllm/rules/default.yml", "src/mockllm/core/vocab/NOTICE"]:
        assert not dockerignored(needed, patterns), f"{needed} is COPYed but left out"


# --- compose and nginx ---------------------------------------------------------------------


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return loaded


def interpolate(text: str) -> str:
    """Compose's ``${VAR:-default}`` with no variable set: the default."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", text)


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def replicas() -> dict[str, dict[str, Any]]:
    """The services built from this repository's Dockerfile."""
    return {
        name: service
        for name, service in compose()["services"].items()
        if "build" in service
        and (COMPOSE.parent / service["build"]["context"]).resolve() == ROOT
        and service["build"].get("dockerfile", "Dockerfile") == "Dockerfile"
    }


def test_compose_runs_two_replicas_sharing_one_redis_state() -> None:
    services = compose()["services"]
    mockllms = replicas()
    assert len(mockllms) == 2, sorted(mockllms)
    states = {environment(s).get("MOCKLLM_STATE") for s in mockllms.values()}
    assert len(states) == 1, f"the replicas name different states: {states}"
    (state,) = states
    assert state is not None, "MOCKLLM_STATE unset: each replica keeps its own state"
    url = urlsplit(state)
    assert url.scheme == "redis" and url.port == 6379, state
    redis = services[url.hostname]
    assert redis["image"].startswith("redis:"), redis["image"]
    assert "redis-cli" in redis["healthcheck"]["test"]
    for name, service in mockllms.items():
        # Started only once Redis answers, and reachable only through the proxy.
        assert service["depends_on"][url.hostname]["condition"] == "service_healthy", name
        assert "ports" not in service, name


def nginx_directives(text: str) -> list[tuple[str, list[str], list[Any] | None]]:
    """``deploy/nginx.conf`` as ``(name, arguments, block or None)`` trees."""
    tokens = re.findall(r'"[^"]*"|[{};]|[^\s{};"]+', re.sub(r"#[^\n]*", "", text))

    def block(pos: int) -> tuple[list[tuple[str, list[str], list[Any] | None]], int]:
        out: list[tuple[str, list[str], list[Any] | None]] = []
        words: list[str] = []
        while pos < len(tokens):
            token = tokens[pos]
            pos += 1
            if token == ";":
                out.append((words[0], words[1:], None))
                words = []
            elif token == "{":
                children, pos = block(pos)
                out.append((words[0], words[1:], children))
                words = []
            elif token == "}":
                return out, pos
            else:
                words.append(token[1:-1] if token.startswith('"') else token)
        return out, pos

    return block(0)[0]


def only(directives: list[Any], name: str) -> tuple[str, list[str], list[Any] | None]:
    found = [d for d in directives if d[0] == name]
    assert len(found) == 1, f"{len(found)} `{name}` directives"
    return found[0]  # type: ignore[no-any-return]


def arguments(directives: list[Any], name: str) -> list[str]:
    return only(directives, name)[1]


def nginx_http() -> list[Any]:
    http = only(nginx_directives(NGINX_CONF.read_text(encoding="utf-8")), "http")[2]
    assert http is not None
    return http


def seconds(value: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    number, unit = re.fullmatch(r"(\d+)(ms|s|m|h)?", value).groups()  # type: ignore[union-attr]
    return int(number) * units[unit or "s"]


def test_the_proxy_routes_round_robin_to_both_replicas_on_loopback() -> None:
    http = nginx_http()
    upstreams = {args[0]: body for name, args, body in http if name == "upstream"}
    (server,) = [body for name, _, body in http if name == "server"]
    assert server is not None
    (location,) = [body for name, args, body in server if name == "location" and args == ["/"]]
    target = urlsplit(arguments(location, "proxy_pass")[0])
    upstream = upstreams[target.hostname or ""]
    servers = {args[0] for name, args, _ in upstream if name == "server"}
    assert servers == {f"{name}:8000" for name in replicas()}
    balancing = {"least_conn", "hash", "ip_hash", "random", "sticky"}
    assert not balancing & {name for name, _, _ in upstream}, "not round robin"

    proxy = compose()["services"]["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    (published,) = [interpolate(p) for p in proxy["ports"]]
    host, host_port, container_port = published.rsplit(":", 2)
    assert host == "127.0.0.1", f"published beyond loopback by default: {published}"
    assert (host_port, container_port) == ("8000", "8000")
    assert arguments(server, "listen") == [container_port]


def test_the_proxy_passes_streams_through_on_kept_alive_connections() -> None:
    http = nginx_http()
    (upstream,) = [body for name, _, body in http if name == "upstream"]
    (server,) = [body for name, _, body in http if name == "server"]
    assert upstream is not None and server is not None
    (location,) = [body for name, args, body in server if name == "location" and args == ["/"]]
    assert arguments(location, "proxy_buffering") == ["off"]
    assert arguments(location, "proxy_http_version") == ["1.1"]
    assert ["Connection", ""] in [args for name, args, _ in location if name == "proxy_set_header"]
    assert int(arguments(upstream, "keepalive")[0]) > 0
    # nginx must drop an idle connection before mockllm does, or a request sent on a
    # connection the replica is closing gets a 502.
    defaults = Settings.model_fields
    idle = seconds(arguments(upstream, "keepalive_timeout")[0])
    assert idle < defaults["limit_keep_alive_seconds"].default
    # A slow stream (latency, stalls) may be quiet for long: more than nginx's default 60 s.
    assert seconds(arguments(location, "proxy_read_timeout")[0]) >= 600
    # A body mockllm accepts is not refused by the proxy first.
    size = arguments(server, "client_max_body_size")[0]
    assert size.endswith("m") and int(size[:-1]) * 1024 * 1024 >= defaults["max_body_bytes"].default


@pytest.fixture
def nginx() -> str:
    path = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
    if path is None:
        pytest.skip("nginx not installed: deploy/nginx.conf is not run against live servers")
    return path


def wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while True:
        if proc.poll() is not None:
            pytest.fail(f"nginx exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail(f"nginx did not listen:\n{log.read_text()}")
            time.sleep(0.05)


def test_the_nginx_config_round_robins_and_streams_between_two_live_servers(
    nginx: str, tmp_path: Path
) -> None:
    one = MockServer(config_text='rules: [{reply: "one two three four five"}]')
    two = MockServer(config_text='rules: [{reply: "two three four five six"}]')
    with one, two:
        # The compose file's config, with the replicas' names (Docker's DNS) made the live
        # servers' addresses and the proxy on a free loopback port.
        text = NGINX_CONF.read_text(encoding="utf-8")
        text = re.sub(r"^\s*resolver .*$", "", text, flags=re.M)
        text = text.replace("mockllm-1:8000 resolve;", f"127.0.0.1:{one.port};")
        text = text.replace("mockllm-2:8000 resolve;", f"127.0.0.1:{two.port};")
        port = free_port()
        text = text.replace("listen 8000;", f"listen 127.0.0.1:{port};")
        # One process as this user, in the foreground, everything under tmp_path.
        text = f"daemon off;\nmaster_process off;\npid {tmp_path}/nginx.pid;\n{text}"
        conf = tmp_path / "nginx.conf"
        conf.write_text(text, encoding="utf-8")
        log = tmp_path / "nginx.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [nginx, "-p", f"{tmp_path}/", "-c", str(conf), "-e", "stderr"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for_port(port, proc, log)
            with OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="x", max_retries=0) as c:
                answers = {
                    c.chat.completions.create(
                        model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
                    )
                    .choices[0]
                    .message.content
                    for _ in range(4)
                }
                assert answers == {"one two three four five", "two three four five six"}
                stream = c.chat.completions.create(
                    model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True
                )
                pieces = [e.choices[0].delta.content for e in stream if e.choices]
            text_pieces = [p for p in pieces if p]
            assert len(text_pieces) > 1, pieces
            assert "".join(text_pieces) in answers
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


# --- the Helm chart ------------------------------------------------------------------------


def chart_values() -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    return values


def test_the_charts_default_config_is_a_valid_mockllm_config() -> None:
    config = parse_config(chart_values()["config"], "values.yaml: config")
    assert not config.warnings, [str(w) for w in config.warnings]


def test_the_charts_app_version_is_mockllms_version() -> None:
    # The image tag the chart pulls by default (image.tag empty) is its appVersion.
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text(encoding="utf-8"))
    assert chart["appVersion"] == __version__
    assert chart_values()["image"]["tag"] == ""


@pytest.fixture(scope="module")
def helm() -> str:
    path = shutil.which("helm")
    if path is None:
        pytest.skip("helm not installed: helm lint and helm template not run")
    return path


def helm_run(helm: str, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([helm, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"helm {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done


def render(helm: str, *sets: str) -> dict[str, dict[str, Any]]:
    """``helm template`` with ``--set`` ``sets``: the manifests by kind (one of each)."""
    options = [opt for s in sets for opt in ("--set", s)]
    done = helm_run(helm, "template", "demo", str(CHART), "--namespace", "tests", *options)
    manifests: dict[str, dict[str, Any]] = {}
    for doc in yaml.safe_load_all(done.stdout):
        if doc:
            assert doc["kind"] not in manifests, f"two {doc['kind']}s"
            manifests[doc["kind"]] = doc
    return manifests


def container(manifests: dict[str, dict[str, Any]]) -> dict[str, Any]:
    (only_container,) = manifests["Deployment"]["spec"]["template"]["spec"]["containers"]
    return only_container  # type: ignore[no-any-return]


def env_of(manifests: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container(manifests)["env"]}


EVERYTHING = (
    "replicaCount=2",
    "state.url=redis://redis:6379/0",
    "adminToken.value=s3cret",
    "autoscaling.enabled=true",
    "autoscaling.requestsPerSecond=200",
    "metrics.serviceMonitor.enabled=true",
)


def test_helm_lint_passes_with_the_defaults_and_with_every_feature_on(helm: str) -> None:
    helm_run(helm, "lint", str(CHART))
    helm_run(helm, "lint", str(CHART), *[o for s in EVERYTHING for o in ("--set", s)])


def test_helm_template_probes_health_and_readiness_and_mounts_the_config(helm: str) -> None:
    manifests = render(helm)
    main = container(manifests)
    assert main["livenessProbe"]["httpGet"] == {"path": "/-/health", "port": "http"}
    assert main["startupProbe"]["httpGet"] == {"path": "/-/health", "port": "http"}
    assert main["readinessProbe"]["httpGet"] == {"path": "/-/ready", "port": "http"}
    assert {"name": "http", "containerPort": 8000, "protocol": "TCP"} in main["ports"]

    config_map = manifests["ConfigMap"]
    assert yaml.safe_load(config_map["data"]["rules.yml"]) == yaml.safe_load(
        chart_values()["config"]
    )
    pod = manifests["Deployment"]["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in main["volumeMounts"]}
    assert volumes[mounts["/config"]]["configMap"]["name"] == config_map["metadata"]["name"]
    assert env_of(manifests)["MOCKLLM_CONFIG"] == "/config/rules.yml"
    assert env_of(manifests)["MOCKLLM_HOST"] == "0.0.0.0"
    assert "MOCKLLM_STATE" not in env_of(manifests)  # memory by default

    # Non-root, read-only root filesystem, /tmp writable (the tokenizer's tables).
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert main["securityContext"]["readOnlyRootFilesystem"] is True
    assert "emptyDir" in volumes[mounts["/tmp"]]
    service = manifests["Service"]["spec"]
    assert service["ports"][0]["targetPort"] == "http"
    pod_labels = manifests["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert service["selector"].items() <= pod_labels.items()
    assert "HorizontalPodAutoscaler" not in manifests  # off by default


def test_helm_template_without_a_config_serves_the_embedded_default(helm: str) -> None:
    manifests = render(helm, "config=null")
    assert "ConfigMap" not in manifests
    assert "MOCKLLM_CONFIG" not in env_of(manifests)


def test_helm_template_autoscales_on_the_request_rate_with_a_cpu_fallback(helm: str) -> None:
    manifests = render(helm, "autoscaling.enabled=true", "autoscaling.requestsPerSecond=200")
    hpa = manifests["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"]["name"] == manifests["Deployment"]["metadata"]["name"]
    assert "replicas" not in manifests["Deployment"]["spec"]  # the HPA owns it
    by_type = {m["type"]: m for m in hpa["metrics"]}
    assert by_type["Pods"]["pods"]["metric"]["name"] == "mockllm_requests_per_second"
    assert by_type["Pods"]["pods"]["target"] == {"type": "AverageValue", "averageValue": "200"}
    assert by_type["Resource"]["resource"]["name"] == "cpu"


def test_helm_template_shares_redis_state_and_guards_with_the_token(helm: str) -> None:
    manifests = render(helm, *EVERYTHING)
    env = env_of(manifests)
    assert env["MOCKLLM_STATE"] == "redis://redis:6379/0"
    secret_ref = env["MOCKLLM_ADMIN_TOKEN"]["secretKeyRef"]
    secret = manifests["Secret"]
    assert secret_ref["name"] == secret["metadata"]["name"]
    assert base64.b64decode(secret["data"][secret_ref["key"]]) == b"s3cret"
    endpoint = manifests["ServiceMonitor"]["spec"]["endpoints"][0]
    assert endpoint["path"] == "/metrics"
    assert endpoint["authorization"]["credentials"] == secret_ref

    # /-/ready is behind the token: the readiness probe's command sends it.
    command = container(manifests)["readinessProbe"]["exec"]["command"]
    assert command[0] == "python"
    with MockServer(config_text="responses: {hi: hello}", admin_token="s3cret") as live:
        script = command[2].replace("127.0.0.1:8000", f"127.0.0.1:{live.port}")
        for token, ready in (("s3cret", True), ("wrong", False)):
            done = subprocess.run(
                [sys.executable, "-c", script],
                env=dict(os.environ, MOCKLLM_ADMIN_TOKEN=token),
                capture_output=True,
                text=True,
                timeout=30,
            )
            assert (done.returncode == 0) is ready, done.stderr


# --- the image, built and run --------------------------------------------------------------

IMAGE = "mockllm-test"


def docker(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def image() -> str:
    """The image built from the repository (``docker build -t mockllm-test .``)."""
    if shutil.which("docker") is None:
        pytest.skip("docker not installed: the image is not built")
    try:
        info = docker("info", timeout=30)
    except subprocess.TimeoutExpired:
        pytest.skip("the Docker daemon did not answer `docker info`: the image is not built")
    if info.returncode != 0:
        pytest.skip("no Docker daemon reachable (`docker info` failed): the image is not built")
    built = docker("build", "-t", IMAGE, str(ROOT), timeout=1800)
    assert built.returncode == 0, (
        f"docker build failed:\n{built.stdout[-5000:]}\n{built.stderr[-5000:]}"
    )
    return IMAGE


@pytest.fixture
def containers() -> Iterator[list[str]]:
    """Names of the containers a test starts; each removed afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        docker("rm", "--force", name, timeout=60)


def published_url(name: str) -> str:
    """The URL of the container's port 8000, published on a random loopback port, once it
    answers ``/-/health``."""
    mapping = docker("port", name, "8000/tcp").stdout.split()
    if not mapping:
        logs = docker("logs", name)
        pytest.fail(f"the container's port 8000 is not published:\n{logs.stdout}\n{logs.stderr}")
    port = mapping[0].rsplit(":", 1)[1]
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/-/health", timeout=2).status_code == 200:
                return url
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            logs = docker("logs", name)
            pytest.fail(f"the container did not answer /-/health:\n{logs.stdout}\n{logs.stderr}")
        time.sleep(0.2)


def ask(url: str, prompt: str) -> str | None:
    with OpenAI(base_url=url + "/v1", api_key="test", max_retries=0, timeout=30) as client:
        reply = client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": prompt}]
        )
    return reply.choices[0].message.content


def test_the_container_answers_the_openai_sdk_read_only_and_non_root(
    image: str, containers: list[str]
) -> None:
    name = f"mockllm-test-{os.getpid()}-default"
    containers.append(name)
    started = docker(
        "run", "--detach", "--name", name, "--read-only", "--tmpfs", "/tmp",
        "--publish", "127.0.0.1::8000", "--health-interval", "1s", image,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    url = published_url(name)
    assert ask(url, "what colour is the sky?") == SKY  # the embedded default config
    assert docker("exec", name, "id", "-u").stdout.strip() != "0"
    # The image's HEALTHCHECK itself (python's urllib) reports the container healthy.
    deadline = time.monotonic() + 60
    while (
        status := docker("inspect", "--format", "{{.State.Health.Status}}", name)
    ).stdout.strip() != "healthy":
        assert time.monotonic() < deadline, f"health: {status.stdout} {status.stderr}"
        time.sleep(0.5)


def test_the_container_serves_the_config_file_at_config_rules_yml(
    image: str, containers: list[str], tmp_path: Path
) -> None:
    # MOCKLLM_CONFIG naming a file at /config/rules.yml, as with `-v ./rules.yml:/config/...`.
    # The file goes in by `docker cp` (created, given the file, then started): unlike a bind
    # mount, it needs no path that the daemon and this process both see (Docker in Docker).
    name = f"mockllm-test-{os.getpid()}-config"
    containers.append(name)
    created = docker(
        "create", "--name", name, "--publish", "127.0.0.1::8000",
        "--env", "MOCKLLM_CONFIG=/config/rules.yml", image,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    rules = tmp_path / "rules.yml"
    rules.write_text('rules:\n  - reply: "From the mounted config."\n', encoding="utf-8")
    copied = docker("cp", str(rules), f"{name}:/config/rules.yml")
    assert copied.returncode == 0, copied.stderr
    assert docker("start", name).returncode == 0
    assert ask(published_url(name), "anything") == "From the mounted config."
