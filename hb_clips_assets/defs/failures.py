"""What is retried, and how a failure reads: one line naming the file and the
problem, and what to do, never a traceback on the console.

Every error raised inside an asset is one of three kinds (:func:`failure_kind`):

- ``input``: the input or the configuration is wrong (a CSV the contract refuses,
  an unreadable video, a clip the cutter refuses, a database path that is a
  folder, a path that is missing or a file, a store that refused a write after
  its own retries). The same inputs
  fail the same way: ``Failure(allow_retries=False)``, attempted once.
- ``transient``: a database connection lost or refused, a locked SQLite file,
  an I/O error of the machine, a timeout. Re-raised as it is, so the step's
  :data:`TRANSIENT_RETRIES` policy retries it.
- ``unexpected``: anything else (a bug). Retrying a bug gives the same bug:
  ``Failure(allow_retries=False)`` with the error as its cause, so the
  traceback stays in the Dagster run log (the console shows one line).

Store and network trouble is retried below the step: the GCS store retries
resets, timeouts and 5xx with backoff up to its deadline, so a StoreError that
reaches a step has outlasted those retries (or is not transient: permission,
a missing bucket, a full disk) and is final for the step.
"""
from __future__ import annotations

import logging
import sqlite3
from contextlib import contextmanager

from dagster import Backoff, DagsterError, Failure, Field, Jitter, RetryPolicy, colored_console_logger, logger
from sqlalchemy import exc as sa_exc

from hb_clips_assets.domain.contract import ContractError
from hb_clips_assets.pipeline.cutting import PATH_ERRORS, transient_error
from hb_clips_assets.settings import SettingError
from hb_clips_assets.storage.store import StoreError
from hb_clips_assets.video.cut import CutError
from hb_clips_assets.video.probe import VideoError

# Transient trouble is retried 3 times, after about 3, 9 and 21 s (each +-3 s: Dagster's
# exponential backoff is (2**n - 1) * delay). Only what failure_kind calls transient reaches it.
TRANSIENT_RETRIES = RetryPolicy(max_retries=3, delay=3, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS)

# Errors whose message already names the file and the problem.
INPUT_ERRORS = (ContractError, VideoError, CutError, StoreError, SettingError)

WHAT_TO_DO = "what_to_do"  # Failure metadata: the second line of a failure on the CLI

_HINTS = (
    (ContractError, "correct the file (the line named) and run the partition again"),
    (VideoError, "replace the video with a readable MP4 (re-export or re-encode it) and run the partition again"),
    (CutError, "check the video at those frames (ffmpeg -v error -i FILE -f null -) and run the partition again"),
    (StoreError, "check the object store (HB_STORE_URL: space, permissions, network) and run again; "
                 "clips already stored are not cut again"),
    (SettingError, "correct the setting named and run again"),
    (PATH_ERRORS, "check the path named (a file where a folder should be, a missing folder, permissions) "
                  "and run again"),
)
_DATABASE_HINT = ("check the media index URL (HB_MEDIA_DB_URL or media_index.url): a SQLite index is a file in an "
                  "existing, writable folder; a PostgreSQL index needs a reachable server, the right user and database")
UNEXPECTED_HINT = "an unexpected error, not retried: the traceback is in the Dagster run log; report it with the run id"
TRANSIENT_HINT = "still failing after the retries: run again once the database or the store is reachable"

# A PostgreSQL connection error that no retry fixes: wrong credentials, no such database or role.
_DB_CONFIG_MARKERS = ("authentication failed", "does not exist", "pg_hba.conf", "invalid dsn", "invalid connection option")


def _database_transient(exc: BaseException) -> bool | None:
    """For a database error: whether a retry may succeed. None: not a database error."""
    orig = exc.orig if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None else exc
    if isinstance(orig, sqlite3.Error):
        # A local file: "locked"/"busy" is another writer, which goes away; anything else (a folder, no such
        # folder, not a database, read-only) is the path, the same on every attempt.
        text = str(orig).lower()
        return "locked" in text or "busy" in text
    if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError)):
        return not any(marker in str(exc).lower() for marker in _DB_CONFIG_MARKERS)
    if isinstance(exc, sa_exc.SQLAlchemyError):
        return False  # a refused statement or a bad URL: the same next time
    return None


def failure_kind(exc: BaseException) -> str:
    """``input``, ``transient`` or ``unexpected`` (see the module docstring)."""
    if isinstance(exc, INPUT_ERRORS + PATH_ERRORS):
        return "input"
    database = _database_transient(exc)
    if database is not None:
        return "transient" if database else "input"
    if transient_error(exc):
        return "transient"
    return "unexpected"


def what_to_do(exc: BaseException) -> str:
    for kind, hint in _HINTS:
        if isinstance(exc, kind):
            return hint
    if _database_transient(exc) is not None:
        return _DATABASE_HINT
    return UNEXPECTED_HINT


def one_line(text: str) -> str:
    return " ".join(text.split())


def describe(exc: BaseException) -> str:
    """The error as one line: its message (which names the file), the type only where it is not one of ours."""
    if isinstance(exc, INPUT_ERRORS):
        return one_line(str(exc))
    if isinstance(exc, PATH_ERRORS) and exc.filename:
        return f"{exc.filename}: {exc.strerror or exc}"
    if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None:
        exc = exc.orig  # the driver's message, without SQLAlchemy's statement and background link
    return f"{type(exc).__name__}: {one_line(str(exc))}"


@contextmanager
def input_errors_fail_cleanly():
    """Classify what the body raises: input and unexpected errors fail the step once, with a one-line
    description and what to do; transient errors go to the retry policy as they are."""
    try:
        yield
    except (Failure, DagsterError):
        raise  # already a decision (e.g. a source that changed), or Dagster's own
    except Exception as exc:
        kind = failure_kind(exc)
        if kind == "transient":
            raise
        metadata = {WHAT_TO_DO: what_to_do(exc), "error_kind": kind}
        if kind == "input":
            raise Failure(description=describe(exc), allow_retries=False, metadata=metadata) from None
        raise Failure(description=f"unexpected {describe(exc)}", allow_retries=False, metadata=metadata) from exc


def retries_left(context) -> bool:
    """Whether a failure of this step attempt would be retried (the policy, the attempt, the executor)."""
    op_context = context.op_execution_context
    policy = context.job_def.get_retry_policy_for_handle(op_context.op_handle)
    step_context = getattr(op_context, "_step_execution_context", None)
    mode = getattr(step_context, "retry_mode", None)
    if getattr(mode, "disabled", False):  # executor config retries: disabled (deferred still retries)
        return False
    return policy is not None and context.retry_number < policy.max_retries


def step_failure_message(event) -> str:
    """The readable reason of a STEP_FAILURE event."""
    data = event.step_failure_data
    if data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description
    return _deepest_message(data.error) or event.message or "failed"


def _deepest_message(error) -> str:
    while error is not None and error.cause is not None:
        error = error.cause
    return error.message.strip() if error else ""


def step_failure_hint(event) -> str:
    """What to do about a STEP_FAILURE: the Failure's own advice, else (a transient error that outlasted
    its retries) the transient advice."""
    data = event.step_failure_data
    if data.user_failure_data is not None:
        hint = data.user_failure_data.metadata.get(WHAT_TO_DO)
        if hint is not None:
            return str(getattr(hint, "value", hint))
    return TRANSIENT_HINT


# --------------------------------------------------------------------------- the console, without tracebacks


def _short(message: str, event) -> str:
    """A console line for a log record: an event's error as one line, never a stack trace."""
    data = getattr(event, "event_specific_data", None)
    error = getattr(data, "error", None)
    if error is not None:
        head = message.split("\n\n", 1)[0]
        if getattr(event, "is_step_failure", False):
            reason = step_failure_message(event)
        else:
            user = getattr(data, "user_failure_data", None)
            reason = getattr(user, "description", None) or _deepest_message(error)
        message = f"{head} {one_line(reason)} (the traceback is in the Dagster run log)"
    for marker in ("\nStack Trace:", "Traceback (most recent call last)"):
        message = message.split(marker, 1)[0]
    return message.replace("dagster._core.definitions.events.Failure: ", "").rstrip()


def _not_a_consequence(record: logging.LogRecord) -> bool:
    """Drop "Dependencies for step X failed ... Not executing." from the console: one line per step
    downstream of a failure says nothing the failure did not (the run log keeps them)."""
    message = record.getMessage()
    return not ("Dependencies for step" in message and "Not executing" in message)


class _OneLineErrors(logging.Formatter):
    """Wraps the console handler's formatter: formats a copy of the record with its error shortened
    (the record itself also goes to the run's event log, which keeps the whole error)."""

    def __init__(self, inner: logging.Formatter | None):
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        copy = logging.makeLogRecord(record.__dict__)
        meta = getattr(record, "dagster_meta", None)
        event = meta.get("dagster_event") if isinstance(meta, dict) else None
        copy.msg, copy.args = _short(record.getMessage(), event), ()
        copy.exc_info = copy.exc_text = copy.stack_info = None
        return self.inner.format(copy)


@logger(
    {
        "log_level": Field(str, is_required=False, default_value="INFO", description="The logger's threshold."),
        "name": Field(str, is_required=False, default_value="dagster", description="The name of the logger."),
    },
    description="Dagster's colored console logger, with each error on one line (hb-clips run).",
)
def short_console_logger(init_context) -> logging.Logger:
    log = colored_console_logger.logger_fn(init_context)
    for handler in log.handlers:
        handler.setFormatter(_OneLineErrors(handler.formatter))
        handler.addFilter(_not_a_consequence)
    return log
