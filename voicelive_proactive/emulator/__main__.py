"""``python -m voicelive_proactive.emulator``: a local Voice Live service until Ctrl+C."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence

from .options import add_arguments


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m voicelive_proactive.emulator",
        description="Run a local Voice Live emulator; print 'endpoint=... api_key=...' when ready.",
    )
    add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    from .standalone import serve_from_args

    try:
        asyncio.run(serve_from_args(args))
    except ValueError as exc:  # e.g. a non-loopback host without --allow-remote
        parser.error(str(exc))
    except KeyboardInterrupt:  # Windows, where signal handlers are not available
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
