"""Playlists of clips for other tools: Hudl Sportscode XML edit lists and OpenTimelineIO."""
from hb_clips_assets.retrieval.export.sportscode import SportscodeInstance, read_sportscode, to_sportscode_xml

__all__ = ["SportscodeInstance", "read_sportscode", "to_sportscode_xml"]
