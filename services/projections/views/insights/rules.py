"""The thresholds every insight and flow metric is judged by, each a setting
(``WORKLEDGER_INSIGHT_*``, ``WORKLEDGER_FLOW_*``; see docs/insights.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class _Settings(Protocol):
    flow_window_days: int
    flow_throughput_weeks: int
    insight_goal_lag: float
    insight_slipping_warning: float
    insight_slipping_critical: float
    insight_aging_days: float
    insight_aging_critical_days: float
    insight_aging_min_samples: int
    insight_stale_days: float
    insight_due_moves: int
    insight_operation_window: int
    insight_operation_misses: int
    insight_overload_days: int
    insight_overload_warning: float
    insight_overload_critical: float
    insight_idle_load: float


@dataclass(frozen=True)
class Rules:
    # Flow: cycle and lead time over the items finished in this many days; throughput weeks.
    flow_window_days: int = 90
    flow_throughput_weeks: int = 12
    # goal_at_risk: progress behind the elapsed share of the period by more than this.
    goal_lag: float = 0.2
    # project_slipping: probability of meeting the target below these.
    slipping_warning: float = 0.7
    slipping_critical: float = 0.4
    # aging_work: days in progress when the team has fewer finished samples than this.
    aging_days: float = 14.0
    aging_critical_days: float = 28.0
    aging_min_samples: int = 10
    # stale_work: days without an event on an open assigned issue.
    stale_days: float = 14.0
    # due_date_churn: more moves than this.
    due_moves: int = 2
    # operation_unhealthy: this many of the last ``operation_window`` occurrences missed.
    operation_window: int = 5
    operation_misses: int = 3
    # overloaded: committed work due within this many days against capacity for them.
    overload_days: int = 14
    overload_warning: float = 1.0
    overload_critical: float = 1.5
    # idle_capacity: load under this beside untriaged issues.
    idle_load: float = 0.5

    @classmethod
    def of(cls, settings: _Settings) -> Rules:
        return cls(
            flow_window_days=settings.flow_window_days,
            flow_throughput_weeks=settings.flow_throughput_weeks,
            goal_lag=settings.insight_goal_lag,
            slipping_warning=settings.insight_slipping_warning,
            slipping_critical=settings.insight_slipping_critical,
            aging_days=settings.insight_aging_days,
            aging_critical_days=settings.insight_aging_critical_days,
            aging_min_samples=settings.insight_aging_min_samples,
            stale_days=settings.insight_stale_days,
            due_moves=settings.insight_due_moves,
            operation_window=settings.insight_operation_window,
            operation_misses=settings.insight_operation_misses,
            overload_days=settings.insight_overload_days,
            overload_warning=settings.insight_overload_warning,
            overload_critical=settings.insight_overload_critical,
            idle_load=settings.insight_idle_load,
        )


DEFAULT_RULES = Rules()
