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


def test_importing_loads_no_heavy_dependency() -> None:
    # numpy (audio conversion), pydantic (configuration files), the Redis guard and the sound
    # device load when used, not on `import voicelive_proactive`; the SDK is the app's import.
    heavy = ("numpy", "pydantic", "soxr", "sounddevice", "redis", "aiohttp", "azure")
    code = (
        "import sys\n"
        "import voicelive_proactive as vp\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r}))\n"
        "vp.AudioFormat.from_output('g711_ulaw')\n"  # formats without a conversion: still light
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["[]", "[]"], out.stdout


def test_lazily_loaded_names_work_and_are_listed() -> None:
    code = (
        "import sys\n"
        "import voicelive_proactive as vp\n"
        "assert {'load_greeting', 'SounddeviceAudioIO', 'RedisOnceGuard'} <= set(dir(vp))\n"
        "from voicelive_proactive import load_greeting, WavAudioIO, MAX_GUARD_KEY_CHARS\n"
        "assert 'pydantic' in sys.modules and 'numpy' not in sys.modules\n"
        "strategy = load_greeting({'type': 'static', 'text': 'Hi!'})\n"
        "print(strategy.render(vp.GreetingContext()).text)\n"
        "from voicelive_proactive.audio.formats import ulaw_to_pcm16\n"
        "print(ulaw_to_pcm16(b'\\xff\\x00').hex(), MAX_GUARD_KEY_CHARS, vp.NullAudioIO.__name__)\n"
        "try:\n"
        "    vp.NoSuchName\n"
        "except AttributeError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == [
        "Hi!",
        "00008482 512 NullAudioIO",
        "module 'voicelive_proactive' has no attribute 'NoSuchName'",
    ]
