"""A user's mistake on the command line: one sentence naming what to fix and a non-zero exit, never a traceback.

Shared by `python -m training` and the tools (standard library only: `make lock` runs it without a venv).
Arguments are checked where argparse reads them (the `type=` checks below: exit 2, usage); a file that turns
out missing or unwritable later is caught once, by `commands`, and said in a sentence (exit 1). Anything else
is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Callable
from typing import Any

FAILED_EXIT = 1
INTERRUPTED_EXIT = 130


class CommandError(Exception):
    """A mistake the user can fix; its message is the sentence shown."""


def commands(prog: str) -> Callable[[Callable[..., Any]], Callable[..., int]]:
    """Wrap a command's main: CommandError and a file's OSError become `prog: error: <sentence>` and exit 1."""

    def wrap(main: Callable[..., Any]) -> Callable[..., int]:
        @functools.wraps(main)
        def run(*args: Any, **kwargs: Any) -> int:
            try:
                return main(*args, **kwargs) or 0
            except CommandError as exc:
                message = str(exc)
            except OSError as exc:
                if exc.filename is None:  # not about a file the user named: a bug or the network, keep the trace
                    raise
                message = file_problem(exc)
            except KeyboardInterrupt:
                return INTERRUPTED_EXIT
            print(f"{prog}: error: {message}", file=sys.stderr)
            return FAILED_EXIT

        return run

    return wrap


def file_problem(exc: OSError) -> str:
    """An OSError about a file as a sentence that says what to fix."""
    name = exc.filename
    if isinstance(exc, FileNotFoundError):
        return f"{name} does not exist (or a folder on its way is missing): check the path"
    if isinstance(exc, IsADirectoryError):
        return f"{name} is a folder where a file belongs: give the path of a file"
    if isinstance(exc, NotADirectoryError):
        return f"{name} goes through a file where a folder belongs: check the path"
    if isinstance(exc, PermissionError):
        return f"{name} may not be read or written by this user: choose another path or change its permissions"
    return f"{name} cannot be used: {exc.strerror or exc}; check the path"


def existing_file(path: str) -> str:
    """argparse type: a file that exists and can be read."""
    if not os.path.exists(path):
        raise argparse.ArgumentTypeError(f"{path} does not exist: give the path of a file")
    if os.path.isdir(path):
        raise argparse.ArgumentTypeError(f"{path} is a folder: give the path of a file")
    if not os.access(path, os.R_OK):
        raise argparse.ArgumentTypeError(f"{path} cannot be read by this user: check its permissions")
    return path


def existing_folder(path: str) -> str:
    """argparse type: a folder that exists."""
    if not os.path.exists(path):
        raise argparse.ArgumentTypeError(f"{path} does not exist: give the path of a folder")
    if not os.path.isdir(path):
        raise argparse.ArgumentTypeError(f"{path} is a file: give the path of a folder")
    return path


def output_folder(path: str) -> str:
    """argparse type: a folder to write into, created with its parents if needed."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise argparse.ArgumentTypeError(f"{path} is a file: give a folder to write into")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot create the folder {path} ({exc.strerror}): choose another") from None
    if not os.access(path, os.W_OK):
        raise argparse.ArgumentTypeError(f"{path} may not be written by this user: choose another folder")
    return path


def output_file(path: str) -> str:
    """argparse type: a file to write, in a folder that exists (checked before any work, not after it)."""
    if os.path.isdir(path):
        raise argparse.ArgumentTypeError(f"{path} is a folder: give the path of a file to write")
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise argparse.ArgumentTypeError(f"the folder {folder} does not exist: create it, or write elsewhere")
    if not os.access(folder, os.W_OK):
        raise argparse.ArgumentTypeError(f"{folder} may not be written by this user: write elsewhere")
    return path


def at_least(minimum: int) -> Callable[[str], int]:
    """argparse type: a whole number of at least minimum."""

    def whole_number(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}; got {value}")
        return value

    whole_number.__name__ = f"a whole number of at least {minimum}"
    return whole_number


def port(text: str) -> int:
    """argparse type: a TCP port number."""
    value = at_least(1)(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"a port is at most 65535; got {value}")
    return value


def venv_bin(path: str) -> str:
    """argparse type: the bin folder of a virtual environment (it holds python)."""
    existing_folder(path)
    if not os.path.exists(os.path.join(path, "python")):
        raise argparse.ArgumentTypeError(f"{path} holds no python: give a venv's bin folder, e.g. .venv-lean/bin")
    return path
