"""Cutting a clip out of a source video, frame-accurate: ``full`` re-encodes
every frame, ``smart`` re-encodes only the head and the tail and copies the
source's packets between (falling back to ``full``); ``types`` and
``selection`` hold what both share. The common entry points are here.
"""
from __future__ import annotations

from hb_clips_assets.video.cut.types import CutError, CutResult, EncodeSettings, SmartCutResult
from hb_clips_assets.video.cut.full import cut_clip
from hb_clips_assets.video.cut.smart import smart_cut_clip

__all__ = ["CutError", "CutResult", "EncodeSettings", "SmartCutResult", "cut_clip", "smart_cut_clip"]
