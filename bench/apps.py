from django.apps import AppConfig


class BenchConfig(AppConfig):
    """The benchmark's yardstick and data set (scripts/bench). Installed, and its route mounted,
    only when BENCH_BASELINE_ENABLED is true: never part of the production API."""

    name = "bench"
