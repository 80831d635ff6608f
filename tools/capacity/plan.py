"""The capacity plan's arithmetic: instances for a load, the share of time billed, monthly cost, downloads.

Pure functions of measured figures and the price table; tests/integration/test_capacity.py checks them by hand.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

PRICES_PATH = Path(__file__).resolve().parent / "prices.json"
SECONDS_PER_MONTH = 30 * 24 * 3600  # a 30-day month
GIB = 1024**3
# Cloud Run's autoscaler keeps instances near 60 % CPU and 60 % of their maximum concurrency over a
# minute (https://cloud.google.com/run/docs/about-instance-autoscaling): plan at what it will run.
TARGET_UTILIZATION = 0.6


@dataclass(frozen=True)
class Design:
    """One system as deployed: its configuration and what it was measured to take per client call."""

    name: str
    cpu: float  # vCPUs per instance
    memory_gib: float
    concurrency: int  # requests in flight per instance
    cpu_s_per_call: float  # measured: the server's CPU seconds per call of the mix
    requests_per_call: float
    predictions_per_call: float
    latency_s: float  # a request's time in the instance (its share of the billed time)
    log_bytes_per_request: float  # Cloud Logging entries' bytes per request, the platform's included
    model_download_bytes: int  # what a new instance downloads before it answers (0: the model is in the image)


@dataclass(frozen=True)
class Prices:
    """The committed price table's figures that the plan uses."""

    vcpu_second: float
    gib_second: float
    million_requests: float
    billing_granularity_s: float
    logging_gib: float
    storage_class_b_ten_thousand: float

    @classmethod
    def load(cls, path: Path = PRICES_PATH) -> Prices:
        table = json.loads(path.read_text())
        run = table["cloud_run"]
        return cls(
            vcpu_second=run["vcpu_second"],
            gib_second=run["gib_second"],
            million_requests=run["million_requests"],
            billing_granularity_s=run["billing_granularity_s"],
            logging_gib=table["cloud_logging"]["ingested_gib"],
            storage_class_b_ten_thousand=table["cloud_storage"]["class_b_ten_thousand_operations"],
        )


def instances_needed(calls_per_s: float, design: Design, utilization: float = TARGET_UTILIZATION) -> int:
    """Instances at which both of Cloud Run's scaling drivers, CPU and concurrency, sit at `utilization`."""
    cpu_bound = calls_per_s * design.cpu_s_per_call / (design.cpu * utilization)
    in_flight = calls_per_s * design.requests_per_call * design.latency_s  # Little's law
    concurrency_bound = in_flight / (design.concurrency * utilization)
    return max(1, math.ceil(max(cpu_bound, concurrency_bound) - 1e-9))


def billed_fraction(requests_per_s_per_instance: float, latency_s: float, granularity_s: float) -> float:
    """Share of an instance's time that request-based billing charges for.

    An instance is billed while it holds a request, each billed stretch rounded up to `granularity_s`; with
    requests arriving at random (Poisson) the chance that none holds it is e^(-rate x window).
    """
    window_s = max(latency_s, granularity_s)
    return 1 - math.exp(-requests_per_s_per_instance * window_s)


@dataclass(frozen=True)
class MonthlyCost:
    """What a load sustained for a month costs, by line, in dollars."""

    instances: int
    cpu: float
    memory: float
    requests: float
    logging: float
    storage: float

    @property
    def total(self) -> float:
        return self.cpu + self.memory + self.requests + self.logging + self.storage


def monthly_cost(calls_per_s: float, design: Design, prices: Prices, refresh_s: float = 60) -> MonthlyCost:
    """The month's bill for a steady load; the instances also read the model pointer every refresh_s."""
    instances = instances_needed(calls_per_s, design)
    requests_per_s = calls_per_s * design.requests_per_call
    billed_s = instances * SECONDS_PER_MONTH
    billed_s *= billed_fraction(requests_per_s / instances, design.latency_s, prices.billing_granularity_s)
    requests = requests_per_s * SECONDS_PER_MONTH
    pointer_reads = instances * SECONDS_PER_MONTH / refresh_s if design.model_download_bytes else 0
    return MonthlyCost(
        instances=instances,
        cpu=billed_s * design.cpu * prices.vcpu_second,
        memory=billed_s * design.memory_gib * prices.gib_second,
        requests=requests / 1e6 * prices.million_requests,
        logging=requests * design.log_bytes_per_request / GIB * prices.logging_gib,
        storage=pointer_reads / 1e4 * prices.storage_class_b_ten_thousand,
    )


def cost_per_million_predictions(calls_per_s: float, design: Design, prices: Prices) -> float:
    """Dollars per million predictions at a steady load."""
    predictions = calls_per_s * design.predictions_per_call * SECONDS_PER_MONTH
    return monthly_cost(calls_per_s, design, prices).total / predictions * 1e6


def downloads_per_minute(calls_per_s: float, design: Design, from_instances: int = 0) -> tuple[int, float]:
    """Model downloads (count, MiB) in the minute the service scales out from `from_instances` to this load.

    Every new instance downloads the artifact once; Cloud Run scales out within its one-minute window.
    """
    if not design.model_download_bytes:
        return 0, 0.0
    started = max(0, instances_needed(calls_per_s, design) - from_instances)
    return started, started * design.model_download_bytes / 2**20


# Cloud Run's memory rules (https://cloud.google.com/run/docs/configuring/services/memory-limits): at 1 vCPU
# memory may be 128 MiB to 4 GiB, more than 4 GiB needs 2 vCPUs, more than 8 GiB 4; the second generation
# execution environment needs at least 512 MiB. We offer the console's sizes.
MEMORY_SIZES_MIB = (512, 1024, 2048, 4096, 8192, 16384, 32768)
MIN_VCPUS_ABOVE_MIB = ((4096, 2), (8192, 4), (16384, 6), (24576, 8))
MEMORY_HEADROOM = 1.5  # over the measured peak: an instance over its limit is killed with all its requests


def memory_setting_mib(peak_mib: float, vcpus: float, headroom: float = MEMORY_HEADROOM) -> int:
    """The smallest size that holds peak x headroom and that Cloud Run allows at this CPU."""
    needed = peak_mib * headroom
    for size in MEMORY_SIZES_MIB:
        if size >= needed:
            required = max((cpus for above, cpus in MIN_VCPUS_ABOVE_MIB if size > above), default=0)
            if vcpus < required:
                raise ValueError(f"{size} MiB needs at least {required} vCPUs; got {vcpus:g}")
            return size
    raise ValueError(f"{needed:.0f} MiB is more than Cloud Run's largest instance")


def memory_flag(size_mib: int) -> str:
    """The --memory value for a size: 512Mi, 1Gi, 2Gi..."""
    return f"{size_mib // 1024}Gi" if size_mib % 1024 == 0 else f"{size_mib}Mi"


@dataclass(frozen=True)
class SpikeEstimate:
    """Cold starts a spike causes, and the worst wait in them."""

    requests_per_s: float
    instances_at_peak: int
    cold_starts: int
    worst_wait_s: float
    requests_that_may_wait: int


def spike_estimate(
    users: int, think_s: float, round_trip_s: float, design: Design, cold_start_s: float, platform_start_s: float
) -> SpikeEstimate:
    """A spike to `users` closed-loop users from one warm instance.

    Each user sends a request, waits for the answer (round_trip_s) and thinks (think_s): users / (think +
    round trip) requests per second. Every instance beyond the warm one is a cold start; a request routed to
    a starting instance waits for the process start measured here plus the platform's own start; at most
    `concurrency` requests wait on each.
    """
    calls_per_s = users / (think_s + round_trip_s) / design.requests_per_call
    instances = instances_needed(calls_per_s, design)
    cold_starts = instances - 1
    return SpikeEstimate(
        requests_per_s=users / (think_s + round_trip_s),
        instances_at_peak=instances,
        cold_starts=cold_starts,
        worst_wait_s=cold_start_s + platform_start_s,
        requests_that_may_wait=cold_starts * design.concurrency,
    )
