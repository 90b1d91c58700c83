"""Frames of the sample's period videos: a (very) simplified broadcast.

A rink seen from above, a moving puck, and a caption with the game, the
period, the frame index and the SMPTE timecode of the frame. Every frame also
carries its own index as a machine-readable mark
(:mod:`hb_clips_assets.video.framemark`), so tests can check that a clip is
frame-accurate by decoding it.

Frames are raw yuv420p planes (BT.709 limited range) built with numpy; the
static parts (rink, first caption line, chroma) are drawn once per video and
only the puck, the second caption line and the mark change per frame, which
keeps generation fast. Pillow is imported only when a renderer is built.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from hb_clips_assets.sample.timecode import timecode_label
from hb_clips_assets.video.framemark import draw_frame_mark, mark_extent


def rgb_to_yuv420(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BT.709 limited-range Y, U, V (4:2:0) planes of an RGB uint8 image."""
    f = rgb.astype(np.float32) / 255.0
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    kr, kb = 0.2126, 0.0722
    y = kr * r + (1.0 - kr - kb) * g + kb * b
    cb = (b - y) / (2.0 * (1.0 - kb))
    cr = (r - y) / (2.0 * (1.0 - kr))
    h, w = y.shape

    def sub(c: np.ndarray) -> np.ndarray:
        return c.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))

    y8 = np.clip(np.rint(16.0 + 219.0 * y), 16, 235).astype(np.uint8)
    u8 = np.clip(np.rint(128.0 + 224.0 * sub(cb)), 16, 240).astype(np.uint8)
    v8 = np.clip(np.rint(128.0 + 224.0 * sub(cr)), 16, 240).astype(np.uint8)
    return y8, u8, v8


def draw_rink(width: int, height: int, top: int) -> np.ndarray:
    """RGB image of a rink seen from above (drawn once per video size)."""
    from PIL import Image, ImageDraw

    # The stands: a static speckle of "crowd".
    rng = np.random.default_rng(7)
    cell = max(2, width // 160)
    crowd = rng.integers(25, 85, size=(height // cell + 1, width // cell + 1, 3), dtype=np.uint8)
    crowd = np.repeat(np.repeat(crowd, cell, axis=0), cell, axis=1)[:height, :width]
    img = Image.fromarray(crowd, "RGB")
    d = ImageDraw.Draw(img)
    lw = max(1, width // 320)
    left, right = int(width * 0.04), int(width * 0.96)
    rtop, bottom = max(top, int(height * 0.22)), int(height * 0.96)
    rw, rh = right - left, bottom - rtop
    radius = max(2, int(rh * 0.28))
    d.rounded_rectangle([left - 2 * lw, rtop - 2 * lw, right + 2 * lw, bottom + 2 * lw], radius=radius + 2 * lw, fill=(235, 200, 60))
    d.rounded_rectangle([left, rtop, right, bottom], radius=radius, fill=(232, 238, 244))

    def xr(frac: float) -> int:
        return int(left + frac * rw)

    red, blue = (200, 30, 40), (30, 60, 170)
    thick = max(2, width // 160)
    d.rectangle([xr(0.5) - thick, rtop, xr(0.5) + thick, bottom], fill=red)
    for fx in (0.355, 0.645):
        d.rectangle([xr(fx) - thick, rtop, xr(fx) + thick, bottom], fill=blue)
    for fx in (0.055, 0.945):
        d.rectangle([xr(fx) - lw, rtop + radius // 3, xr(fx) + lw, bottom - radius // 3], fill=red)
    cy = (rtop + bottom) // 2
    cr = int(rh * 0.15)
    d.ellipse([xr(0.5) - cr, cy - cr, xr(0.5) + cr, cy + cr], outline=blue, width=lw)
    for fx in (0.16, 0.84):
        for fy in (0.3, 0.7):
            cx, cyy = xr(fx), int(rtop + fy * rh)
            d.ellipse([cx - cr, cyy - cr, cx + cr, cyy + cr], outline=red, width=lw)
            d.ellipse([cx - 2 * lw, cyy - 2 * lw, cx + 2 * lw, cyy + 2 * lw], fill=red)
    for fx, sgn in ((0.055, 1), (0.945, -1)):
        gx = xr(fx)
        crease = int(rh * 0.07)
        box = [gx - crease, cy - crease, gx + crease, cy + crease]
        d.pieslice(box, -90 if sgn > 0 else 90, 90 if sgn > 0 else 270, fill=(150, 200, 235))
    return np.asarray(img, dtype=np.uint8)


class _Glyphs:
    """Monospaced luma bitmaps of characters (light text on a dark box)."""

    def __init__(self, size: int, chars: str) -> None:
        from PIL import ImageFont

        try:
            self._font = ImageFont.load_default(size=size)
            self._scale = 1
        except Exception:  # Pillow without FreeType: bitmap font, scaled up
            self._font = ImageFont.load_default()
            self._scale = max(1, round(size / 11))
        chars = "0123456789:; " + chars
        ascent, descent = self._font.getmetrics()
        self.cell_w = int(math.ceil(max(self._font.getlength(c) for c in chars))) * self._scale
        self.cell_h = (ascent + descent) * self._scale
        self._cache: dict[str, np.ndarray] = {}

    def glyph(self, ch: str) -> np.ndarray:
        g = self._cache.get(ch)
        if g is None:
            from PIL import Image, ImageDraw

            w, h = self.cell_w // self._scale, self.cell_h // self._scale
            img = Image.new("L", (w, h), 0)
            ImageDraw.Draw(img).text(((w - self._font.getlength(ch)) / 2, 0), ch, fill=255, font=self._font)
            alpha = np.asarray(img, dtype=np.float32) / 255.0
            if self._scale > 1:
                alpha = np.repeat(np.repeat(alpha, self._scale, 0), self._scale, 1)
            g = np.rint(16.0 + alpha * (235.0 - 16.0)).astype(np.uint8)
            self._cache[ch] = g
        return g

    def paste(self, y_plane: np.ndarray, x: int, y: int, text: str) -> None:
        for i, ch in enumerate(text):
            cx = x + i * self.cell_w
            y_plane[y : y + self.cell_h, cx : cx + self.cell_w] = self.glyph(ch)


class FrameRenderer:
    """One period's frames: :meth:`render` gives frame ``index``'s luma plane;
    the chroma planes never change, so they are kept once as bytes in ``chroma``."""

    def __init__(self, game_id: str, period: str, home: str, away: str, width: int, height: int, fps: Fraction) -> None:
        if width % 2 or height % 2:
            raise ValueError(f"width and height must be even for yuv420p, got {width}x{height}")
        self.fps = fps
        self.width, self.height = width, height
        left, top, right, bottom = mark_extent(width, height)
        line2_sample = "F 000000 00:00:00;00"
        # The largest caption that fits: about 1/24 of the height, smaller
        # (and without "GAME ") on tiny frames.
        fitted = None
        for size in range(max(8, min(height // 24, width // 24)), 5, -1):
            for line1 in (f"GAME {game_id} P{period} {away}-{home}", f"{game_id} P{period} {away}-{home}"):
                glyphs = _Glyphs(size, line1 + line2_sample)
                pad = max(2, size // 4)
                box_w = max(len(line1), len(line2_sample)) * glyphs.cell_w + 2 * pad
                box_bottom = bottom + pad + 2 * glyphs.cell_h + pad
                if left + box_w <= width and box_bottom <= height // 2:
                    fitted = glyphs, pad, line1, box_w, box_bottom
                    break
            if fitted:
                break
        if fitted is None:
            raise ValueError(f"frame {width}x{height} is too small for the caption")
        self.glyphs, pad, line1, box_w, box_bottom = fitted
        self.text_x = left + pad
        self.line1_y = bottom + pad
        self.line2_y = self.line1_y + self.glyphs.cell_h
        rgb = draw_rink(width, height, box_bottom + pad)
        y, u, v = rgb_to_yuv420(rgb)
        y[top:box_bottom, left : max(right, left + box_w)] = 16
        self.glyphs.paste(y, self.text_x, self.line1_y, line1)
        self.background = y
        self.chroma = np.ascontiguousarray(np.concatenate([u.ravel(), v.ravel()])).tobytes()
        # Puck path: inside the rink area below the caption.
        self.puck_r = max(2, width // 160)
        d = 2 * self.puck_r + 1
        yy, xx = np.mgrid[:d, :d]
        self.puck_mask = (xx - self.puck_r) ** 2 + (yy - self.puck_r) ** 2 <= self.puck_r**2
        self.path_x = (int(width * 0.08), int(width * 0.92) - d)
        self.path_y = (max(box_bottom + pad, int(height * 0.25)), int(height * 0.93) - d)
        self.phase = (int(game_id) if game_id.isdigit() else 0) % 7 + int(period if period.isdigit() else 4)

    def render(self, index: int) -> np.ndarray:
        y = self.background.copy()
        t = float(index / self.fps)
        (x_lo, x_hi), (y_lo, y_hi) = self.path_x, self.path_y
        px = int(x_lo + (x_hi - x_lo) * 0.5 * (1.0 + math.sin(2 * math.pi * t / 6.1 + self.phase)))
        py = int(y_lo + (y_hi - y_lo) * 0.5 * (1.0 + math.sin(2 * math.pi * t / 3.7 + 2 * self.phase)))
        d = self.puck_mask.shape[0]
        y[py : py + d, px : px + d][self.puck_mask] = 20
        self.glyphs.paste(y, self.text_x, self.line2_y, f"F {index:06d} {timecode_label(index, self.fps)}")
        draw_frame_mark(y, index)
        return y
