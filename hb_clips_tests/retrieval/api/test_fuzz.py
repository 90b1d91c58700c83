"""Fuzzing the API from its own OpenAPI schema (schemathesis, over real HTTP): no 5xx,
answers that conform to the schema, valid and invalid inputs alike."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from hb_clips_assets.retrieval.api.app import create_app
from hb_clips_assets.retrieval.api.settings import ApiKey, ApiSettings
from hb_clips_tests.retrieval.api.server import serve
from hb_clips_tests.retrieval_sample import index_sample, shared_sample

ADMIN = "fuzz-admin-key-0123456789"
COACH = "fuzz-coach-key-0123456789"
EXAMPLES = 25  # per operation and mode: a few hundred requests in all, a few seconds


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    data = shared_sample(tmp_path_factory)
    work = tmp_path_factory.mktemp("fuzz")
    sample = index_sample(data, work / "store", f"sqlite:///{work / 'media.db'}")
    app = create_app(ApiSettings(data_root=str(data), db_url=sample.db_url, store_url=str(sample.store_root),
                                 keys={ADMIN: ApiKey("admin"), COACH: ApiKey("coach", "CHI")}))
    with serve(app) as base:
        yield base


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_api_conforms_to_its_schema(base_url, mode):
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/v2/clips/", "/api/v2/clips/{clip_id}", "/api/v2/clips/stats/overview",
                                              "/api/v2/clips/export/{fmt}", "/api/v2/media/{object_key}"}
    calls = []
    for operation in operations:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            for key in (ADMIN, COACH):
                # every check but "valid data is accepted": a schema-valid value may still name nothing
                # (an unknown team, period 7), which is a 422 with a message, by design
                response = case.call_and_validate(base_url=base_url, headers={"X-API-Key": key},
                                                  excluded_checks=[positive_data_acceptance])
                calls.append(response.status_code)

        try:
            check()
        except Unsatisfiable:
            # nothing invalid can be made for an operation without parameters (health)
            assert mode == GenerationMode.NEGATIVE and operation.path == "/api/v2/health", operation.path
    assert len(calls) >= 2 * len(operations)
    assert all(code < 500 for code in calls)
