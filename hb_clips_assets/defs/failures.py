"""Bad input fails a partition with the file and the problem, not a traceback."""
from __future__ import annotations

from contextlib import contextmanager

from dagster import Backoff, Failure, Jitter, RetryPolicy

from hb_clips_assets.domain.contract import ContractError
from hb_clips_assets.storage.store import StoreError
from hb_clips_assets.video.cut import CutError
from hb_clips_assets.video.probe import VideoError

# Transient trouble (a locked or restarting database, a storage hiccup, a clip
# that failed to cut) is retried 3 times, after about 3, 9 and 21 s (each +-3 s:
# Dagster's exponential backoff is (2**n - 1) * delay). Input errors
# raise Failure(allow_retries=False) below and are never retried.
TRANSIENT_RETRIES = RetryPolicy(max_retries=3, delay=3, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS)

# Errors whose message already names the file and the problem.
INPUT_ERRORS = (ContractError, VideoError, CutError, StoreError)


@contextmanager
def input_errors_fail_cleanly():
    try:
        yield
    except INPUT_ERRORS as exc:
        raise Failure(description=str(exc), allow_retries=False) from None


def step_failure_message(event) -> str:
    """The readable reason of a STEP_FAILURE event."""
    data = event.step_failure_data
    if data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description
    error = data.error
    while error is not None and error.cause is not None:
        error = error.cause
    return (error.message.strip() if error else "") or event.message or "failed"
