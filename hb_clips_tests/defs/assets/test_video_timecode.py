"""A period video with its own timecode (a tmcd track from 01:00:00;00), and a metrics file tagged
against that clock: the clips are the same frames as with period-relative timecodes."""
from __future__ import annotations

import subprocess

from hb_clips_assets.sample import ffmpeg_exe
from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_tests.defs.assets.conftest import GAME, run
from hb_clips_tests.media_checks import decode_clip


def _on_the_hour(timecode: str) -> str:
    hours, rest = timecode.split(":", 1)
    return f"{int(hours) + 1:02d}:{rest}"


def test_events_tagged_on_the_videos_clock_resolve_to_the_same_frames(env):
    assert run(env, "1")[0].success
    index = MediaIndex(env["db"])
    relative = {r["event_id"]: (r["event_frame"], r["start_frame"], r["end_frame"])
                for r in index.clips(GAME, "1") if r["event_type"] != "shift"}
    video = env["data"] / "video" / GAME / "1.mp4"
    tagged = video.with_name("tagged.mp4")
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(video), "-map", "0", "-c", "copy",
                    "-timecode", "01:00:00;00", str(tagged)], check=True)
    tagged.replace(video)
    metrics = env["data"] / "metrics" / f"{GAME}.csv"
    header, *rows = metrics.read_text().splitlines()
    col = header.split(",").index("timecode")
    shifted = []
    for row in rows:
        cells = row.split(",")
        if len(cells) > col and cells[2] == "1" and cells[0] in relative:
            cells[col] = _on_the_hour(cells[col])
        shifted.append(",".join(cells))
    metrics.write_text("\n".join([header, *shifted]) + "\n")

    result, meta = run(env, "1")
    assert result.success
    assert meta["event_segments"]["video_timeline"]["timecode_start"] == "01:00:00;00"
    rows = [r for r in index.clips(GAME, "1") if r["event_type"] != "shift"]
    assert {r["event_id"]: (r["event_frame"], r["start_frame"], r["end_frame"]) for r in rows} == relative
    assert {r["timecode"][:2] for r in rows} == {"01"}  # stored as the analyst wrote it
    first = rows[0]
    clip = env["store"] / "clips" / GAME / "1" / f"{first['clip_id']}.mp4"
    marks = decode_clip(clip).marks
    assert marks[0] == first["start_frame"] and len(marks) == first["end_frame"] - first["start_frame"]


def test_a_period_video_named_the_way_a_camera_names_it_is_cut(env):
    """1.MOV (a .mov, upper case) is period 1's video for the assets as for the sensor."""
    video = env["data"] / "video" / GAME / "1.mp4"
    video.rename(video.with_name("1.MOV"))
    result, meta = run(env, "1")
    assert result.success
    assert meta["event_segments"]["video"].endswith("1.MOV")
    rows = MediaIndex(env["db"]).clips(GAME, "1")
    assert rows and all(r["source_uri"].endswith("/1.MOV") for r in rows)
    first = min(rows, key=lambda r: r["start_frame"])
    marks = decode_clip(env["store"] / "clips" / GAME / "1" / f"{first['clip_id']}.mp4").marks
    assert marks[0] == first["start_frame"]
