"""Expands a brand test's input into the calls to make."""

from __future__ import annotations

from dataclasses import dataclass

BRAND_PLACEHOLDER = "{brandName}"
COMPETITOR_PLACEHOLDER = "{competitorBrand}"


@dataclass(frozen=True, slots=True)
class PlannedQuestion:
    """One question as it will be sent; ``brand`` is the substituted brand or ''."""

    index: int
    brand: str
    text: str


@dataclass(frozen=True, slots=True)
class PlannedCall:
    """One platform call: a planned question on a platform in one repeat."""

    question: PlannedQuestion
    platform: str
    run_index: int

    @property
    def key(self) -> tuple[int, str, str, int]:
        """The answer's unique cell within its execution."""
        return (self.question.index, self.question.brand, self.platform, self.run_index)


def expand_questions(
    questions: list[str], brand: str, competitors: list[str]
) -> list[PlannedQuestion]:
    """Apply the legacy placeholder rule: a question naming {brandName} is asked once per tracked
    brand with that brand substituted; others are asked once. {competitorBrand} becomes the
    competitors joined with '、'."""
    joined_competitors = "、".join(competitors)
    planned: list[PlannedQuestion] = []
    for index, template in enumerate(questions):
        text = template.replace(COMPETITOR_PLACEHOLDER, joined_competitors)
        if BRAND_PLACEHOLDER in text:
            for each in [brand, *competitors]:
                planned.append(PlannedQuestion(index, each, text.replace(BRAND_PLACEHOLDER, each)))
        else:
            planned.append(PlannedQuestion(index, "", text))
    return planned


def plan_calls(
    questions: list[str], brand: str, competitors: list[str], platforms: list[str], repeats: int
) -> list[PlannedCall]:
    """Every call of an execution, question-major so early answers cover every platform."""
    return [
        PlannedCall(question, platform, run_index)
        for question in expand_questions(questions, brand, competitors)
        for run_index in range(repeats)
        for platform in platforms
    ]
