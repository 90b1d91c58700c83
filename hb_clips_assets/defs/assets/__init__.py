from hb_clips_assets.defs.assets.clips import clips
from hb_clips_assets.defs.assets.media_index import media_index
from hb_clips_assets.defs.assets.metrics import metrics
from hb_clips_assets.defs.assets.reference import roster, schedule
from hb_clips_assets.defs.assets.segments import event_segments

clip_assets = [metrics, event_segments, clips, media_index]
reference_assets = [schedule, roster]
