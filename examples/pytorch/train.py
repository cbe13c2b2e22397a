#!/usr/bin/env python3
"""A PyTorch CNN on the MNIST digits shipped next to this file (mnist-digits.npz), tuned by
kubetune. Every hyperparameter is a flag. One metric line per epoch goes to stdout, flushed:

    epoch=3 loss=0.1234 accuracy=0.9612 val_loss=0.1301 val_accuracy=0.9585 epoch_seconds=4.2

Nothing else this script prints has the `key=number` shape (kubetune reads stdout and stderr).
With --checkpoint-dir it saves after every epoch and, started again, continues after the last
saved epoch, printing the saved epochs' lines first so the output reads as one run's.
"""
import argparse
import math
import os
import sys
import time

STARTED = time.monotonic()
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

IMPORTED = time.monotonic()
HERE = os.path.dirname(os.path.abspath(__file__))
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")


def in_range(kind, low, high=None, low_open=False, high_open=True):
    """An argparse type for a number in [low, high) (or (low, ...)), with the range in the error."""

    def parse(text):
        value = kind(text)
        bad_low = value <= low if low_open else value < low
        bad_high = high is not None and (value >= high if high_open else value > high)
        if math.isnan(value) or bad_low or bad_high:
            lo = "(" if low_open else "["
            hi = f"{high})" if high is not None and high_open else (f"{high}]" if high is not None else "inf)")
            raise argparse.ArgumentTypeError(f"{text} is outside {lo}{low}, {hi}")
        return value

    return parse


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lr", type=in_range(float, 0, low_open=True), default=1e-3, help="learning rate, > 0")
    p.add_argument("--batch-size", type=in_range(int, 1), default=64)
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="adam")
    p.add_argument("--momentum", type=in_range(float, 0, 1), default=0.9, help="sgd and rmsprop, [0, 1)")
    p.add_argument("--weight-decay", type=in_range(float, 0), default=0.0)
    p.add_argument("--dropout", type=in_range(float, 0, 1), default=0.25, help="[0, 1)")
    p.add_argument("--channels", type=in_range(int, 1, 1025), default=16, help="filters of the first conv layer")
    p.add_argument("--epochs", type=in_range(int, 1), default=5, help="total, counting resumed epochs")
    p.add_argument("--seed", type=int, default=0, help="weight init, dropout and shuffling")
    p.add_argument("--device", default="auto", help="auto (cuda when available), cpu, cuda, cuda:N")
    p.add_argument(
        "--checkpoint-dir",
        default=os.environ.get("KUBETUNE_CHECKPOINT_DIR") or None,
        help="save after each epoch and resume from there (default $KUBETUNE_CHECKPOINT_DIR; off without it)",
    )
    p.add_argument("--data", default=os.path.join(HERE, "mnist-digits.npz"))
    p.add_argument("--train-size", type=in_range(int, 1), default=8000, help="cap on training images")
    p.add_argument("--val-size", type=in_range(int, 1), default=2000, help="held-out images, same for every trial")
    p.add_argument("--threads", type=in_range(int, 1), default=None, help="CPU threads (default: torch's)")
    return p.parse_args(argv)


class Net(nn.Module):
    """Two conv blocks (each halves the image) and a dense head, with dropout before each dense layer."""

    def __init__(self, channels, dropout):
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, 2 * channels, 3, padding=1)
        self.dropout = nn.Dropout(dropout)
        self.fc1 = nn.Linear(2 * channels * 7 * 7, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = self.dropout(torch.flatten(x, 1))
        return self.fc2(self.dropout(F.relu(self.fc1(x))))


def pick_device(name):
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit(f"train.py: --device {name}: CUDA is not available here (CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', 'unset')})")
    return device


def load_data(args, device):
    """The same split for every trial (a fixed permutation), so their val_accuracy compare."""
    with np.load(args.data) as d:
        images, labels = d["images"], d["labels"]
    order = np.random.default_rng(12345).permutation(len(labels))
    val_idx = order[: args.val_size]
    train_idx = order[args.val_size : args.val_size + args.train_size]
    if len(train_idx) == 0:
        sys.exit(f"train.py: --val-size {args.val_size} leaves no training images of {len(labels)}")

    def tensors(idx):
        x = torch.from_numpy(images[idx]).float().div_(255).sub_(0.1307).div_(0.3081).unsqueeze(1)
        return x.to(device), torch.from_numpy(labels[idx].astype(np.int64)).to(device)

    return tensors(train_idx), tensors(val_idx)


def make_optimizer(args, params):
    if args.optimizer == "sgd":
        return torch.optim.SGD(params, lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
    if args.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
    if args.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay)
    return torch.optim.Adam(params, lr=args.lr, weight_decay=args.weight_decay)


def train_epoch(model, opt, data, batch_size, generator):
    model.train()
    x, y = data
    order = torch.randperm(len(y), generator=generator).to(x.device)
    total_loss, correct = 0.0, 0
    for start in range(0, len(y), batch_size):
        idx = order[start : start + batch_size]
        opt.zero_grad(set_to_none=True)
        out = model(x[idx])
        loss = F.cross_entropy(out, y[idx])
        loss.backward()
        opt.step()
        total_loss += loss.item() * len(idx)
        correct += (out.argmax(1) == y[idx]).sum().item()
    return total_loss / len(y), correct / len(y)


@torch.no_grad()
def evaluate(model, data, batch_size=1000):
    model.eval()
    x, y = data
    total_loss, correct = 0.0, 0
    for start in range(0, len(y), batch_size):
        out = model(x[start : start + batch_size])
        total_loss += F.cross_entropy(out, y[start : start + batch_size], reduction="sum").item()
        correct += (out.argmax(1) == y[start : start + batch_size]).sum().item()
    return total_loss / len(y), correct / len(y)


CHECKPOINT = "checkpoint.pt"
# Flags that may differ between a run and its resumption; any other change makes a new model.
RESUMABLE_CHANGES = {"epochs", "checkpoint_dir", "device", "threads", "data"}


def config(args):
    return {k: v for k, v in sorted(vars(args).items()) if k not in RESUMABLE_CHANGES}


def restore(args, model, opt, generator):
    """The epoch lines printed so far, after loading the last checkpoint (none: [])."""
    file = os.path.join(args.checkpoint_dir, CHECKPOINT) if args.checkpoint_dir else None
    if not file or not os.path.exists(file):
        return []
    state = torch.load(file, map_location="cpu")
    if state.get("config") != config(args):
        # A rerun under the same trial name with other hyperparameters: not this trial's model.
        print(f"train.py: ignoring {file}: saved with other flags", file=sys.stderr, flush=True)
        return []
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    generator.set_state(state["generator"])
    torch.set_rng_state(state["torch_rng"])
    print(f"train.py: resumed from {file} after epoch {len(state['lines'])}", file=sys.stderr, flush=True)
    return state["lines"]


def save(args, model, opt, generator, lines):
    """Written to a temporary file and renamed, so a kill mid-save leaves the previous epoch's."""
    path = args.checkpoint_dir
    os.makedirs(path, exist_ok=True)
    tmp = os.path.join(path, CHECKPOINT + ".tmp")
    state = {
        "config": config(args),
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "generator": generator.get_state(),
        "torch_rng": torch.get_rng_state(),
        "lines": lines,
    }
    torch.save(state, tmp)
    os.replace(tmp, os.path.join(path, CHECKPOINT))


def main(argv):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = pick_device(args.device)
    t0 = time.monotonic()
    torch.zeros(1, device=device).add_(1).cpu()  # CUDA initialises lazily: make it happen here
    t1 = time.monotonic()
    train, val = load_data(args, device)
    t2 = time.monotonic()
    print(
        f"train.py: startup seconds: imports {IMPORTED - STARTED:.3f}, device {t1 - t0:.3f} ({device}), "
        f"data {t2 - t1:.3f} ({len(train[1])} train, {len(val[1])} val)",
        file=sys.stderr,
        flush=True,
    )
    model = Net(args.channels, args.dropout).to(device)
    opt = make_optimizer(args, model.parameters())
    generator = torch.Generator().manual_seed(args.seed)
    lines = restore(args, model, opt, generator)
    for line in lines:
        print(line, flush=True)
    for epoch in range(len(lines) + 1, args.epochs + 1):
        start = time.monotonic()
        loss, acc = train_epoch(model, opt, train, args.batch_size, generator)
        val_loss, val_acc = evaluate(model, val)
        line = (
            f"epoch={epoch} loss={loss:.6f} accuracy={acc:.4f} val_loss={val_loss:.6f} "
            f"val_accuracy={val_acc:.4f} epoch_seconds={time.monotonic() - start:.3f}"
        )
        lines.append(line)
        if args.checkpoint_dir:
            save(args, model, opt, generator, lines)
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    # Tearing the interpreter down after torch has loaded takes seconds (module finalisers,
    # thread pools) while nothing is left to write: the checkpoint file is closed and the
    # output flushed, so skip it and free the trial's slot (and GPU) at once.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
