"""Every service that does not need discord.py, built in one place.

:func:`build_services` wires the stores, the features and their protocols together.
:class:`~bot.discord.bot.LecternBot` (the composition root of the running bot) calls it and
adds the two Discord-side pieces, the daily poster and the scheduler that drives it; the
offline console and the shell call it too, so all three run the same services.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .admin.audit import AuditStore
from .admin.service import AdminService
from .cards.service import CardService
from .config import Settings
from .core.db import Database
from .core.ratelimit import TokenBucket
from .core.ui_state import UiStateStore
from .corpus.champions import Champions
from .corpus.lexicon import Lexicon
from .corpus.nearest import MeaningIndex
from .corpus.search import PassageSearch
from .corpus.store import CorpusStore
from .daily.commands import DailyCommands
from .daily.order import DailyPicker
from .daily.runner import DailyRunner
from .daily.scheduler import Wakeup
from .daily.state import DailyState
from .daily.stats import DailyStats
from .daily.store import DailyStore
from .reading.lookup import Lookup
from .reading.service import ReadingService


@dataclass(frozen=True, slots=True)
class Services:
    db: Database
    corpus: CorpusStore
    search: PassageSearch
    ui_state: UiStateStore
    reading: ReadingService
    throttle: TokenBucket
    daily_store: DailyState
    daily_picker: DailyPicker
    daily_runner: DailyRunner
    daily: DailyCommands
    daily_stats: DailyStats
    #: Set when a schedule changes; the scheduler sleeps on it.
    schedules_changed: Wakeup
    audit: AuditStore
    admin: AdminService


def build_services(db: Database, settings: Settings, *, clock: Callable[[], datetime]) -> Services:
    """Every service over ``db``, configured by ``settings``, telling time by ``clock``."""
    corpus = CorpusStore(db)
    meaning = MeaningIndex(db) if settings.search_meaning else None
    search = PassageSearch(db, Lexicon(db, corpus), Champions(db), meaning)
    ui_state = UiStateStore(db, today=lambda: clock().date())
    daily_store = DailyStore(db)
    picker = DailyPicker(corpus, daily_store, clock)
    outcomes: Counter[str] = Counter()
    changed = Wakeup()
    audit = AuditStore(db)
    cards = CardService()
    return Services(
        db=db,
        corpus=corpus,
        search=search,
        ui_state=ui_state,
        reading=ReadingService(corpus, search, ui_state, cards, reflections=picker),
        throttle=TokenBucket(settings.cooldown_burst, settings.cooldown_seconds),
        daily_store=daily_store,
        daily_picker=picker,
        daily_runner=DailyRunner(
            daily_store,
            picker,
            grace=timedelta(hours=settings.daily_grace_hours),
            outcomes=outcomes,
            cards=cards,
        ),
        daily=DailyCommands(
            daily_store,
            picker,
            Lookup(corpus, search),
            clock=clock,
            changed=changed,
            max_schedules=settings.daily_max_schedules,
        ),
        daily_stats=DailyStats(daily_store, outcomes),
        schedules_changed=changed,
        audit=audit,
        admin=AdminService(db, corpus, audit, settings.passages_dir),
    )
