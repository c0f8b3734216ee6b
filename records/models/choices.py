"""The wire strings of an execution's lifecycle, stored as they are sent (CheckConstraints
in the models enforce them)."""

from django.db import models


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    PARTIAL_COMPLETED = "partial_completed", "Partially completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class Stage(models.TextChoices):
    INIT = "init", "Initialising"
    AI_FETCHING = "ai_fetching", "Asking AI platforms"
    ANALYZING = "analyzing", "Analysing answers"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class Source(models.TextChoices):
    API = "api", "API"
    LEGACY_IMPORT = "legacy_import", "Legacy import"
    RETRY = "retry", "Retry"


class AnswerStatus(models.TextChoices):
    SUCCESS = "success", "Success"
    FAILED = "failed", "Failed"


ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)
TERMINAL_STATUSES = (
    Status.COMPLETED,
    Status.PARTIAL_COMPLETED,
    Status.FAILED,
    Status.CANCELLED,
)
# The stage an ended execution shows: finished with answers, or stopped without (enough of) them.
ENDED_STAGE = {
    Status.COMPLETED: Stage.COMPLETED,
    Status.PARTIAL_COMPLETED: Stage.COMPLETED,
    Status.FAILED: Stage.FAILED,
    Status.CANCELLED: Stage.FAILED,
}
