"""Each platform's runtime emulated on a real Docker Engine: one module per platform (Fly.io,
Render, Railway, a Procfile host), each reading its manifest and running the project image as
that platform documents it. Run under ../shared/tools/compose-smoke (.ci/run does, in its first
phase):

    ../shared/tools/compose-smoke -- bash -c 'exec "$0" -m pytest tests/system/platforms -s -ra' \\
      "$PWD/.venv/bin/python"

Without DOCKER_HOST every test here is skipped with that reason. Shared helpers:
tests/support/platform_docker.py.
"""
