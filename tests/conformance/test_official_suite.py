"""The official MCP conformance suite (npm `@modelcontextprotocol/conformance`, pinned in package.json here) against
both HTTP entry points, `runmcp --transport http` and `/mcp` in the main ASGI app, with the SSE event history in
Redis.

The suite's client sends no credentials and has no option to, so it reaches the server through nginx adding a
member's API key, as an API gateway in front of the server would. Two releases run: 0.1.16 (the `latest` tag) and
0.2.0-alpha.12, whose server-sse-polling scenario sends the negotiated protocol version: 0.1.16's sends
`2025-03-26`, to which a server rightly sends no priming event (old clients cannot parse one), so its SSE polling
checks can only warn, against any SDK.

Only scenarios that apply to a governed tenant server run; every other scenario of the pinned releases is in
NOT_RUN with the reason, and a test checks that the two lists cover each release exactly, so bumping a pin makes
someone classify its new scenarios. Inside a scenario a check may fail only if it is in NOT_TESTABLE, and a listed
check that passes fails the test too, so neither list can go stale.
"""

import glob
import json
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from django.db import connection

from tests.e2e.replicas import NGINX, Deployment, Replica, free_port, nginx_file, stop_process, wait_until_answering
from tests.mcp.conftest import TEST_REDIS_URL, http_server_factory, mcp_db, server_env  # noqa: F401  (fixtures)
from tests.mcp.helpers import member_key

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
SUITES = {"conformance": "0.1.16", "conformance-next": "0.2.0-alpha.12"}

_IN_BOTH = [
    "server-initialize",
    "ping",
    "tools-list",
    "resources-list",
    "server-sse-multiple-streams",
    "dns-rebinding-protection",
]
SCENARIOS = {
    "conformance": _IN_BOTH,
    "conformance-next": [
        *_IN_BOTH,
        "server-sse-polling",
        "server-session-lifecycle",
        "server-stateless",
        "http-header-validation",
        "sep-2164-resource-not-found",
        "caching",
    ],
}

_TOOLS = "calls the reference server's fixture tool(s) by name; our tools are the tenant's storage tools"
_NO_LOGGING = "logging/setLevel: we do not offer the logging capability (-32601 is the spec's answer)"
_NO_ASKING = "we never ask the client for sampling or elicitation: a governed tool call does not depend on the model"
_NO_PROMPTS = "we offer no prompts (-32601 is the spec's answer)"
NOT_RUN_IN_BOTH = {
    "logging-set-level": _NO_LOGGING,
    "completion-complete": "we offer no completions (no prompts, no resource templates to complete)",
    "tools-call-simple-text": _TOOLS,
    "tools-call-image": _TOOLS,
    "tools-call-audio": _TOOLS,
    "tools-call-embedded-resource": _TOOLS,
    "tools-call-mixed-content": _TOOLS,
    "tools-call-error": _TOOLS,
    "tools-call-with-progress": _TOOLS,
    "tools-call-with-logging": _NO_LOGGING,
    "tools-call-sampling": _NO_ASKING,
    "tools-call-elicitation": _NO_ASKING,
    "elicitation-sep1034-defaults": _NO_ASKING,
    "elicitation-sep1330-enums": _NO_ASKING,
    "json-schema-2020-12": _TOOLS + " (json_schema_2020_12_tool)",
    "resources-read-text": "reads the fixture resource test://static-text; ours are the caller's artifacts",
    "resources-read-binary": "reads the fixture resource test://static-binary; ours are the caller's artifacts",
    "resources-templates-read": "we offer no resource templates",
    "resources-subscribe": "we do not offer resource subscriptions",
    "resources-unsubscribe": "we do not offer resource subscriptions",
    "prompts-list": _NO_PROMPTS,
    "prompts-get-simple": _NO_PROMPTS,
    "prompts-get-with-args": _NO_PROMPTS,
    "prompts-get-embedded-resource": _NO_PROMPTS,
    "prompts-get-with-image": _NO_PROMPTS,
}
NOT_RUN = {
    "conformance": {
        **NOT_RUN_IN_BOTH,
        "server-sse-polling": "run from 0.2.0-alpha.12: this release's sends a 2025-03-26 protocol header (no priming)",
    },
    "conformance-next": {
        **NOT_RUN_IN_BOTH,
        "http-custom-header-server-validation": "needs tools with x-mcp-header annotations (SEP-2243); we have none",
    },
}
NOT_RUN_PREFIXES = {
    "tasks-": "the tasks extension: we do not offer it",
    "input-required-result-": "multi-round input requests (elicitation, sampling, roots): " + _NO_ASKING,
    "sep-2640-skills-": "the skills extension: we do not offer it",
}

# Checks that must be there and pass: without them a scenario could "pass" by testing nothing.
REQUIRED = {
    "server-sse-polling": {"server-sse-priming-event", "server-sse-retry-field", "server-sse-disconnect-resume"},
}

_FIXTURE = "needs a fixture of the suite's reference server that a tenant server does not have"
NOT_TESTABLE = {
    ("server-stateless", "sep-2575-server-rejects-undeclared-capability"): f"{_FIXTURE}: tool test_missing_capability",
    ("server-stateless", "sep-2575-missing-capability-http-400"): f"{_FIXTURE}: tool test_missing_capability",
    ("server-stateless", "sep-2575-http-server-no-independent-requests-on-stream"): (
        f"{_FIXTURE}: tool test_streaming_elicitation (we send no elicitations)"
    ),
    ("server-stateless", "sep-2575-server-no-log-without-loglevel"): (
        f"{_FIXTURE}: tool test_logging_tool (we send no log messages)"
    ),
    ("server-stateless", "sep-2575-server-sends-tools-list-changed-on-subscription"): (
        f"{_FIXTURE}: tool test_trigger_tool_change (our tool lists change with policy; tests/mcp covers that)"
    ),
    ("server-stateless", "sep-2575-server-sends-prompts-list-changed-on-subscription"): "we offer no prompts",
    ("caching", "sep-2549-prompts-list-caching-hints"): "we offer no prompts",
    ("caching", "sep-2549-resources-templates-list-caching-hints"): "we offer no resource templates",
    ("caching", "sep-2549-resources-read-caching-hints"): "a fresh member has no artifacts, so no resource to read",
}
_PASSING = {"SUCCESS", "INFO"}

GATEWAY_CONF = """\
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass {upstream};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header Authorization "Bearer {key}";
            proxy_buffering off;
            proxy_cache off;
            proxy_read_timeout 1h;
        }}
    }}"""


@pytest.fixture(scope="session")
def node() -> str:
    """The pinned suite (`npm ci` when it is not installed yet) and a Node that runs it (>= 22)."""
    if not (HERE / "node_modules" / "conformance-next").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed to install the conformance suite (tests/conformance/package.json)")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True, timeout=600)
    pinned = HERE / "node_modules" / ".bin" / "node"
    found = str(pinned) if pinned.exists() else shutil.which("node")
    if found is None:
        pytest.fail("no Node.js to run the conformance suite: install Node >= 22 or run `npm ci` in tests/conformance")
    return found


class Gateway:
    """nginx in front of one server, adding the API key to every request."""

    def __init__(self, upstream: str, key: str, work: Path):
        if not Path(NGINX).exists():
            pytest.fail("the conformance gateway needs Debian's nginx (apt-get install nginx; .ci/run installs it)")
        work.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        conf = work / "gateway.conf"
        conf.write_text(
            nginx_file(work=work, connections=256, http=GATEWAY_CONF.format(port=self.port, upstream=upstream, key=key))
        )
        self.log = work / "gateway-error.log"
        self.log.touch()
        self.process = subprocess.Popen(
            [NGINX, "-p", str(work), "-c", str(conf), "-e", str(self.log)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        metadata = f"http://127.0.0.1:{self.port}/.well-known/oauth-protected-resource/mcp"
        wait_until_answering(metadata, self.process, self.log)

    def stop(self) -> None:
        stop_process(self.process, signal.SIGQUIT, grace=10)  # nginx's graceful shutdown


def run_scenario(node: str, suite: str, scenario: str, url: str, out: Path) -> list[dict]:
    cli = HERE / "node_modules" / suite / "dist" / "index.js"
    out.mkdir(parents=True)
    done = subprocess.run(
        [node, str(cli), "server", "--url", url, "--scenario", scenario, "-o", str(out)],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=120,
    )
    found = glob.glob(str(out / "*" / "checks.json"))
    output = done.stdout[-2000:] + done.stderr[-2000:]
    assert found, f"{suite} {scenario} left no results (exit {done.returncode}):\n{output}"
    return json.loads(Path(found[0]).read_text())


def listed_scenarios(node: str, suite: str) -> set[str]:
    cli = HERE / "node_modules" / suite / "dist" / "index.js"
    listing = subprocess.run(
        [node, str(cli), "list", "--server"], capture_output=True, text=True, timeout=60, check=True
    )
    return {line.split()[1] for line in listing.stdout.splitlines() if line.startswith("  - ")}


def problems_in(scenario: str, checks: list[dict]) -> list[str]:
    problems = []
    for check in checks:
        listed = (scenario, check["id"]) in NOT_TESTABLE
        if check["status"] not in _PASSING and not listed:
            why = check.get("errorMessage") or check["description"]
            problems.append(f"{scenario}: {check['id']} {check['status']}: {why}")
        if check["status"] == "SUCCESS" and listed:
            problems.append(f"{scenario}: {check['id']} passes now: take it out of NOT_TESTABLE")
    passed = {check["id"] for check in checks if check["status"] == "SUCCESS"}
    for missing in REQUIRED.get(scenario, set()) - passed:
        problems.append(f"{scenario}: {missing} did not pass")
    return problems


def run_suites(node: str, url: str, work: Path) -> list[str]:
    problems = []
    for suite, scenarios in SCENARIOS.items():
        for scenario in scenarios:
            problems += problems_in(scenario, run_scenario(node, suite, scenario, url, work / suite / scenario))
    return problems


@pytest.mark.parametrize("suite", SUITES)
def test_every_scenario_of_the_pinned_suites_is_run_or_has_a_reason(node, suite):
    installed = json.loads((HERE / "node_modules" / suite / "package.json").read_text())["version"]
    assert installed == SUITES[suite], "package.json and SUITES name different releases"
    listed = listed_scenarios(node, suite)
    classified = set(SCENARIOS[suite]) | set(NOT_RUN[suite])
    unclassified = {name for name in listed - classified if not name.startswith(tuple(NOT_RUN_PREFIXES))}
    assert unclassified == set(), f"new scenarios in {suite} {SUITES[suite]}: run them or say why not"
    assert classified - listed == set(), f"gone from {suite} {SUITES[suite]}"


@pytest.mark.django_db(transaction=True)
def test_runmcp_http_passes_the_official_suite(node, mcp_db, http_server_factory, tmp_path):
    server = http_server_factory(REDIS_URL=TEST_REDIS_URL)
    _, _, raw = member_key("user")
    gateway = Gateway(server.url, raw, tmp_path / "gateway")
    try:
        problems = run_suites(node, gateway.url, tmp_path)
        assert not problems, "\n".join(problems)
    finally:
        gateway.stop()


@pytest.mark.django_db(transaction=True)
def test_the_asgi_apps_mcp_passes_the_official_suite(node, mcp_db, tmp_path):
    replica = Replica("c1", server_env(REDIS_URL=TEST_REDIS_URL), tmp_path)
    gateway = None
    try:
        replica.wait()
        _, _, raw = member_key("user")
        gateway = Gateway(f"http://127.0.0.1:{replica.port}", raw, tmp_path / "gateway")
        problems = run_suites(node, gateway.url, tmp_path)
        assert not problems, "\n".join(problems)
    finally:
        if gateway is not None:
            gateway.stop()
        replica.stop()


@pytest.mark.django_db(transaction=True)
def test_sse_polling_holds_through_the_readmes_load_balancer(node, mcp_db, tmp_path):
    """Two replicas behind the "Past one machine" nginx: the reconnect with Last-Event-ID carries the session id,
    so it goes back to the replica that holds the call."""
    if connection.vendor != "postgresql":
        pytest.skip("several replicas share PostgreSQL; SQLite is the single-process embedded default")
    deployment = Deployment(2, server_env(REDIS_URL=TEST_REDIS_URL, LOG_LEVEL="WARNING"), tmp_path)
    gateway = None
    try:
        _, _, raw = member_key("user")
        gateway = Gateway(deployment.url, raw, tmp_path / "gateway")
        problems = []
        for scenario in ("server-sse-polling", "server-sse-multiple-streams", "server-session-lifecycle"):
            checks = run_scenario(node, "conformance-next", scenario, gateway.url, tmp_path / "balanced" / scenario)
            problems += problems_in(scenario, checks)
        assert not problems, "\n".join(problems)
    finally:
        if gateway is not None:
            gateway.stop()
        deployment.stop()


@pytest.mark.django_db(transaction=True)
def test_without_the_event_history_the_sse_polling_checks_fail(node, mcp_db, http_server_factory, tmp_path):
    """The suite sees the event history: without Redis there is no priming event, no retry and no resumption."""
    server = http_server_factory()
    _, _, raw = member_key("user")
    gateway = Gateway(server.url, raw, tmp_path / "gateway")
    try:
        checks = run_scenario(node, "conformance-next", "server-sse-polling", gateway.url, tmp_path / "polling")
    finally:
        gateway.stop()
    assert {"server-sse-priming-event", "server-sse-retry-field"} <= {
        check["id"] for check in checks if check["status"] == "WARNING"
    }
