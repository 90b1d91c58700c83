"""Metrics rows and shifts at the default period length (no files, no video)."""
from __future__ import annotations

from hb_clips_assets.sample.events import metrics_rows, shift_rows
from hb_clips_tests.sample.smpte import FPS, df_index


def test_full_length_events_and_shifts_scale() -> None:
    """At the default 120 s, events hug both ends of each period and shifts last 30-50 s."""
    frames = round(120 * FPS)
    rows, bad, n_valid = metrics_rows("20031", "MTL", "CHI", FPS, frames)
    bad_ids = {(b.event_id, b.line) for b in bad}
    valid = [r for i, r in enumerate(rows, start=2) if (r[0], i) not in bad_ids]
    assert len(valid) == n_valid == 24
    for period in "123":
        idx = [df_index(r[3]) for r in valid if r[2] == period]
        assert min(idx) < round(5 * FPS) and max(idx) >= frames - round(3 * FPS)
        assert max(idx) < frames
    past = next(r for r in rows if r[0] == next(b.event_id for b in bad if b.reason == "past_end_of_video"))
    assert df_index(past[3]) >= frames
    shifts = shift_rows("20031", "MTL", "CHI", FPS, frames, 120.0)
    lengths = [(df_index(e) - df_index(s)) / float(FPS) for _p, _q, s, e in shifts]
    assert all(0 < x <= 50.1 for x in lengths)
    assert sum(29.9 <= x for x in lengths) >= len(lengths) // 2
    assert all(df_index(e) < frames for *_x, e in shifts)
