"""Synthetic clips, encoded once (VP8 and Opus, as Chromium sends them) and cached in bench/out/media/.

The picture is blurred noise that scrolls, so that the encoder really spends the bit rate the
publisher allows (a flat test picture would be a few hundred bytes a frame and flatter the server).
Keyframes every 2 s: a pre-encoded sender cannot answer a keyframe request, and stills and new
viewers wait for the next keyframe.
"""

from __future__ import annotations

import math
import os
import random
from dataclasses import dataclass
from pathlib import Path

import av
from PIL import Image, ImageDraw, ImageFilter

OUT = Path(__file__).resolve().parents[1] / "out" / "media-clips"
SECONDS = 10


@dataclass(frozen=True)
class Clip:
    name: str
    width: int
    height: int
    fps: float
    bitrate: int


CLIPS = {
    "camera": Clip("camera", 640, 480, 15, 500_000),
    "screen": Clip("screen", 1280, 720, 5, 800_000),
    "camera_grid": Clip("camera_grid", 160, 120, 3, 60_000),
    "screen_grid": Clip("screen_grid", 320, 180, 1, 100_000),
}


def _encode_video(clip: Clip, path: Path) -> None:
    random.seed(clip.name)
    out = av.open(str(path), "w", format="webm")
    stream = out.add_stream("libvpx", rate=round(clip.fps))
    stream.width, stream.height, stream.pix_fmt = clip.width, clip.height, "yuv420p"
    stream.bit_rate = clip.bitrate
    stream.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0",
                      "g": str(max(1, round(clip.fps * 2))), "minrate": str(clip.bitrate),
                      "maxrate": str(clip.bitrate)}
    w, h = clip.width, clip.height
    noise = Image.frombytes("L", (w * 2, h), os.urandom(w * 2 * h)).filter(ImageFilter.GaussianBlur(1.5))
    noise = noise.convert("RGB")
    frames = round(clip.fps * SECONDS)
    for index in range(frames):
        offset = index * 3 % w
        image = noise.crop((offset, 0, offset + w, h))
        x = int((w - w // 8) * (0.5 + 0.5 * math.sin(index / max(clip.fps, 1))))
        ImageDraw.Draw(image).ellipse((x, h // 3, x + w // 8, h // 3 + w // 8), fill=(240, 200, 40))
        frame = av.VideoFrame.from_image(image)
        frame.pts = index
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)
    out.close()


def _encode_audio(path: Path) -> None:
    out = av.open(str(path), "w", format="webm")
    stream = out.add_stream("libopus", rate=48000)
    stream.bit_rate = 32_000
    stream.layout = "mono"
    samples = 960
    for index in range(SECONDS * 50):
        frame = av.AudioFrame(format="s16", layout="mono", samples=samples)
        tone = b"".join(int(6000 * math.sin(2 * math.pi * 330 * (index * samples + i) / 48000))
                        .to_bytes(2, "little", signed=True) for i in range(samples))
        frame.planes[0].update(tone)
        frame.sample_rate, frame.pts = 48000, index * samples
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)
    out.close()


def clip_path(kind: str) -> Path:
    return OUT / f"{kind}.webm"


def ensure_clips() -> dict[str, Path]:
    """Encode the clips that are not cached yet; return kind → path."""
    OUT.mkdir(parents=True, exist_ok=True)
    for kind, clip in CLIPS.items():
        if not clip_path(kind).exists():
            _encode_video(clip, clip_path(kind))
    if not clip_path("audio").exists():
        _encode_audio(clip_path("audio"))
    return {kind: clip_path(kind) for kind in (*CLIPS, "audio")}


def load_packets(path: Path) -> list[bytes]:
    """Return the clip's encoded frames in order (keyframe first)."""
    with av.open(str(path)) as container:
        return [bytes(packet) for packet in container.demux(container.streams[0]) if packet.size]
