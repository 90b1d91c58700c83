"""The object store the ``HB_*`` settings describe, without Dagster.

The pipeline's ``ObjectStoreResource`` and the read side (``hb-clips find``,
the REST API) must open the same store the same way, and the read side must
not need Dagster to do it, so the one recipe lives here: ``gs://`` gets a
storage client (an emulator's when ``HB_GCS_ENDPOINT`` is set, else Application
Default Credentials) and a V4 URL signer when a key is configured; anything
else is a local folder.
"""
from __future__ import annotations

from hb_clips_assets.settings import value
from hb_clips_assets.storage.store import ObjectStore, open_store


def _given_or_setting(given, name: str):
    # None means "not given": an explicit "" (say a resource's gcs_endpoint="", real GCS)
    # must win over the environment, as it does when the resource builds the store itself
    return value(name) if given is None else given


def store_from_settings(
    url: str | None = None,
    *,
    client=None,
    gcs_endpoint: str | None = None,
    gcs_project: str | None = None,
    signing_key_file: str | None = None,
    signing_key_json: str | None = None,
    signed_url_expiry_s: int | None = None,
    cdn_host: str | None = None,
) -> ObjectStore:
    """The store at ``url`` (default ``HB_STORE_URL``); every argument left None is
    read from its setting (``HB_GCS_ENDPOINT``, ``HB_GCS_PROJECT``,
    ``HB_SIGNING_KEY_FILE``, ``HB_SIGNING_KEY_JSON``, ``HB_SIGNED_URL_EXPIRY_S``,
    ``HB_CDN_HOST``). ``client``: a ready ``google.cloud.storage.Client`` for
    ``gs://`` (then the endpoint and project are not used).

    The GCS settings are read only for a ``gs://`` URL, so a local store never
    fails on them.
    """
    url = _given_or_setting(url, "HB_STORE_URL")
    if not url.startswith("gs://"):
        return open_store(url)
    from hb_clips_assets.storage.store.gcs import gcs_client
    from hb_clips_assets.storage.store.signing import UrlSigner, check_expiry

    # a bad expiry fails at start, whether a key is configured or not
    expiry_s = check_expiry(_given_or_setting(signed_url_expiry_s, "HB_SIGNED_URL_EXPIRY_S"))
    signer = UrlSigner.from_settings(
        _given_or_setting(signing_key_file, "HB_SIGNING_KEY_FILE"),
        _given_or_setting(signing_key_json, "HB_SIGNING_KEY_JSON"),
        expiry_s=expiry_s, cdn_host=_given_or_setting(cdn_host, "HB_CDN_HOST") or None,
    )
    if client is None:
        # an endpoint: the emulator with anonymous credentials; none: Application Default
        # Credentials, the same `storage.Client(project=...)` dagster-gcp's GCSResource builds
        client = gcs_client(_given_or_setting(gcs_endpoint, "HB_GCS_ENDPOINT") or None,
                            _given_or_setting(gcs_project, "HB_GCS_PROJECT") or None)
    return open_store(url, client=client, signer=signer)
