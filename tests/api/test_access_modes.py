"""Access modes through the v1 API: listed per platform, chosen per run, refused where a platform
has no such mode, stored on every answer with the sources and web queries the platform returned,
and reported with cited versus retrieved domains. The legacy contract stays plain."""

import json

import pytest
from django.core.management import call_command

from records import execution, services
from records.analysis import SCORING_VERSION
from records.models import Answer, TestRecord

pytestmark = pytest.mark.django_db

START = {"brand": "Acme", "competitors": ["Globex"], "questions": ["Best running shoes?"]}


def start(client, **fields):
    return client.post("/api/v1/executions/", START | fields, format="json")


def test_platforms_list_their_access_modes(api_client):
    platforms = {p["id"]: p for p in api_client.get("/api/v1/platforms/").json()}
    assert platforms["demo"]["access_modes"] == ["plain", "search"]
    assert platforms["deepseek"]["access_modes"] == ["plain"]
    assert all("plain" in p["access_modes"] for p in platforms.values())


def test_a_mode_a_platform_lacks_is_a_400_naming_the_platform(api_client, platform_env):
    platform_env({"DEEPSEEK_API_KEY": "sk-test"})
    response = start(api_client, platforms=["demo", "deepseek"], access_mode="search")
    assert response.status_code == 400, response.content
    assert response.json()["fields"] == {
        "access_mode": ["deepseek has no search mode; its modes: plain"]
    }
    assert not TestRecord.objects.exists()


@pytest.mark.parametrize("mode", ["turbo", "", "SEARCHING"])
def test_an_unknown_mode_is_a_400_on_access_mode(api_client, mode):
    response = start(api_client, platforms=["demo"], access_mode=mode)
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["access_mode"]


def test_the_default_mode_is_plain_or_the_setting(api_client, settings):
    plain = start(api_client, platforms=["demo"]).json()
    assert plain["access_mode"] == "plain"
    settings.BRANDTEST_DEFAULT_ACCESS_MODE = "search"
    searched = start(api_client, platforms=["demo"], repeats=2).json()
    assert searched["access_mode"] == "search"


def test_a_search_run_stores_sources_and_queries_and_reports_cited_versus_retrieved(api_client):
    created = start(api_client, platforms=["demo"], access_mode="search", repeats=3)
    assert created.status_code == 202 and created.json()["access_mode"] == "search"
    execution_id = created.json()["execution_id"]
    execution.run_execution(execution_id=execution_id)

    answers = list(Answer.objects.filter(record__execution_id=execution_id))
    assert len(answers) == 3
    cited_somewhere = False
    for answer in answers:
        assert answer.access_mode == "search" and answer.search_calls == 1
        assert answer.web_queries and answer.web_queries[0] == "Best running shoes"
        assert [s["index"] for s in answer.sources] == list(range(1, len(answer.sources) + 1))
        # Every inline marker in the text resolved to the returned source with its number.
        cited = {c["index"] for c in answer.analysis["citations"] if c["cited"]}
        assert cited <= {s["index"] for s in answer.sources}
        cited_somewhere |= bool(cited)
        # The demo never cites its last review source: retrieved only.
        assert any(not c["cited"] for c in answer.analysis["citations"])
    assert cited_somewhere

    status = api_client.get(f"/api/v1/executions/{execution_id}/status/").json()
    assert status["access_mode"] == "search"
    report = api_client.get(f"/api/v1/executions/{execution_id}/results/").json()
    assert report["access_mode"] == "search"
    panel = report["citation_panel"]
    assert panel["platforms_with_sources"] == ["demo"]
    assert panel["answers"] == panel["answers_with_sources"] == 3
    assert panel["cited_domains"] and panel["retrieved_domains"]
    for row in panel["cited_domains"] + panel["retrieved_domains"]:
        assert row["rate"] == round(row["answers"] / 3, 4)
    item = report["items"][0]
    assert item["access_mode"] == "search" and item["web_queries"] and item["search_calls"] == 1
    page = api_client.get(f"/api/v1/executions/{execution_id}/answers/").json()["results"]
    assert page[0]["sources"] and page[0]["access_mode"] == "search"


def test_a_plain_run_reports_no_rates_for_lack_of_sources(api_client):
    execution_id = start(api_client, platforms=["demo"]).json()["execution_id"]
    execution.run_execution(execution_id=execution_id)
    answer = Answer.objects.filter(record__execution_id=execution_id).first()
    assert (answer.access_mode, answer.sources, answer.web_queries, answer.search_calls) == (
        "plain",
        [],
        [],
        0,
    )
    panel = api_client.get(f"/api/v1/executions/{execution_id}/results/").json()["citation_panel"]
    assert panel["answers"] == 0 and panel["owned_citation_rate"] == "n/a"
    assert panel["cited_domains"] == [] and panel["retrieved_domains"] == []


def test_a_retry_keeps_the_mode(api_client):
    execution_id = start(api_client, platforms=["demo"], access_mode="search").json()[
        "execution_id"
    ]
    TestRecord.objects.filter(execution_id=execution_id).update(status="failed", progress=100)
    retried = api_client.post(f"/api/v1/executions/{execution_id}/retry/")
    assert retried.status_code in (200, 201, 202), retried.content
    assert retried.json()["access_mode"] == "search"


def test_the_legacy_start_is_plain_whatever_the_default(client, settings):
    settings.BRANDTEST_DEFAULT_ACCESS_MODE = "search"
    response = client.post(
        "/api/perform-brand-test",
        json.dumps({"brand_list": ["华夏良子"], "selectedModels": ["demo"]}),
        content_type="application/json",
        HTTP_X_DEVICE_ID="device-1",
    )
    assert response.status_code == 200
    assert TestRecord.objects.get().access_mode == "plain"


def test_openapi_shows_the_access_mode(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]
    assert "access_mode" in components["ExecutionCreate"]["properties"]
    assert "access_mode" in components["Execution"]["properties"]
    assert "access_mode" in components["ExecutionStatus"]["properties"]
    assert "access_modes" in components["Platform"]["properties"]


def test_reanalyse_rebuilds_cited_and_retrieved_from_the_stored_sources(api_client):
    execution_id = start(api_client, platforms=["demo"], access_mode="search").json()[
        "execution_id"
    ]
    execution.run_execution(execution_id=execution_id)
    record = TestRecord.objects.get(execution_id=execution_id)
    before = {a.pk: a.analysis for a in record.answers.all()}
    # As an analysis from before sources were split into cited and retrieved looked.
    for answer in record.answers.all():
        answer.analysis = {"analyzer_version": "analyzer-1.1"}
        answer.save(update_fields=["analysis"])
    services.reanalyse_execution(record=record)
    after = {a.pk: a.analysis for a in record.answers.all()}
    assert after == before
    assert {a["analyzer_version"] for a in after.values()} == {"analyzer-1.2"}
    panel = api_client.get(f"/api/v1/executions/{execution_id}/results/").json()["citation_panel"]
    assert panel["answers_with_sources"] == 1 and panel["retrieved_domains"]


def test_an_unconfigured_platform_without_the_mode_is_named_in_both_fields(api_client):
    response = start(api_client, platforms=["DeepSeek", "demo"], access_mode="search")
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert fields["access_mode"] == ["deepseek has no search mode; its modes: plain"]
    assert "deepseek" in fields["platforms"][0]


def test_reanalyse_outdated_picks_up_runs_scored_before_the_split(api_client):
    execution_id = start(api_client, platforms=["demo"], access_mode="search").json()[
        "execution_id"
    ]
    execution.run_execution(execution_id=execution_id)
    TestRecord.objects.filter(execution_id=execution_id).update(scoring_version="vs-1.1")
    call_command("reanalyse", "--outdated", verbosity=0)
    assert TestRecord.objects.get(execution_id=execution_id).scoring_version == SCORING_VERSION
