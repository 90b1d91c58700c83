"""Playlist exports of query results: Sportscode XML (parses, round-trips times to the frame,
reads Sportscode's own files) and OpenTimelineIO (loads with opentimelineio)."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest

from hb_clips_assets.retrieval.export.otio import to_otio_json, write_otio
from hb_clips_assets.retrieval.export.sportscode import read_sportscode, to_sportscode_xml
from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_assets.retrieval import ClipQuery, References, iter_clips
from hb_clips_tests.retrieval_sample import index_sample, shared_sample

REFERENCE = Path(__file__).resolve().parents[4] / "shared" / "reference"  # next to the repository


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    data = shared_sample(tmp_path_factory)
    work = tmp_path_factory.mktemp("export")
    sample = index_sample(data, work / "store", f"sqlite:///{work / 'media.db'}")
    index = MediaIndex(sample.db_url)
    found = list(iter_clips(index, ClipQuery(), References.load(data)))
    index.dispose()
    assert len(found) > 60
    return found


def test_sportscode_xml_parses_and_round_trips_frames(clips):
    xml = to_sportscode_xml(clips)
    root = ET.fromstring(xml)
    assert root.tag == "file" and [c.tag for c in root] == ["ALL_INSTANCES", "ROWS"]
    instances = read_sportscode(xml)
    assert len(instances) == len(clips)
    for inst, clip in zip(instances, clips):
        fps = Fraction(clip.fps_num, clip.fps_den)
        assert round(Fraction(inst.start) * fps) == clip.start_frame
        assert round(Fraction(inst.end) * fps) == clip.end_frame
        assert inst.code == f"{clip.team} {clip.event_type.replace('_', ' ').title()}"
        assert inst.label("Clip ID") == clip.clip_id and inst.label("Event ID") == clip.event_id
        assert inst.label("Game") == clip.game_id and inst.label("Period") == clip.period
        assert inst.label("Clip URL") == clip.url("mp4")
        if "outcome" in clip.tags:
            assert inst.label("Outcome") == clip.tags["outcome"]
    # one row per code, each with its 16-bit colour
    rows = root.find("ROWS").findall("row")
    assert sorted(r.findtext("code") for r in rows) == sorted({i.code for i in instances})
    assert all(0 <= int(r.findtext(c)) <= 65535 for r in rows for c in "RGB")
    assert [i.id for i in instances] == [str(n) for n in range(1, len(clips) + 1)]


def test_sportscode_playlist_timeline_lays_clips_end_to_end(clips):
    instances = read_sportscode(to_sportscode_xml(clips[:20], timeline="playlist"))
    position = Fraction(0)
    for inst, clip in zip(instances, clips[:20]):
        fps = Fraction(clip.fps_num, clip.fps_den)
        assert round(Fraction(inst.start) * fps) == round(position * fps)
        length = clip.end_frame - clip.start_frame
        assert round(Fraction(inst.end) * fps) - round(Fraction(inst.start) * fps) == length
        position += Fraction(length) / fps
    with pytest.raises(ValueError, match="timeline"):
        to_sportscode_xml(clips, timeline="wall-clock")


def test_sportscode_escapes_text(clips):
    clip = clips[0]
    odd = type(clip)(**{**clip.__dict__, "player_name": 'Klaas N\u00f8me <&> "x"', "tags": {"detail": "a & b < c"}})
    (inst,) = read_sportscode(to_sportscode_xml([odd], session_start="2026-11-20 19:00:00.00 +0000"))
    assert inst.label("Player") == 'Klaas N\u00f8me <&> "x"' and inst.label("Detail") == "a & b < c"


def test_reads_sportscodes_own_files():
    """Our reader understands the format as Sportscode and kloppy write it."""
    if not REFERENCE.is_dir():
        pytest.skip(f"no reference files at {REFERENCE}")
    real = read_sportscode((REFERENCE / "sportscode_real_export_excerpt.xml").read_bytes())
    assert len(real) == 14
    assert (real[0].id, real[0].start, real[0].end, real[0].code) == ("1", 3.089183784, 9.089183784, "#ERROR")
    assert real[4].labels == (("Quarter", "Q1"), ("TO Location", "TO Defense 50"))
    kloppy = read_sportscode((REFERENCE / "sportscode_kloppy_fixture.xml").read_bytes())
    assert [i.id for i in kloppy] == ["P1", "P2", "P3"]
    assert kloppy[0].label("Receiver") == "Klaas N\u00f8me"
    assert [t for g, t in kloppy[0].labels if g == "Qualifiers"] == ["Long ball", "Completed"]
    # Sportscode's own encoding: UTF-16LE with CR line ends
    utf16 = (REFERENCE / "sportscode_kloppy_fixture.xml").read_text(encoding="utf-8")
    utf16 = utf16.replace('<?xml version="1.0"?>', "").replace("\n", "\r").encode("utf-16-le")
    assert [i.code for i in read_sportscode(utf16)] == ["PASS", "PASS", "SHOT"]


def test_otio_loads_with_opentimelineio(clips, tmp_path):
    path = write_otio(clips, tmp_path / "clips.otio")
    timeline = otio.adapters.read_from_file(str(path))
    items = list(timeline.find_clips())
    assert len(items) == len(clips)
    total = 0
    for item, clip in zip(items, clips):
        frames = clip.end_frame - clip.start_frame
        assert item.source_range.duration.value == frames
        assert item.source_range.duration.rate == pytest.approx(clip.fps_num / clip.fps_den)
        assert item.media_reference.target_url == clip.url("mp4")
        meta = item.metadata["hb_clips"]
        assert (meta["clip_id"], meta["source_start_frame"], meta["source_end_frame"]) == (
            clip.clip_id, clip.start_frame, clip.end_frame)
        (marker,) = item.markers
        assert marker.marked_range.start_time.value == clip.event_frame - clip.start_frame
        total += frames
    duration = timeline.duration()
    assert round(duration.value) == total  # all sample clips share one rate
    assert otio.adapters.read_from_string(to_otio_json(clips[:3]), adapter_name="otio_json").name == "hb-clips playlist"


def test_exports_of_a_reel_name_it_and_place_every_clip_in_it(clips):
    url = "https://api.example.org/api/v2/clips/reel.m3u8?team=WSH&limit=40"
    some = clips[:40]
    timeline = otio.adapters.read_from_string(to_otio_json(some, reel_url=url), adapter_name="otio_json")
    assert timeline.metadata["hb_clips"]["reel_url"] == url
    position = Fraction(0)
    total = sum(Fraction(c.end_frame - c.start_frame) / c.fps for c in some)
    for item, clip in zip(timeline.find_clips(), some):
        fps = Fraction(clip.fps_num, clip.fps_den)
        assert item.media_reference.target_url == url and item.metadata["hb_clips"]["mp4_url"] == clip.url("mp4")
        assert round(item.media_reference.available_range.duration.value) == round(total * fps)
        assert round(item.source_range.start_time.value) == round(position * fps)
        assert item.source_range.duration.value == clip.end_frame - clip.start_frame
        (marker,) = item.markers  # the event frame, where the clip sits in the reel
        assert round(marker.marked_range.start_time.value) == round(position * fps) + clip.event_frame - clip.start_frame
        position += Fraction(clip.end_frame - clip.start_frame) / fps
    root = ET.fromstring(to_sportscode_xml(some, reel_url=url))
    assert root.findtext("SESSION_INFO/movie") == url
    starts = [float(i.findtext("start")) for i in root.iter("instance")]
    assert starts == [i.start for i in read_sportscode(to_sportscode_xml(some, timeline="playlist"))]
    with pytest.raises(ValueError, match="playlist timeline"):
        to_sportscode_xml(some, reel_url=url, timeline="source")
