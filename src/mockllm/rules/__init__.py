"""The YAML config: schema, loader (errors with file:line), compiled rules, store, watcher."""
