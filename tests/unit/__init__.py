"""Unit tier: the code in process (Django's test client, models, serializers, services, settings
read by a child Python process), on the suite's database; no other service, no server process."""
