"""Run the ``azure-ai-voicelive`` sdist's own ``tests/live`` against the emulator.

``python -m scripts.sdk_live`` (or ``make sdk-tests``); see README.md beside this file.
"""
