"""The instance's dagster.yaml: seeded from the project's template with the CPU count,
read by Dagster as a run queue limit and an ffmpeg pool limit."""
from __future__ import annotations

import pytest
import yaml
from dagster import DagsterInstance

from hb_clips_assets.defs.instance_config import MARKER, TEMPLATE, render_instance_yaml, seed_dagster_home


def test_seeded_instance_has_the_run_queue_and_pool_limits(tmp_path):
    seed_dagster_home(tmp_path, cpus=6)
    text = (tmp_path / "dagster.yaml").read_text()
    assert text.startswith(MARKER)
    instance = DagsterInstance.from_config(str(tmp_path))
    try:
        config = instance.get_concurrency_config()
        assert config.pool_config.default_pool_limit == 6
        assert config.run_queue_config.max_concurrent_runs == 4
        assert {"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True}, "limit": 1} in (
            config.run_queue_config.tag_concurrency_limits
        )
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
    finally:
        instance.dispose()


def test_a_seeded_file_follows_the_template_and_a_hand_edited_one_is_kept(tmp_path):
    target = seed_dagster_home(tmp_path, cpus=2)
    seed_dagster_home(tmp_path, cpus=8)  # the template (or the machine) changed: refreshed
    assert yaml.safe_load(target.read_text())["concurrency"]["pools"]["default_limit"] == 8
    target.write_text(target.read_text().replace(MARKER + "\n", "").replace("default_limit: 8", "default_limit: 3"))
    seed_dagster_home(tmp_path, cpus=8)
    assert "default_limit: 3" in target.read_text()


def test_the_template_must_say_where_the_pool_limit_goes():
    with pytest.raises(ValueError, match="default_limit"):
        render_instance_yaml("telemetry:\n  enabled: false\n", 2)
    assert "default_limit: 5" in render_instance_yaml(TEMPLATE.read_text(), 5)
