"""The ``mockllm`` command line.

* ``mockllm serve [--config FILE] [--host H] [--port P] [--workers N] [--no-watch]
  [--log-level L] [--strict-models]``
* ``mockllm start -r FILE -h HOST -p PORT``: the original MockLLM command, kept working.
* ``mockllm validate FILE``: prints each problem as ``file:line:column: message`` and exits 1
  when the file is invalid.

Flags override ``MOCKLLM_*`` environment variables, which override defaults.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
from collections.abc import Sequence

from . import __version__


def _serve_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="run the mock server")
    serve.add_argument("--config", "-c", help="YAML config file (default: embedded demo config)")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000)")
    serve.add_argument("--workers", type=int, help="worker processes (default 1)")
    serve.add_argument("--no-watch", action="store_true", help="do not reload the config on change")
    serve.add_argument("--log-level", choices=["critical", "error", "warning", "info", "debug"])
    serve.add_argument(
        "--strict-models",
        action="store_true",
        default=None,
        help="unknown model names get a 404 model_not_found",
    )


def _start_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # The original MockLLM used -h for --host, so this command's help is --help only.
    start = sub.add_parser("start", help="run the server (original MockLLM flags)", add_help=False)
    start.add_argument("--responses", "-r", help="responses YAML file")
    start.add_argument("--host", "-h", help="address to bind")
    start.add_argument("--port", "-p", type=int, help="port")
    start.add_argument("--reload", action="store_true", help="accepted for compatibility")
    start.add_argument("--help", action="help", help="show this help and exit")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mockllm", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"mockllm {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _serve_parser(sub)
    _start_parser(sub)
    validate = sub.add_parser("validate", help="check a config file")
    validate.add_argument("file", help="YAML config file")
    validate.add_argument(
        "--strict", action="store_true", help="exit 1 on warnings too (rules that never answer)"
    )
    return parser


def _run(overrides: dict[str, object]) -> int:
    """Start uvicorn with settings from the environment plus ``overrides``."""
    import uvicorn

    from .rules.loader import ConfigError
    from .settings import Settings

    for key, value in overrides.items():
        if value is not None:
            os.environ[f"MOCKLLM_{key.upper()}"] = str(value)
    settings = Settings()
    try:  # fail fast, with file:line, before any worker starts
        from .rules.loader import load_config_file

        if settings.config is not None:
            load_config_file(settings.config)
    except ConfigError as exc:
        print(f"mockllm: invalid config\n{exc}", file=sys.stderr)
        return 1
    # mockllm's own loggers (config reloads, plugin and handler errors) print like uvicorn's.
    log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    log_config["loggers"]["mockllm"] = {
        "handlers": ["default"],
        "level": settings.log_level.upper().replace("TRACE", "DEBUG"),
        "propagate": False,
    }
    uvicorn.run(
        "mockllm.app:app_from_environment",
        log_config=log_config,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers if settings.workers > 1 else None,
        log_level=settings.log_level,
        access_log=settings.log_level in ("debug", "trace"),
        timeout_graceful_shutdown=5,
    )
    return 0


def _validate(path: str, strict: bool = False) -> int:
    from .rules.loader import ConfigError, load_config_file

    try:
        config = load_config_file(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem)
        print(f"{path}: invalid ({len(exc.problems)} problem(s))", file=sys.stderr)
        return 1
    for warning in config.warnings:
        print(f"{warning.location}: warning: {warning.message}")
    rules = config.rules
    print(
        f"{path}: valid ({len(rules.responses)} responses, {len(rules.rules)} rules"
        + (f", {len(config.warnings)} warning(s))" if config.warnings else ")")
    )
    return 1 if strict and config.warnings else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "validate":
        return _validate(args.file, args.strict)
    if args.command == "start":
        return _run({"config": args.responses, "host": args.host, "port": args.port})
    return _run(
        {
            "config": args.config,
            "host": args.host,
            "port": args.port,
            "workers": args.workers,
            "watch": False if args.no_watch else None,
            "log_level": args.log_level,
            "strict_models": args.strict_models,
        }
    )


if __name__ == "__main__":
    sys.exit(main())
