"""The L3 writer: advances running executions' progress N times a second, as the worker does.

Each write is the worker's own transaction shape (execution.record_answer): insert one answer and
advance the execution in one conditional UPDATE, in an IMMEDIATE transaction. Prints a JSON line
with the counts (writes, "database is locked" errors, other errors) when it stops.

    python -m bench.writer --rate 200 --seconds 5 --ids 1,2,3
"""

from __future__ import annotations

import argparse
import json
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--ids", required=True, help="comma-separated TestRecord ids")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.db import OperationalError, transaction
    from django.db.models import F
    from django.utils import timezone

    from records.execution import FETCH_PROGRESS_CEILING
    from records.models import ACTIVE_STATUSES, Answer, TestRecord

    ids = [int(i) for i in args.ids.split(",")]
    counts = {"writes": 0, "locked": 0, "errors": 0, "late": 0}
    done = dict.fromkeys(ids, 0)
    for record_id, completed in TestRecord.objects.filter(id__in=ids).values_list(
        "id", "completed_tasks"
    ):
        done[record_id] = completed
    started = time.perf_counter()
    total = int(args.rate * args.seconds)
    for n in range(total):
        intended = started + n / args.rate
        delay = intended - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        elif delay < -0.05:
            counts["late"] += 1
        record_id = ids[n % len(ids)]
        k = done[record_id]
        now = timezone.now()
        try:
            with transaction.atomic():
                Answer.objects.create(
                    record_id=record_id,
                    question_index=100 + k % 100,
                    platform="deepseek",
                    run_index=k // 100,
                    question="北京中医推拿哪家好？",
                    text="1. 华夏良子：口碑很好，推荐。\n2. 良子健身：服务专业，值得一试。" * 10,
                    model_name="bench-writer",
                    status="success",
                    created_at=now,
                )
                TestRecord.objects.filter(pk=record_id, status__in=ACTIVE_STATUSES).update(
                    completed_tasks=F("completed_tasks") + 1,
                    progress=(F("completed_tasks") + F("failed_tasks") + 1)
                    * FETCH_PROGRESS_CEILING
                    / F("total_tasks"),
                    heartbeat_at=now,
                    updated_at=now,
                    version=F("version") + 1,
                )
            done[record_id] = k + 1
            counts["writes"] += 1
        except OperationalError as exc:
            key = "locked" if "locked" in str(exc) else "errors"
            counts[key] += 1
    counts["seconds"] = round(time.perf_counter() - started, 3)
    print(json.dumps(counts), flush=True)


if __name__ == "__main__":
    main()
