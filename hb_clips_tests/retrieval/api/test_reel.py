"""GET /api/v2/clips/reel.m3u8 from a real server, read by an independent HLS client: the FFmpeg CLI
decodes a reel of real cut clips (smart and full cuts) over HTTP without an error, every frame of
every clip in order (by the frames' own marks), the audio within a frame of the video throughout
(by the sync beeps); the playlist passes the m3u8 parser and the RFC 8216 checks; a key sees only its
teams' clips, and every segment link of a reel is refused once tampered or expired. The OTIO and
Sportscode exports of a reel (API and CLI) name it and put each clip at the frames it plays there."""
from __future__ import annotations

import subprocess
import time
import xml.etree.ElementTree as ET
import urllib.parse
from fractions import Fraction
from pathlib import Path

import httpx
import m3u8
import numpy as np
import opentimelineio as otio
import pytest

from hb_clips_assets.cli.main import main
from hb_clips_assets.domain.records import Segment
from hb_clips_assets.pipeline.cutting import produce_clips
from hb_clips_assets.retrieval.api import media
from hb_clips_assets.retrieval.api.app import create_app
from hb_clips_assets.retrieval.api.settings import ApiKey, ApiSettings
from hb_clips_assets.sample import ffmpeg_exe
from hb_clips_assets.sample.video import write_audio_wav, write_marked_video
from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_assets.storage.store.local import LocalObjectStore
from hb_clips_assets.video.cut import EncodeSettings
from hb_clips_assets.video.framemark import read_frame_mark
from hb_clips_assets.video.probe import probe_video
from hb_clips_tests.retrieval.api.server import serve
from hb_clips_tests.servers.fake_gcs import fake_gcs, gcs_bucket  # noqa: F401  (fixtures)
from hb_clips_tests.video.test_hls import rfc8216_problems

FPS = Fraction(60000, 1001)
W, H = 320, 180
ADMIN, WSH = "admin-key-0123456789abcdef", "wsh-coach-key-0123456789ab"
SECRET = b"reel-test-secret"
# (game, event, start, end, cutter): overlapping windows, a full re-encode between smart cuts
CLIPS = [("R1", "e1", 37, 250, "smart"), ("R1", "e2", 130, 400, "full"), ("R1", "e3", 305, 547, "smart"),
         ("R2", "w1", 70, 300, "smart")]


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    root = tmp_path_factory.mktemp("reel")
    data = root / "data"
    data.mkdir()
    (data / "schedule.csv").write_text("game_id,date,home,away\nR1,2026-01-10,MTL,CHI\nR2,2026-01-11,WSH,NYR\n")
    (data / "roster.csv").write_text("player_id,name,team,position,aliases\n8480018,Nick Suzuki,MTL,C,\n"
                                     "8471214,Alex Ovechkin,WSH,LW,\n")
    write_audio_wav(root / "beeps.wav", 600, FPS, seed=7)
    source = probe_video(write_marked_video(root / "1.mp4", 600, FPS, W, H, audio_wav=root / "beeps.wav"))
    store, index = LocalObjectStore(root / "store"), MediaIndex(f"sqlite:///{root / 'media.db'}")
    for game in ("R1", "R2"):
        records = []
        for g, event, start, end, cutter in CLIPS:
            if g != game:
                continue
            team, opponent = ("MTL", "CHI") if game == "R1" else ("WSH", "NYR")
            player = "8480018" if game == "R1" else "8471214"
            seg = Segment(game, "1", event, "goal", player, team, opponent, "O", "PP", "00:00:01:00", start + 20,
                          start, end, FPS.numerator, FPS.denominator, {})
            (outcome,), failures = produce_clips([seg], source, "b" * 64, store, index, EncodeSettings(cutter=cutter),
                                                 hls=True, scratch_dir=root / "scratch")
            assert not failures and {a.kind for a in outcome.record.assets} >= {"hls", "hls_fmp4"}
            records.append(outcome.record)
        index.write_partition(game, "1", records)
    index.dispose()
    settings = ApiSettings(data_root=str(data), db_url=f"sqlite:///{root / 'media.db'}", store_url=str(root / "store"),
                           keys={ADMIN: ApiKey("admin"), WSH: ApiKey("coach", "WSH")}, media_secret=SECRET)
    with serve(create_app(settings)) as base, httpx.Client(base_url=base, timeout=20) as client:
        yield {"base": base, "client": client, "store": root / "store"}


def reel(api, key=ADMIN, **params) -> httpx.Response:
    return api["client"].get("/api/v2/clips/reel.m3u8", params=params, headers={"X-API-Key": key})


def ffmpeg(url: str, *out: str, key: str | None = ADMIN) -> subprocess.CompletedProcess:
    """The FFmpeg CLI reading ``url`` with its default options (the key in a header: FFmpeg sends it for
    the playlist and the segments; the segments' signed links need none)."""
    auth = ["-headers", f"X-API-Key: {key}\r\n"] if key else []
    return subprocess.run([ffmpeg_exe(), "-nostdin", "-hide_banner", "-v", "error", *auth, "-i", url, *out],
                          capture_output=True, timeout=120)


def other_sig(sig: str) -> str:
    """``sig`` with its last two characters changed (whatever they were)."""
    return sig[:-2] + ("BB" if sig.endswith("AA") else "AA")


def test_ffmpeg_plays_a_reel_frame_exact_with_audio_in_sync(api):
    r = reel(api, game="R1")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.apple.mpegurl") and r.headers["x-clip-count"] == "3"
    listing = f"{api['base']}/api/v2/clips/reel.m3u8?game=R1"
    assert ffmpeg(listing, "-f", "null", "-", key=None).returncode != 0  # no key, no reel (401)
    run = ffmpeg(listing, "-f", "null", "-")
    assert run.returncode == 0 and run.stderr.decode().strip() == ""
    raw = ffmpeg(listing, "-map", "0:v", "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "gray", "-")
    frames = np.frombuffer(raw.stdout, np.uint8).reshape(-1, H, W)
    want = [i for g, _, start, end, _ in CLIPS if g == "R1" for i in range(start, end)]
    assert len(frames) == len(want) == 213 + 270 + 242
    assert [read_frame_mark(f.copy()) for f in frames] == want  # every clip, in order: none lost or doubled
    # A/V sync: each beep (at source frames 0, 60, 120, ...) starts within a frame of its frame's time
    video = ffmpeg(listing, "-copyts", "-map", "0:v", "-fps_mode", "passthrough", "-c:v", "rawvideo",
                   "-pix_fmt", "gray", "-f", "framecrc", "-")
    vpts = [int(l.split(",")[2]) for l in video.stdout.decode().splitlines() if l and not l.startswith("#")]
    vtb = next(l for l in video.stdout.decode().splitlines() if l.startswith("#tb 0:")).split(":")[1].strip()
    vtb = Fraction(vtb)
    audio = ffmpeg(listing, "-copyts", "-map", "0:a", "-ac", "1", "-c:a", "pcm_s16le", "-f", "framecrc", "-")
    packets = [l.split(",") for l in audio.stdout.decode().splitlines() if l and not l.startswith("#")]
    pcm = ffmpeg(listing, "-map", "0:a", "-ac", "1", "-f", "s16le", "-").stdout
    x = np.abs(np.frombuffer(pcm, "<i2").astype(np.float32) / 32767)
    t = np.concatenate([int(p[2]) / 48000 + np.arange(int(p[4]) // 2) / 48000 for p in packets])
    assert len(t) == len(x)
    envelope = np.convolve(x, np.ones(48) / 48, "same")
    onsets = t[np.flatnonzero((envelope[1:] > 0.15) & (envelope[:-1] <= 0.15)) + 1]
    checked = 0
    for k, mark in enumerate(want):
        if mark % 60 == 0 and k > 0 and want[k - 1] == mark - 1:  # a beep frame with its audio lead-in in the clip
            at = float(vpts[k] * vtb)
            assert float(np.min(np.abs(onsets - at))) <= float(1 / FPS), (mark, at)
            checked += 1
    assert checked >= 9  # every clip has beeps


def test_the_reel_playlist_is_valid(api):
    r = reel(api, game="R1")
    text = r.text
    assert "#EXT-X-BYTERANGE" not in text and "BYTERANGE=" not in text  # every part is a resource of its own
    playlist = m3u8.loads(text)
    uris = [s.uri for s in playlist.segments] + [s.init_section.uri for s in playlist.segments]
    sizes = {}
    for uri in set(uris):
        got = api["client"].get(uri)  # no key: the signed link is enough
        assert got.status_code == 200 and got.headers["content-length"] == str(len(got.content)), uri
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(uri).query))
        start, end = (int(x) for x in q["bytes"].split("-"))
        stored = (api["store"] / urllib.parse.urlsplit(uri).path.removeprefix("/api/v2/media/")).read_bytes()
        assert len(got.content) == end - start + 1 and end < len(stored)
        # exactly those bytes of the stored fMP4, but for the shifted decode times (8-byte tfdt fields)
        differ = np.flatnonzero(np.frombuffer(got.content, np.uint8) != np.frombuffer(stored[start:end + 1], np.uint8))
        assert len(differ) <= 16 * max(1, got.content.count(b"tfdt")), uri
        sizes[uri] = len(got.content)
    assert len(set(s.uri for s in playlist.segments)) == len(playlist.segments)  # no two segments share a URL
    assert rfc8216_problems(text, sizes, whole=True) == []
    starts = [i for i, s in enumerate(playlist.segments) if s.discontinuity]
    assert len(starts) == 2 and text.count("#EXT-X-MAP:") == 3 and text.count("#EXT-X-PROGRAM-DATE-TIME:") == 3
    assert [l.split('X-EVENT-ID="')[1].split('"')[0] for l in text.splitlines() if "DATERANGE" in l] == ["e1", "e2", "e3"]


def test_a_reel_is_scoped_like_the_listing(api):
    assert reel(api, key=WSH, game="R1").status_code == 404  # another team's game, asked for by id
    mine = reel(api, key=WSH)
    assert mine.status_code == 200 and mine.headers["x-clip-count"] == "1"
    assert "/R1/" not in mine.text and 'X-EVENT-ID="w1"' in mine.text
    assert reel(api, key=WSH, event="shot").status_code == 404  # nothing to play
    assert reel(api, key="wrong-key-0123456789abcdef").status_code == 401
    assert reel(api, game="R1", plyer="x").status_code == 422
    q = reel(api, q="power play goals by Suzuki")
    assert q.status_code == 200 and q.headers["x-clip-count"] == "3"


def test_every_segment_link_is_refused_once_tampered_or_expired(api):
    client = api["client"]
    playlist = m3u8.loads(reel(api, game="R1").text)
    uris = sorted({s.uri for s in playlist.segments} | {s.init_section.uri for s in playlist.segments})
    assert len(uris) == len(playlist.segments) + 3
    for uri in uris:
        parts = urllib.parse.urlsplit(uri)
        q = dict(urllib.parse.parse_qsl(parts.query))
        whole = client.get(uri)
        good = client.get(uri, headers={"Range": "bytes=10-109"})  # a Range counts inside the named bytes
        assert good.status_code == 206 and good.content == whole.content[10:110]
        assert good.headers["content-range"] == f"bytes 10-109/{len(whole.content)}"
        key = parts.path.removeprefix("/api/v2/media/")
        start, end = (int(x) for x in q["bytes"].split("-"))
        other_shift = q["shift"].replace("_", "_1", 1)
        for changed in ({**q, "shift": other_shift}, {**q, "sig": other_sig(q["sig"])},
                        {k: v for k, v in q.items() if k != "shift"}, {**q, "exp": str(int(q["exp"]) + 60)},
                        {**q, "bytes": f"{start}-{end + 1}"}, {**q, "bytes": f"{start + 1}-{end}"},
                        {k: v for k, v in q.items() if k != "bytes"}):
            bad = client.get(f"{parts.path}?{urllib.parse.urlencode(changed)}")
            assert bad.status_code == 401, (uri, changed)
        expired = media.signed_query(SECRET, key, 60, now=time.time() - 3600, shift=q["shift"], part=q["bytes"])
        assert client.get(f"{parts.path}?{expired}").status_code == 401
    # a validly signed range that is not inside the object: 404, never bytes of something else
    size = (api["store"] / key).stat().st_size
    outside = media.signed_query(SECRET, key, 60, shift=q["shift"], part=f"{size - 10}-{size + 10}")
    assert client.get(f"{parts.path}?{outside}").status_code == 404


def reel_frames(url: str) -> list[int]:
    """The frame marks of every frame FFmpeg decodes from a reel, in order."""
    raw = ffmpeg(url, "-map", "0:v", "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "gray", "-")
    assert raw.returncode == 0, raw.stderr.decode()
    return [read_frame_mark(f.copy()) for f in np.frombuffer(raw.stdout, np.uint8).reshape(-1, H, W)]


def test_exports_reference_the_reel_at_each_clips_place(api):
    client, headers = api["client"], {"X-API-Key": ADMIN}
    got = client.get("/api/v2/clips/export/otio", params={"game": "R1", "reel": "true"}, headers=headers)
    assert got.status_code == 200, got.text
    reel_url = got.headers["x-reel-url"]
    assert reel_url == f"{api['base']}/api/v2/clips/reel.m3u8?game=R1&limit=1000"
    timeline = otio.adapters.read_from_string(got.text, adapter_name="otio_json")
    assert timeline.metadata["hb_clips"]["reel_url"] == reel_url
    items = list(timeline.find_clips())
    want = [(event, start, end) for g, event, start, end, _ in CLIPS if g == "R1"]
    assert [i.metadata["hb_clips"]["event_id"] for i in items] == [e for e, _, _ in want]
    frames = reel_frames(reel_url)  # the URL the export names plays, and its frames are where it says
    assert len(frames) == sum(end - start for _, start, end in want)
    for item, (_, start, end) in zip(items, want):
        assert item.media_reference.target_url == reel_url
        assert item.media_reference.available_range.duration.value == pytest.approx(len(frames))
        at, n = round(item.source_range.start_time.value), round(item.source_range.duration.value)
        assert n == end - start and frames[at:at + n] == list(range(start, end))
        assert item.metadata["hb_clips"]["mp4_url"].startswith(f"{api['base']}/api/v2/media/")
    xml = client.get("/api/v2/clips/export/sportscode", params={"game": "R1", "reel": "true"}, headers=headers)
    assert xml.status_code == 200 and xml.headers["x-reel-url"] == reel_url
    root = ET.fromstring(xml.content)
    assert root.findtext("SESSION_INFO/movie") == reel_url
    instances = root.findall("ALL_INSTANCES/instance")
    assert len(instances) == len(want)
    for inst, (event, start, end) in zip(instances, want):
        first, stop = (round(Fraction(inst.findtext(t)) * FPS) for t in ("start", "end"))
        assert frames[first:stop] == list(range(start, end)), event
        labels = {lab.findtext("group"): lab.findtext("text") for lab in inst.findall("label")}
        assert labels["Movie"] == reel_url and labels["Event ID"] == event
    bad = client.get("/api/v2/clips/export/sportscode", params={"game": "R1", "reel": "true", "timeline": "source"},
                     headers=headers)
    assert bad.status_code == 422  # times in each period video cannot point into a reel
    assert client.get("/api/v2/clips/export/otio", params={"reel": "true", "limit": 2001},
                      headers=headers).status_code == 422
    # without reel=true: each clip's own MP4, as before
    plain = otio.adapters.read_from_string(client.get("/api/v2/clips/export/otio", params={"game": "R1"},
                                                      headers=headers).text, adapter_name="otio_json")
    assert all("/api/v2/media/" in i.media_reference.target_url for i in plain.find_clips())


def test_cli_export_references_a_reel_url(api, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HB_DATA_ROOT", str(api["store"].parent / "data"))
    monkeypatch.setenv("HB_MEDIA_DB_URL", f"sqlite:///{api['store'].parent / 'media.db'}")
    monkeypatch.setenv("HB_STORE_URL", str(api["store"]))
    url = "https://cdn.example.org/reels/r1.m3u8?token=abc"
    out = tmp_path / "r1.otio"
    assert main(["find", "--game", "R1", "--export", "otio", "--out", str(out), "--reel-url", url]) == 0
    items = list(otio.adapters.read_from_file(str(out)).find_clips())
    starts = [round(i.source_range.start_time.value) for i in items]
    lengths = [end - start for g, _, start, end, _ in CLIPS if g == "R1"]
    assert [i.media_reference.target_url for i in items] == [url] * 3 and starts == [0, lengths[0], sum(lengths[:2])]
    xml = tmp_path / "r1.xml"
    assert main(["find", "--game", "R1", "--export", "sportscode", "--out", str(xml), "--reel-url", url]) == 0
    assert ET.parse(xml).getroot().findtext("SESSION_INFO/movie") == url
    assert main(["find", "--game", "R1", "--export", "sportscode", "--out", str(xml), "--reel-url", url,
                 "--timeline", "source"]) == 2
    assert "--reel-url" in capsys.readouterr().err


def test_a_gcs_reel_plays_through_the_api_frame_exact(api, fake_gcs, gcs_bucket, monkeypatch):
    """GCS: a V4 signed URL can neither name bytes nor shift decode times, so a reel's parts are this
    API's signed links there too; it reads each range from the bucket (the same objects, uploaded to
    fake-gcs-server) and shifts it. FFmpeg plays it like the local one; tampering is refused."""
    bucket = fake_gcs.client().bucket(gcs_bucket)
    for path in api["store"].rglob("*"):
        if path.is_file():
            bucket.blob(f"v1/{path.relative_to(api['store']).as_posix()}").upload_from_filename(str(path))
    monkeypatch.setenv("HB_GCS_ENDPOINT", fake_gcs.url)
    root = api["store"].parent
    settings = ApiSettings(data_root=str(root / "data"), db_url=f"sqlite:///{root / 'media.db'}",
                           store_url=f"gs://{gcs_bucket}/v1", keys={ADMIN: ApiKey("admin")}, media_secret=SECRET)
    with serve(create_app(settings)) as base, httpx.Client(base_url=base, timeout=20) as client:
        text = client.get("/api/v2/clips/reel.m3u8", params={"game": "R1"}, headers={"X-API-Key": ADMIN}).text
        playlist = m3u8.loads(text)
        assert "BYTERANGE" not in text and all(s.uri.startswith(f"{base}/api/v2/media/hls/") for s in playlist.segments)
        frames = reel_frames(f"{base}/api/v2/clips/reel.m3u8?game=R1")
        assert frames == [i for g, _, start, end, _ in CLIPS if g == "R1" for i in range(start, end)]
        # each part: the same bytes as the local store's link for it (same key, range and shift)
        def named(uri):
            parts = urllib.parse.urlsplit(uri)
            q = dict(urllib.parse.parse_qsl(parts.query))
            return parts.path, q["bytes"], q["shift"]

        local = {named(s.uri): s.uri for s in m3u8.loads(reel(api, game="R1").text).segments}
        for seg in playlist.segments[:4]:
            parts = urllib.parse.urlsplit(seg.uri)
            q = dict(urllib.parse.parse_qsl(parts.query))
            mine = client.get(seg.uri)
            assert mine.status_code == 200 and mine.content == api["client"].get(local[named(seg.uri)]).content
            part = client.get(seg.uri, headers={"Range": "bytes=5-24"})
            assert part.status_code == 206 and part.content == mine.content[5:25]
            for changed in ({**q, "bytes": q["bytes"].replace("-", "1-", 1)}, {**q, "sig": other_sig(q["sig"])}):
                assert client.get(f"{parts.path}?{urllib.parse.urlencode(changed)}").status_code == 401
        mp4 = next(iter(api["store"].glob("clips/R1/1/*.mp4"))).relative_to(api["store"]).as_posix()
        assert client.get(f"/api/v2/media/{mp4}?{media.signed_query(SECRET, mp4, 60)}").status_code == 404


def test_a_clips_own_hls_link_plays_every_frame(api):
    """The listing's HLS link of one clip: the API hands its playlist out with a signed link per part
    (the stored one addresses byte ranges, of which FFmpeg reads only the first fragment over HTTP)."""
    (clip,) = api["client"].get("/api/v2/clips/", params={"game": "R2"}, headers={"X-API-Key": ADMIN}).json()["items"]
    url = clip["assets"]["hls"]["url"]
    text = api["client"].get(url).text  # the signed link alone, no key
    assert "BYTERANGE" not in text and text.count("bytes=") == len(m3u8.loads(text).segments) + 1
    assert reel_frames(url) == list(range(70, 300))  # every frame of w1, once, in order
