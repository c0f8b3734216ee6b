"""The records app's models: executions (with answers, reports, scores), monitors, accounts.

Split by concept; ``from records.models import X`` stays the way to import any of them.
"""

from records.models.accounts import WeChatAccount
from records.models.alerts import (
    Alert,
    AlertKind,
    AlertQuerySet,
    AlertSettings,
    DeliveryState,
    WebhookDelivery,
    WebhookEndpoint,
    alerts_between,
)
from records.models.choices import (
    ACTIVE_STATUSES,
    ENDED_STAGE,
    TERMINAL_STATUSES,
    AnswerStatus,
    Source,
    Stage,
    Status,
)
from records.models.executions import (
    ACCESS_MODE_CHOICES,
    Answer,
    LegacyDocument,
    ResultDocument,
    TestRecord,
    TestRecordQuerySet,
    ending_fields,
    is_visible_to,
)
from records.models.limits import ThrottleHit
from records.models.monitors import (
    BRAND_PLACEHOLDER,
    DEFAULT_SCHEDULE,
    DEFAULT_TIMEZONE,
    Monitor,
    MonitorQuerySet,
    MonitorStatus,
    Prompt,
    PromptQuerySet,
    TrackedBrand,
    names_tracked_brand,
)
from records.models.scores import BrandScore, CellScore

__all__ = [
    "Alert",
    "AlertKind",
    "AlertQuerySet",
    "AlertSettings",
    "DeliveryState",
    "WebhookDelivery",
    "WebhookEndpoint",
    "alerts_between",
    "ThrottleHit",
    "ACCESS_MODE_CHOICES",
    "ACTIVE_STATUSES",
    "BRAND_PLACEHOLDER",
    "DEFAULT_SCHEDULE",
    "DEFAULT_TIMEZONE",
    "ENDED_STAGE",
    "TERMINAL_STATUSES",
    "Answer",
    "AnswerStatus",
    "BrandScore",
    "LegacyDocument",
    "CellScore",
    "Monitor",
    "MonitorQuerySet",
    "MonitorStatus",
    "Prompt",
    "PromptQuerySet",
    "ResultDocument",
    "Source",
    "Stage",
    "Status",
    "TestRecord",
    "TestRecordQuerySet",
    "TrackedBrand",
    "WeChatAccount",
    "ending_fields",
    "is_visible_to",
    "names_tracked_brand",
]
