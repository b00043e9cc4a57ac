"""Deploy tier: the manifests, the Dockerfile, the CI workflow, and the drift between them."""
