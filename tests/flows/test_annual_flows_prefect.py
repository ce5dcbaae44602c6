"""The 年度宣传工作 flows run in-process on Prefect (prefect_test_harness): annual-plan starts the
lifecycle through run_deployment (replaced here by a recorder), quarterly-circular drafts the 通报
and shows its figures and chart, the others record, chase and assess; their artifacts are read back."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from actions.distribution import MailOptions
from delivery import OutboxChannel
from flows import annual_flows
from flows.runtime import Services, provide
from flows.served_names import LIFECYCLE
from models.distribution import ChasePolicy
from models.errors import InputError
from storage.archive.local import LocalArchiveStore
from tests.flows.work_year import NATIONAL, PLANS_DUE, SIGNED_2023, D, issue, record_between, seed_issued
from tests.storage.helpers import load


@pytest.fixture(scope="module")
def prefect() -> Iterator[None]:
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60), temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


@pytest.fixture
def office(prefect, sqlite_db, kaifeng, notice, pins, tmp_path) -> Iterator[SimpleNamespace]:
    """Services for flow runs in this process: the test database, a local archive, an outbox."""
    load(sqlite_db, kaifeng)
    seed_issued(sqlite_db, notice, pins)
    services = Services(
        db=sqlite_db,
        archive_store=LocalArchiveStore(tmp_path / "archive"),
        store_name="local",
        lock_mode="GOVERNANCE",
        open_channel=lambda: OutboxChannel(tmp_path / "outbox"),
        mail=MailOptions(sender="kfsfld@kaifeng.example.cn"),
        chase=ChasePolicy(remind_after=dt.timedelta(days=3), escalate_after=2),
    )
    provide(lambda: services)
    yield SimpleNamespace(db=sqlite_db, pins=pins, outbox=tmp_path / "outbox")
    provide(None)


@pytest.fixture
def started(monkeypatch) -> list[tuple[str, dict]]:
    """run_deployment calls, recorded instead of made (there is no served lifecycle deployment here)."""
    calls = []

    def record(name, parameters, **options):
        assert options == {"timeout": 0, "as_subflow": False}
        calls.append((name, parameters))
        return SimpleNamespace(id=f"run-{len(calls)}")

    monkeypatch.setattr(annual_flows, "run_deployment", record)
    return calls


def artifact(key: str):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        [found] = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])))
    return found


def test_annual_plan_drafts_from_last_year_and_starts_the_lifecycle(office, started):
    result = annual_flows.annual_plan(
        year=2023, national_title=NATIONAL.title, national_ref=NATIONAL.ref, plans_due=PLANS_DUE
    )
    assert (result["year"], result["created"], result["notes"]) == (2023, True, [])
    assert started == [(LIFECYCLE, {"document_id": result["id"]})]
    assert result["lifecycle_run"] == "run-1"
    preview = artifact(f"document-{result['id']}-preview")
    assert "关于印发《2023年开封市打击侵权假冒宣传工作实施方案》的通知" in preview.data
    again = annual_flows.annual_plan(year=2023, submit=False)
    assert (again["id"], again["created"], again["lifecycle_run"]) == (result["id"], False, None)


def test_the_quarter_in_flows_reports_the_circular_with_its_chart_and_the_assessment(office, started):
    drafted = annual_flows.annual_plan(year=2023, plans_due=PLANS_DUE, submit=False)
    assert "全国通知文号待补" in drafted["notes"][0]
    issue(office.db, drafted["id"], office.pins, SIGNED_2023)

    # started here, not at the 门户: the 登记人 is the system (flows.starts.started_by_if_any)
    received = annual_flows.receive_plan(sender="杞县打击侵权假冒工作领导小组", year=2023, received_on=D(2023, 2, 10))
    assert received["number"] == "汴打假办收〔2023〕1号"
    assert "已报 1/20" in artifact("plans-2023").description
    assert annual_flows.chase_plans() == {"skipped": f"{dt.date.today().year} 年度还没有印发实施方案的通知"}
    chased = annual_flows.chase_plans(year=2023)
    assert len(chased["reminded"]) == 19 and len(list(office.outbox.glob("*.eml"))) == 19

    report = annual_flows.submit_work_info(unit="市公安局", title="开封警方开展春雷行动", date=D(2023, 2, 15))
    assert annual_flows.mark_work_info(report_id=report["id"], outcome="推送省办", on=D(2023, 2, 16)) == {
        "id": report["id"],
        "outcome": "forwarded",
    }
    state = annual_flows.submit_work_info(unit="某省某局", title="外地信息", date=D(2023, 2, 15), return_state=True)
    assert state.is_failed()
    with pytest.raises(InputError) as refused:
        state.result()
    assert refused.value.field == "unit"
    record_between(office.db, D(2022, 12, 31), D(2023, 3, 31), {})

    circular = annual_flows.quarterly_circular(year=2023, quarter=1)
    assert started == [(LIFECYCLE, {"document_id": circular["id"]})]
    assert (circular["created"], circular["units"]) == (True, 20) and circular["chart_bytes"] > 1000
    chart = artifact("circular-2023-q1-chart")
    assert chart.type == "markdown" and "](data:image/png;base64," in chart.data
    encoded = chart.data.split("base64,", 1)[1].split(")", 1)[0]
    assert base64.b64decode(encoded).startswith(b"\x89PNG")
    figures = artifact("circular-2023-q1-figures")
    assert figures.type == "table" and json.loads(figures.data)[0] == {
        "名次": 1,
        "单位": "市公安局",
        "报送信息": 3,
        "推送省办": 3,
        "省简报采用": 1,
        "国家网站采用": 1,
    }
    assert "关于2023年第一季度打击侵权假冒工作信息报送情况的通报" in artifact(f"document-{circular['id']}-preview").data

    rows = annual_flows.assess_counties(year=2023)
    # 杞县: plan on time 10, one report forwarded 1 + 2; 兰考县: one report, no plan
    assert [(row["县（区）"], row["得分"]) for row in rows[:3]] == [("杞县", "13"), ("兰考县", "1"), ("通许县", "0")]
    assert artifact("assessment-2023").type == "table"
