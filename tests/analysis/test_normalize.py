from records.analysis.normalize import fold, normalize


def test_normalize_preserves_length_so_offsets_map_back():
    text = "推荐\u3000**Ｎｉｋｅ**\u200b跑鞋_`x`\ufeff①ﬁ"
    assert len(normalize(text)) == len(text)
    assert len(fold(text)) == len(text)


def test_full_width_ascii_is_folded_and_latin_lower_cased():
    assert normalize("Ｎｉｋｅ ＡＢＣ１２３！") == "nike abc123!"


def test_ideographic_and_zero_width_spaces_become_spaces():
    assert normalize("华夏\u3000良子\u200b\u200c\u200d\ufeff") == "华夏 良子    "


def test_markdown_emphasis_marks_become_spaces():
    assert normalize("**华夏良子** _Nike_ `On`") == "  华夏良子    nike   on "


def test_fold_keeps_markdown_marks_for_list_parsing():
    assert fold("**１. Ｎｉｋｅ**") == "**1. nike**"


def test_no_nfkc_compatibility_mapping():
    # NFKC would turn ① into 1 and ﬁ into fi, changing meaning and (for ﬁ) length.
    assert normalize("①ﬁ") == "①ﬁ"


def test_characters_whose_lower_case_is_longer_are_left_alone():
    assert normalize("İstanbul") == "İstanbul"
