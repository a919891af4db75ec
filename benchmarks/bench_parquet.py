"""Loading a Parquet file of PNG rows: cold (decoding every row) and cached, in images per second.

The baseline is the same images as a folder of PNG files loaded cold by load_folder in the same run (the same
decoder and thread pool): the ratio shows what reading record batches costs beside reading files.

    nice -n 10 python benchmarks/bench_parquet.py                 # 10,000 generated 64x64 PNGs
    python benchmarks/bench_parquet.py --quick                    # CI smoke: 300 images
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aeviewer.data.folder import load_folder  # noqa: E402
from aeviewer.data.parquet import load_table  # noqa: E402
from aeviewer.data.preparation import Preparation  # noqa: E402


def pngs(n: int, size: int) -> list[bytes]:
    rng = np.random.default_rng(0)
    out = []
    for _ in range(n):
        picture = np.clip(rng.normal(128, 40, (size, size, 3)), 0, 255).astype(np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(picture).save(buffer, "PNG")
        out.append(buffer.getvalue())
    return out


def main() -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    import common

    n = 300 if args.quick else args.images
    common.header(f"Parquet load: {n:,} {args.size}x{args.size} PNG rows")
    preparation = Preparation(image_size=args.size)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["AEVIEWER_USER_DIR"] = tmp  # a fresh cache
        data = pngs(n, args.size)
        struct = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
        rows = pa.array([{"bytes": b, "path": f"{i}.png"} for i, b in enumerate(data)], struct)
        pq.write_table(pa.table({"image": rows, "label": pa.array(np.arange(n) % 10)}), Path(tmp) / "set.parquet")
        folder = Path(tmp) / "folder"
        for k in range(10):
            (folder / str(k)).mkdir(parents=True)
        for i, b in enumerate(data):
            (folder / str(i % 10) / f"{i}.png").write_bytes(b)
        timings = {}
        for name, load in (("folder cold", lambda: load_folder(folder, preparation, use_cache=False)),
                           ("parquet cold", lambda: load_table(Path(tmp) / "set.parquet", preparation)),
                           ("parquet cached", lambda: load_table(Path(tmp) / "set.parquet", preparation))):
            started = time.perf_counter()
            loaded = load()
            timings[name] = time.perf_counter() - started
            print(f"  {name:<15} {timings[name]:6.2f} s · {n / timings[name]:9,.0f} images/s · from cache "
                  f"{loaded.from_cache}")
    print(f"figure: {n:,} images parquet cold {n / timings['parquet cold']:,.0f} images/s, cached "
          f"{n / timings['parquet cached']:,.0f} images/s; ratio parquet/folder cold "
          f"{timings['folder cold'] / timings['parquet cold']:.2f}")


if __name__ == "__main__":
    main()
