"""``python -m scripts.sdk_live``."""

from .cli import main

raise SystemExit(main())
