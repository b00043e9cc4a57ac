"""Helpers shared by every tier of the suite (no tests here): the services the tests need
(external), factories, a loopback SMTP server, the app in a child process (child, drive,
crash_settings, crash_urls), the live-stack harness with its faults and load, the manifest and
Dockerfile readers, the API contract assertions, the background-work records, and the pytest
plugin that sets the test process's environment (environment)."""
