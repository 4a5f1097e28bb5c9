"""Plan and run: the registry of kinds, the runner, progress accounting."""
