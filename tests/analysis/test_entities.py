import json

from records.analysis import BrandSpec, analyse_answer
from records.analysis.entities import aggregate_entities, entity_key, is_entity_name

BRANDS = [BrandSpec("华夏良子"), BrandSpec("良子")]


def entities(text, brands=BRANDS, **kwargs):
    return {e["name"]: e for e in analyse_answer(text, brands, **kwargs)["entities"]}


def test_list_leads_are_recommended_with_their_rank_and_offsets():
    text = (
        "推荐几家：\n1. **正安中医**：医师坐诊\n2. 华夏良子（国贸店）：营业到凌晨\n"
        "3. 张钰强推拿 - 老师傅"
    )
    found = entities(text)
    assert [(n, e["role"], e["rank"]) for n, e in found.items()] == [
        ("正安中医", "recommended", 1),
        ("华夏良子", "recommended", 2),
        ("张钰强推拿", "recommended", 3),
    ]
    for entity in found.values():
        assert text[entity["start"] : entity["end"]] == entity["surface"]
    assert found["华夏良子"]["tracked"] == "华夏良子"
    assert found["正安中医"]["tracked"] is None


def test_generic_categories_places_and_labels_are_not_entities():
    text = (
        "## 朝阳区\n1. 公立医院推拿科：适合有病症的人\n2. 盲人按摩店：便宜\n3. 中医馆：多\n"
        "## 海淀区\n- **特点**：手法好\n- 注重标准化服务，选华夏良子"
    )
    found = entities(text)
    assert set(found) == {"华夏良子"}
    assert found["华夏良子"]["role"] == "recommended"  # "选华夏良子" recommends it


def test_sources_are_told_apart_from_recommendations():
    text = "可以在大众点评看评分，或者去小红书搜笔记。推荐**固生堂**或者去北京中医医院。"
    found = entities(text)
    assert found["大众点评"]["role"] == found["小红书"]["role"] == "source"
    assert found["固生堂"]["role"] == "recommended"


def test_a_booking_platform_offered_as_a_place_to_go_is_recommended():
    text = "线上问诊：\n1. 京东健康：医生多，回复快\n2. 微医：可以挂号\n可以在知乎看评价。"
    found = entities(text)
    assert (found["京东健康"]["role"], found["京东健康"]["rank"]) == ("recommended", 1)
    assert found["知乎"]["role"] == "source"


def test_enumerations_after_biru_and_tables_name_entities():
    text = (
        "| 排名 | 店名 | 人均 |\n|---|---|---|\n| 1 | 一指禅推拿 | 168元 |\n"
        "| 2 | 岳阳医院推拿科 | 100元 |\n"
        "连锁店也可以，比如悦康推拿、御足堂等。"
    )
    found = entities(text)
    assert found["一指禅推拿"]["rank"] == 1 and found["一指禅推拿"]["via"] == "table"
    assert "岳阳医院" in found  # a hospital's department is the hospital
    assert found["悦康推拿"]["via"] == found["御足堂"]["via"] == "enumeration"
    assert found["御足堂"]["rank"] is None


def test_places_to_avoid_are_named_but_not_recommended():
    text = "### 避坑\n- 某某养生会所：强制办卡\n- 华夏良子某加盟店：推销多\n\n不推荐**金足印象**。"
    found = entities(text)
    assert all(e["role"] == "other" for e in found.values()), found


def test_grouping_leads_are_not_entities():
    text = "1. **连锁快修**\n   1. 途虎养车：价格透明\n   2. 天猫养车：门店多\n2. **4S店**：贵"
    assert set(entities(text)) == {"途虎养车", "天猫养车"}


def test_entities_are_json_serialisable_and_keyed_by_suffix_rules():
    result = analyse_answer("推荐：\n1. 固生堂中医馆：名医多\n2. 固生堂：预约方便", BRANDS)
    assert json.loads(json.dumps(result))["entities"] == result["entities"]
    assert [e["name"] for e in result["entities"]] == ["固生堂"]
    assert entity_key("华夏良子（朝阳店）") == entity_key("华夏良子") == "华夏良子"
    assert not is_entity_name("推荐理由") and is_entity_name("北京中医医院")


def test_category_words_from_the_question_make_generic_names():
    text = (
        "## 大型驾校\n1. 东方时尚驾校：规模大\n2. 海淀驾校：通过率高\n## 中小驾校\n- 公交驾校：规范"
    )
    found = entities(text, context_words=("驾校", "学车"))
    assert set(found) == {"东方时尚驾校", "海淀驾校", "公交驾校"}


def test_aggregate_ranks_untracked_entities_by_recommending_answers():
    def answer(*entities):
        return {
            "entities": [
                dict(zip(("name", "role", "rank", "tracked"), e, strict=True)) for e in entities
            ]
        }

    rows = aggregate_entities(
        [
            (
                "deepseek",
                answer(("固生堂", "recommended", 1, None), ("知乎", "source", None, None)),
            ),
            (
                "kimi",
                answer(("固生堂", "recommended", 3, None), ("正安中医", "recommended", 1, None)),
            ),
            ("kimi", answer(("固生堂", "other", None, None))),
            ("doubao", None),
        ]
    )
    assert rows == [
        {
            "name": "固生堂",
            "answers": 2,
            "mentions": 3,
            "platforms": ["deepseek", "kimi"],
            "tracked": None,
            "mean_rank": 2.0,
            "ranked_n": 2,
        },
        {
            "name": "正安中医",
            "answers": 1,
            "mentions": 1,
            "platforms": ["kimi"],
            "tracked": None,
            "mean_rank": 1.0,
            "ranked_n": 1,
        },
    ]


def test_words_that_announce_a_list_are_not_entities():
    # "推荐如下：" opens a list in many real answers; 如下 is not a place to go.
    for opener in ("北京中医推拿推荐如下：", "具体推荐如下:", "我推荐下面这些：", "推荐下列几家："):
        found = entities(opener + "\n1. 正安中医：手法专业。\n2. 固生堂：可用医保。")
        assert list(found) == ["正安中医", "固生堂"], (opener, list(found))
        assert [e["rank"] for e in found.values()] == [1, 2]
