"""Peak memory of checking a complaint's pictures (issue 10, point 19c).

    .venv/bin/python bench/complaint_pictures.py [COUNT] [MEGAPIXELS] [FORMAT]

Makes COUNT pictures of MEGAPIXELS each (JPEG by default; PNG or WEBP), then, in a fresh process,
runs complaints.uploads.checked_files on them as one complaint and prints how far the process's
peak resident memory (VmHWM) rose above its resident memory once the pictures were read in
(the decoding happens in Pillow's C code, which tracemalloc does not see). Prints one JSON line.
"""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys, time
from pathlib import Path
import django
django.setup()
from django.core.files.uploadedfile import SimpleUploadedFile
from complaints.uploads import checked_files
paths = sys.argv[1:]
uploads = [SimpleUploadedFile(Path(p).name, Path(p).read_bytes()) for p in paths]
def status(field):
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith(field + ":"))
before = status("VmRSS")  # now, in kB: the peak is measured from here (VmHWM is the process's high-water mark)
started = time.perf_counter()
checked = checked_files(uploads)
seconds = time.perf_counter() - started
after = status("VmHWM")
print(json.dumps({"peak_rise_mb": round((after - before) / 1024, 1), "peak_mb": round(after / 1024, 1),
                  "seconds": round(seconds, 2), "stored_pixels": [c.width * c.height for c in checked if c.width]}))
"""


def make_picture(path: Path, megapixels: float, kind: str) -> None:
    from PIL import Image

    width = int(math.sqrt(megapixels * 1_000_000 * 4 / 3))
    height = int(width * 3 / 4)
    # Smooth gradients with grain, as a photo has: it compresses like one (a few bytes a pixel as PNG,
    # about one as JPEG); plain noise would not compress at all, a blank to nothing.
    size = (width, height)
    image = Image.merge(
        "RGB",
        [
            Image.linear_gradient("L").resize(size),
            Image.radial_gradient("L").resize(size),
            Image.effect_noise(size, 24),
        ],
    )
    out = io.BytesIO()
    image.save(out, format=kind, quality=85) if kind != "PNG" else image.save(
        out, format=kind, compress_level=1
    )
    path.write_bytes(out.getvalue())


def measure(count: int, megapixels: float, kind: str = "JPEG", **settings: int) -> dict:
    suffix = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}[kind]
    with tempfile.TemporaryDirectory() as folder:
        first = Path(folder) / f"picture-0{suffix}"
        make_picture(first, megapixels, kind)
        paths = [first]
        for n in range(1, count):
            paths.append(Path(folder) / f"picture-{n}{suffix}")
            paths[-1].write_bytes(first.read_bytes())
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            **{f"COMPLAINT_{name.upper()}": str(value) for name, value in settings.items()},
        }
        env.setdefault("COMPLAINT_MAX_FILE_BYTES", str(60_000_000))
        env.setdefault("COMPLAINT_MAX_TOTAL_BYTES", str(300_000_000))
        done = subprocess.run(
            [sys.executable, "-c", CHILD, *map(str, paths)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(done.stderr)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result.update(
            count=count,
            megapixels=megapixels,
            kind=kind,
            file_mb=round(first.stat().st_size / 1e6, 1),
        )
        return result


if __name__ == "__main__":
    args = sys.argv[1:]
    print(
        json.dumps(
            measure(
                int(args[0]) if args else 5,
                float(args[1]) if len(args) > 1 else 40,
                args[2].upper() if len(args) > 2 else "JPEG",
            )
        )
    )
