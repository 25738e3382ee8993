"""The bare loop sends what the library sends: the dispatch comparison is like for like."""

from __future__ import annotations

import pytest

from benchmarks import loops


async def test_the_bare_loop_sends_the_librarys_frames_metadata_tag_included() -> None:
    assert await loops.same_dicts() == {"spoken": True, "instructed": True}
    for mode in loops.MODES:
        create = loops.bare_events(mode, loops.event_ids())[-1]
        assert create["response"]["metadata"] == {loops.TAG_KEY: create["event_id"]}


async def test_a_bare_loop_without_the_tag_is_reported_as_different(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(loops, "TAG_KEY", "someone_else")
    assert await loops.same_dicts() == {"spoken": False, "instructed": False}
