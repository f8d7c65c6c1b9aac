"""`python -m bot`: migrate the database, then run the bot (or the sandbox without a token).

python -m bot            run: poll the Bot API with BOT_TOKEN (or take its webhook with
                         BOT_MODE=webhook), or the sandbox without a token
python -m bot migrate    upgrade the database schema and exit
python -m bot sandbox    run against the embedded Bot API emulator with a console chat
python -m bot verify CODE  say whom a certificate was issued to (exit 1 for an unknown code)
python -m bot contest-bundle CODE --out DIR  a contest's entries with their files as a ZIP
                         (downloads from Telegram: needs BOT_TOKEN)

Every error of the command line (a wrong argument, an output that cannot be written, a database
that cannot be opened) is one line on stderr and a non-zero exit, never a traceback; with
LOG_LEVEL=DEBUG the traceback of an unexpected one is logged as well.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.error import BadRequest, InvalidToken, NetworkError

from bot.config import (
    DEFAULT_PSEUDONYM_KEY,
    ConfigError,
    Settings,
    load_settings,
    uvloop_available,
)
from bot.db import migrate
from bot.services import NotFound

logger = logging.getLogger("bot")
# Campaign ids are 32-bit integers on PostgreSQL; a larger one overflowed the query.
ID_MAX = 2**31 - 1


class CliError(Exception):
    """A command-line error, said in one line on stderr; `code` is the exit status."""

    def __init__(self, message: str, code: int = 1):
        """Keep the one-line message and the exit status."""
        super().__init__(message)
        self.code = code


class OneLineParser(argparse.ArgumentParser):
    """argparse, with a wrong argument said in one line (the usage stays behind --help)."""

    def error(self, message: str) -> NoReturn:
        """Exit with status 2 and one line naming the command and the mistake."""
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _reason(exc: BaseException) -> str:
    """The first line of what an exception says, without SQLAlchemy's wrapping."""
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
    else:
        text = str(getattr(exc, "orig", None) or exc) or type(exc).__name__
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def _one_line(exc: BaseException, verb: str) -> CliError:
    """A one-line CliError for an exception raised while a command ran (to `verb` files)."""
    if isinstance(exc, OSError) and exc.filename:
        return CliError(f"cannot {verb} {exc.filename}: {_reason(exc)}")
    if isinstance(exc, SQLAlchemyError):
        return CliError(f"database error: {_reason(exc)}")
    # Not foreseen: still one line, the traceback for whoever turns on debug logging.
    logger.debug("the command failed", exc_info=exc)
    return CliError(f"error: {type(exc).__name__}: {_reason(exc)}")


def _folder(folder: Path) -> Path:
    """`folder`, created if missing; CliError if it is a file or cannot be created."""
    for parent in (folder, *folder.parents):
        if parent.exists():
            if not parent.is_dir():
                raise CliError(f"{parent}: not a folder")
            break
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot create the folder {folder}: {_reason(exc)}") from None
    return folder


def _export_target(out: Path, dataset: str) -> tuple[Path, str]:
    """The folder (created) and file stem of `--out`: a file name with a suffix, or a folder.

    An existing folder is a folder even when its name has a suffix (`exports.csv/`).
    """
    if out.suffix and not out.is_dir():
        return _folder(out.parent), out.stem
    return _folder(out), f"ortaq-{dataset}"


class RedactingFormatter(logging.Formatter):
    """Formats log lines with the bot token removed, tracebacks included.

    PTB and httpx put the token in request URLs, and PTB's InvalidToken quotes it.
    """

    def __init__(self, fmt: str, secret: str | None, webhook_secret: str | None = None):
        """Format with `fmt`, replacing `secret` (and `webhook_secret`) wherever they appear.

        PTB's debug log of setWebhook carries the webhook's secret.
        """
        super().__init__(fmt)
        self.secret = secret
        self.webhook_secret = webhook_secret

    def format(self, record: logging.LogRecord) -> str:
        """The formatted record, token and webhook secret removed."""
        text = super().format(record)
        if self.secret:
            text = text.replace(self.secret, "<token>")
        if self.webhook_secret:
            text = text.replace(self.webhook_secret, "<webhook secret>")
        return text


def setup_logging(settings: Settings) -> None:
    """Log to stderr at `LOG_LEVEL`, with the token redacted."""
    handler = logging.StreamHandler()
    token = settings.bot_token.get_secret_value() if settings.bot_token else None
    hook = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", token, hook)
    )
    logging.basicConfig(level=settings.log_level, handlers=[handler], force=True)
    # httpx logs every request URL, token included, at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


# Allocations between two collections of the youngest generation (Python's default: 700).
COLLECT_EVERY = 10_000


def tune_collector() -> None:
    """Collect garbage every `COLLECT_EVERY` allocations in the bot's process, not every 700.

    Every update builds and drops thousands of short-lived objects (PTB's, SQLAlchemy's); at
    Python's default the collector ran hundreds of times a minute under load and now and then
    rescanned everything the process holds (matplotlib, the packs). Measured on
    `bench/surveys.py --users 50`: 6% of the bot's CPU in the collector before, 2% after.
    Cycles are still collected, a little later; the memory held meanwhile is small. A
    process-wide decision, so the runner's (`python -m bot`), never a module's at import.
    """
    gc.set_threshold(COLLECT_EVERY, *gc.get_threshold()[1:])


def use_event_loop(settings: Settings) -> str:
    """Give this thread a new event loop for PTB's `run_polling`: uvloop where it can; its name.

    uvloop where it is installed (not on Windows) unless USE_UVLOOP=false; else asyncio's own.
    PTB runs the bot on the thread's current loop, so setting it here is enough.
    """
    if settings.use_uvloop and uvloop_available():
        import uvloop

        asyncio.set_event_loop(uvloop.new_event_loop())
        logger.info("event loop: uvloop")
        return "uvloop"
    asyncio.set_event_loop(asyncio.new_event_loop())
    return "asyncio"


def close_transports(app: Any) -> None:
    """Close the Bot API transports, then the event loop the bot ran on.

    PTB closes its transports when it stops, but not when its start fails (a rejected token,
    an unreachable API): an aiohttp session left open would then print a warning after the
    one line the command line promises. Closing again what PTB closed does nothing.
    """
    loop = asyncio.get_event_loop()
    try:
        for transport in app.bot_data.transports:
            loop.run_until_complete(transport.shutdown())
    finally:
        loop.close()


def run_polling(settings: Settings) -> int:
    """Poll the configured Bot API until interrupted; returns the exit code."""
    from bot.app import build_application

    app = build_application(settings)
    use_event_loop(settings)
    tune_collector()
    try:
        app.run_polling(allowed_updates=Update.ALL_TYPES, close_loop=False)
    except InvalidToken:
        print("configuration error: BOT_TOKEN: the Bot API rejected this token", file=sys.stderr)
        return 2
    except NetworkError as exc:
        # At start-up only: once polling, PTB retries network errors by itself.
        print(
            f"cannot reach the Bot API at {settings.bot_api_url}: {exc.message}", file=sys.stderr
        )
        return 1
    finally:
        close_transports(app)
    return 0


def run_served(settings: Settings) -> int:
    """Webhook mode, or polling with /healthz and /metrics (`bot.webserver.serve`)."""
    from bot.app import build_application
    from bot.webserver import serve

    app = build_application(settings)
    use_event_loop(settings)  # uvloop where it can, as for polling
    tune_collector()
    try:
        asyncio.get_event_loop().run_until_complete(serve(settings, app))
    except InvalidToken:
        print("configuration error: BOT_TOKEN: the Bot API rejected this token", file=sys.stderr)
        return 2
    except BadRequest as exc:  # setWebhook refused the URL or the secret
        print(
            f"configuration error: WEBHOOK_URL: Telegram refused it: {exc.message}",
            file=sys.stderr,
        )
        return 2
    except NetworkError as exc:
        print(
            f"cannot reach the Bot API at {settings.bot_api_url}: {exc.message}", file=sys.stderr
        )
        return 1
    except OSError as exc:  # the listen address is taken or not ours
        listen = settings.webhook_listen if settings.bot_mode == "webhook" else None
        print(
            f"cannot listen on {listen or settings.health_listen}: {_reason(exc)}",
            file=sys.stderr,
        )
        return 1
    finally:
        close_transports(app)
    return 0


def validate_content(path: Path) -> int:
    """Check packs and print a summary per file, or every error; exit 1 on any error."""
    from bot.content.validate import check_path

    if not path.exists():
        print(f"{path}: no such file or folder", file=sys.stderr)
        return 1
    reports = check_path(path)
    instruments = {report.pack.code for report in reports if report.pack is not None}
    for report in reports:
        print(report.summary() if report.ok else f"{report.file}: INVALID")
        for error in report.errors:
            print(f"  {error}")
        # A course's pre-/post-test may be loaded already: the database is checked at loading.
        course = report.course
        tests = (("pre_test", course.pre_test), ("post_test", course.post_test)) if course else ()
        for name, code in tests:
            if code is not None and code not in instruments:
                print(f"  note: {name} {code!r} is not among these packs; loading accepts it")
                print("    if it is loaded already")
    bad = sum(not report.ok for report in reports)
    print(f"{len(reports)} pack(s), {bad} invalid" if reports else f"no packs in {path}")
    return 1 if bad or not reports else 0


async def load_content(settings: Settings, path: Path) -> int:
    """Check and load packs into the database; nothing is loaded if any pack is invalid."""
    from bot.db import create_engine, make_sessionmaker
    from bot.services.content import load_path

    engine = create_engine(settings.database_url)
    try:
        outcome = await load_path(make_sessionmaker(engine), path)
    finally:
        await engine.dispose()
    for error in outcome.errors:
        print(f"  {error}")
    if not outcome.ok:
        print("nothing was loaded: fix the errors above and load again")
        return 1
    for item in outcome.loaded:
        kind = f" ({item.kind})" if item.kind != "instrument" else ""
        print(f"{item.source}: {item.code}{kind} v{item.version} {item.status.replace('_', ' ')}")
    return 0


async def verify_certificate(settings: Settings, code: str) -> int:
    """Print who, what, when and where of the certificate `code`; unknown: one line, exit 1."""
    from bot.db import create_engine, make_sessionmaker
    from bot.services.certificates import verify

    engine = create_engine(settings.database_url)
    try:
        found = await verify(make_sessionmaker(engine), code)
    finally:
        await engine.dispose()
    if found is None:
        print(f"unknown certificate code {code.strip()[:40]!r}", file=sys.stderr)
        return 1
    title = found.course_title
    course = title.get("en") or next(iter(title.values()), found.course_code)
    issued = found.issued_at.astimezone(settings.tz)
    print(f"certificate {found.code}: genuine")
    print(f"name: {found.name}")
    if found.kind == "course":
        print(f"course: {course} ({found.course_code})")
    else:  # a contest's participation or winner's certificate
        print(f"contest: {course} ({found.course_code})")
        award = f"winner, place {found.rank}" if found.kind == "winner" else "participation"
        print(f"award: {award}")
    print(f"issued: {issued:%Y-%m-%d} ({settings.tz.key})")
    print(f"university: {found.university or '-'}")
    return 0


def _date(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-09-01") from None
    if not 2000 <= day.year <= 2100:
        raise argparse.ArgumentTypeError(f"{text!r}: a year between 2000 and 2100, please")
    return day


def _warn_default_key(settings: Settings) -> None:
    if settings.pseudonym_key.get_secret_value() == DEFAULT_PSEUDONYM_KEY:
        print(
            "warning: PSEUDONYM_KEY is the public default: participant codes can be recomputed "
            "by anyone and will not match exports made with the deployment's key",
            file=sys.stderr,
        )


def export_filters(args: argparse.Namespace) -> Any:
    """The filters given on the command line."""
    from bot.services.exports import Filters

    return Filters(
        campaign_id=args.campaign,
        wave=args.wave,
        university=args.university,
        country=args.country.upper() if args.country else None,
        instrument=args.instrument,
        since=args.since,
        until=args.until,
    )


async def _audit(
    settings: Settings, dataset: str, fmt: str, filters: Any, identified: bool, rows: int
) -> None:
    """Record a command-line export or analysis in the audit log."""
    from bot.db import create_engine, make_sessionmaker
    from bot.services import exports

    engine = create_engine(settings.database_url)
    try:
        sessions = make_sessionmaker(engine)
        await exports.record(sessions, None, "cli", dataset, fmt, filters, identified, rows)
    finally:
        await engine.dispose()


async def run_export(settings: Settings, args: argparse.Namespace) -> int:
    """Write a research dataset (pseudonymous unless `--identified`; the audit log records it)."""
    from bot.jobs.background import relaxed_gc
    from bot.services import exports
    from bot.services.exports.common import options

    _warn_default_key(settings)
    folder, stem = _export_target(args.out, args.dataset)
    filters = export_filters(args)
    with relaxed_gc():  # this process does nothing else: collect less often
        written = await exports.export(
            settings.database_url,
            args.dataset,
            args.format,
            filters,
            options(settings, args.labels, args.identified),
            folder,
            stem,
        )
    await _audit(settings, args.dataset, args.format, filters, args.identified, written.rows)
    for path in written.files:
        print(path)
    print(f"{written.rows} rows; codebook {written.codebook}")
    return 0


async def run_contest_bundle(settings: Settings, code: str, out: Path) -> int:
    """Write a contest's entries with their files as a ZIP (split past 48 MB) into `out`.

    The files are downloaded from Telegram with BOT_TOKEN (and BOT_API_URL): Telegram keeps
    them, and only the bot they were sent to may download them, so without a token this says
    so and writes nothing. A file that cannot be downloaded is listed in the manifest with the
    reason; the exit status is 0 all the same (the failures are printed).
    """
    from bot.db import create_engine, make_sessionmaker
    from bot.downloads import NoToken, bot_from_settings, fetcher
    from bot.services import contest_bundle

    try:
        bot = bot_from_settings(settings)
    except NoToken as exc:
        raise CliError(f"cannot download the entries' files: {exc}", 2) from None
    folder = _folder(out)
    engine = create_engine(settings.database_url)
    try:
        sessions = make_sessionmaker(engine)
        try:
            async with bot:
                bundle = await contest_bundle.write(sessions, folder, fetcher(bot), code=code)
        except NotFound:
            raise CliError(f"no contest {code!r}") from None
        except InvalidToken:  # its message quotes the token: never print it
            raise CliError("BOT_TOKEN was rejected by the Bot API") from None
        await contest_bundle.record(sessions, None, "cli", bundle, None)
    finally:
        await engine.dispose()
    for path in bundle.parts:
        print(path)
    print(
        f"{bundle.entries} entries, {bundle.files} files: {bundle.fetched} downloaded, "
        f"{bundle.failed} failed (listed in manifest.csv)"
    )
    for entry, name, reason in bundle.failures:
        print(f"failed: {entry}/{name}: {reason}")
    return 0


async def run_analysis(settings: Settings, args: argparse.Namespace) -> int:
    """Analyse an instrument (or pre/post pair) into a workbook and charts; print a summary."""
    from bot.jobs.background import relaxed_gc
    from bot.services.analysis import analyse

    _warn_default_key(settings)
    filters = export_filters(args)
    _folder(args.out)
    with relaxed_gc():  # this process does nothing else: collect less often
        outcome = await analyse(
            settings.database_url,
            args.instrument,
            filters,
            settings.pseudonym_key.get_secret_value(),
            args.labels,
            args.out,
            (args.pre, args.post),
        )
    await _audit(settings, "analysis", "xlsx", filters, False, outcome.participants)
    waves = ", ".join(f"{w}: {n}" for w, n in outcome.by_wave.items())
    print(f"{outcome.title}: {outcome.participants} participants ({waves})")
    if outcome.pre_wave and outcome.post_wave:
        print(f"pre/post {outcome.pre_wave} -> {outcome.post_wave}: {outcome.pairs} linked")
        for line in outcome.lines:
            print(
                f"  {line.title}: {line.mean_pre:.2f} -> {line.mean_post:.2f} "
                f"(p = {line.p:.4g}, dz = {line.dz:.2f})"
            )
    for note in outcome.notes:
        print(f"note: {note}")
    for path in [outcome.workbook, *outcome.charts]:
        print(path)
    return 0


def _campaign_id(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= ID_MAX:
        raise argparse.ArgumentTypeError(f"{text!r} is not a campaign id")
    return int(text)


def _port(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (0 to 65535)")
    return int(text)


def add_filters(parser: argparse.ArgumentParser) -> None:
    """The filters shared by `export` and `analysis`."""
    from bot.services.universities import COUNTRIES

    parser.add_argument("--instrument", help="instrument code (its pre/post partner comes too)")
    parser.add_argument("--campaign", type=_campaign_id)
    parser.add_argument("--wave")
    parser.add_argument("--university", help="university code, e.g. dulaty")
    parser.add_argument("--country", type=str.upper, choices=COUNTRIES, help="KZ, RU or UZ")
    parser.add_argument("--since", type=_date, help="attempts started on or after YYYY-MM-DD")
    parser.add_argument("--until", type=_date, help="attempts started on or before YYYY-MM-DD")


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run it; returns the exit code."""
    from bot.services.exports import DATASETS

    parser = OneLineParser(prog="python -m bot", description="Ortaq Telegram bot")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (the sandbox if BOT_TOKEN is not set)")
    sub.add_parser("migrate", help="upgrade the database schema and exit")
    sandbox = sub.add_parser("sandbox", help="run against the embedded Bot API emulator")
    sandbox.add_argument("--port", type=_port, default=8081, help="emulator HTTP port (0: any)")
    sandbox.add_argument("--host", default="127.0.0.1")
    content = sub.add_parser("content", help="check or load content packs")
    content.add_argument("action", choices=["validate", "load"])
    content.add_argument("path", type=Path)
    verify = sub.add_parser("verify", help="check a certificate's verification code")
    verify.add_argument("code", help="the code printed on the certificate")
    export = sub.add_parser("export", help="write a pseudonymous research dataset")
    # Every registered dataset (bot.services.exports.datasets), in the order chat offers them.
    export.add_argument("--dataset", choices=list(DATASETS), default="answers")
    export.add_argument("--format", choices=["csv", "parquet", "xlsx", "sav"], default="csv")
    export.add_argument("--out", type=Path, required=True, help="a file name, or a folder")
    export.add_argument("--labels", choices=["kk", "ru", "en"], default="en")
    export.add_argument(
        "--identified",
        action="store_true",
        help="add Telegram id, name and username (recorded in the audit log)",
    )
    add_filters(export)
    bundle = sub.add_parser(
        "contest-bundle",
        help="a contest's entries with their files as a ZIP (needs BOT_TOKEN to download)",
    )
    bundle.add_argument("code", help="the contest's code, e.g. dlt_platform_contest")
    bundle.add_argument("--out", type=Path, required=True, help="folder for the archive")
    analysis = sub.add_parser("analysis", help="statistics and charts of an instrument")
    analysis.add_argument("--out", type=Path, required=True, help="folder for the files")
    analysis.add_argument("--labels", choices=["kk", "ru", "en"], default="en")
    analysis.add_argument("--pre", help="wave to compare from (default: pre)")
    analysis.add_argument("--post", help="wave to compare to (default: post)")
    add_filters(analysis)
    args = parser.parse_args(argv)
    try:
        return _dispatch(args)
    except CliError as exc:
        print(exc, file=sys.stderr)
        return exc.code


def _dispatch(args: argparse.Namespace) -> int:
    """Run the parsed command; a failure of a one-shot command is raised as a CliError."""
    if args.command == "content" and args.action == "validate":
        return _one_shot("read", validate_content, args.path)
    try:
        settings = load_settings()
    except ConfigError as exc:
        raise CliError(str(exc), 2) from None
    setup_logging(settings)
    command = args.command or "run"
    if command == "sandbox" or (command == "run" and settings.sandbox):
        settings = settings.for_sandbox()
    try:
        migrate(settings.database_url)
    except (OSError, SQLAlchemyError) as exc:
        url = make_url(settings.database_url).render_as_string(hide_password=True)
        raise CliError(f"cannot open the database {url}: {_reason(exc)}") from None
    if command == "migrate":
        print("database is up to date")
        return 0
    if command == "export":
        return _one_shot("write", asyncio.run, run_export(settings, args))
    if command == "analysis":
        if not args.instrument:
            raise CliError("analysis needs --instrument CODE (e.g. dlt_pre)", 2)
        try:
            return _one_shot("write", asyncio.run, run_analysis(settings, args))
        except NotFound:
            raise CliError(f"no instrument {args.instrument!r}") from None
    if command == "contest-bundle":
        return _one_shot("write", asyncio.run, run_contest_bundle(settings, args.code, args.out))
    if command == "verify":
        return _one_shot("read", asyncio.run, verify_certificate(settings, args.code))
    if command == "content":
        if not args.path.exists():
            raise CliError(f"{args.path}: no such file or folder")
        return _one_shot("read", asyncio.run, load_content(settings, args.path))
    if command == "run" and not settings.sandbox:
        if settings.bot_mode == "webhook" or settings.health_listen:
            return run_served(settings)
        return run_polling(settings)
    from bot.sandbox.console import run_sandbox

    host = getattr(args, "host", "127.0.0.1")
    port = getattr(args, "port", 8081)
    try:
        return asyncio.run(
            run_sandbox(settings, host=host, port=port, interactive=sys.stdin.isatty())
        )
    except (OSError, OverflowError) as exc:  # the address is taken, or no such host
        raise CliError(f"cannot start the sandbox on {host}:{port}: {_reason(exc)}") from None


def _one_shot(verb: str, run: Any, *args: Any) -> int:
    """`run(*args)` for a command that runs once; any failure becomes one line (CliError).

    `verb` says what the command does with files ("read", "write"), for an OSError.

    NotFound and CliError pass through: the caller words them.
    """
    try:
        result: int = run(*args)
    except (CliError, NotFound):
        raise
    except Exception as exc:  # noqa: BLE001 - one line is the contract of the command line
        raise _one_line(exc, verb) from None
    return result


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        # Ctrl-C before the bot took SIGINT over (importing, migrating): stop without a trace.
        sys.exit(130)
