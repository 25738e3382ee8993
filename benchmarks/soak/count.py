"""Judging one conversation from what the caller heard, never from the library's own word.

Inputs, per connection: the emulator's record of the server events it sent (so which
responses were pre-generated greetings, resumes or says, and their audio), the chunks that
reached the caller's ear with how much of each was played, and each speech's outcome. Each
played chunk is found, by content, in the audio the emulator sent on that connection (in
order: the library plays chunks in the order they came), which names the response it belongs
to. Silence matches anywhere, so all-zero chunks only count where they continue the stream.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .app import TOOL_METADATA, ConnectionRecord, SpeechRecord
from .plan import GREETING_TEXTS, RESUME_TEXTS

PENDING_AT_END = "still pending after run() returned (the connection had ended)"
NEVER_SETTLED = "never settled"
NO_REASON = "skipped or failed without a reason"
SENT_UNHEARD = "reported sent (not interrupted), but the caller heard none of it"


@dataclass
class Response:
    """One response the emulator streamed on a connection."""

    id: str
    metadata: Any
    transcript: str = ""
    audio: bytearray = field(default_factory=bytearray)
    status: str | None = None  # None: no response.done (the connection dropped first)
    tool_call: bool = False
    kind: str = "unknown"
    heard: int = 0  # bytes of its audio that reached the caller


def pre_generated(received: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Each ``response.create`` the emulator received that carried a pre-generated message:
    its ``event_id`` → the text."""
    texts = {}
    for event in received:
        if event.get("type") != "response.create" or not isinstance(event.get("event_id"), str):
            continue
        message = (event.get("response") or {}).get("pre_generated_assistant_message") or {}
        parts = message.get("content") or [{}]
        text = parts[0].get("text") if isinstance(parts[0], Mapping) else None
        if isinstance(text, str):
            texts[event["event_id"]] = text
    return texts


def responses(
    sent: Iterable[Mapping[str, Any]],
    says: Mapping[str, str],
    creates: Mapping[str, str] | None = None,
) -> list[Response]:
    """The responses in ``sent`` (the emulator's record), classified.

    ``says`` maps each say's texts to its label; ``creates`` (:func:`pre_generated`) names
    what a response was asked to say when it was cut before its transcript (a response whose
    echoed metadata holds that create's ``event_id``). Kinds: ``greeting``, ``resume``, a
    say's label, ``tool_call`` (a response that calls a tool), ``tool_reply`` (the app's
    response after answering a tool), ``instructed`` (the library asked the model to word
    it), ``service`` (the service's own, as after a user turn: no metadata).
    """
    creates = creates or {}
    found: dict[str, Response] = {}
    for event in sent:
        kind = event.get("type")
        if kind == "response.created":
            response = event["response"]
            found[response["id"]] = Response(response["id"], response.get("metadata"))
            continue
        rid = event.get("response_id") or (event.get("response") or {}).get("id")
        current = found.get(rid) if isinstance(rid, str) else None
        if current is None:
            continue
        if kind == "response.audio_transcript.delta":
            current.transcript += event.get("delta") or ""
        elif kind == "response.audio.delta":
            current.audio += base64.b64decode(event["delta"])
        elif kind == "response.function_call_arguments.done" or (
            kind == "response.output_item.added"
            and (event.get("item") or {}).get("type") == "function_call"
        ):
            current.tool_call = True
        elif kind == "response.done":
            current.status = event["response"].get("status")
    for response in found.values():
        if not response.transcript and isinstance(response.metadata, Mapping):
            asked = [creates[v] for v in response.metadata.values() if v in creates]
            response.transcript = asked[0] if asked else ""
        response.kind = _kind(response, says)
    return list(found.values())


def _kind(response: Response, says: Mapping[str, str]) -> str:
    text = response.transcript.strip()
    if response.metadata is None:
        return "service"
    if response.metadata == TOOL_METADATA:
        return "tool_reply"
    if response.tool_call:
        return "tool_call"
    if text in GREETING_TEXTS:
        return "greeting"
    if text in RESUME_TEXTS:
        return "resume"
    if text in says:
        return says[text]
    return "instructed" if text else "unknown"


def attribute(segments: Sequence[tuple[bytes, int]], found: Sequence[Response]) -> int:
    """Credit each played chunk to the response whose audio it is; return unplaced bytes."""
    stream = bytearray()
    bounds: list[tuple[int, int, Response]] = []
    for response in found:
        bounds.append((len(stream), len(stream) + len(response.audio), response))
        stream += response.audio
    data = bytes(stream)
    position, unplaced = 0, 0
    for pcm, played in segments:
        at = -1
        if not any(pcm):  # silence: only where it continues the stream
            if data.startswith(pcm, position):
                at = position
        else:
            at = _find_sample(data, pcm, position)
            if at < 0:
                at = _find_sample(data, pcm, 0)  # out of order (should not happen; still heard)
        if at < 0:
            unplaced += played
            continue
        position = at + len(pcm)
        for start, end, response in bounds:
            overlap = min(end, at + played) - max(start, at)
            if overlap > 0:
                response.heard += overlap
    return unplaced


def _find_sample(data: bytes, pcm: bytes, start: int) -> int:
    """Where ``pcm`` starts in ``data`` at or after ``start``, on a whole PCM16 sample."""
    at = data.find(pcm, start)
    while at >= 0 and at % 2:
        at = data.find(pcm, at + 1)
    return at


@dataclass
class Verdict:
    """One conversation, judged."""

    index: int
    connections: int
    greetings_heard: int = 0
    resumes_heard: int = 0
    doubled: bool = False  # two greetings (or resumes) heard on one connection
    lost: list[str] = field(default_factory=list)  # says
    lost_greetings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # outcomes that disagree with the ear
    hangs: list[str] = field(default_factory=list)
    app_errors: list[str] = field(default_factory=list)
    drops: list[str] = field(default_factory=list)  # what each drop interrupted
    unplaced_bytes: int = 0
    speeches: int = 0  # say() calls
    heard_speeches: int = 0
    health: dict[str, int] = field(default_factory=dict)
    audio_left_open: int = 0  # connections whose AudioIO the library never closed
    greeting_outcomes: list[str] = field(default_factory=list)  # per connection, as reported

    @property
    def duplicate(self) -> bool:
        return (
            self.doubled
            or self.greetings_heard > 1
            or self.resumes_heard > max(0, self.connections - 1)
        )

    @property
    def missed(self) -> bool:
        return self.greetings_heard + self.resumes_heard == 0

    @property
    def ok(self) -> bool:
        return not (self.duplicate or self.lost or self.lost_greetings or self.hangs)


def judge(index: int, records: Sequence[ConnectionRecord]) -> Verdict:
    """Count greetings heard and lost speech over every connection of one conversation."""
    verdict = Verdict(index, len(records))
    for record in records:
        says = {
            text: speech.label
            for speech in record.speeches
            if speech.label != "greeting"
            for text in speech.texts
        }
        found = responses(record.sent, says, pre_generated(record.received))
        verdict.unplaced_bytes += attribute(record.segments, found)
        heard_here = {"greeting": 0, "resume": 0}
        for response in found:
            if response.kind in heard_here and response.heard:
                heard_here[response.kind] += 1
        verdict.greetings_heard += heard_here["greeting"]
        verdict.resumes_heard += heard_here["resume"]
        if heard_here["greeting"] + heard_here["resume"] > 1:
            verdict.doubled = True
        if record.dropped:
            verdict.drops.append(_drop_moment(record.sent, found))
        if record.hang:
            verdict.hangs.append(f"connection {record.index}: {record.hang}")
        if record.app_error:
            verdict.app_errors.append(f"connection {record.index}: {record.app_error}")
        if not record.audio_closed:
            verdict.audio_left_open += 1
        for name, value in record.health.items():
            verdict.health[name] = verdict.health.get(name, 0) + value
        for speech in record.speeches:
            mine = _responses_of(speech, found)
            heard = sum(r.heard for r in mine)
            problems = _lost(speech, heard)
            where = f"connection {record.index} {speech.label} ({speech.kind})"
            if speech.label == "greeting":
                verdict.greeting_outcomes.append(_state(speech))
                verdict.lost_greetings += [f"{where}: {p} [{_state(speech)}]" for p in problems]
                _greeting_notes(verdict, where, speech, mine)
            else:
                verdict.speeches += 1
                verdict.heard_speeches += heard > 0
                verdict.lost += [f"{where}: {p} [{_state(speech)}]" for p in problems]
            verdict.notes += [f"{where}: {n}" for n in _notes(speech, heard, mine)]
    return verdict


def _responses_of(speech: SpeechRecord, found: Sequence[Response]) -> list[Response]:
    if speech.label == "greeting":
        return [r for r in found if r.kind in ("greeting", "resume")]
    if speech.kind == "tool":
        return [r for r in found if r.kind in ("tool_call", "tool_reply", "instructed")]
    return [r for r in found if r.kind == speech.label]


def _lost(speech: SpeechRecord, heard: int) -> list[str]:
    problems = []
    if not speech.done_when_connection_ended and not speech.asked_as_it_ended:
        problems.append(PENDING_AT_END)
    if not speech.settled:
        problems.append(NEVER_SETTLED)
    if speech.status in ("skipped", "failed") and not speech.reason:
        problems.append(NO_REASON)
    if speech.status == "sent" and not heard and not speech.interrupted:
        problems.append(SENT_UNHEARD)
    return problems


def _notes(speech: SpeechRecord, heard: int, mine: Sequence[Response]) -> list[str]:
    notes = []
    if speech.status in ("skipped", "failed") and heard:
        notes.append(f"reported {speech.status} ({speech.reason}), but the caller heard {heard} B")
    cut = [r for r in mine if r.heard and r.status != "completed" and not r.tool_call]
    if speech.status == "sent" and cut and not speech.interrupted:
        notes.append(
            "reported sent and not interrupted, but its response was cut short "
            f"({', '.join(str(r.status) for r in cut)}) after {heard} B"
        )
    return notes


def _greeting_notes(
    verdict: Verdict, where: str, speech: SpeechRecord, mine: Sequence[Response]
) -> None:
    heard = {r.kind for r in mine if r.heard}
    if speech.resumed and "greeting" in heard:
        verdict.notes.append(f"{where}: outcome.resumed, but the caller heard the greeting")
    if not speech.resumed and speech.status == "sent" and heard == {"resume"}:
        verdict.notes.append(f"{where}: the caller heard the resume, outcome.resumed is false")


def _drop_moment(sent: Sequence[Mapping[str, Any]], found: Sequence[Response]) -> str:
    """What the drop cut: the response still streaming, or "between responses"."""
    streaming = [r for r in found if r.status is None]
    if not streaming:
        return "between responses"
    last = streaming[-1]
    return "tool call" if last.tool_call or last.kind == "tool_call" else last.kind


def _state(speech: SpeechRecord) -> str:
    parts = [speech.status]
    if speech.reason:
        parts.append(repr(speech.reason))
    if speech.interrupted:
        parts.append(f"interrupted at {speech.played_ms} ms")
    if speech.resumed:
        parts.append("resumed")
    if not speech.settled:
        parts.append("unsettled")
    return ", ".join(parts)
