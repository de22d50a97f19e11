"""The one exception for "the caller's input is wrong" (no imports: any layer may raise it).

The server answers it 422 with its message as ``detail`` (app/server/errors.py); the CLIs print it.
Subclasses say where the input came from: ``InputTooLong`` (app/server/limits.py), ``BatchInputError``
(app/server/batch_service.py), ``CalcInputError`` (app/calculator/service.py).
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input; ``str(exc)`` is a Chinese message for the user, shown as is."""
