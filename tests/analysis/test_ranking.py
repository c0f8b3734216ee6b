import pytest

from records.analysis import BrandSpec, analyse_answer
from records.analysis.ranking import parse_lists

PHONES = [BrandSpec("华为"), BrandSpec("小米"), BrandSpec("OPPO"), BrandSpec("vivo")]
SHOES = [BrandSpec("Brooks"), BrandSpec("ASICS"), BrandSpec("Hoka"), BrandSpec("Saucony")]


def ranks(text, brands, **kwargs):
    """{brand: (rank, rank_method)} for mentioned brands."""
    result = analyse_answer(text, brands, **kwargs)
    return {
        name: (entry["rank"], entry["rank_method"])
        for name, entry in result["brands"].items()
        if entry["mentioned"]
    }


@pytest.mark.parametrize(
    "text",
    [
        "推荐：\n1. OPPO：拍照好\n2. 华为：信号好\n3. vivo：外观好",
        "推荐：\n1、OPPO：拍照好\n2、华为：信号好\n3、vivo：外观好",
        "推荐：\n1) OPPO：拍照好\n2) 华为：信号好\n3) vivo：外观好",
        "推荐：\n１．OPPO：拍照好\n２．华为：信号好\n３．vivo：外观好",
        "一、OPPO：拍照好\n二、华为：信号好\n三、vivo：外观好",
        "（一）OPPO：拍照好\n（二）华为：信号好\n（三）vivo：外观好",
        "(1) OPPO：拍照好\n(2) 华为：信号好\n(3) vivo：外观好",
        "（1）OPPO：拍照好\n（2）华为：信号好\n（3）vivo：外观好",
        "① OPPO：拍照好\n② 华为：信号好\n③ vivo：外观好",
        "第一，OPPO拍照好。\n\n第二，华为信号好。\n\n第三，vivo外观好。",
        "第一名：OPPO\n第二名：华为\n第三名：vivo",
        "- OPPO：拍照好\n- 华为：信号好\n- vivo：外观好",
        "* OPPO：拍照好\n* 华为：信号好\n* vivo：外观好",
        "+ OPPO：拍照好\n+ 华为：信号好\n+ vivo：外观好",
        "• OPPO：拍照好\n• 华为：信号好\n• vivo：外观好",
        "· OPPO：拍照好\n· 华为：信号好\n· vivo：外观好",
        "**1. OPPO**：拍照好\n**2. 华为**：信号好\n**3. vivo**：外观好",
        "## 1. OPPO\n拍照好\n## 2. 华为\n信号好\n## 3. vivo\n外观好",
        "### OPPO\n拍照好\n### 华为\n信号好\n### vivo\n外观好",
        "| 品牌 | 特点 |\n|---|---|\n| OPPO | 拍照 |\n| 华为 | 信号 |\n| vivo | 外观 |",
        "| 排名 | 品牌 |\n| :---: | --- |\n| 1 | OPPO |\n| 2 | 华为 |\n| 3 | vivo |",
    ],
)
def test_every_list_style_ranks_items_in_order(text):
    assert ranks(text, PHONES) == {
        "OPPO": (1, "list"),
        "华为": (2, "list"),
        "vivo": (3, "list"),
    }


def test_english_numbered_list_ranks_by_position():
    text = (
        "Best options:\n\n1. **Hoka Arahi 7** – stable and soft.\n"
        "2. **Brooks Adrenaline GTS 23** – the classic.\n3. **ASICS Gel-Kayano 30** – plush."
    )
    assert ranks(text, SHOES) == {
        "Hoka": (1, "list"),
        "Brooks": (2, "list"),
        "ASICS": (3, "list"),
    }


def test_prose_answer_without_a_list_ranks_by_mention_order():
    text = "如果预算有限，小米是不错的选择；追求信号的话华为更好，OPPO拍照也可以。"
    assert ranks(text, PHONES) == {
        "小米": (1, "mention_order"),
        "华为": (2, "mention_order"),
        "OPPO": (3, "mention_order"),
    }
    text = "Brooks is the safe pick, though ASICS feels softer."
    assert ranks(text, SHOES) == {"Brooks": (1, "mention_order"), "ASICS": (2, "mention_order")}


def test_table_header_and_separator_rows_are_not_items():
    text = "| vivo | 华为 |\n|---|---|\n| 小米手机 | 强 |\n| OPPO | 弱 |"
    result = ranks(text, PHONES)
    assert result["小米"] == (1, "list")
    assert result["OPPO"] == (2, "list")
    # Named only in the header: not an item, so ranked by mention order (it comes first).
    assert result["vivo"] == (1, "mention_order")


def test_table_rank_column_is_skipped_when_finding_the_lead():
    text = "| # | Model |\n|---|---|\n| 1 | Saucony Guide |\n| 2 | Hoka Arahi |"
    assert ranks(text, SHOES) == {"Saucony": (1, "list"), "Hoka": (2, "list")}


def test_untracked_siblings_count_towards_the_rank():
    text = "1. 一加 Ace 3\n2. 真我 GT6\n3. 华为 nova 12"
    assert ranks(text, PHONES) == {"华为": (3, "list")}


def test_brands_in_one_item_share_its_rank():
    text = "1. 华为、OPPO：都很好\n2. vivo：外观好"
    assert ranks(text, PHONES) == {"华为": (1, "list"), "OPPO": (1, "list"), "vivo": (2, "list")}


def test_continuation_and_deeper_indented_lines_belong_to_their_item():
    text = (
        "1. **Saucony Guide**\n   Good value.\n   - Lighter than most\n"
        "2. **Other shoe**\n   - If you want more cushion, try Hoka\n3. **Third**"
    )
    assert ranks(text, SHOES) == {"Saucony": (1, "list"), "Hoka": (2, "list")}


def test_brand_in_another_items_sub_bullet_is_ranked_by_its_own_item():
    text = (
        "1. **华为 Mate 60**\n   - 优点：信号强\n   - 对比小米 14 更贵\n"
        "2. **小米 14**\n   - 性价比高\n3. **vivo X100**"
    )
    assert ranks(text, PHONES) == {"华为": (1, "list"), "小米": (2, "list"), "vivo": (3, "list")}


def test_brand_first_mentioned_before_the_list_is_ranked_by_its_item():
    text = "vivo和OPPO都不错，具体推荐：\n1. OPPO Find X7\n2. vivo X100"
    assert ranks(text, PHONES) == {"vivo": (2, "list"), "OPPO": (1, "list")}


def test_each_heading_section_has_its_own_list():
    text = "## 高端\n1. 华为 Mate 60 Pro\n2. vivo X100 Pro\n## 性价比\n1. 小米 14\n2. OPPO K12"
    assert ranks(text, PHONES) == {
        "华为": (1, "list"),
        "vivo": (2, "list"),
        "小米": (1, "list"),
        "OPPO": (2, "list"),
    }


def test_chinese_outline_sections_hold_their_own_numbered_lists():
    text = "一、高端\n1. 华为：信号\n2. vivo：拍照\n二、性价比\n1. 小米 14：便宜\n2. OPPO：均衡"
    assert ranks(text, PHONES) == {
        "华为": (1, "list"),
        "vivo": (2, "list"),
        "小米": (1, "list"),
        "OPPO": (2, "list"),
    }


def test_brand_only_in_heading_section_prose_falls_back_to_mention_order():
    text = "## 1. Brooks\nGreat.\n## 2. ASICS\nSoft.\n## Summary\nSaucony is a cheaper option."
    assert ranks(text, SHOES) == {
        "Brooks": (1, "list"),
        "ASICS": (2, "list"),
        "Saucony": (3, "mention_order"),
    }


def test_a_single_item_is_not_a_list():
    text = "推荐：\n1. 华为 Mate 60\n\n另外小米也可以考虑，手机性价比高。"
    assert ranks(text, PHONES) == {"华为": (1, "mention_order"), "小米": (2, "mention_order")}


def test_numbered_list_resumes_after_an_interrupting_paragraph():
    text = "1. 华为：信号好\n\n适合商务人士。\n\n2. OPPO：拍照好\n\n总结：vivo也可以。"
    assert ranks(text, PHONES) == {
        "华为": (1, "list"),
        "OPPO": (2, "list"),
        "vivo": (3, "mention_order"),
    }


def test_restarted_numbering_starts_a_new_list():
    lists = parse_lists("1. a\n2. b\n\n1. c\n2. d\n3. e")
    assert [len(lst.items) for lst in lists] == [2, 3]


def test_decimals_and_years_are_not_list_markers():
    assert parse_lists("1.5公里外有一家\n2024年开业\n3.2分") == []


def test_position_fields_and_mention_order():
    text = "OPPO拍照好，华为信号好，小米便宜但手机发热。"
    result = analyse_answer(text, PHONES)["brands"]
    assert result["OPPO"]["first_offset"] == 0
    assert result["华为"]["first_offset"] == 8
    assert result["华为"]["rel_pos"] == pytest.approx(8 / len(text))
    assert [result[b]["mention_order"] for b in ("OPPO", "华为", "小米")] == [1, 2, 3]
    assert result["vivo"]["mention_order"] is None
    assert result["vivo"]["rank"] is None and result["vivo"]["rank_method"] is None
