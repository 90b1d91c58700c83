"""FFmpeg's errors in a video analyst's words.

PyAV raises FFmpeg's error codes as exceptions whose text is the C library's
(``[Errno 1094995529] Invalid data found when processing input: '1.mp4'``,
``Cannot allocate memory`` for a damaged index that declares absurd sizes).
Messages of the pipeline say what is wrong with the file instead; the file
itself is named by the caller. :func:`plain_text` cleans any text that may
still carry FFmpeg's wording (the CLI's last line of defence).
"""
from __future__ import annotations

import re

# PyAV error class names (av.error.*) and what they say about the file. Names, so that the CLI can use
# plain_text without loading FFmpeg.
_WORDS: tuple[tuple[str, str], ...] = (
    ("InvalidDataError", "its data or index is damaged, FFmpeg cannot make sense of it"),
    ("EOFError", "it ends in the middle of its video data, as if cut short"),
    ("MemoryError", "its index is damaged, it declares more data than the file can hold"),
    ("DecoderNotFoundError", "its video codec has no decoder here"),
    ("DemuxerNotFoundError", "it is no kind of video file FFmpeg knows"),
    ("PatchWelcomeError", "it uses a feature of its format that FFmpeg cannot read"),
    ("NotImplementedError", "it uses a feature of its format that FFmpeg cannot read"),
    ("PermissionError", "permission denied, check who may read it"),
    ("FileNotFoundError", "the file is missing"),
    ("IsADirectoryError", "it is a folder, not a video file"),
)

# FFmpeg's own phrases, as they appear in text from elsewhere, and what they mean to a user.
_PHRASES = {
    "Invalid data found when processing input": "damaged or unreadable video data",
    "Cannot allocate memory": "a damaged index, declaring more data than the file can hold",
}
_ERRNO = re.compile(r"\[Errno -?\d+\] ")
_QUOTED_PATH = re.compile(r"(?P<text>(?:" + "|".join(map(re.escape, _PHRASES)) + r"))(?:: '(?P<path>[^']*)')")


def ffmpeg_words(exc: BaseException) -> str:
    """What an FFmpeg (PyAV) error says about the file, without errno or path."""
    import av

    for name, words in _WORDS:
        if isinstance(exc, getattr(av.error, name)):
            return words
    text = getattr(exc, "strerror", None) or _ERRNO.sub("", str(exc))
    return _PHRASES.get(text, text[:1].lower() + text[1:])


def plain_text(text: str) -> str:
    """``text`` without FFmpeg's errno numbers and with its phrases in plain words
    (``[Errno 1094995529] Invalid data found when processing input: 'x.mp4'`` becomes
    ``x.mp4: damaged or unreadable video data``)."""
    text = _QUOTED_PATH.sub(lambda m: f"{m['path']}: {m['text']}", _ERRNO.sub("", text))
    for phrase, words in _PHRASES.items():
        text = text.replace(phrase, words)
    return text
