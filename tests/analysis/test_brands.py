from records.analysis import BrandSpec, analyse_answer, context_words_from_questions
from records.analysis.brands import expand_aliases, is_gated


def mentions(text, brands, **kwargs):
    """{brand: [matched text, ...]} for mentioned brands."""
    result = analyse_answer(text, brands, **kwargs)
    return {
        name: [text[start:end] for _, start, end in entry["matches"]]
        for name, entry in result["brands"].items()
        if entry["mentioned"]
    }


def test_liangzi_inside_huaxia_liangzi_credits_only_the_longer_brand():
    brands = [BrandSpec("华夏良子"), BrandSpec("良子")]
    assert mentions("推荐华夏良子，手法专业。", brands) == {"华夏良子": ["华夏良子"]}
    assert mentions("华夏良子和良子足道都可以", brands) == {
        "华夏良子": ["华夏良子"],
        "良子": ["良子"],
    }


def test_leftmost_longest_holds_whichever_brand_is_listed_first():
    brands = [BrandSpec("良子"), BrandSpec("华夏良子")]
    assert mentions("去华夏良子", brands) == {"华夏良子": ["华夏良子"]}


def test_markdown_bold_brand_is_matched_with_original_offsets():
    text = "1. **华夏良子**：连锁品牌"
    result = analyse_answer(text, [BrandSpec("华夏良子")])
    assert result["brands"]["华夏良子"]["matches"] == [["华夏良子", 5, 9]]


def test_full_width_latin_brand_is_matched():
    assert mentions("推荐Ｎｉｋｅ跑鞋", [BrandSpec("Nike")]) == {"Nike": ["Ｎｉｋｅ"]}
    assert mentions("I like NIKE shoes", [BrandSpec("Ｎｉｋｅ")]) == {"Ｎｉｋｅ": ["NIKE"]}


def test_short_latin_alias_inside_a_longer_word_is_not_matched():
    brands = [BrandSpec("HP", safe_aliases=True), BrandSpec("Dell")]
    assert mentions("HPLC systems from Agilent", brands) == {}
    assert mentions("HP laptops beat HPLC-grade Dell", brands) == {"HP": ["HP"], "Dell": ["Dell"]}


def test_latin_alias_next_to_han_characters_is_matched():
    # Han characters are not [a-z0-9], so the ASCII boundary holds (\b would fail here).
    assert mentions("推荐nike跑鞋和adidas", [BrandSpec("Nike"), BrandSpec("Adidas")]) == {
        "Nike": ["nike"],
        "Adidas": ["adidas"],
    }


def test_han_alias_matches_inside_a_run_of_han_text():
    assert mentions("推荐华为手机", [BrandSpec("华为")]) == {"华为": ["华为"]}


def test_common_word_alias_counts_with_a_category_word_nearby():
    assert mentions("推荐小米手机，性价比高", [BrandSpec("小米")]) == {"小米": ["小米"]}


def test_common_word_alias_without_context_is_ignored():
    assert mentions("早上喝一碗小米粥很养胃。", [BrandSpec("小米")]) == {}
    assert mentions("我喜欢吃苹果。", [BrandSpec("苹果")]) == {}


def test_everyday_compound_is_not_a_mention_even_with_context():
    brands = [BrandSpec("美的"), BrandSpec("联想")]
    text = "这台空调是完美的选择；说到笔记本电脑，很多人会联想到商务本。"
    assert mentions(text, brands, context_words=["空调", "电脑"]) == {}


def test_context_word_more_than_30_characters_away_does_not_count():
    assert mentions("手机" + "，" * 31 + "小米", [BrandSpec("小米")]) == {}
    assert mentions("手机" + "，" * 30 + "小米", [BrandSpec("小米")]) == {"小米": ["小米"]}
    assert mentions("小米" + "，" * 30 + "手机", [BrandSpec("小米")]) == {"小米": ["小米"]}
    assert mentions("小米" + "，" * 31 + "手机", [BrandSpec("小米")]) == {}


def test_caller_context_words_enable_a_short_alias():
    brands = [BrandSpec("大宝")]
    assert mentions("良", [BrandSpec("良")]) == {}
    assert mentions("推拿店里良字招牌", [BrandSpec("良")], context_words=["推拿"]) == {"良": ["良"]}
    assert mentions("大宝推拿", brands) == {"大宝": ["大宝"]}


def test_safe_aliases_skip_context_gating():
    assert mentions("买了三斤苹果。", [BrandSpec("苹果", safe_aliases=True)]) == {"苹果": ["苹果"]}


def test_gated_han_alias_followed_by_a_model_number_counts():
    assert mentions("小米 14 和苹果15都不错", [BrandSpec("小米"), BrandSpec("苹果")]) == {
        "小米": ["小米"],
        "苹果": ["苹果"],
    }


def test_gated_alias_next_to_another_tracked_brand_counts():
    brands = [BrandSpec("华为"), BrandSpec("小米")]
    assert mentions("华为、小米都值得考虑", brands) == {"华为": ["华为"], "小米": ["小米"]}


def test_capitalised_short_alias_must_match_its_case():
    brands = [BrandSpec("On"), BrandSpec("Hoka")]
    assert mentions("Based on reviews, Hoka is great.", brands) == {"Hoka": ["Hoka"]}
    assert mentions("Hoka, On and Brooks", brands) == {"On": ["On"], "Hoka": ["Hoka"]}


def test_capitalised_common_word_mid_sentence_is_a_proper_noun():
    brands = [BrandSpec("Puma")]
    assert mentions("If you want cheaper, Puma's Deviate is good.", brands) == {"Puma": ["Puma"]}
    assert mentions("Puma. The big cat.", brands) == {}


def test_short_alias_leading_a_list_item_counts():
    text = "1. **HP Pavilion 15** – good screen\n2. **Dell XPS 13** – great build"
    assert mentions(text, [BrandSpec("HP"), BrandSpec("Dell")]) == {"HP": ["HP"], "Dell": ["Dell"]}


def test_alias_expansion_strips_store_and_legal_suffixes():
    forms = {text for text, _ in expand_aliases(BrandSpec("华夏良子养生馆（望京店）"))}
    assert {"华夏良子养生馆", "华夏良子"} <= forms
    forms = {text for text, _ in expand_aliases(BrandSpec("业之峰装饰有限公司"))}
    assert "业之峰装饰" in forms
    forms = {text for text, _ in expand_aliases(BrandSpec("Nike, Inc."))}
    assert "nike" in forms


def test_suffix_is_kept_when_fewer_than_two_han_characters_remain():
    forms = {text for text, _ in expand_aliases(BrandSpec("好店"))}
    assert forms == {"好店"}


def test_trailing_parenthesised_spelling_becomes_an_alias():
    forms = {text for text, _ in expand_aliases(BrandSpec("华为（HUAWEI）"))}
    assert {"华为", "huawei"} <= forms


def test_spacing_and_hyphen_variants_match():
    brands = [BrandSpec("New Balance"), BrandSpec("华为 Mate")]
    text = "new-balance, NewBalance, New  Balance; 华为Mate 60"
    assert mentions(text, brands) == {
        "New Balance": ["new-balance", "NewBalance", "New  Balance"],
        "华为 Mate": ["华为Mate"],
    }


def test_short_multi_word_names_are_not_joined_into_english_words():
    assert mentions("The lining is soft.", [BrandSpec("Li Ning")]) == {}


def test_brand_inside_a_url_is_a_citation_not_a_mention():
    text = "见 https://www.example.com/nike-review 。"
    assert mentions(text, [BrandSpec("Nike")]) == {}


def test_gating_rules():
    assert is_gated("良")
    assert is_gated("小米")
    assert is_gated("hp")
    assert not is_gated("华夏良子")
    assert not is_gated("nike")
    assert not is_gated("361度")


def test_context_words_are_derived_from_questions():
    questions = ["北京中医推拿哪家好？", "best running shoes for flat feet?"]
    words = context_words_from_questions(questions)
    assert {"中医推拿", "推拿", "北京中医推拿", "running", "shoes", "shoe", "feet"} <= set(words)
    assert "哪家好" not in words and "best" not in words


def test_context_words_exclude_brand_names_and_placeholders():
    words = context_words_from_questions(["{brandName}和小米手机哪个好"], ["小米"])
    assert "小米" not in words and "手机" in words
