"""The media index: SQLAlchemy models, the repository, Alembic migrations. Its records are the domain's."""
from hb_clips_assets.storage.index.models import Clip, ClipAsset, ClipTag, PendingDeletion
from hb_clips_assets.storage.index.repository import MediaIndex, PartitionWrite

__all__ = ["Clip", "ClipAsset", "ClipTag", "PendingDeletion", "MediaIndex", "PartitionWrite"]
