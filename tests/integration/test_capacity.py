"""The capacity plan's arithmetic against cases worked by hand, and the committed price table's shape."""

from __future__ import annotations

import json
import math
import re

import pytest

from tools.capacity import plan

PRICES = plan.Prices(
    vcpu_second=0.00002,
    gib_second=0.000002,
    million_requests=0.5,
    billing_granularity_s=0.1,
    logging_gib=0.5,
    storage_class_b_ten_thousand=0.004,
)


def design(**changes) -> plan.Design:
    """1 vCPU, 1 GiB, concurrency 10, 6 ms of CPU per call of one request and one prediction."""
    fields = dict(
        name="test",
        cpu=1.0,
        memory_gib=1.0,
        concurrency=10,
        cpu_s_per_call=0.006,
        requests_per_call=1.0,
        predictions_per_call=1.0,
        latency_s=0.01,
        log_bytes_per_request=0.0,
        model_download_bytes=0,
    )
    return plan.Design(**{**fields, **changes})


@pytest.mark.parametrize(
    ("calls_per_s", "changes", "instances"),
    [
        (100, {}, 1),  # 100 x 6 ms = 0.6 CPU: one instance exactly at 60 %
        (101, {}, 2),  # a little over: a second instance
        (1000, {}, 10),  # 6 CPUs / 0.6 = 10
        (1000, {"cpu": 2.0}, 5),  # two vCPUs each: half the instances
        (0.001, {}, 1),  # never fewer than one
        # Concurrency decides when requests wait long: 100/s x 0.5 s = 50 in flight / (10 x 0.6) = 8.33 -> 9.
        (100, {"latency_s": 0.5}, 9),
        # A call of 3 requests: 300 requests/s x 0.5 s = 150 in flight / 6 = 25.
        (100, {"latency_s": 0.5, "requests_per_call": 3.0}, 25),
    ],
)
def test_instances_needed(calls_per_s, changes, instances):
    assert plan.instances_needed(calls_per_s, design(**changes)) == instances


@pytest.mark.parametrize(
    ("rate", "latency_s", "fraction"),
    [
        (10, 0.01, 1 - math.exp(-1)),  # 10/s, each billed at least 0.1 s: e^-1 of the time idle
        (10, 0.3, 1 - math.exp(-3)),  # a request longer than the granularity bills its own length
        (0, 0.01, 0.0),
        (10_000, 0.001, 1.0),
    ],
)
def test_billed_fraction(rate, latency_s, fraction):
    assert plan.billed_fraction(rate, latency_s, 0.1) == pytest.approx(fraction)


def test_monthly_cost_by_line():
    # 1000 calls/s on 10 instances that are always billed (100/s each: e^-10 idle, 0.99995 billed).
    cost = plan.monthly_cost(1000, design(log_bytes_per_request=1024, model_download_bytes=1), PRICES)
    month = 30 * 24 * 3600
    billed = 10 * month * (1 - math.exp(-10))
    assert cost.instances == 10
    assert cost.cpu == pytest.approx(billed * 0.00002)
    assert cost.memory == pytest.approx(billed * 0.000002)
    assert cost.requests == pytest.approx(1000 * month / 1e6 * 0.5)  # 2,592 million requests
    assert cost.logging == pytest.approx(1000 * month * 1024 / 2**30 * 0.5)  # 1 KiB each
    assert cost.storage == pytest.approx(10 * month / 60 / 1e4 * 0.004)  # a pointer read a minute each
    assert cost.total == pytest.approx(cost.cpu + cost.memory + cost.requests + cost.logging + cost.storage)


def test_cost_per_million_predictions_divides_by_predictions_not_requests():
    one = plan.cost_per_million_predictions(1000, design(), PRICES)
    # The same requests carrying ten predictions each: a tenth of the cost per prediction.
    batched = plan.cost_per_million_predictions(1000, design(predictions_per_call=10.0), PRICES)
    assert batched == pytest.approx(one / 10)
    month_cost = plan.monthly_cost(1000, design(), PRICES).total
    assert one == pytest.approx(month_cost / (1000 * 30 * 24 * 3600) * 1e6)


def test_downloads_per_minute_are_the_new_instances():
    d = design(model_download_bytes=2**20)
    assert plan.downloads_per_minute(1000, d) == (10, 10.0)  # ten instances from zero, 1 MiB each
    assert plan.downloads_per_minute(1000, d, from_instances=4) == (6, 6.0)
    assert plan.downloads_per_minute(1000, design()) == (0, 0.0)  # a model in the image downloads nothing


@pytest.mark.parametrize(
    ("peak_mib", "vcpus", "size"),
    [
        (100, 1, 512),  # the second generation minimum
        (341, 1, 512),  # 341 x 1.5 = 511.5
        (342, 1, 1024),  # 513: over
        (469, 1, 1024),
        (700, 1, 2048),  # 1050
        (2000, 2, 4096),
        (3000, 2, 8192),  # 4500 MiB needs more than 4 GiB: 2 vCPUs allow it
    ],
)
def test_memory_setting(peak_mib, vcpus, size):
    assert plan.memory_setting_mib(peak_mib, vcpus) == size


def test_memory_setting_refuses_what_cloud_run_does_not_allow():
    with pytest.raises(ValueError, match="needs at least 2 vCPUs"):
        plan.memory_setting_mib(3000, 1)  # 4500 MiB at 1 vCPU
    with pytest.raises(ValueError, match="largest"):
        plan.memory_setting_mib(30_000, 8)


@pytest.mark.parametrize(("size", "flag"), [(512, "512Mi"), (1024, "1Gi"), (2048, "2Gi"), (1536, "1536Mi")])
def test_memory_flag(size, flag):
    assert plan.memory_flag(size) == flag


def test_spike_estimate():
    # 100 users, 50 ms think + 50 ms round trip: 1000 requests/s = 10 instances; 9 start cold.
    spike = plan.spike_estimate(100, 0.05, 0.05, design(), cold_start_s=0.5, platform_start_s=1.0)
    assert spike.requests_per_s == pytest.approx(1000)
    assert (spike.instances_at_peak, spike.cold_starts) == (10, 9)
    assert spike.worst_wait_s == pytest.approx(1.5)
    assert spike.requests_that_may_wait == 90  # at most the concurrency (10) on each starting instance


def test_price_table_has_every_price_with_its_date_and_source():
    table = json.loads(plan.PRICES_PATH.read_text())
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", table["retrieved"]) and table["currency"] == "USD"
    for section in ("cloud_run", "cloud_logging", "cloud_storage"):
        assert table[section]["source"].startswith("https://cloud.google.com/")
    prices = plan.Prices.load()
    for name, value in vars(prices).items():
        assert isinstance(value, float | int) and value > 0, name
    # Instance-based billing is the cheaper rate per second; request-based charges only while serving.
    assert table["cloud_run"]["instance_based_vcpu_second"] < prices.vcpu_second
    assert table["cloud_run"]["instance_based_gib_second"] < prices.gib_second


def test_the_worst_requests_are_the_largest_the_function_accepts():
    from penguins.settings import Settings
    from tools.capacity import memory

    assert (memory.MAX_BODY_BYTES, memory.MAX_BATCH_SIZE) == (Settings.max_body_bytes, Settings.max_batch_size)
    for request in (memory.json_batch(), memory.json_batch_all_invalid()):
        assert len(request.body) == Settings.max_body_bytes - 1
        assert len(json.loads(request.body)["instances"]) == Settings.max_batch_size


def test_proc_readers_follow_a_real_server(start_server):
    from tools.capacity import memory, proc

    server = start_server()
    pid = server.process.pid
    cpu_before, resident_before = proc.cpu_seconds(pid), proc.resident_mib(pid)
    status, _, body = server.request("POST", "/predict", memory.json_batch().body, {"Content-Type": "application/json"})
    assert status == 200 and len(body["predictions"]) == memory.MAX_BATCH_SIZE
    assert len(proc.tree_pids(pid)) >= 2  # gunicorn's arbiter and its worker
    assert proc.cpu_seconds(pid) > cpu_before  # 10,000 explained predictions take CPU time
    assert proc.peak_resident_mib(pid) >= proc.resident_mib(pid) > 0
    assert proc.peak_resident_mib(pid) > resident_before  # a 10 MiB body raised the high-water mark
