"""The playout ledger: the audio handed to the speaker and not yet heard, in order, per response.

The speaker can only drop *everything* it has not played (``skip_pending_audio`` returns how
many bytes that was). Since those are the newest bytes, the ledger can tell how much of each
response the listener heard, and give back the unplayed audio of the responses that should
go on playing (a ``cancel()`` of one speech must not silence the next one's audio).

Positions are running byte counts: ``position`` is "everything queued so far", and a
playout report "everything before P was heard" trims the ledger from the front. No I/O.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

__all__ = ["Dropped", "PlayoutLedger"]


@dataclass(eq=False, slots=True)
class _Segment:
    key: str
    size: int = 0  # bytes still pending (not reported played)
    chunks: deque[bytes] = field(default_factory=deque)
    skip: int = 0  # bytes at the front of chunks[0] already played


@dataclass(frozen=True, slots=True)
class Dropped:
    """What one flush dropped of one response: ``lost`` bytes, whose audio is ``audio``."""

    key: str
    lost: int
    audio: bytes


class PlayoutLedger:
    """Audio queued for the speaker since it was last known to be silent, per response key."""

    __slots__ = ("position", "segments")

    def __init__(self) -> None:
        self.segments: list[_Segment] = []  # a list: 700 bytes less per session than a deque
        self.position = 0
        """Bytes queued in total, ever: a marker for "everything queued so far"."""

    def add(self, key: str, pcm: bytes) -> None:
        segments = self.segments
        if segments and segments[-1].key == key:
            segment = segments[-1]
        else:
            segment = _Segment(key)
            segments.append(segment)
        segment.size += len(pcm)
        segment.chunks.append(pcm)
        self.position += len(pcm)

    @property
    def pending(self) -> bool:
        return bool(self.segments)

    def pending_of(self, key: str) -> int:
        """Bytes of response ``key`` not heard yet."""
        return sum(s.size for s in self.segments if s.key == key)

    def pending_keys(self) -> list[str]:
        """The responses with audio pending, oldest first."""
        return [s.key for s in self.segments]

    def played_through(self, position: int) -> None:
        """Everything queued before ``position`` has been heard."""
        start = self.position - sum(s.size for s in self.segments)
        while self.segments and start < position:
            segment = self.segments[0]
            heard = min(segment.size, position - start)
            start += heard
            if heard == segment.size:
                self.segments.pop(0)
                continue
            segment.size -= heard
            _consume(segment, heard)
            break

    def drop(self, dropped: int) -> list[Dropped]:
        """The speaker was flushed with ``dropped`` bytes unplayed. Returns what each response
        lost, oldest first, with its unplayed audio; the ledger is then empty.

        The dropped bytes are the newest ones, so they are taken from the back.
        """
        lost: list[Dropped] = []
        remaining = max(0, dropped)
        for segment in reversed(self.segments):
            take = min(segment.size, remaining)
            remaining -= take
            if take:
                audio = b"".join(segment.chunks)
                lost.append(Dropped(segment.key, take, audio[len(audio) - take :]))
        self.segments.clear()
        lost.reverse()
        return lost


def _consume(segment: _Segment, n: int) -> None:
    """Forget the first ``n`` bytes of ``segment``'s chunks."""
    chunks = segment.chunks
    n += segment.skip
    while chunks and n >= len(chunks[0]):
        n -= len(chunks.popleft())
    segment.skip = n
