from .models import Clip, ClipAsset, ClipTag
from .repository import AssetRecord, ClipRecord, MediaIndex, PartitionWrite

__all__ = ["Clip", "ClipAsset", "ClipTag", "AssetRecord", "ClipRecord", "MediaIndex", "PartitionWrite"]
