"""SMPTE timecodes <-> frame indices (DATA_CONTRACT.md section 1, ``timecode``)."""
from __future__ import annotations

import random
from fractions import Fraction

import pytest

from hb_clips_assets.domain.timecode import (
    Timecode,
    TimecodeError,
    frame_to_seconds,
    frame_to_timecode,
    parse_timecode,
    timecode_to_frame,
)

NTSC30 = Fraction(30000, 1001)
NTSC60 = Fraction(60000, 1001)

# Frames dropped at the start of every minute not divisible by ten (SMPTE 12M).
DROPS = {NTSC30: 2, NTSC60: 4}
NOMINAL = {NTSC30: 30, NTSC60: 60}


# --------------------------------------------------------------------------- known values


@pytest.mark.parametrize(
    "text, fps, frame",
    [
        ("01:00:02;05", NTSC30, 107957),
        ("00:10:00;00", NTSC30, 17982),
        ("00:01:00;02", NTSC30, 1800),
        ("00:00:59;29", NTSC30, 1799),
        ("00:00:00;00", NTSC30, 0),
        ("01:00:00;00", NTSC30, 107892),
        ("00:01:00;04", NTSC60, 3600),
        ("00:10:00;00", NTSC60, 35964),
        ("01:00:00;00", NTSC60, 215784),
        ("00:35:00:00", NTSC60, 126000),
        ("00:00:01:00", Fraction(25), 25),
        ("00:00:01:24", Fraction(25), 49),
        ("01:00:00:00", Fraction(25), 90000),
        ("00:00:01:00", Fraction(50), 50),
        ("00:01:00:00", NTSC30, 1800),  # non-drop at 29.97: plain count
        ("00:01:00.02", NTSC30, 1800),  # '.' is a drop-frame separator too
        ("01:00:02.05", NTSC30, 107957),
    ],
)
def test_known_timecodes(text, fps, frame):
    assert timecode_to_frame(text, fps) == frame
    assert timecode_to_frame(parse_timecode(text), fps) == frame


def test_non_drop_3500_at_5994_is_2102_1_seconds_exactly():
    frame = timecode_to_frame("00:35:00:00", NTSC60)
    assert frame == 126000
    seconds = frame_to_seconds(frame, NTSC60)
    assert isinstance(seconds, Fraction)
    assert seconds == Fraction(21021, 10)
    assert seconds != 2100


@pytest.mark.parametrize("fps", [Fraction(25), NTSC30, NTSC60, Fraction(50)])
def test_frame_to_seconds_is_exact(fps):
    for frame in (0, 1, 17, 1000, 123457):
        assert frame_to_seconds(frame, fps) == Fraction(frame) * fps.denominator / fps.numerator


@pytest.mark.parametrize(
    "text, sep_drop",
    [("00:01:00;02", True), ("00:01:00.02", True), ("00:01:00:02", False)],
)
def test_parse_separator(text, sep_drop):
    tc = parse_timecode(text)
    assert (tc.hours, tc.minutes, tc.seconds, tc.frames) == (0, 1, 0, 2)
    assert tc.drop_frame is sep_drop


@pytest.mark.parametrize(
    "frame, fps, expected",
    [
        (107957, NTSC30, "01:00:02;05"),
        (1800, NTSC30, "00:01:00;02"),
        (1799, NTSC30, "00:00:59;29"),
        (17982, NTSC30, "00:10:00;00"),
        (3600, NTSC60, "00:01:00;04"),
        (126000, NTSC60, "00:35:02;08"),  # 126000 + 4*32 dropped labels
        (25, Fraction(25), "00:00:01:00"),
        (90000, Fraction(25), "01:00:00:00"),
    ],
)
def test_frame_to_timecode_known(frame, fps, expected):
    assert str(frame_to_timecode(frame, fps)) == expected


def test_frame_to_timecode_non_drop_at_ntsc_when_asked():
    tc = frame_to_timecode(126000, NTSC60, drop_frame=False)
    assert str(tc) == "00:35:00:00"
    assert tc.drop_frame is False


# --------------------------------------------------------------------------- exhaustive round trips


def _dropped_label(tc: Timecode, drop: int) -> bool:
    return tc.minutes % 10 != 0 and tc.seconds == 0 and tc.frames < drop


@pytest.fixture(scope="module", params=[NTSC30, NTSC60], ids=["29.97DF", "59.94DF"])
def df_labels(request):
    """Drop-frame labels of every frame of one hour plus two minutes."""
    fps = request.param
    n = round(fps * 3720)  # 1 h 2 min of real time
    return fps, [frame_to_timecode(f, fps) for f in range(n)]


def test_drop_frame_round_trip_every_frame(df_labels):
    fps, labels = df_labels
    for frame, tc in enumerate(labels):
        text = str(tc)
        assert ";" in text
        back = timecode_to_frame(parse_timecode(text), fps)
        if back != frame:
            pytest.fail(f"frame {frame} -> {text} -> {back}")


def test_drop_frame_labels_monotonic_and_only_skip_dropped(df_labels):
    fps, labels = df_labels
    rate, drop = NOMINAL[fps], DROPS[fps]

    def label_index(tc: Timecode) -> int:  # position in the undropped label space
        return ((tc.hours * 60 + tc.minutes) * 60 + tc.seconds) * rate + tc.frames

    assert label_index(labels[0]) == 0
    for frame in range(1, len(labels)):
        prev, cur = labels[frame - 1], labels[frame]
        assert cur.frames < rate and cur.seconds < 60 and cur.minutes < 60
        assert not _dropped_label(cur, drop), f"frame {frame} got dropped label {cur}"
        gap = label_index(cur) - label_index(prev)
        if _dropped_label(Timecode(cur.hours, cur.minutes, cur.seconds, 0, True), drop) and cur.frames == drop:
            # first label of a minute that drops: the `drop` labels before it are skipped
            assert gap == drop + 1, f"frame {frame}: {prev} -> {cur}"
        else:
            assert gap == 1, f"frame {frame}: {prev} -> {cur}"
    # one hour of drop-frame timecode is one hour of real time, to the frame
    hour_frame = round(fps * 3600)
    assert str(labels[hour_frame]) == "01:00:00;00"


@pytest.mark.parametrize("fps", [Fraction(25), Fraction(30), Fraction(50), Fraction(60), NTSC30, NTSC60])
def test_non_drop_round_trip_sample(fps):
    rng = random.Random(20031)
    rate = round(fps)
    frames = list(range(0, 3 * rate)) + [rng.randrange(0, rate * 3600 * 3) for _ in range(3000)]
    for frame in frames:
        tc = frame_to_timecode(frame, fps, drop_frame=False)
        text = str(tc)
        assert ";" not in text
        # independent label: plain base-`rate` counting
        s, ff = divmod(frame, rate)
        assert (tc.hours, tc.minutes, tc.seconds, tc.frames) == (s // 3600, s // 60 % 60, s % 60, ff)
        assert timecode_to_frame(parse_timecode(text), fps) == frame


@pytest.mark.parametrize("fps", [Fraction(25), Fraction(50)])
def test_default_labels_at_integer_rates_are_non_drop(fps):
    assert frame_to_timecode(123, fps).drop_frame is False


# --------------------------------------------------------------------------- rejections


@pytest.mark.parametrize(
    "text, fps",
    [
        ("00:00:01:25", Fraction(25)),
        ("00:00:10;75", NTSC60),
        ("00:00:10;30", NTSC30),
        ("00:00:00:60", NTSC60),
        ("00:00:00:100", Fraction(50)),
    ],
)
def test_frames_at_or_above_nominal_rate_rejected(text, fps):
    with pytest.raises(TimecodeError, match=r"frames field .* nominal rate"):
        timecode_to_frame(text, fps)


def test_timecode_error_is_value_error():
    assert issubclass(TimecodeError, ValueError)


@pytest.mark.parametrize(
    "text, pattern",
    [
        ("1:2:3:4", "malformed"),
        ("aa:bb:cc:dd", "malformed"),
        ("", "malformed"),
        ("00:00:00", "malformed"),
        ("00:00:00:00:00", "malformed"),
        ("00-00-00-00", "malformed"),
        ("00:61:00:00", "minutes and seconds"),
        ("00:00:60:00", "minutes and seconds"),
    ],
)
def test_malformed_strings_rejected(text, pattern):
    with pytest.raises(TimecodeError, match=pattern) as info:
        parse_timecode(text)
    assert isinstance(info.value, ValueError)
    with pytest.raises(TimecodeError):
        timecode_to_frame(text, Fraction(25))


def test_non_text_rejected():
    with pytest.raises(TimecodeError, match="text"):
        parse_timecode(1234)  # type: ignore[arg-type]


@pytest.mark.parametrize("fps", [Fraction(25), NTSC30])
def test_negative_frame_rejected(fps):
    with pytest.raises(TimecodeError, match="negative"):
        frame_to_timecode(-1, fps)


@pytest.mark.parametrize(
    "text, fps",
    [
        ("00:01:00;00", NTSC30),
        ("00:01:00;01", NTSC30),
        ("00:09:00;01", NTSC30),
        ("01:59:00;00", NTSC30),
        ("00:01:00;03", NTSC60),
        ("00:01:00;00", NTSC60),
        ("00:01:00.01", NTSC30),
    ],
)
def test_nonexistent_drop_frame_label_rejected(text, fps):
    with pytest.raises(TimecodeError, match="does not exist"):
        timecode_to_frame(text, fps)


@pytest.mark.parametrize("text", ["00:10:00;00", "00:20:00;01", "00:01:01;00", "00:00:00;00"])
def test_labels_that_do_exist_in_drop_frame(text):
    # tenth minutes and later seconds keep all their labels
    assert timecode_to_frame(text, NTSC30) >= 0


def test_label_valid_at_2997_but_dropped_at_5994():
    assert timecode_to_frame("00:01:00;02", NTSC30) == 1800
    with pytest.raises(TimecodeError, match="does not exist"):
        timecode_to_frame("00:01:00;02", NTSC60)


@pytest.mark.parametrize("fps", [Fraction(25), Fraction(50), Fraction(30)])
def test_drop_frame_timecode_for_integer_rate_rejected(fps):
    with pytest.raises(TimecodeError, match="drop-frame"):
        timecode_to_frame("00:00:01;00", fps)
    with pytest.raises(TimecodeError, match="drop-frame"):
        frame_to_timecode(100, fps, drop_frame=True)
