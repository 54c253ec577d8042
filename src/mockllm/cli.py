"""The ``mockllm`` command line.

* ``mockllm serve [--config FILE] [--host H] [--port P] [--workers N] [--state URL]
  [--no-watch] [--no-request-log] [--log-level L] [--strict-models] [--cors-origins ORIGINS]``
* ``mockllm start -r FILE -h HOST -p PORT``: the original MockLLM command, kept working.
* ``mockllm validate FILE [--strict]``: prints each problem as ``file:line:column: message``
  (warnings as ``file:line:column: warning: message``), then a summary line, all on stdout;
  exits 1 when the file is invalid, or with ``--strict`` when there are warnings.
* ``mockllm schema``: prints the JSON Schema of the config file (for editors).
* ``mockllm record --upstream URL [--upstream DIALECT=URL ...] --cassettes DIR``: a proxy
  to the upstream that writes one cassette per interaction; ``mockllm serve --cassettes
  DIR [--on-miss error|record|rules] [--replay-timing recorded|fast|FACTOR]`` replays them;
  ``mockllm cassettes check DIR`` validates a cassette folder (docs/cassettes.md).

Flags override ``MOCKLLM_*`` environment variables, which override defaults; ``serve --help``
lists the variables, generated from :class:`mockllm.settings.Settings`.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import textwrap
from collections.abc import Sequence
from typing import Literal, get_args, get_origin

from . import __version__

DESCRIPTION = """\
mockllm is a mock LLM server: it impersonates the OpenAI, Anthropic, Gemini, Ollama and
Azure OpenAI APIs well enough that their unmodified SDKs cannot tell it from the real
service, and answers as a YAML config file scripts it (no model, no key, no randomness).

Run `mockllm COMMAND --help` for the options of a command."""

SERVE_DESCRIPTION = """\
Run the mock server. Every option can also be set by a MOCKLLM_* environment variable
(listed below); an option given on the command line wins over the variable, which wins
over the default. The config file is reloaded when it changes (unless --no-watch)."""

VALIDATE_DESCRIPTION = """\
Check a config file without serving it. Prints each problem as
`file:line:column: message`, each warning (a rule that can never answer, a regex likely
to backtrack catastrophically) as `file:line:column: warning: message`, then a summary
line, all on stdout.
Exit status: 0 valid, 1 invalid (or, with --strict, valid with warnings)."""

SCHEMA_DESCRIPTION = """\
Print the JSON Schema (draft 2020-12) of the config file on stdout, for editors:
`mockllm schema > mockllm.schema.json`, then put
`# yaml-language-server: $schema=./mockllm.schema.json` at the top of the config
(docs/editors.md)."""


RECORD_DESCRIPTION = """\
Run a recording proxy: each request to a provider route is forwarded to the upstream with
its path and query, the upstream's answer goes back unchanged (streams as they arrive), and
one cassette (readable YAML) per interaction is written to the --cassettes folder. Requests
carrying `x-mockllm-test: NAME` are written to a subfolder per test, emptied by the test's
first request. Secrets (authorization, x-api-key, api-key, x-goog-api-key, ?key=, cookies,
--redact-field fields) never reach a file. Replay with `mockllm serve --cassettes DIR`."""

CHECK_DESCRIPTION = """\
Check a cassette folder: every .yml file parses and follows the cassette schema, no two
files hold the same request at the same index, and no other file is there (names
starting with `.` are skipped). Prints each problem, then a summary, on stdout.
Exit status: 0 valid, 1 problems."""


def _env_names(name: str) -> list[str]:
    """The environment variables that set :class:`Settings` field ``name``: its aliases
    when it has any (``MOCKLLM_CONFIG``, ``MOCKLLM_RESPONSES_FILE``), else
    ``MOCKLLM_<NAME>``."""
    from .settings import ENV_ALIASES, ENV_PREFIX

    return list(ENV_ALIASES.get(name, (f"{ENV_PREFIX}{name}".upper(),)))


def _default_text(value: object) -> str:
    from pydantic_core import PydanticUndefined

    if value is None or value is PydanticUndefined:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def environment_help(width: int = 88) -> str:
    """The ``MOCKLLM_*`` environment variables, one entry per :class:`Settings` field: its
    variable name(s), description, allowed values (for a Literal) and default. Generated
    from ``Settings.model_fields``, so it cannot drift from what the server reads."""
    from .settings import Settings

    lines = ["environment variables:"]
    for name, field in Settings.model_fields.items():
        env = _env_names(name)
        text = (field.description or "").strip()
        arms = [a for a in get_args(field.annotation) if get_origin(a) is Literal] or (
            [field.annotation] if get_origin(field.annotation) is Literal else []
        )
        if arms:
            text += f" One of: {', '.join(str(v) for arm in arms for v in get_args(arm))}."
        if len(env) > 1:
            text += f" Also read as {', '.join(env[1:])}."
        text += f" Default: {_default_text(field.get_default(call_default_factory=True))}."
        lines.append(f"  {env[0]}")
        lines.extend(textwrap.wrap(text, width, initial_indent=" " * 6, subsequent_indent=" " * 6))
    return "\n".join(lines)


def _setting(name: str, what: str, flag: str = "") -> str:
    """Help text of the serve option for :class:`Settings` field ``name``: ``what``, the
    default (unless ``flag``, the fixed value a switch sets) and the variable it overrides."""
    from .settings import Settings

    if flag:
        return f"{what} [{_env_names(name)[0]}={flag}]"
    default = _default_text(Settings.model_fields[name].get_default(call_default_factory=True))
    return f"{what} (default: {default}) [{_env_names(name)[0]}]"


def _serve_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser(
        "serve",
        help="run the mock server",
        description=SERVE_DESCRIPTION,
        epilog=environment_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument(
        "--config",
        "-c",
        metavar="FILE",
        help=f"YAML config file (default: the embedded demo config) [{_env_names('config')[0]}]",
    )
    serve.add_argument("--host", help=_setting("host", "address to bind"))
    serve.add_argument("--port", type=int, help=_setting("port", "port to bind"))
    serve.add_argument("--workers", type=int, help=_setting("workers", "worker processes"))
    serve.add_argument(
        "--state",
        metavar="URL",
        help=_setting(
            "state",
            "memory (each worker keeps its own state) or redis://host:port/db: counters, "
            "rate limits, journal, added rules and stored responses shared by every worker "
            "and replica",
        ),
    )
    serve.add_argument(
        "--no-watch",
        action="store_true",
        help=_setting("watch", "do not reload the config file when it changes", "false"),
    )
    serve.add_argument(
        "--no-request-log",
        action="store_true",
        help=_setting("request_log", "do not log one line per request", "false"),
    )
    serve.add_argument(
        "--log-level",
        choices=["critical", "error", "warning", "info", "debug"],
        help=_setting("log_level", "log level"),
    )
    serve.add_argument(
        "--strict-models",
        action="store_true",
        default=None,
        help=_setting(
            "strict_models",
            "unknown model names get a 404 model_not_found, whatever the config file says",
            "true",
        ),
    )
    serve.add_argument(
        "--validator",
        action="append",
        metavar="NAME",
        help=_setting(
            "validators",
            "apply this request validator plugin (mockllm.validators entry point); repeat "
            "for several",
        ),
    )
    serve.add_argument(
        "--stage",
        action="append",
        metavar="NAME",
        help=_setting(
            "stages",
            "apply this stage plugin (mockllm.stages entry point), in the order given; "
            "repeat for several",
        ),
    )
    _cassette_options(serve, recording=False)
    serve.add_argument(
        "--on-miss",
        choices=["error", "record", "rules"],
        help=_setting(
            "on_miss",
            "what answers a request no cassette matches: error (the dialect's 404 naming "
            "the nearest cassettes), record (the upstream, recorded) or rules (the config)",
        ),
    )
    serve.add_argument(
        "--replay-timing",
        metavar="recorded|fast|FACTOR",
        help=_setting(
            "replay_timing",
            "replay cassettes with their recorded timing, at once, or with the recorded "
            "offsets times FACTOR (0.5: twice as fast)",
        ),
    )
    serve.add_argument(
        "--cors-origins",
        metavar="ORIGINS",
        help=_setting(
            "cors_origins",
            "browser origins allowed to call the server: '*' or a comma-separated list such "
            "as http://localhost:3000; requests from other web pages get a 403",
        ),
    )


def _cassette_options(parser: argparse.ArgumentParser, recording: bool) -> None:
    """The options of record and replay: ``--cassettes``, ``--upstream`` (repeatable),
    ``--redact-field`` (repeatable)."""
    parser.add_argument(
        "--cassettes",
        metavar="DIR",
        required=recording,
        help="folder to write the cassettes into (one file per interaction; one subfolder "
        "per test sending x-mockllm-test)"
        if recording
        else _setting("cassettes", "folder of recorded cassettes to replay"),
    )
    parser.add_argument(
        "--upstream",
        action="append",
        metavar="[DIALECT=]URL",
        required=recording,
        help="where requests are forwarded: URL for every dialect, DIALECT=URL (openai, "
        "anthropic, gemini, ollama, azure) for one; repeat for several"
        + ("" if recording else " (with --on-miss record)")
        + f" [{_env_names('upstream')[0]}, comma-separated]",
    )
    parser.add_argument(
        "--redact-field",
        action="append",
        metavar="NAME",
        help=_setting(
            "redact_fields",
            "a body field whose values never reach a cassette (secret headers, ?key= and "
            "api_key-like fields always are redacted); repeat for several",
        ),
    )


def _record_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    record = sub.add_parser(
        "record",
        help="a proxy to a real service that records each interaction as a cassette",
        description=RECORD_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _cassette_options(record, recording=True)
    record.add_argument("--host", help=_setting("host", "address to bind"))
    record.add_argument("--port", type=int, help=_setting("port", "port to bind"))
    record.add_argument(
        "--no-request-log",
        action="store_true",
        help=_setting("request_log", "do not log one line per request", "false"),
    )
    record.add_argument(
        "--log-level",
        choices=["critical", "error", "warning", "info", "debug"],
        help=_setting("log_level", "log level"),
    )


def _cassettes_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cassettes = sub.add_parser(
        "cassettes",
        help="work with a folder of recorded cassettes (check)",
        description="Work with a folder of recorded cassettes.",
    )
    actions = cassettes.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = actions.add_parser(
        "check",
        help="validate a cassette folder",
        description=CHECK_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("folder", metavar="DIR", help="the cassette folder")


def _start_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # The original MockLLM used -h for --host, so this command's help is --help only.
    start = sub.add_parser(
        "start",
        help="run the server (the original MockLLM command and flags)",
        description="Run the server with the original MockLLM flags (-h is --host here).",
        add_help=False,
    )
    start.add_argument("--responses", "-r", help="responses YAML file")
    start.add_argument("--host", "-h", help="address to bind")
    start.add_argument("--port", "-p", type=int, help="port")
    start.add_argument("--reload", action="store_true", help="accepted for compatibility")
    start.add_argument("--help", action="help", help="show this help and exit")


def build_parser() -> argparse.ArgumentParser:
    """The ``mockllm`` argument parser: commands serve, record, cassettes, start,
    validate and schema."""
    parser = argparse.ArgumentParser(
        prog="mockllm",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"mockllm {__version__}",
        help="print the version and exit",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _serve_parser(sub)
    _record_parser(sub)
    _cassettes_parser(sub)
    _start_parser(sub)
    validate = sub.add_parser(
        "validate",
        help="check a config file: problems and warnings as file:line:column",
        description=VALIDATE_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    validate.add_argument("file", help="YAML config file")
    validate.add_argument(
        "--strict",
        action="store_true",
        help="warnings (rules that can never answer, risky regexes) fail the run: exit 1",
    )
    sub.add_parser(
        "schema",
        help="print the JSON Schema of the config file (for editors)",
        description=SCHEMA_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _run(overrides: dict[str, object]) -> int:
    """Start uvicorn with settings from the environment plus ``overrides`` (each one not
    None is exported as ``MOCKLLM_<KEY>`` first, so worker processes see it too).

    The app is built here first: an invalid config fails fast with ``file:line`` before
    anything listens, and the start-up summary (config, rules, dialects, address) is
    logged once. One worker serves that app; several workers build their own.
    """
    from . import gc_pause

    gc_pause.pause()  # until the app has started: see mockllm.gc_pause
    import logging
    import logging.config

    import uvicorn

    from .app import create_app, startup_summary
    from .plugins import PluginError
    from .rules.loader import ConfigError
    from .settings import Settings

    for key, value in overrides.items():
        if value is not None:
            os.environ[f"MOCKLLM_{key.upper()}"] = str(value)
    from pydantic import ValidationError

    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "\n".join(
            f"  MOCKLLM_{'_'.join(str(p) for p in e['loc']).upper()}={e['input']!r}: "
            + e["msg"].removeprefix("Value error, ")
            for e in exc.errors()
        )
        print(f"mockllm: invalid settings\n{problems}", file=sys.stderr)
        return 1
    # mockllm's own loggers (start-up, one line per request, config reloads, errors) print
    # like uvicorn's.
    from .logs import use_in

    # uvicorn's format, written a loop turn at a time (see mockllm.logs).
    log_config = use_in(copy.deepcopy(uvicorn.config.LOGGING_CONFIG))
    log_config["loggers"]["mockllm"] = {
        "handlers": ["default"],
        "level": settings.log_level.upper().replace("TRACE", "DEBUG"),
        "propagate": False,
    }
    logging.config.dictConfig(log_config)
    try:
        app = create_app(settings)
    except ConfigError as exc:
        print(f"mockllm: invalid config\n{exc}", file=sys.stderr)
        return 1
    except PluginError as exc:
        print(f"mockllm: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        # mockllm.cassettes is imported only when the settings ask for cassettes, and so is
        # loaded whenever one of its errors was raised.
        cassettes = sys.modules.get("mockllm.cassettes")
        if cassettes is None or not isinstance(exc, cassettes.CassetteError):
            raise
        print(f"mockllm: cassettes\n{exc}", file=sys.stderr)
        return 1
    log = logging.getLogger("mockllm")
    log.info("mockllm %s", __version__)
    for line in startup_summary(app, f"http://{settings.host}:{settings.port}"):
        log.info("%s", line)
    cassettes = app.services.states.get("cassettes")
    if cassettes is not None:
        log.info("%s", cassettes.describe())
        if settings.workers > 1:
            log.warning("%d workers: each replays and counts on its own", settings.workers)
    if not _is_loopback(settings.host) and not settings.admin_token:
        log.warning(
            "listening on %s, which other machines can reach, with no MOCKLLM_ADMIN_TOKEN: "
            "anyone who reaches it can read its journal, change its rules and reset it",
            settings.host,
        )
    backend = app.services.backend
    if backend.shared:
        log.info("state: shared through %s (namespace %s)", backend.url, settings.state_namespace)
    if settings.workers > 1:
        gc_pause.resume()  # this process only supervises; each worker starts its own app
        if not backend.shared:
            log.warning(
                "%d workers with state in memory: each worker keeps its own sequence "
                "counters, rate limits, fault counters, journal, added rules and stored "
                "responses (--state redis://host:6379/0 shares them)",
                settings.workers,
            )
    from .server import listen_early, uvicorn_options

    # One worker: its socket listens from here, while uvicorn starts (the config is valid):
    # a client that connects meanwhile is answered once the server serves, not refused.
    # Several: uvicorn binds the socket the workers share.
    forget = listen_early(settings.host, settings.port) if settings.workers == 1 else None
    try:
        uvicorn.run(
            app if settings.workers == 1 else "mockllm.app:app_from_environment",
            log_config=log_config,
            factory=settings.workers > 1,
            workers=settings.workers if settings.workers > 1 else None,
            # Address, log level, the guarded HTTP protocol and connection limits,
            # ws="none": the same options as mockllm.testing.MockServer.
            **uvicorn_options(settings),
        )
    finally:
        if forget is not None:
            forget()
    return 0


def _validate(path: str, strict: bool = False) -> int:
    """``mockllm validate``: problems, warnings and the summary on stdout, in that order.
    Returns 1 when invalid, or when ``strict`` and there are warnings; else 0."""
    from pydantic import ValidationError

    from .core.limits import Limits
    from .rules.loader import ConfigError, load_config_file
    from .settings import Settings

    try:  # the budgets the server would load the file with (MOCKLLM_LIMIT_*)
        limits = Limits.from_settings(Settings())
    except ValidationError:
        limits = Limits()
    try:
        config = load_config_file(path, limits)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem)
        print(f"{path}: invalid ({len(exc.problems)} problem(s))")
        return 1
    for warning in config.warnings:
        print(f"{warning.location}: warning: {warning.message}")
    rules = config.rules
    summary = f"{path}: valid ({len(rules.responses)} responses, {len(rules.rules)} rules"
    summary += f", {len(config.warnings)} warning(s))" if config.warnings else ")"
    failed = strict and bool(config.warnings)
    if failed:
        summary += "; --strict: warnings fail the run"
    print(summary)
    return 1 if failed else 0


def _schema() -> int:
    """``mockllm schema``: the config file's JSON Schema as indented JSON on stdout. A
    reader that stops early (``mockllm schema | head``) is no error."""
    from .rules.jsonschema import config_json_schema

    try:
        print(json.dumps(config_json_schema(), indent=2, ensure_ascii=False), flush=True)
    except BrokenPipeError:
        # Python would report the pipe again when flushing stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit
    status. ``--help``, ``--version`` and usage errors raise :class:`SystemExit`."""
    from . import gc_pause

    # Building the parser imports the settings, and so pydantic: the collector is paused
    # from here, not from _run (mockllm.gc_pause), and resumed for the one-shot commands.
    gc_pause.pause()
    try:
        args = build_parser().parse_args(argv)
    except BaseException:
        gc_pause.resume()
        raise
    if args.command not in ("start", "serve", "record"):
        gc_pause.resume()
    if args.command == "validate":
        return _validate(args.file, args.strict)
    if args.command == "schema":
        return _schema()
    if args.command == "start":
        return _run({"config": args.responses, "host": args.host, "port": args.port})
    if args.command == "cassettes":
        from .cassettes.check import run

        return run(args.folder)
    cassettes = {
        "cassettes": args.cassettes,
        "upstream": ",".join(args.upstream) if args.upstream else None,
        "redact_fields": ",".join(args.redact_field) if args.redact_field else None,
    }
    if args.command == "record":
        return _run(
            {
                **cassettes,
                "record": True,
                "host": args.host,
                "port": args.port,
                "workers": 1,
                "request_log": False if args.no_request_log else None,
                "log_level": args.log_level,
            }
        )
    return _run(
        {
            "config": args.config,
            "host": args.host,
            "port": args.port,
            "workers": args.workers,
            "state": args.state,
            "watch": False if args.no_watch else None,
            "request_log": False if args.no_request_log else None,
            "log_level": args.log_level,
            "strict_models": args.strict_models,
            "cors_origins": args.cors_origins,
            "validators": ",".join(args.validator) if args.validator else None,
            "stages": ",".join(args.stage) if args.stage else None,
            **cassettes,
            "on_miss": args.on_miss,
            "replay_timing": args.replay_timing,
        }
    )


if __name__ == "__main__":
    sys.exit(main())
