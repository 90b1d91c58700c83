from .models import Clip, ClipAsset, ClipTag, PendingDeletion
from .repository import AssetRecord, ClipRecord, MediaIndex, PartitionWrite

__all__ = [
    "Clip", "ClipAsset", "ClipTag", "PendingDeletion", "AssetRecord", "ClipRecord", "MediaIndex", "PartitionWrite",
]
