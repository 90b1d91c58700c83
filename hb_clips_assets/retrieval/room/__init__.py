"""The clip room: the web page coaches watch clips in, served by the API at ``/``.

Plain HTML, CSS and JavaScript modules under ``static/`` (shipped as package
data, no build step, nothing loaded from another host), talking to the REST
API with the key the coach signs in with. :func:`mount_room` adds ``/`` (the
page) and ``/room/...`` (its files) to an app.
"""
from hb_clips_assets.retrieval.room.mount import STATIC, mount_room

__all__ = ["STATIC", "mount_room"]
