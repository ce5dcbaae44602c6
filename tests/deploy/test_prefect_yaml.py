"""deploy/prefect.yaml declares exactly the deployments of flows.deployments (what ``gongwen
server`` serves): same flows and entry points, names, descriptions, tags, the 09:00 Asia/Shanghai
schedule and the issued-event trigger — so the work-pool installation and the embedded one cannot
drift apart. (test_work_pool.py deploys the file on a real server.)"""

from __future__ import annotations

import pytest
import yaml
from pydantic import TypeAdapter

from flows.deployments import deployments
from tests.deploy.deploy_files import PREFECT_YAML, ROOT

POOL = "gongwen"


@pytest.fixture(scope="module")
def declared() -> dict:
    return yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def served() -> dict[str, object]:
    """flows.deployments' deployments by entry point (entry points are relative to the cwd)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        return {deployment.entrypoint: deployment for deployment in deployments()}


def test_the_same_entry_points_each_once(declared, served):
    entrypoints = [d["entrypoint"] for d in declared["deployments"]]
    assert len(entrypoints) == len(set(entrypoints))
    assert sorted(entrypoints) == sorted(served)
    for entrypoint in entrypoints:
        path, function = entrypoint.split(":")
        assert (ROOT / path).is_file() and f"def {function}(" in (ROOT / path).read_text(encoding="utf-8")


def test_names_descriptions_tags_and_the_work_pool(declared, served):
    for spec in declared["deployments"]:
        deployment = served[spec["entrypoint"]]
        assert spec["name"] == deployment.name == "gongwen"
        assert spec["description"] == deployment.description
        assert spec["tags"] == deployment.tags
        assert spec["work_pool"]["name"] == POOL
        assert spec.get("parameters", {}) == deployment.parameters


def test_schedules(declared, served):
    from prefect.client.schemas.schedules import CronSchedule

    for spec in declared["deployments"]:
        want = [(s.schedule, s.active) for s in served[spec["entrypoint"]].schedules or []]
        got = [
            (CronSchedule(cron=s["cron"], timezone=s["timezone"]), s.get("active", True))
            for s in spec.get("schedules") or []
        ]
        assert got == want, spec["entrypoint"]
    remind = next(d for d in declared["deployments"] if d["entrypoint"].endswith(":remind_unacknowledged"))
    assert remind["schedules"] == [{"cron": "0 9 * * *", "timezone": "Asia/Shanghai", "active": True}]


def test_triggers(declared, served):
    from prefect.events import DeploymentTriggerTypes

    adapter = TypeAdapter(DeploymentTriggerTypes)
    for spec in declared["deployments"]:
        want = [t.model_dump() for t in served[spec["entrypoint"]].triggers or []]
        got = [adapter.validate_python(dict(t)).model_dump() for t in spec.get("triggers") or []]
        assert got == want, spec["entrypoint"]
    distribute = next(d for d in declared["deployments"] if d["entrypoint"].endswith(":distribute_document"))
    parameters = distribute["triggers"][0]["parameters"]
    assert parameters == {
        "document_id": {
            "__prefect_kind": "json",
            "value": {"__prefect_kind": "jinja", "template": "{{ event.resource['gongwen.document.id'] }}"},
        }
    }


def test_workers_change_into_the_code_directory_they_are_given(declared):
    assert declared["pull"] == [
        {"prefect.deployments.steps.set_working_directory": {"directory": "{{ $GONGWEN_CODE_DIR }}"}}
    ]
    assert declared["build"] is None and declared["push"] is None
