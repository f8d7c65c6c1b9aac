"""The sandbox: a Telegram Bot API emulator written for Ortaq, and the tools around it.

- :mod:`bot.sandbox.emulator` — :class:`Emulator`, in-memory Bot API state and semantics;
- :mod:`bot.sandbox.request` — ``EmulatorRequest``, the emulator plugged into PTB in-process;
- :mod:`bot.sandbox.server` — ``EmulatorServer``, the emulator over HTTP on 127.0.0.1;
- :mod:`bot.sandbox.users` — ``SimulatedUser`` / ``RemoteUser``, people for tests;
- :mod:`bot.sandbox.faults` and :mod:`bot.sandbox.markup` — failure modes and text parsing.

Only the transport-free core is imported here, so ``import bot.sandbox`` pulls in neither PTB
nor aiohttp.
"""

from bot.sandbox.emulator import DEFAULT_TOKEN, Emulator, MessageRecord, UploadedFile
from bot.sandbox.faults import Limits

__all__ = ["DEFAULT_TOKEN", "Emulator", "Limits", "MessageRecord", "UploadedFile"]
