"""Hudl Sportscode XML edit list of a set of clips.

The format, as Sportscode writes it (see shared/reference/: a real export and
kloppy's fixture)::

    <file>
      <SESSION_INFO><start_time>2018-01-30 16:56:08.76 +0100</start_time></SESSION_INFO>   (optional)
      <ALL_INSTANCES>
        <instance>
          <ID>1</ID> <start>343.1579653550</start> <end>360.8362428310</end>   seconds
          <code>Team-B Build Up</code>
          <label><group>Quarter</group><text>Q1</text></label>   any number, groups may repeat
        </instance> ...
      </ALL_INSTANCES>
      <ROWS><row><code>..</code><R>0-65535</R><G/><B/></row> ...</ROWS>
    </file>

One instance per clip: ``code`` is "<team> <Event Type>" (one row per code,
as Sportscode's timeline has); labels carry the player, team, opponent,
game, date, period, zone, strength, ids, the clip's URL and its tags. Times
are written with 10 decimals from the exact frame numbers, so
``round(seconds * fps)`` gives the frame back.

Two timelines: ``"source"`` (default) puts each instance at its place in its
period video (labels Game and Period say which); ``"playlist"`` lays the clips
end to end, as they follow each other in the exported playlist (and in the
OTIO timeline).

With ``reel_url`` (the HLS reel of the same clips, ``GET /api/v2/clips/reel.m3u8``) the edit list's
movie is that one stream: ``<SESSION_INFO><movie>URL</movie>`` and a "Movie" label on every
instance name it, and the times are the playlist timeline's (where each clip sits in the reel).
"""
from __future__ import annotations

import colorsys
import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from hb_clips_assets.retrieval.results import ClipResult

TIMELINES = ("source", "playlist")


def _seconds(value: Fraction) -> str:
    return f"{float(value):.10f}"


def event_label(event_type: str) -> str:
    return event_type.replace("_", " ").title()


def instance_code(clip: ClipResult) -> str:
    return f"{clip.team} {event_label(clip.event_type)}"


def _color(code: str) -> tuple[int, int, int]:
    """A stable colour per code, as Sportscode's 16-bit R, G, B."""
    hue = int.from_bytes(hashlib.sha256(code.encode()).digest()[:2], "big") / 65536
    r, g, b = colorsys.hsv_to_rgb(hue, 0.65, 0.9)
    return round(r * 65535), round(g * 65535), round(b * 65535)


def _labels(clip: ClipResult) -> list[tuple[str, str]]:
    labels = [
        ("Player", clip.player_name or clip.player_id),
        ("Player ID", clip.player_id),
        ("Team", clip.team),
        ("Opponent", clip.opponent or ""),
        ("Game", clip.game_id),
        ("Date", clip.game_date or ""),
        ("Period", clip.period),
        ("Event", event_label(clip.event_type)),
        ("Zone", clip.zone or ""),
        ("Strength", clip.strength or ""),
        ("Timecode", clip.timecode or ""),
        ("Event ID", clip.event_id),
        ("Clip ID", clip.clip_id),
        ("Clip URL", clip.url("mp4") or ""),
    ]
    labels += [(tag.replace("_", " ").capitalize(), value) for tag, value in sorted(clip.tags.items())]
    return [(g, t) for g, t in labels if t != ""]


def reel_offsets(clips: Iterable[ClipResult]) -> list[Fraction]:
    """Seconds from the start of the clips laid end to end (a reel of them) to each clip's first frame."""
    out, position = [], Fraction(0)
    for clip in clips:
        out.append(position)
        position += Fraction(clip.end_frame - clip.start_frame) / clip.fps
    return out


def to_sportscode_xml(
    clips: Iterable[ClipResult], *, timeline: str | None = None, session_start: str | None = None,
    reel_url: str | None = None,
) -> bytes:
    """The edit list as UTF-8 XML bytes (``timeline``: "source" by default, "playlist" with a reel)."""
    timeline = timeline or ("playlist" if reel_url else "source")
    if timeline not in TIMELINES:
        raise ValueError(f"timeline must be one of {', '.join(TIMELINES)}, got {timeline!r}")
    if reel_url and timeline != "playlist":
        raise ValueError("an edit list of a reel has the playlist timeline (times into the reel)")
    root = ET.Element("file")
    if session_start or reel_url:
        info = ET.SubElement(root, "SESSION_INFO")
        if session_start:
            ET.SubElement(info, "start_time").text = session_start
        if reel_url:
            ET.SubElement(info, "movie").text = reel_url
    instances = ET.SubElement(root, "ALL_INSTANCES")
    codes: list[str] = []
    position = Fraction(0)
    for number, clip in enumerate(clips, start=1):
        fps = clip.fps
        if timeline == "source":
            start, end = Fraction(clip.start_frame) / fps, Fraction(clip.end_frame) / fps
        else:
            start = position
            end = position + Fraction(clip.end_frame - clip.start_frame) / fps
            position = end
        inst = ET.SubElement(instances, "instance")
        ET.SubElement(inst, "ID").text = str(number)
        ET.SubElement(inst, "start").text = _seconds(start)
        ET.SubElement(inst, "end").text = _seconds(end)
        code = instance_code(clip)
        ET.SubElement(inst, "code").text = code
        if code not in codes:
            codes.append(code)
        for group, text in _labels(clip) + ([("Movie", reel_url)] if reel_url else []):
            label = ET.SubElement(inst, "label")
            ET.SubElement(label, "group").text = group
            ET.SubElement(label, "text").text = text
    rows = ET.SubElement(root, "ROWS")
    for code in codes:
        row = ET.SubElement(rows, "row")
        ET.SubElement(row, "code").text = code
        for name, value in zip("RGB", _color(code)):
            ET.SubElement(row, name).text = str(value)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


@dataclass(frozen=True)
class SportscodeInstance:
    id: str
    start: float
    end: float
    code: str
    labels: tuple[tuple[str, str], ...]

    def label(self, group: str) -> str | None:
        """The first label text of ``group``."""
        return next((t for g, t in self.labels if g == group), None)


def read_sportscode(data: bytes | str) -> list[SportscodeInstance]:
    """The instances of a Sportscode XML edit list (ours, or one Sportscode wrote:
    UTF-8 or UTF-16 with a byte-order mark, CR line ends)."""
    if isinstance(data, bytes):
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            data = data.decode("utf-16")
        elif len(data) > 1 and b"\x00" in data[:2]:  # UTF-16 without a byte-order mark
            data = data.decode("utf-16-le" if data[1:2] == b"\x00" else "utf-16-be")
    if isinstance(data, str):
        data = data.lstrip("\ufeff")
    root = ET.fromstring(data)
    if root.tag != "file":
        raise ValueError(f"not a Sportscode edit list: the root element is <{root.tag}>, not <file>")
    out = []
    for inst in root.iter("instance"):
        labels = tuple(
            ((lab.findtext("group") or "").strip(), (lab.findtext("text") or "").strip()) for lab in inst.findall("label")
        )
        out.append(
            SportscodeInstance(
                id=(inst.findtext("ID") or "").strip(),
                start=float(inst.findtext("start")),
                end=float(inst.findtext("end")),
                code=(inst.findtext("code") or "").strip(),
                labels=labels,
            )
        )
    return out
