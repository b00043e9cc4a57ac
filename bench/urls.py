"""The URLconf while benchmarking (BENCH_BASELINE_ENABLED): the project's, plus the baseline."""

from django.urls import path

from config import urls

from . import baseline

urlpatterns = [*urls.urlpatterns, path("bench/baseline/posts/", baseline.post_list, name="bench-baseline")]

handler400 = urls.handler400
handler403 = urls.handler403
handler404 = urls.handler404
handler500 = urls.handler500
