"""The demo platform's monitor answers move with the day, deterministically."""

from datetime import date, timedelta

from records.engine.base import Prompt
from records.engine.demo import DemoAdapter, presence

BRANDS = ("华夏良子", "通透堂", "良子健身")


def mention_rate(brand: str, day: date | None, n: int = 200) -> float:
    adapter = DemoAdapter(latency_ms=0)
    texts = [
        adapter.ask(Prompt("北京中医推拿哪家好？", brands=BRANDS, seed=f"s{i}", day=day)).text
        for i in range(n)
    ]
    return sum(brand in text for text in texts) / n


def test_the_same_prompt_on_the_same_day_gives_the_same_answer():
    adapter = DemoAdapter(latency_ms=0)
    prompt = Prompt("北京中医推拿哪家好？", brands=BRANDS, seed="x", day=date(2026, 11, 1))
    assert adapter.ask(prompt).text == adapter.ask(prompt).text


def test_the_main_brand_is_named_as_often_as_its_presence_of_the_day():
    # The main brand's presence moves between about 0.2 and 0.9 over six weeks.
    days = [date(2026, 10, 20) + timedelta(days=i) for i in range(42)]
    low = min(days, key=lambda d: presence(0, d))
    high = max(days, key=lambda d: presence(0, d))
    assert presence(0, high) - presence(0, low) > 0.5
    assert abs(mention_rate("华夏良子", low) - presence(0, low)) < 0.1
    assert abs(mention_rate("华夏良子", high) - presence(0, high)) < 0.1


def test_a_one_off_test_does_not_depend_on_the_date():
    # Without a day every tracked brand is named four times in five, as before monitors.
    assert abs(mention_rate("华夏良子", None) - 0.8) < 0.1
