"""Where the points of a search run: in this process, or as Dask tasks on a cluster.

    serial            in this process, one point after another
    local (default)   a dask.distributed LocalCluster on this machine: `workers` processes
                      (default: one per two cores, each TensorFlow on the remaining share)
    tcp://host:port   a running Dask scheduler (`dask scheduler` / `dask worker` on a cluster)
    <file>.yml        dask-jobqueue workers started on a batch system: the file names the kind
                      (slurm, htcondor, pbs, sge, lsf), the number of jobs and the options of
                      dask_jobqueue's <Kind>Cluster (firmware_configs/cluster/slurm.yml)

A point is one task. `run` yields each point's outcome as it finishes, in any order: its result,
or the exception that ended it (a worker that died, a scheduler that went away), so the caller
keeps every finished point whatever happens to the others.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path

from infra.errors import QpartError, exit_code
from infra.yamlconfig import REQUIRED, ConfigError, read_yaml, validate

JOBQUEUE_KINDS = {
    "slurm": "SLURMCluster",
    "htcondor": "HTCondorCluster",
    "pbs": "PBSCluster",
    "sge": "SGECluster",
    "lsf": "LSFCluster",
}
JOBQUEUE_SCHEMA = {
    "description": (str, ""),
    "kind": (str, REQUIRED),
    "jobs": (int, REQUIRED),
    "options": (dict, {}),
}
CONNECT_TIMEOUT_S = 10


class ClusterError(QpartError, RuntimeError):
    """A scheduler that cannot be reached or a cluster file that cannot start workers."""


def default_workers() -> int:
    return max(1, (os.cpu_count() or 1) // 2)


def jobqueue_cluster(path):
    """The dask-jobqueue cluster a file describes, not yet scaled (no job submitted)."""
    import dask_jobqueue

    spec = validate(read_yaml(Path(path)), JOBQUEUE_SCHEMA, str(path))
    if spec["kind"] not in JOBQUEUE_KINDS:
        raise ConfigError(
            f"{path}: kind must be one of {', '.join(JOBQUEUE_KINDS)}, got {spec['kind']!r}"
        )
    if spec["jobs"] < 1:
        raise ConfigError(f"{path}: jobs must be >= 1, got {spec['jobs']}")
    cls = getattr(dask_jobqueue, JOBQUEUE_KINDS[spec["kind"]])
    try:
        cluster = cls(**spec["options"])
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{path}: options: {err}") from None
    return cluster, spec["jobs"]


@contextlib.contextmanager
def client(scheduler: str = "local", workers: int | None = None):
    """A dask.distributed Client on the scheduler named as in the module docstring."""
    from distributed import Client, LocalCluster

    cluster = None
    try:
        if scheduler == "local":
            n = workers or default_workers()
            threads = str(max(1, (os.cpu_count() or 1) // n))
            cluster = LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                env={"TF_NUM_INTRAOP_THREADS": threads, "OMP_NUM_THREADS": threads},
            )
            address = cluster
        elif scheduler.endswith((".yml", ".yaml")):
            cluster, jobs = jobqueue_cluster(scheduler)
            cluster.scale(jobs=jobs)
            address = cluster
        elif "://" in scheduler:
            address = scheduler
        else:
            raise ClusterError(
                f"scheduler {scheduler!r}: use serial, local, tcp://host:port or a "
                "dask-jobqueue file (.yml)"
            )
        try:
            c = Client(address, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as err:
            raise ClusterError(
                f"cannot reach the Dask scheduler {scheduler} within {CONNECT_TIMEOUT_S} s "
                f"({type(err).__name__}: {err})"
            ) from None
        with c:
            yield c
    finally:
        if cluster is not None:
            cluster.close()


def run(fn, items, scheduler="serial", workers=None):
    """Yield (index, outcome) for fn(*items[index]) as each finishes; the outcome is the
    result or the exception (a point's own errors are fn's to record; this catches the
    cluster's: a worker that died, a lost connection)."""
    if not items:
        return
    if scheduler == "serial" or (scheduler == "local" and len(items) == 1):  # nothing to share
        for i, args in enumerate(items):
            yield i, fn(*args)
        return
    from distributed import as_completed

    with client(scheduler, workers) as c:
        futures = {c.submit(fn, *args, pure=False): i for i, args in enumerate(items)}
        for future in as_completed(futures):
            try:
                outcome = future.result()
            except Exception as err:  # KilledWorker, CommClosedError, ...: kept per point
                outcome = err
            yield futures[future], outcome


def run_reported(fn, items, scheduler, workers, tag, record, line):
    """`run`, each outcome made a record by record(index, outcome) (the exception of a task
    the cluster lost included) and printed as it finishes: "[tag] n/N finished (t s) " +
    line(record). Yields (index, record)."""
    t0 = time.perf_counter()
    for n, (j, outcome) in enumerate(run(fn, items, scheduler, workers), 1):
        rec = record(j, outcome)
        print(
            f"[{tag}] {n}/{len(items)} finished ({time.perf_counter() - t0:.0f} s) {line(rec)}",
            flush=True,
        )
        yield j, rec


def run_kept(fn, jobs, saved: Path, scheduler, workers, tag, lost, line, extra=None) -> list:
    """fn(*args) for each job (id, spec, args), its record kept as saved/<id>.json with `spec`
    (what its result depends on) and `extra`. A job whose saved spec matches is not run again;
    a task the cluster lost becomes lost(index, exception), not saved, so a rerun retries it.
    Prints one line per job as it finishes (`line(record)`); returns the records in job order."""
    records: list = [None] * len(jobs)
    todo = []
    for k, (pid, spec, _) in enumerate(jobs):
        path = saved / f"{pid}.json"
        old = json.loads(path.read_text()) if path.exists() else {}
        if old.get("spec") == spec:
            print(f"[{tag}] {pid} done before: {old['status']}", flush=True)
            records[k] = old
        else:
            todo.append(k)

    def record(j, outcome):
        k = todo[j]
        if isinstance(outcome, BaseException):  # the cluster's failure, not the job's
            return lost(k, outcome)
        pid, spec, _ = jobs[k]
        kept = dict(outcome, id=pid, **(extra or {}), spec=spec)
        (saved / f"{pid}.json").write_text(json.dumps(kept, indent=1))
        return kept

    items = [jobs[k][2] for k in todo]
    for j, rec in run_reported(
        fn, items, scheduler, workers, tag, record, lambda r: f"{r['id']} {r['label']}: {line(r)}"
    ):
        records[todo[j]] = rec
    return records


def lost_error(err: BaseException) -> str:
    return f"the task was lost ({type(err).__name__}: {err}); a rerun retries it"


@exit_code
def main(argv=None) -> int:
    """Print the batch script a dask-jobqueue file would submit (nothing is submitted)."""
    import argparse

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("file")
    args = ap.parse_args(argv)
    cluster, jobs = jobqueue_cluster(args.file)
    with contextlib.closing(cluster):
        print(f"# {jobs} job(s) of:\n{cluster.job_script()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
