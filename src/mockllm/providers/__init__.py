"""Provider dialects. Each subpackage decodes its wire format into the neutral request and
encodes neutral completions back; each is registered through the ``mockllm.providers``
entry-point group, exactly like a third-party plugin."""
