from .clips import clips
from .media_index import media_index
from .metrics import metrics
from .reference import roster, schedule
from .segments import event_segments

clip_assets = [metrics, event_segments, clips, media_index]
reference_assets = [schedule, roster]
