from __future__ import annotations

import subprocess
import sys

import voicelive_proactive as vp
import voicelive_proactive.testing as vpt


def test_all_is_sorted_unique_and_importable() -> None:
    for module in (vp, vpt):
        names = module.__all__
        assert len(set(names)) == len(names)

        # isort style: CONSTANTS, then Classes, then functions and dunders.
        def kind(n: str) -> tuple[int, str]:
            return (0 if n.isupper() else 1 if n[0].isupper() else 2, n)

        assert sorted(names, key=kind) == names
        for name in names:
            assert hasattr(module, name), f"{module.__name__}.{name} is in __all__ but missing"


def test_public_names_from_the_design() -> None:
    expected = {
        "AudioIO",
        "GreetingContext",
        "GreetingOutcome",
        "GreetingStrategy",
        "Greeting",
        "LLMGreeting",
        "OnceGuard",
        "ProactiveSession",
        "RandomGreeting",
        "SounddeviceAudioIO",
        "StaticGreeting",
        "TemplateGreeting",
    }
    assert expected <= set(vp.__all__)
    assert {"FakeConnection", "MemoryAudioIO"} <= set(vpt.__all__)


def test_every_public_class_and_function_is_documented() -> None:
    for name in vp.__all__:
        obj = getattr(vp, name)
        if isinstance(obj, type) or callable(obj):
            assert obj.__doc__, f"{name} has no docstring"


def test_version() -> None:
    assert vp.__version__.count(".") == 2


def test_importing_never_needs_portaudio() -> None:
    # With sounddevice unimportable (as when libportaudio2 is missing), import still works
    # and the default audio backend explains what to install.
    code = (
        "import sys; sys.modules['sounddevice'] = None\n"
        "import voicelive_proactive as vp\n"
        "try:\n"
        "    vp.SounddeviceAudioIO()\n"
        "except vp.AudioUnavailableError as e:\n"
        "    print('ERR', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "ERR" in out.stdout
    assert "libportaudio2" in out.stdout
