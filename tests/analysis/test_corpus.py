"""Mention, rank and citation quality over a hand-labelled corpus of realistic answers.

corpus.json holds answers in the style of DeepSeek, Kimi, Doubao, Qwen, ChatGPT and Gemini to
buyer questions, with traps (brand substrings, common-word aliases, citations in every form).
Each entry lists the brands that are really mentioned, their rank under docs/metrics.md §3, and the
registrable domains of the sources the answer cites.
"""

import json
from pathlib import Path

from records.analysis import BrandSpec, analyse_answer, context_words_from_questions

CORPUS = json.loads((Path(__file__).parent / "corpus.json").read_text(encoding="utf-8"))
BAR = 0.95


def evaluate():
    counts = dict.fromkeys(("tp", "fp", "fn", "ranked", "agree", "ctp", "cfp", "cfn"), 0)
    errors = []
    for entry in CORPUS:
        brands = [
            BrandSpec(b["name"], tuple(b.get("aliases", ())), tuple(b.get("domains", ())))
            for b in entry["brands"]
        ]
        result = analyse_answer(
            "\n".join(entry["text"]),
            brands,
            sources=entry["sources"],
            context_words=context_words_from_questions(
                [entry["question"]], [b.name for b in brands]
            ),
        )
        expected = entry["expected"]
        found = {name for name, e in result["brands"].items() if e["mentioned"]}
        wanted = set(expected["mentioned"])
        counts["tp"] += len(found & wanted)
        counts["fp"] += len(found - wanted)
        counts["fn"] += len(wanted - found)
        if found != wanted:
            errors.append(f"{entry['id']}: mentions +{found - wanted} -{wanted - found}")
        for brand, rank in expected["ranks"].items():
            counts["ranked"] += 1
            got = result["brands"][brand]["rank"]
            counts["agree"] += got == rank
            if got != rank:
                errors.append(f"{entry['id']}: rank of {brand} {got} != {rank}")
        cited = {c["domain"] for c in result["citations"]}
        wanted_cites = set(expected["citation_domains"])
        counts["ctp"] += len(cited & wanted_cites)
        counts["cfp"] += len(cited - wanted_cites)
        counts["cfn"] += len(wanted_cites - cited)
        if cited != wanted_cites:
            extra, missing = cited - wanted_cites, wanted_cites - cited
            errors.append(f"{entry['id']}: citations +{extra} -{missing}")
    c = counts
    metrics = {
        "mention_precision": c["tp"] / (c["tp"] + c["fp"]),
        "mention_recall": c["tp"] / (c["tp"] + c["fn"]),
        "rank_agreement": c["agree"] / c["ranked"],
        "citation_precision": c["ctp"] / (c["ctp"] + c["cfp"]),
        "citation_recall": c["ctp"] / (c["ctp"] + c["cfn"]),
    }
    return metrics, counts, errors


def test_corpus_is_large_and_bilingual():
    languages = [entry["lang"] for entry in CORPUS]
    assert len(CORPUS) >= 40
    assert languages.count("zh") >= 20 and languages.count("en") >= 20
    assert all(len(entry["brands"]) >= 3 for entry in CORPUS)


def test_corpus_mention_precision_recall_and_rank_agreement():
    metrics, counts, errors = evaluate()
    report = (
        f"corpus: {len(CORPUS)} answers, {counts['tp'] + counts['fn']} labelled mentions, "
        f"{counts['ctp'] + counts['cfn']} labelled citation domains\n"
        + "\n".join(f"  {name}: {value:.3f}" for name, value in metrics.items())
        + "".join(f"\n  error: {e}" for e in errors)
    )
    print("\n" + report)
    assert all(value >= BAR for value in metrics.values()), report
