"""The command line: thin Typer commands over the engine, the warehouse and the metadata store."""
