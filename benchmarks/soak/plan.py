"""What goes wrong in each conversation: a pure function of (seed, index).

Every conversation greets (a spoken greeting, maybe rendered slowly), says one to three
things (spoken, slowly rendered, or asked of the model through a tool call) and suffers one to
three faults drawn at random: the connection dropped in the middle of the greeting, of a
``say()`` or of a tool call; a busy race (the service's own response wins); a rejection; slow
renders, some past ``render_timeout``; repeated or late ``session.updated``; a slow
``response.created``; stalled audio. Drops are placed by counting the server's events
(``Faults.drop_after``), so the same seed puts them at the same point of the same script.
"""

from __future__ import annotations

import functools
import random
from dataclasses import asdict, dataclass, field
from typing import Any

from voicelive_proactive.emulator import Faults

GREETING = "Hello, thanks for calling Contoso Dental. How can I help you today?"
GREETING_FALLBACK = "Hi there, this is Contoso Dental speaking."
SLOW_GREETING = "Good afternoon from Contoso Dental, your appointment line."
RESUME = "Welcome back, sorry about that. Where were we?"
SAYS = (
    "Your appointment is confirmed for Tuesday at ten.",
    "We have sent a reminder to your phone.",
    "Parking is free in the east garage.",
)
SAYS_FALLBACK = (
    "Your booking is all set for Tuesday.",
    "A reminder is on its way to you.",
    "The east garage has free parking.",
)
TOOL = "get_order_status"
TOOL_INSTRUCTION = f"Call {TOOL}, then tell the caller the status of their order."
TOOL_OUTPUT = "Order 4417 ships tomorrow morning."

GREETING_TEXTS = frozenset({GREETING, GREETING_FALLBACK, SLOW_GREETING})
RESUME_TEXTS = frozenset({RESUME})

RENDER_TIMEOUT = 0.3
MAX_CONNECTIONS = 3

DROPS = ("drop_before_greeting_audio", "drop_mid_greeting", "drop_mid_say", "drop_mid_tool")
OTHERS = (
    "busy_greeting",
    "busy_say",
    "reject_greeting",
    "reject_say",
    "slow_render",
    "slow_render_timeout",
    "repeat_session_updated",
    "slow_response_created",
    "stalled_audio",
)
ON_RECONNECTION = ("drop_mid_resume", "busy_resume", "reject_resume")
KINDS = ("none", *DROPS, *OTHERS, *ON_RECONNECTION)
REJECTIONS = (
    ("server_error", "The server had an error while processing your request."),
    ("rate_limit_exceeded", "Too many requests; try again shortly."),
    ("unknown_parameter", "Unknown parameter: 'response.pre_generated_assistant_message'."),
)


@functools.lru_cache(maxsize=32)
def audio_chunks(text: str) -> int:
    """How many ``response.audio.delta`` events the emulator sends for ``text``."""
    from voicelive_proactive.emulator.speech import build_speech

    return len(build_speech(text, "synthetic").chunks)


@dataclass(frozen=True)
class SpeechPlan:
    """One thing the agent says: how it is rendered, and (for says) when it is asked for."""

    label: str  # "greeting", "say1", ...
    kind: str  # "static", "slow", "slow_timeout", "tool"
    text: str  # what it says (for "tool": what the model is told)
    fallback: str | None = None  # a spoken alternative after it (a fallback chain)
    delay: float = 0.0  # how long a slow render takes
    when: str = "after_greeting"  # says: "early" (before the greeting is over) or after it


@dataclass(frozen=True)
class ConversationPlan:
    seed: int
    index: int
    pace: float
    greeting: SpeechPlan
    says: tuple[SpeechPlan, ...]
    faults: tuple[str, ...]
    first: dict[str, Any]  # Faults(**first) for the first connection
    later: tuple[dict[str, Any], ...] = field(default=())  # ...for each reconnection
    tool_delay: float = 0.0

    @property
    def key(self) -> str:
        """The conversation's Redis key: the same on every connection of the call."""
        return f"greeted:soak-{self.seed}-{self.index}"

    def faults_for(self, connection: int) -> Faults:
        """The emulator's faults for the ``connection``-th connection (0-based)."""
        if connection == 0:
            return Faults(**self.first)
        later = self.later[connection - 1] if connection - 1 < len(self.later) else {}
        return Faults(**later)

    def reconnection_faults(self, connections: int) -> list[str]:
        """The faults the reconnections that happened (of ``connections``) suffered."""
        names = {
            "drop_after": "drop_mid_resume",
            "vad_response_before_create": "busy_resume",
            "response_errors": "reject_resume",
        }
        return [names[key] for later in self.later[: connections - 1] for key in later]

    def describe(self) -> dict[str, Any]:
        """JSON-ready, for the report and for reproducing one conversation."""
        return asdict(self)


def _speech(rng: random.Random, label: str, text: str, fallback: str, kind: str) -> SpeechPlan:
    if kind == "slow":
        return SpeechPlan(label, kind, text, fallback, delay=round(rng.uniform(0.02, 0.15), 3))
    if kind == "slow_timeout":
        keep = rng.random() < 0.75  # most have a fallback; some simply fail
        delay = round(rng.uniform(RENDER_TIMEOUT + 0.1, RENDER_TIMEOUT + 0.5), 3)
        return SpeechPlan(label, kind, text, fallback if keep else None, delay=delay)
    return SpeechPlan(label, "static", text, fallback)


def make_plan(seed: int, index: int) -> ConversationPlan:
    """The plan of conversation ``index`` in the soak seeded with ``seed``."""
    rng = random.Random(f"voicelive-proactive soak/{seed}/{index}")
    faults: list[str] = []
    if rng.random() >= 0.08:  # a few conversations go right, for contrast
        if rng.random() < 0.6:
            faults.append(rng.choice(DROPS))
        others = rng.sample(OTHERS, k=rng.choice((0, 1, 1, 2)))
        faults += others
        if not faults:
            faults.append(rng.choice(OTHERS))
    # Two faults that change the same create would hide each other.
    if "busy_greeting" in faults and "reject_greeting" in faults:
        faults.remove("reject_greeting")
    if "busy_say" in faults and "reject_say" in faults:
        faults.remove("reject_say")
    if "busy_greeting" in faults and "busy_say" in faults:
        faults.remove("busy_say")

    slow_kind = (
        "slow_timeout"
        if "slow_render_timeout" in faults
        else ("slow" if "slow_render" in faults else "")
    )
    n_says = rng.choice((1, 2, 2, 3))
    tool_at = rng.randrange(n_says) if ("drop_mid_tool" in faults or rng.random() < 0.2) else None
    spoken_at = [i for i in range(n_says) if i != tool_at]
    # The slow render hits the greeting or the first spoken say.
    slow_at = rng.choice((-1, spoken_at[0])) if slow_kind and spoken_at else -1
    greeting_kind = slow_kind if slow_kind and slow_at == -1 else "static"
    greeting_text = SLOW_GREETING if greeting_kind != "static" else GREETING
    greeting = _speech(rng, "greeting", greeting_text, GREETING_FALLBACK, greeting_kind)
    says = []
    for i in range(n_says):
        label = f"say{i + 1}"
        when = "early" if rng.random() < 0.3 else "after_greeting"
        if i == tool_at:
            says.append(SpeechPlan(label, "tool", TOOL_INSTRUCTION, when=when))
            continue
        kind = slow_kind if slow_kind and i == slow_at else "static"
        plan = _speech(rng, label, SAYS[i], SAYS_FALLBACK[i], kind)
        says.append(SpeechPlan(plan.label, plan.kind, plan.text, plan.fallback, plan.delay, when))

    first: dict[str, Any] = {}
    greeting_chunks = audio_chunks(greeting.text)
    if "drop_before_greeting_audio" in faults:
        first["drop_after"] = ("response.created", 1)
    elif "drop_mid_greeting" in faults:
        first["drop_after"] = ("response.audio.delta", rng.randint(1, greeting_chunks - 1))
    elif "drop_mid_say" in faults:
        spoken = next((s for s in says if s.kind != "tool"), None)
        if spoken is None:
            faults[faults.index("drop_mid_say")] = "drop_mid_greeting"
            first["drop_after"] = ("response.audio.delta", rng.randint(1, greeting_chunks - 1))
        else:
            into = rng.randint(1, audio_chunks(spoken.text) - 1)
            first["drop_after"] = ("response.audio.delta", greeting_chunks + into)
    elif "drop_mid_tool" in faults:
        moment = rng.choice(
            (
                ("response.function_call_arguments.delta", 1),  # while the model calls it
                ("response.function_call_arguments.done", 1),  # while the app runs it
            )
        )
        first["drop_after"] = moment
    if "busy_greeting" in faults:
        first["vad_response_before_create"] = 1
    if "busy_say" in faults:
        first["vad_response_before_create"] = 2
    errors = {}
    if "reject_greeting" in faults:
        errors[1] = rng.choice(REJECTIONS)
    if "reject_say" in faults:
        errors[2] = rng.choice(REJECTIONS)
    if errors:
        first["response_errors"] = errors
    if "repeat_session_updated" in faults:
        first["session_updated_repeat"] = rng.randint(1, 3)
        first["session_updated_delay"] = round(rng.uniform(0.0, 0.1), 3)
    if "slow_response_created" in faults:
        first["response_created_delay"] = round(rng.uniform(0.05, 0.3), 3)
    if "stalled_audio" in faults:
        first["stall_audio_after_chunks"] = rng.randint(1, 5)
        first["stall_audio_seconds"] = round(rng.uniform(0.1, 0.4), 3)

    later: list[dict[str, Any]] = []
    for _ in range(MAX_CONNECTIONS - 1):
        draw = rng.random()
        if draw < 0.2:  # the reconnection drops too, in the middle of "welcome back"
            into = rng.randint(1, audio_chunks(RESUME) - 1)
            later.append({"drop_after": ("response.audio.delta", into)})
        elif draw < 0.3:  # the caller speaks first on the new connection
            later.append({"vad_response_before_create": 1})
        elif draw < 0.35:  # "welcome back" is refused (it has no fallback)
            later.append({"response_errors": {1: rng.choice(REJECTIONS)}})
        else:
            later.append({})
    return ConversationPlan(
        seed=seed,
        index=index,
        pace=rng.choice((0.0, 8.0)),
        greeting=greeting,
        says=tuple(says),
        faults=tuple(faults) or ("none",),
        first=first,
        later=tuple(later),
        tool_delay=round(rng.uniform(0.0, 0.1), 3),
    )
