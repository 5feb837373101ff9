"""llama-cpp-python plumbing for :mod:`guardcode.models.llamacpp`.

Imported only when the llama.cpp backend starts, so that the rest of ``models/`` works
(and the registry can list backends) where llama-cpp-python is not installed. Everything
here runs on the backend's single worker thread, except :meth:`AbortSwitch.trip`.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import llama_cpp
from llama_cpp import Llama

from guardcode.models.base import ModelOptions


def _drop_log_line(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    # llama.cpp's log lines can quote the text being tokenized; none may reach stderr.
    return None


# Module level: llama.cpp keeps calling this pointer for the life of the process.
_DISCARD_LOG = llama_cpp.llama_log_callback(_drop_log_line)


def silence_llama_logs() -> None:
    """Route llama.cpp's C logging (process-wide) into a sink that drops it."""
    # Importing llama_cpp installs its own callback, which prints errors to stderr.
    llama_cpp.llama_log_set(_DISCARD_LOG, ctypes.c_void_p(0))


def _strlen_address() -> int | None:
    try:
        libc = ctypes.cdll.msvcrt if sys.platform == "win32" else ctypes.CDLL(None)
        return ctypes.cast(libc.strlen, ctypes.c_void_p).value
    except (OSError, AttributeError):
        return None


class AbortSwitch:
    """llama.cpp's abort callback for one context, and the flag it reads.

    The flag is a two-byte buffer ``[flag, NUL]``. By default the callback is libc's
    ``strlen`` called on that buffer: it returns 1 while the flag is set and 0 otherwise,
    which is exactly ``bool (*)(void *)`` in every C ABI in use (the result comes back in
    the low byte of the return register). llama.cpp calls the callback between graph
    nodes, about 1,800 times for a 1,500-token prompt; a Python callback must take the
    GIL for each call, so whenever another Python thread is busy, prompt processing
    slows down (measured on 2 cores: 74 tokens/s with a Python callback, 120 with
    ``strlen``; the same when idle). ``strlen`` needs no GIL. Where libc cannot be
    found, a Python callback reading the same flag is used instead.

    The flag belongs to one request at a time: :meth:`arm` hands it to a job and clears
    it, and :meth:`trip` sets it only if that job still owns it, so a late cancel of a
    finished request can never abort the next one.
    """

    def __init__(self) -> None:
        self._flag = (ctypes.c_char * 2)()
        self._lock = threading.Lock()
        self._owner: object | None = None
        self._callback: object | None = None  # the ctypes object must outlive the context
        #: whether the GIL-free native check is installed
        self.native = False
        #: calls of the Python fallback callback (stays 0 with the native check)
        self.python_checks = 0

    def install(self, ctx: llama_cpp.llama_context_p, *, native: bool = True) -> None:
        """Install the callback on ``ctx`` (``Llama.ctx``, the ``llama_context *``)."""
        address = _strlen_address() if native else None
        if address is not None:
            callback = llama_cpp.ggml_abort_callback(address)
        else:
            callback = llama_cpp.ggml_abort_callback(self._python_check)
        self._callback = callback
        self.native = address is not None
        llama_cpp.llama_set_abort_callback(ctx, callback, ctypes.cast(self._flag, ctypes.c_void_p))

    def _python_check(self, _data: ctypes.c_void_p) -> bool:
        self.python_checks += 1
        return self._flag[0] != b"\x00"

    @property
    def tripped(self) -> bool:
        """Whether the flag is set now."""
        return self._flag[0] != b"\x00"

    def arm(self, owner: object) -> None:
        """Give the flag, cleared, to ``owner`` (a job about to run)."""
        with self._lock:
            self._owner = owner
            self._flag[0] = b"\x00"

    def disarm(self, owner: object) -> None:
        """Take the flag back from ``owner`` once its job has finished."""
        with self._lock:
            if self._owner is owner:
                self._owner = None
                self._flag[0] = b"\x00"

    def trip(self, owner: object) -> None:
        """Abort the running decode, if it is ``owner``'s. Safe from any thread."""
        with self._lock:
            if self._owner is owner:
                self._flag[0] = b"\x01"


class CountingLlama(Llama):
    """A :class:`llama_cpp.Llama` that reports each :meth:`eval` to hooks.

    ``Llama.generate`` decides how much of the previous token state to keep (the longest
    common prefix) and then calls ``eval`` with only the tokens still to process; hooking
    ``eval`` measures what was really evaluated instead of re-deriving that decision.
    """

    before_eval: Callable[[int, int], None] | None = None
    after_eval: Callable[[int, int], None] | None = None

    def eval(self, tokens: Sequence[int]) -> None:
        start = self.n_tokens
        if self.before_eval is not None:
            self.before_eval(start, len(tokens))
        try:
            super().eval(tokens)
        finally:
            if self.after_eval is not None:
                # n_tokens only counts batches that finished: after an abort it says how
                # far prompt processing got, and the next eval drops the rest of the KV.
                self.after_eval(start, self.n_tokens)


def load(path: Path, options: ModelOptions) -> CountingLlama:
    """Load the GGUF at ``path`` with the configured threads, context, GPU layers, seed."""
    silence_llama_logs()
    # verbose=True on purpose. With verbose=False, llama-cpp-python dup2()s /dev/null
    # over file descriptors 1 and 2 while it loads: process-wide, so a language server
    # on stdio loses whatever it writes to stdout meanwhile (measured: 155 of 355 lines
    # written during one load were lost). The C logs already go to _discard_log; the
    # few Python-level prints of the load (system info, metadata) are caught here.
    with contextlib.redirect_stderr(io.StringIO()):
        llm = CountingLlama(
            str(path),
            n_ctx=options.n_ctx,
            n_threads=options.n_threads,
            # the default is every core; the configured budget applies to prompts too
            n_threads_batch=options.n_threads,
            n_gpu_layers=options.n_gpu_layers,
            seed=options.seed,
            verbose=True,
        )
    llm.verbose = False  # generate() prints its prompt-cache decisions when verbose
    return llm


class Vocab:
    """Token-level views of a loaded model's vocabulary."""

    def __init__(self, llm: Llama) -> None:
        self._vocab = llama_cpp.llama_model_get_vocab(llm.model)
        self._buf = ctypes.create_string_buffer(64)

    def piece(self, token: int) -> bytes:
        """The bytes of one token: possibly part of a UTF-8 character."""
        n = llama_cpp.llama_token_to_piece(self._vocab, token, self._buf, len(self._buf), 0, True)
        if n < 0:  # buffer too small: -n is the size needed
            self._buf = ctypes.create_string_buffer(-n)
            n = llama_cpp.llama_token_to_piece(
                self._vocab, token, self._buf, len(self._buf), 0, True
            )
        return self._buf.raw[: max(n, 0)]

    def ends_generation(self, token: int) -> bool:
        """End-of-generation tokens, and control tokens, which code never contains."""
        return bool(
            llama_cpp.llama_vocab_is_eog(self._vocab, token)
            or llama_cpp.llama_vocab_is_control(self._vocab, token)
        )

    def fim_pre_text(self) -> str:
        """The text of the FIM-prefix token llama.cpp found in the vocabulary, or ``""``."""
        token = llama_cpp.llama_vocab_fim_pre(self._vocab)
        if token < 0:
            return ""
        raw = llama_cpp.llama_vocab_get_text(self._vocab, token)
        return raw.decode("utf-8", "replace") if raw else ""
