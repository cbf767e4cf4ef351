"""The local stack: the real handlers and `template.yaml` against moto's server, no Docker."""
