import ast
import json
from pathlib import Path

import pytest

import records.analysis
from records.analysis import ANALYZER_VERSION, BrandSpec, analyse_answer
from records.analysis.normalize import normalize

BRANDS = [BrandSpec("华夏良子", domains=("huaxialiangzi.com",)), BrandSpec("良子")]


def test_result_has_the_documented_shape_and_is_json_serialisable():
    text = "推荐：\n1. **华夏良子**：手法专业\n2. 良子足道：实惠\n可在meituan.com查看。"
    result = analyse_answer(text, BRANDS, sources=[{"url": "https://x.com/", "title": "X"}])
    assert json.loads(json.dumps(result)) == result
    assert result["analyzer_version"] == ANALYZER_VERSION
    assert result["length"] == len(text)
    assert set(result) == {
        "analyzer_version",
        "length",
        "brands",
        "lists",
        "citations",
        "has_structured_sources",
        "entities",
    }
    assert set(result["brands"]["华夏良子"]) == {
        "mentioned",
        "mention_count",
        "matches",
        "first_offset",
        "rel_pos",
        "mention_order",
        "list_rank",
        "rank",
        "rank_method",
        "sentiment",
    }
    assert result["has_structured_sources"] is True
    assert {c["kind"] for c in result["citations"]} == {"structured", "bare_domain"}


def test_unmentioned_brand_fields_are_null():
    result = analyse_answer("推荐华夏良子。", BRANDS)["brands"]["良子"]
    assert result == {
        "mentioned": False,
        "mention_count": 0,
        "matches": [],
        "first_offset": None,
        "rel_pos": None,
        "mention_order": None,
        "list_rank": None,
        "rank": None,
        "rank_method": None,
        "sentiment": None,
    }


def test_offsets_point_into_the_original_text():
    text = "**Ｎｉｋｅ**\u3000和\u200b**华夏良子**"
    result = analyse_answer(text, [BrandSpec("华夏良子"), BrandSpec("Nike")])
    for entry in result["brands"].values():
        for alias, start, end in entry["matches"]:
            assert normalize(text[start:end]).strip() == normalize(alias)


def test_empty_answer_is_analysed_without_errors():
    result = analyse_answer("", BRANDS)
    assert result["length"] == 0 and not result["brands"]["华夏良子"]["mentioned"]


def test_brand_list_must_be_non_empty_and_unique():
    with pytest.raises(ValueError):
        analyse_answer("x", [])
    with pytest.raises(ValueError):
        analyse_answer("x", [BrandSpec("A"), BrandSpec("A")])


def test_analysis_package_does_not_import_django():
    package = Path(records.analysis.__file__).parent
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(name.split(".")[0] in {"django", "rest_framework"} for name in names), (
                path.name
            )
