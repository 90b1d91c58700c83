"""An independent SMPTE 12M label parser for checking the sample's timecodes.

Written separately from both the generator and the pipeline's parser, so a
shared mistake cannot make the checks pass.
"""
from __future__ import annotations

import re
from fractions import Fraction

FPS = Fraction(60000, 1001)
TC = re.compile(r"^(\d{2}):(\d{2}):(\d{2})([:;])(\d{2})$")


def df_index(label: str, nominal: int = 60, drop: int = 4) -> int:
    """SMPTE 12M drop-frame (``;``) or non-drop (``:``) label -> frame index."""
    m = TC.match(label)
    assert m, label
    hh, mm, ss, sep, ff = m.groups()
    hh, mm, ss, ff = int(hh), int(mm), int(ss), int(ff)
    assert ff < nominal
    if sep == ":":
        return ((hh * 60 + mm) * 60 + ss) * nominal + ff
    assert not (mm % 10 and ss == 0 and ff < drop), f"{label} does not exist in drop-frame"
    total_minutes = hh * 60 + mm
    return ((total_minutes * 60 + ss) * nominal + ff) - drop * (total_minutes - total_minutes // 10)
