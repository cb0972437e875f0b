"""The same 40 files through a Dask LocalCluster with 2 worker processes: the rows are those the
threads gave, the workers reach the parent's engine from its settings, and the key stays hidden."""

from __future__ import annotations

import pytest

import nbaudio
from tests.batch.conftest import N_FILES

CANARY = "sk-canary-batch-dask-5f0c2a9e7d41"  # a key that must show nowhere
# What may differ between two runs of the same inputs: the time each took and the tries it needed.
RUN_COLUMNS = ("elapsed", "attempts")


@pytest.fixture(scope="module")
def dask_client():
    import distributed  # the test extra installs it; imported here so the fast lane collects this module

    cluster = distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=2, dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_dask_workers_give_the_rows_the_threads_gave(corpus, engine, thread_rows, dask_client):
    folder, refs, _ = corpus
    client = nbaudio.Client(engine.base_url, api_key=CANARY)  # the engine takes any key when it has none set
    df = nbaudio.transcribe_many(folder, client=client, executor=dask_client.get_executor(), references=refs,
                                 language="en")
    assert len(df) == N_FILES and df["error"].isna().all(), df["error"].dropna().tolist()
    ours = df.drop(columns=list(RUN_COLUMNS)).to_dict("records")
    threads = thread_rows.drop(columns=list(RUN_COLUMNS)).to_dict("records")
    assert ours == threads
    # The work ran in the two worker processes (they hold the clients), not in this one.
    built = dask_client.run(_clients_built)
    assert len(built) == 2 and sum(built.values()) >= 1 and max(built.values()) == 1  # one client per process
    logs = str(dask_client.get_worker_logs()) + str(dask_client.get_scheduler_logs())
    shown = repr(df) + str(df._repr_mimebundle_()) + df.to_json()
    assert CANARY not in logs and CANARY not in shown
    assert CANARY not in repr(nbaudio.batch.WorkerSettings.from_client(client))


def _clients_built() -> int:
    from nbaudio.batch.worker import worker_clients

    return len(worker_clients())
