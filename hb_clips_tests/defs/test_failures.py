"""defs/failures.py: which errors are retried (transient) and which fail once
(input, unexpected), what each says and advises, and the console logger that
prints a failure on one line."""
from __future__ import annotations

import errno
import logging
import sqlite3

import av
import pytest
import sqlalchemy.exc
from dagster import Failure, instance_for_test, job, op

from hb_clips_assets.defs.failures import (
    TRANSIENT_HINT,
    UNEXPECTED_HINT,
    WHAT_TO_DO,
    failure_kind,
    input_errors_fail_cleanly,
    short_console_logger,
    what_to_do,
)
from hb_clips_assets.domain.contract import ContractError
from hb_clips_assets.settings import SettingError
from hb_clips_assets.storage.store import StoreError
from hb_clips_assets.video.cut import CutError
from hb_clips_assets.video.probe import VideoError


def wrapped(orig: BaseException, cls=sqlalchemy.exc.OperationalError) -> sqlalchemy.exc.DBAPIError:
    return cls("select 1", {}, orig)


CASES = {
    # input: the same inputs fail the same way
    "contract": (ContractError("/d/metrics/G1.csv, line 3: bad"), "input"),
    "video": (VideoError("/d/video/G1/1.mp4: not a readable video"), "input"),
    "cut": (CutError("/v.mp4: decoded 3 of 20 frames"), "input"),
    "store": (StoreError("cannot upload gs://b/k: still failing after retries: ConnectionError"), "input"),
    "setting": (SettingError("HB_CUTTER must be smart or full"), "input"),
    "scratch_is_a_file": (NotADirectoryError(errno.ENOTDIR, "Not a directory", "/var/work/scratch"), "input"),
    "sqlite_folder_raw": (sqlite3.OperationalError("unable to open database: /var/index"), "input"),
    "sqlite_folder": (wrapped(sqlite3.OperationalError("unable to open database file")), "input"),
    "sqlite_not_a_db": (wrapped(sqlite3.DatabaseError("file is not a database"), sqlalchemy.exc.DatabaseError), "input"),
    "pg_auth": (wrapped(Exception('password authentication failed for user "hb"')), "input"),
    "pg_no_database": (wrapped(Exception('database "media" does not exist')), "input"),
    "bad_statement": (wrapped(Exception("column x does not exist"), sqlalchemy.exc.ProgrammingError), "input"),
    # transient: a retry may not meet it again
    "sqlite_locked": (wrapped(sqlite3.OperationalError("database is locked")), "transient"),
    "pg_refused": (wrapped(Exception("connection failed: Connection refused")), "transient"),
    "pg_terminated": (wrapped(Exception("terminating connection due to administrator command"),
                              sqlalchemy.exc.OperationalError), "transient"),
    "pool_timeout": (sqlalchemy.exc.TimeoutError("QueuePool limit reached"), "transient"),
    "disk_io": (OSError(errno.EIO, "Input/output error"), "transient"),
    "disk_full": (OSError(errno.ENOSPC, "No space left on device"), "transient"),
    "reset": (ConnectionResetError(), "transient"),
    # unexpected: a bug, the same next time
    "key_error": (KeyError("pts"), "unexpected"),
    "attribute": (AttributeError("'NoneType' object has no attribute 'x'"), "unexpected"),
    "decoder_at_step_level": (av.error.InvalidDataError(errno.EINVAL, "Invalid data found when processing input"),
                              "unexpected"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_failure_kind(name):
    exc, kind = CASES[name]
    assert failure_kind(exc) == kind


@pytest.mark.parametrize("name", [n for n, (_e, kind) in CASES.items() if kind != "transient"])
def test_input_and_unexpected_errors_fail_once_with_one_line_and_advice(name):
    exc, kind = CASES[name]
    with pytest.raises(Failure) as info:
        with input_errors_fail_cleanly():
            raise exc
    failure = info.value
    assert failure.allow_retries is False
    assert "\n" not in failure.description and "Traceback" not in failure.description
    assert failure.metadata["error_kind"].value == kind
    assert failure.metadata[WHAT_TO_DO].value == what_to_do(exc)
    if kind == "unexpected":
        assert failure.description.startswith(f"unexpected {type(exc).__name__}: ")
        assert failure.__cause__ is exc  # the traceback goes to the run log with it
    else:
        assert failure.__cause__ is None


@pytest.mark.parametrize("name", [n for n, (_e, kind) in CASES.items() if kind == "transient"])
def test_transient_errors_go_to_the_retry_policy_as_they_are(name):
    exc, _ = CASES[name]
    with pytest.raises(type(exc)) as info:
        with input_errors_fail_cleanly():
            raise exc
    assert info.value is exc


def test_a_failure_already_decided_passes_through():
    decided = Failure("the video changed", allow_retries=False)
    with pytest.raises(Failure) as info:
        with input_errors_fail_cleanly():
            raise decided
    assert info.value is decided


def test_the_advice_names_what_to_check():
    assert "HB_MEDIA_DB_URL" in what_to_do(CASES["sqlite_folder"][0])
    assert "HB_STORE_URL" in what_to_do(CASES["store"][0])
    assert "line" in what_to_do(CASES["contract"][0])
    assert what_to_do(KeyError("x")) == UNEXPECTED_HINT
    assert "check the path named" in what_to_do(CASES["scratch_is_a_file"][0])
    with pytest.raises(Failure, match="^/var/work/scratch: Not a directory$"):
        with input_errors_fail_cleanly():
            raise CASES["scratch_is_a_file"][0]
    assert "retries" in TRANSIENT_HINT


def test_the_console_logger_prints_a_failed_step_on_one_line(capfd):
    @op
    def breaks():
        with input_errors_fail_cleanly():
            return {}["missing"]

    @op
    def logs_an_exception(context):
        try:
            raise RuntimeError("inner")
        except RuntimeError:
            context.log.exception("caught it")

    @job(logger_defs={"console": short_console_logger})
    def failing():
        breaks()
        logs_an_exception()

    with instance_for_test() as instance:
        result = failing.execute_in_process(instance=instance, raise_on_error=False,
                                            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}})
        stored = [e.dagster_event for e in instance.all_logs(result.run_id) if e.dagster_event and e.dagster_event.is_step_failure]
    assert not result.success
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Stack Trace" not in err and 'File "' not in err, err
    (line,) = [l for l in err.splitlines() if "STEP_FAILURE" in l]
    assert line.endswith('Execution of step "breaks" failed. unexpected KeyError: \'missing\' '
                         "(the traceback is in the Dagster run log)"), line
    assert any(l.endswith("caught it") for l in err.splitlines())
    # the run's event log keeps the whole error, with its cause's stack
    (event,) = stored
    assert event.step_failure_data.error.cause.stack


def test_the_console_logger_is_dagster_s_with_its_level():
    from dagster import build_init_logger_context

    log = short_console_logger.logger_fn(build_init_logger_context({"log_level": "WARNING", "name": "dagster"}))
    assert log.level == logging.WARNING and log.handlers
