"""Event sinks: progress display, structured logs, the metadata store recorder."""
