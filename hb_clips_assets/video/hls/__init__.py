"""HLS renditions of cut clips, without re-encoding: the clip's MP4 remuxed (PyAV) into one fragmented
MP4 (an init section, then a ``moof`` + ``mdat`` fragment at every video keyframe) addressed by
``EXT-X-BYTERANGE`` from a media playlist.

``package`` writes both, ``playlist`` reads and writes the per-clip media playlist (and the few facts a
reel needs, kept in comment lines), ``boxes`` reads the ISO BMFF layout and shifts decode times. No
Dagster, no FastAPI.
"""
from __future__ import annotations

from hb_clips_assets.video.hls.boxes import Fmp4Layout, TfdtShift, scan_fmp4, shifted_tfdt
from hb_clips_assets.video.hls.package import HLS_VERSION, PackagedClip, package_clip
from hb_clips_assets.video.hls.playlist import Rendition, RenditionTrack, parse_rendition, render_rendition

__all__ = ["Fmp4Layout", "HLS_VERSION", "PackagedClip", "Rendition", "RenditionTrack", "TfdtShift", "package_clip",
           "parse_rendition", "render_rendition", "scan_fmp4", "shifted_tfdt"]
