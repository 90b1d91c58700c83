from hb_clips_assets.storage.index.models import Clip, ClipAsset, ClipTag, PendingDeletion
from hb_clips_assets.storage.index.repository import AssetRecord, ClipRecord, MediaIndex, PartitionWrite

__all__ = [
    "Clip", "ClipAsset", "ClipTag", "PendingDeletion", "AssetRecord", "ClipRecord", "MediaIndex", "PartitionWrite",
]
