"""Integration tier: code in process against real services (Redis, Postgres-only behaviour such as
EXPLAIN, an SMTP server on loopback, Celery's in-process worker); skipped with the reason where a
service is absent, failed under CI."""
