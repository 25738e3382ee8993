"""A prerecorded greeting's path: no request, its audio straight to the speaker.

Part of the engine (no I/O). A :class:`~voicelive_proactive.prerecorded.PrerecordedGreeting`
has its audio already, so nothing is asked of the service: the audio is queued at once (the
speaker switched to its format first, since the session may not have said its own yet), and
the text goes into the conversation as an assistant item so the model knows what was said.
The floor holds it as a response proven ours (``proof="local"``), so a barge-in cuts it off
and truncates its item to what was heard, as for any speech of ours.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .actions import ConfigureAudio, QueueAudio
from .core import Core
from .floor import Request, ResponseView
from .greetings import Greeting
from .lifecycle import SpeechState, Trigger, move
from .outcome import GreetingStatus
from .receipts import receipt
from .wire import delete_item_event, local_item_event

if TYPE_CHECKING:
    from .agenda import Agenda

__all__ = ["LocalPlay"]


class LocalPlay:
    """Plays a prerecorded greeting on the agenda's behalf."""

    def __init__(self, core: Core, agenda: Agenda) -> None:
        self.core = core
        self.agenda = agenda

    def play(self, speech: SpeechState, greeting: Greeting, now: float) -> None:
        """A prerecorded greeting: its audio to the speaker now, its text to the conversation."""
        core = self.core
        item_id = next(core.ids)
        request = Request(item_id, owner=speech, protected=not speech.interruptible)
        request.answered = True
        view = core.floor.local(item_id, request)
        view.bytes_per_second = _byte_rate(greeting.audio_format)
        view.transcript = greeting.text
        speech.request, speech.response = request, view
        speech.protected = request.protected
        speech.words = list(greeting.words)
        move(speech, Trigger.PLAY_LOCAL)
        speech.metrics.greeting_sent = speech.metrics.response_created = now
        audio = greeting.audio
        assert audio is not None
        self._speak_in(greeting.audio_format)
        view.received_bytes = len(audio)
        core.floor.queued(item_id, audio)
        core.out.add(QueueAudio(audio))
        speech.update(
            status=GreetingStatus.SENT,
            proof="local",
            transcript=greeting.text,
            attempts=speech.next_alternative,
        )
        self.agenda.record_rendered(speech)
        self.agenda.started(speech, now, 0)
        core.out.send(local_item_event(next(core.ids), item_id, greeting.text), speech)
        self.agenda.over_on_service(speech, now)

    def _speak_in(self, name: str) -> None:
        """Set the speaker to the prerecorded audio's format (before the session says)."""
        from .audio.formats import PCM16_24K, AudioFormat

        output, input_ = self.core.formats or (PCM16_24K, PCM16_24K)
        wanted = AudioFormat.from_output(name)
        if wanted != output:
            self.core.out.add(ConfigureAudio(wanted, input_))


_BYTE_RATES = {
    "pcm16_16000hz": 32_000,
    "pcm16_8000hz": 16_000,
    "g711_ulaw": 8_000,
    "g711_alaw": 8_000,
}


def replace_heard(core: Core, speech: SpeechState, view: ResponseView, played_ms: int) -> None:
    """A prerecorded greeting was cut off: the conversation keeps only what was heard."""
    heard, _, delivered = receipt(
        speech.words, view.transcript, played_ms=played_ms, total_ms=view.ms(view.queued_bytes)
    )
    if delivered or view.item_id is None:
        return
    core.out.send(delete_item_event(next(core.ids), view.item_id))
    if heard:
        core.out.send(
            local_item_event(next(core.ids), next(core.ids), heard, view.previous_item_id)
        )


def _byte_rate(audio_format: str) -> int:
    return _BYTE_RATES.get(audio_format, 48_000)
