"""The capacity plan's arithmetic: instances for a load, the share of time billed, monthly cost, downloads.

Pure functions of measured figures and the price table; tests/test_capacity.py checks them by hand.
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
