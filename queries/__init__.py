"""The data layer: table definitions, the measure registry, topic selects and run()."""
