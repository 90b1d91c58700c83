"""One uncuttable clip no longer hides the period (issue "Real-world inputs", item 3).

A period video damaged in one GOP that only one event's clip needs: that clip
is set aside (metadata: count and table with event, frames and reason), the
period's other clips are cut, stored, indexed and decodable, the step is
attempted once, and the check clips_all_cut fails naming the event. An event
indexed before whose re-cut fails keeps its indexed clip (row and objects),
which the removal guard does not count as a removal.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dagster import AssetCheckSeverity, instance_for_test, materialize
from sqlalchemy import text

from hb_clips_assets.defs.checks import clip_checks
from hb_clips_assets.defs.partitions import game_partitions, game_period_key
from hb_clips_assets.defs.resources import CheckSettingsResource
from hb_clips_assets.domain.hashing import sha256_file
from hb_clips_assets.storage.index.repository import MediaIndex
from hb_clips_tests.defs.damaged_source import BAD_EVENT, GAME, PERIOD, WINDOWS, damage, write_data_root
from hb_clips_tests.media_checks import decode_clip
from hb_clips_tests.resources import materialized_metadata, pipeline_assets, pipeline_resources, table_rows

RETRY_EVENTS = ("STEP_UP_FOR_RETRY", "STEP_RESTARTED")


@pytest.fixture(scope="module")
def roots(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("set_aside")
    write_data_root(base / "damaged")
    write_data_root(base / "good", damaged=False)
    return {"damaged": base / "damaged", "good": base / "good"}


@pytest.fixture
def env(tmp_path, roots, monkeypatch):
    # Any removal refused: a set-aside event that lost its indexed clip would fail media_index.
    monkeypatch.setenv("HB_MAX_REMOVED_SHARE", "0")
    db = f"sqlite:///{tmp_path / 'media.db'}"
    resources = pipeline_resources(tmp_path / "data", tmp_path / "work", tmp_path / "store", db) | {
        "check_settings": CheckSettingsResource(decode_sample=0)}
    with instance_for_test() as instance:
        instance.add_dynamic_partitions(game_partitions.name, [GAME])
        yield {"tmp": tmp_path, "data": tmp_path / "data", "store": tmp_path / "store", "db": db,
               "resources": resources, "instance": instance}


def use(env, roots, which: str) -> Path:
    shutil.copytree(roots[which], env["data"], dirs_exist_ok=True)
    return env["data"] / "video" / GAME / f"{PERIOD}.mp4"


def run(env):
    result = materialize([*pipeline_assets, *clip_checks], partition_key=game_period_key(GAME, PERIOD),
                         instance=env["instance"], resources=env["resources"], raise_on_error=False)
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    return result, materialized_metadata(result), checks


def rows(env) -> dict[str, dict]:
    return {r["event_id"]: r for r in MediaIndex(env["db"]).clips(GAME, PERIOD)}


def objects_of(env, clip_id: str) -> dict[str, str]:
    index = MediaIndex(env["db"])
    return {a.kind: sha256_file(env["store"] / a.object_key) for (cid, _), a in index.assets_of([clip_id]).items()
            if cid == clip_id and (env["store"] / a.object_key).is_file()}


def assert_decodable(env, event_ids):
    index = MediaIndex(env["db"])
    for event_id, row in rows(env).items():
        if event_id in event_ids:
            mp4 = index.assets_of([row["clip_id"]])[(row["clip_id"], "mp4")]
            assert decode_clip(env["store"] / mp4.object_key).marks == list(range(row["start_frame"], row["end_frame"]))


def test_an_uncuttable_clip_is_set_aside_and_the_others_are_indexed(env, roots):
    video = use(env, roots, "damaged")
    result, meta, checks = run(env)
    assert result.success
    assert not [e for e in result.all_events if e.event_type_value in RETRY_EVENTS]  # attempted once
    clips = meta["clips"]
    assert (clips["clips"], clips["clips_cut"], clips["clips_set_aside"], clips["clips_kept"]) == (2, 2, 1, 0)
    (aside,) = table_rows(clips["clips_set_aside_table"])
    assert (aside["event_id"], aside["start_frame"], aside["end_frame"], aside["event_frame"]) == (BAD_EVENT, 210, 410, 335)
    assert str(video.resolve()) in aside["reason"] and "FFmpeg refused the clip's frames" in aside["reason"]
    assert aside["indexed_clip"].startswith("none")
    # The others are findable: indexed, whole, decodable.
    assert set(rows(env)) == {"ev-a", "ev-c"} and meta["media_index"]["clips"] == 2
    assert_decodable(env, {"ev-a", "ev-c"})
    assert not list(env["store"].rglob("*.tmp*"))
    # Marked, not blocked: the check names the event, its frames and the reason.
    check = checks["clips_all_cut"]
    assert not check.passed and check.severity == AssetCheckSeverity.ERROR
    assert f"event {BAD_EVENT} (frames 210-410, event frame 335)" in check.description
    assert "FFmpeg refused" in check.description and "1 clip(s) could not be cut" in check.description
    assert [p["problem"] for p in table_rows(check.metadata["problem_list"].value)][0].startswith(f"event {BAD_EVENT}")
    assert not checks["clip_coverage"].passed and BAD_EVENT in checks["clip_coverage"].description  # no row for it
    assert all(checks[name].passed for name in ("objects_match_index", "clip_frame_counts", "clip_first_frames"))
    logs = [e.user_message for e in env["instance"].all_logs(result.run_id)]
    assert any(m.startswith(f"set aside event '{BAD_EVENT}' (frames 210-410") for m in logs)


def test_an_indexed_event_whose_recut_fails_keeps_its_clip(env, roots):
    video = use(env, roots, "good")
    result, meta, checks = run(env)
    assert result.success and meta["clips"]["clips"] == 3 and all(c.passed for c in checks.values()
                                                                  if c.check_name != "rejected_row_ratio")
    before = rows(env)
    kept_objects = objects_of(env, before[BAD_EVENT]["clip_id"])
    assert set(kept_objects) == {"mp4", "thumbnail", "hls", "hls_fmp4"}
    with MediaIndex(env["db"]).engine.connect() as conn:
        tags_before = conn.execute(text("select tag, value from media.clip_tags where clip_id = :c order by tag"),
                                   {"c": before[BAD_EVENT]["clip_id"]}).all()

    damage(video)  # the same period video, now damaged in the GOP only ev-b needs
    result, meta, checks = run(env)
    assert result.success  # the removal guard (no removal allowed here) saw none
    assert not [e for e in result.all_events if e.event_type_value in RETRY_EVENTS]
    clips = meta["clips"]
    assert (clips["clips"], clips["clips_cut"], clips["clips_set_aside"], clips["clips_kept"]) == (3, 2, 1, 1)
    (aside,) = table_rows(clips["clips_set_aside_table"])
    assert aside["event_id"] == BAD_EVENT
    assert aside["indexed_clip"] == f"kept: {before[BAD_EVENT]['clip_id'][:12]} (frames {WINDOWS[BAD_EVENT][0]}-{WINDOWS[BAD_EVENT][1]})"
    assert meta["media_index"]["clips_removed"] == 0 and meta["media_index"]["clips"] == 3
    after = rows(env)
    # ev-b: its old row, tags and objects, unchanged (the clip of the undamaged video)
    assert {k: v for k, v in after[BAD_EVENT].items()} == before[BAD_EVENT]
    assert objects_of(env, after[BAD_EVENT]["clip_id"]) == kept_objects
    with MediaIndex(env["db"]).engine.connect() as conn:
        assert conn.execute(text("select tag, value from media.clip_tags where clip_id = :c order by tag"),
                            {"c": after[BAD_EVENT]["clip_id"]}).all() == tags_before
    # the others were re-cut from the new file (new ids), their old objects removed
    new_sha = sha256_file(video)
    for event_id in ("ev-a", "ev-c"):
        assert after[event_id]["clip_id"] != before[event_id]["clip_id"] and after[event_id]["source_sha256"] == new_sha
        assert objects_of(env, before[event_id]["clip_id"]) == {}
    assert_decodable(env, {"ev-a", "ev-b", "ev-c"})
    check = checks["clips_all_cut"]
    assert not check.passed and f"event {BAD_EVENT}" in check.description and "kept:" in check.description
    assert checks["clip_coverage"].passed and checks["objects_match_index"].passed  # its row and objects are whole

    # The video fixed (the good file again): ev-b's clip is that file's, stored and indexed: not cut again.
    use(env, roots, "good")
    result, meta, checks = run(env)
    assert result.success and checks["clips_all_cut"].passed
    clips = meta["clips"]
    assert (clips["clips"], clips["clips_cut"], clips["clips_cached"], clips["clips_set_aside"]) == (3, 2, 1, 0)
    assert rows(env)[BAD_EVENT] == before[BAD_EVENT]
