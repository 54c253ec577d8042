"""The pytest plugin (entry point ``pytest11``): the ``mockllm`` fixture. Being built."""
