"""Searches on Dask (hls/cluster.py): a two-worker local cluster runs a search's points, a
worker that dies costs its own task only, an unreachable scheduler and a bad batch-system file
say what is wrong, and a dask-jobqueue file gives the job script it describes (nothing
submitted)."""

import os
import time
from pathlib import Path

import pytest
import yaml

from hls import cluster, search
from infra.yamlconfig import ConfigError


def test_two_worker_search(jet_sample, tmp_path, capsys):
    """A search's points as tasks on two local workers: one pruned by the estimate, one a
    folding error, both recorded from the workers and saved; a rerun starts no cluster. (A
    trained point through the same path: test_search, serially; a scan on Dask against one
    process: test_pipeline.)"""
    axes = {
        "model.embed_dims": [[32]],  # over the budget at the band's upper end: never trained
        "model.pair_features": ["none"],
        "firmware.parallel": ["auto", 3],  # 3 divides no layer's 16 rows: a folding error
    }
    path = tmp_path / "dask_space.yml"
    path.write_text(
        yaml.safe_dump(
            {
                "model": "part_tiny",
                "firmware": "vu13p_trigger",
                "n_jets": 50,
                "float_reference": False,
                "axes": axes,
            },
            sort_keys=False,
        )
    )
    result = search.run(path, jet_sample, tmp_path / "dask", scheduler="local", workers=2)
    status = {r["overrides"]["firmware.parallel"]: r for r in result["points"]}
    assert status["auto"]["status"] == "over_budget"
    assert "even one row per iteration does not fit the budget" in status["auto"]["error"]
    assert status[3]["status"] == "error" and status[3]["stage"] == "estimate"
    assert "parallel=3 does not divide" in status[3]["error"]
    out = capsys.readouterr().out
    assert "scheduler local" in out and out.count("finished (") == 2
    assert len(list((tmp_path / "dask" / "dask_space" / "points").glob("*.json"))) == 2
    # a rerun has nothing to do and starts no cluster
    again = search.run(path, jet_sample, tmp_path / "dask", scheduler="tcp://127.0.0.1:9")
    assert [r["status"] for r in again["points"]] == [r["status"] for r in result["points"]]


def _task(i):
    if i == 1:
        time.sleep(2)  # the other task finishes first
        os._exit(3)  # the worker process dies mid-task
    return i * 10


def test_a_dead_worker_costs_its_own_task_only():
    import sys

    import cloudpickle
    import dask
    import distributed  # noqa: F401  (its config defaults, before dask.config.set below)

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # tests/ is not on a worker's path

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        got = dict(cluster.run(_task, [(0,), (1,)], "local", workers=2))
    assert got[0] == 0
    assert "KilledWorker" in type(got[1]).__name__


def test_unreachable_scheduler_and_bad_files(tmp_path, monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1)
    with pytest.raises(cluster.ClusterError, match=r"cannot reach the Dask scheduler tcp://"):
        list(cluster.run(_task, [(0,)], "tcp://127.0.0.1:9"))
    with pytest.raises(cluster.ClusterError, match=r"use serial, local, tcp://host:port"):
        list(cluster.run(_task, [(0,)], "my-cluster"))
    bad = tmp_path / "bad.yml"
    bad.write_text("kind: kubernetes\njobs: 2\n")
    with pytest.raises(ConfigError, match=rf"{bad}: kind must be one of slurm"):
        cluster.jobqueue_cluster(bad)
    bad.write_text("kind: slurm\njobs: 2\noptions: {cores: 1, memory: 1GB, colour: red}\n")
    with pytest.raises(ConfigError, match=rf"{bad}: options: .*colour"):
        cluster.jobqueue_cluster(bad)


def test_jobqueue_file_gives_its_job_script(tmp_path):
    shipped = Path(cluster.__file__).parent.parent / "firmware_configs" / "cluster" / "slurm.yml"
    spec = yaml.safe_load(shipped.read_text())
    spec["options"]["scheduler_options"] = {"host": "127.0.0.1"}  # a test binds loopback only
    path = tmp_path / "slurm.yml"
    path.write_text(yaml.safe_dump(spec))
    slurm, jobs = cluster.jobqueue_cluster(path)
    try:
        script = slurm.job_script()
    finally:
        slurm.close()
    assert jobs == 20
    for line in ("#SBATCH -p cpu", "#SBATCH --cpus-per-task=8", "source .venv/bin/activate"):
        assert line in script
    assert "--nthreads 1" in script  # one point at a time per worker
