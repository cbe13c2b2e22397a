"""Runs Optuna's samplers for bench:multiobjective, one study per job, over stdin/stdout.

The benchmark (run.ts) owns the test problems: for each job line it sends, this script
creates a study, then for every trial prints the parameters as a JSON list and reads the
objective values back as a JSON list. It prints {"done": true} after the last trial.
Job: {"sampler": "nsga2" | "tpe", "seed": int, "dims": int, "objectives": int, "trials": int}.
"""

import json
import sys
import warnings

try:
    import optuna
except ImportError:
    sys.stderr.write("bench:multiobjective needs Optuna: apt-get install python3-optuna\n")
    sys.exit(3)

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def sampler_for(name, seed):
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    raise ValueError(f"unknown sampler {name}")


def run(job):
    study = optuna.create_study(
        directions=["minimize"] * job["objectives"],
        sampler=sampler_for(job["sampler"], job["seed"]),
    )
    for _ in range(job["trials"]):
        trial = study.ask()
        x = [trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(job["dims"])]
        print(json.dumps(x), flush=True)
        study.tell(trial, json.loads(sys.stdin.readline()))
    print(json.dumps({"done": True}), flush=True)


def main():
    print(json.dumps({"optuna": optuna.__version__}), flush=True)
    for line in sys.stdin:
        if line.strip():
            run(json.loads(line))


if __name__ == "__main__":
    main()
