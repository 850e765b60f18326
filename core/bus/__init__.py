"""The contract between processes: events flowing out of csms, commands flowing into it.

Each bus has an in-process implementation (one process, the embedded mode) and grows a Redis
one for the scaled-out deployment, behind the same interface and the same contract tests.
"""

from core.bus.commands import (
    CommandBus,
    CommandExecutor,
    CommandReply,
    CommandRequest,
    InProcessCommandBus,
    StationNotConnectedError,
)
from core.bus.events import Event, EventBus, EventType, InProcessEventBus, Subscription

__all__ = [
    "CommandBus",
    "CommandExecutor",
    "CommandReply",
    "CommandRequest",
    "Event",
    "EventBus",
    "EventType",
    "InProcessCommandBus",
    "InProcessEventBus",
    "StationNotConnectedError",
    "Subscription",
]
