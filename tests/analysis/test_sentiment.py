import pytest

from records.analysis import BrandSpec, analyse_answer
from records.analysis.sentiment import label_for

TUINA = [BrandSpec("华夏良子"), BrandSpec("良子"), BrandSpec("大宝")]
SHOES = [BrandSpec("Brooks"), BrandSpec("ASICS"), BrandSpec("Hoka")]


def sentiment(text, brands):
    """{brand: label} for mentioned brands."""
    result = analyse_answer(text, brands)["brands"]
    return {name: e["sentiment"]["label"] for name, e in result.items() if e["mentioned"]}


@pytest.mark.parametrize(
    ("text", "brands", "expected"),
    [
        ("华夏良子手法专业，口碑不错，值得推荐。", TUINA, {"华夏良子": "positive"}),
        ("Brooks is reliable and highly recommended.", SHOES, {"Brooks": "positive"}),
        ("大宝环境一般，有点踩雷。", TUINA, {"大宝": "negative"}),
        ("去大宝之前先避坑：推销办卡很多。", TUINA, {"大宝": "negative"}),
        ("Hoka feels mediocre and wears out fast.", SHOES, {"Hoka": "negative"}),
        ("大宝在北京有20家门店。", TUINA, {"大宝": "neutral"}),
        ("ASICS is based in Kobe.", SHOES, {"ASICS": "neutral"}),
    ],
)
def test_lexicon_labels(text, brands, expected):
    assert sentiment(text, brands) == expected


@pytest.mark.parametrize(
    ("text", "brands", "brand"),
    [
        ("不推荐大宝。", TUINA, "大宝"),
        ("大宝不太好，服务不专业。", TUINA, "大宝"),
        ("华夏良子的技师不是很专业。", TUINA, "华夏良子"),
        ("I would not recommend Hoka for flat feet.", SHOES, "Hoka"),
        ("Brooks isn't the best choice here.", SHOES, "Brooks"),
        ("ASICS is not recommended for wide feet.", SHOES, "ASICS"),
    ],
)
def test_negated_praise_is_negative(text, brands, brand):
    assert sentiment(text, brands)[brand] == "negative"


def test_negated_criticism_is_positive():
    assert sentiment("华夏良子价格不贵，服务也不差。", TUINA) == {"华夏良子": "positive"}


def test_not_only_is_not_a_negation():
    assert sentiment("Hoka is not only light but also very comfortable.", SHOES) == {
        "Hoka": "positive"
    }


def test_yiban_meaning_generally_is_not_negative():
    assert sentiment("一般来说，华夏良子手法专业。", TUINA) == {"华夏良子": "positive"}


@pytest.mark.parametrize(
    ("text", "brands", "brand", "label"),
    [
        ("虽然价格偏高，但华夏良子的手法非常专业。", TUINA, "华夏良子", "positive"),
        ("华夏良子环境不错，但是价格偏贵。", TUINA, "华夏良子", "negative"),
        ("华夏良子环境不错，不过技师一般。", TUINA, "华夏良子", "negative"),
        ("Although Hoka is pricey, it is the most comfortable option.", SHOES, "Hoka", "positive"),
        ("Brooks is comfortable, but it is overpriced.", SHOES, "Brooks", "negative"),
        ("ASICS is great. However, sizing runs small.", SHOES, "ASICS", "positive"),
    ],
)
def test_clause_after_a_contrast_weighs_more(text, brands, brand, label):
    assert sentiment(text, brands)[brand] == label


def test_balanced_cues_without_contrast_are_mixed():
    assert sentiment("华夏良子服务好，价格偏贵。", TUINA) == {"华夏良子": "mixed"}


def test_each_brand_gets_the_clause_about_it():
    assert sentiment("华夏良子手法专业，大宝环境一般。", TUINA) == {
        "华夏良子": "positive",
        "大宝": "negative",
    }


@pytest.mark.parametrize(
    ("text", "brands", "winner", "loser"),
    [
        ("大宝不如华夏良子。", TUINA, "华夏良子", "大宝"),
        ("良子足道：不如华夏良子专业。", TUINA, "华夏良子", "良子"),
        ("华夏良子比大宝更专业。", TUINA, "华夏良子", "大宝"),
        ("Brooks is better than ASICS for flat feet.", SHOES, "Brooks", "ASICS"),
        ("ASICS is worse than Hoka on cushioning.", SHOES, "Hoka", "ASICS"),
    ],
)
def test_comparison_splits_polarity(text, brands, winner, loser):
    labels = sentiment(text, brands)
    assert (labels[winner], labels[loser]) == ("positive", "negative")


def test_pros_and_cons_bullets_under_a_brand_item_count_for_it():
    text = (
        "1. **Brooks Ghost**\n   - Pros: very comfortable\n   - Cons: pricey\n2. **Hoka Clifton**"
    )
    result = analyse_answer(text, SHOES)["brands"]
    assert result["Brooks"]["sentiment"]["label"] == "mixed"
    assert result["Hoka"]["sentiment"]["label"] == "neutral"


def test_evidence_offsets_point_into_the_original_text():
    text = "**华夏良子**：手法专业，不推荐周末去。"
    evidence = analyse_answer(text, TUINA)["brands"]["华夏良子"]["sentiment"]["evidence"]
    assert evidence and all(text[start:end] == cue for start, end, cue in evidence)
    assert [cue for _, _, cue in evidence] == ["专业", "不推荐"]


def test_unmentioned_brand_has_no_sentiment_and_scores_follow_labels():
    result = analyse_answer("华夏良子很专业，值得推荐。", TUINA)["brands"]
    assert result["良子"]["sentiment"] is None
    assert result["华夏良子"]["sentiment"]["score"] == 1
    assert result["华夏良子"]["sentiment"]["method"] == "lexicon"


def test_label_thresholds():
    assert label_for(0, 0) == "neutral"
    assert label_for(2, 1) == "positive"
    assert label_for(1, 2) == "negative"
    assert label_for(1.5, 1) == "mixed"


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("华夏良子：系统培训，标准化程度高。", "positive"),
        ("华夏良子技师经过统一培训，服务流程规范，回头客多。", "positive"),
        ("华夏良子价格低，排队时间短。", "positive"),
        ("华夏良子价格高，服务态度差。", "negative"),
        ("华夏良子环境不干净，技师水平不高。", "negative"),
        ("华夏良子在北京有20家门店，营业到晚上十点。", "neutral"),
    ],
)
def test_descriptive_phrases_without_classic_words(text, label):
    assert sentiment(text, TUINA)["华夏良子"] == label


def test_aspects_are_labelled_with_their_own_evidence():
    result = analyse_answer("华夏良子手法娴熟，环境舒适，但是价格偏贵。", TUINA)["brands"]
    assert result["华夏良子"]["sentiment"]["aspects"] == {
        "environment": "positive",
        "price": "negative",
        "skill": "positive",
    }


def test_a_queue_is_a_note_not_a_verdict():
    # "缺点是排队时间长" under praise: the label announces the con, and queues weigh half.
    assert sentiment("华夏良子技术最权威，医生经验丰富，缺点是排队时间长。", TUINA) == {
        "华夏良子": "positive"
    }


def test_a_recommending_verb_before_the_brand_is_praise():
    assert sentiment("日常放松选华夏良子。", TUINA) == {"华夏良子": "positive"}
    assert sentiment("不选华夏良子。", TUINA) == {"华夏良子": "neutral"}
