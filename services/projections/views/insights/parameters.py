"""What every insights route takes: the rules from the settings, and a scope."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from services.projections.views.insights.judgements import Judgements
from services.projections.views.insights.rules import Rules
from services.projections.views.insights.scope import SCOPE_DESCRIPTION, SCOPE_PATTERN


def rules_of(request: Request) -> Rules:
    return Rules.of(request.app.state.settings)


def judgements_of(request: Request) -> Judgements:
    found: Judgements = request.app.state.insight_judgements
    return found


InsightRules = Annotated[Rules, Depends(rules_of)]
KeptJudgements = Annotated[Judgements, Depends(judgements_of)]
ScopeText = Annotated[
    str, Query(pattern=SCOPE_PATTERN, max_length=48, description=SCOPE_DESCRIPTION)
]
