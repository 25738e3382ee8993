"""Versus LiveKit Agents: the library and LiveKit's Azure plugin on the same work, same run.

The section (:mod:`benchmarks.peers.section`) starts the emulator in its own processes and two
clients, each a command server in its own process: ours (:mod:`benchmarks.peers.ours`, this
venv) and LiveKit's (:mod:`benchmarks.peers.livekit_side`, ``.venv-livekit``, built from
``benchmarks/peers/requirements-livekit.txt``). Both write into the same kind of sink and read
the same paced microphone (:mod:`benchmarks.peers.common`); the parent alternates them trial by
trial and turns what they report into the fixed ``peers.*`` keys (:mod:`benchmarks.peers.summary`).

This package's ``__init__`` and :mod:`~benchmarks.peers.common` import nothing but the standard
library and numpy, so the LiveKit venv can import them without the library installed.
"""
