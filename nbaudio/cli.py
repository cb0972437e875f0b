"""`nbaudio serve` (the local engine over HTTP) and `nbaudio doctor` (what works here, and why not)."""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import os
import platform
import socket
import stat
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._wire.hosts import is_loopback_host

if TYPE_CHECKING:
    from .server.catalog.weights import ModelSource
    from .server.registry import ModelRegistry
    from .server.settings import Settings

__all__ = ["main", "print_backend"]


# A key on the command line is readable by every user of the machine (/proc/PID/cmdline, ps).
_IN_ARGV = "the command line is visible to every local user in /proc/PID/cmdline and ps"
_KEY_FILE_MAX = 4096  # bytes: a key file holds one key (and /dev/zero is read no further)


class _KeyProblem(Exception):
    """A key file that cannot give a key; the message says which and why, never the key."""


def _key(args: argparse.Namespace, dest: str, option: str, env: str) -> str | None:
    """The key from `--option`, `--option-file` or `$env` (the first given); a flag gets a warning."""
    flag, path = getattr(args, dest), getattr(args, dest + "_file")
    if flag is not None:
        print(f"nbaudio serve: warning: {option} puts the key where every local user can read it "
              f"(/proc/PID/cmdline, ps); set {env} or use {option}-file PATH instead", file=sys.stderr)
        return flag or None
    if path is not None:
        return _read_key_file(Path(path), option + "-file")
    return os.environ.get(env) or None


def _read_key_file(path: Path, option: str) -> str:
    try:
        with open(path, "rb") as f:  # a pipe (`<(pass show key)`) is fine: read as it comes
            mode = os.fstat(f.fileno()).st_mode
            data = f.read(_KEY_FILE_MAX + 1)
    except OSError as exc:
        raise _KeyProblem(f"{option} {path}: cannot read it ({exc.strerror or exc})") from None
    if stat.S_ISREG(mode) and mode & 0o077:  # as ssh checks a private key
        print(f"nbaudio serve: warning: {path} ({option}) has mode {stat.S_IMODE(mode):o}: other users can read or "
              f"change the key; chmod 600 {path}", file=sys.stderr)
    if len(data) > _KEY_FILE_MAX:
        raise _KeyProblem(f"{option} {path}: over {_KEY_FILE_MAX} bytes; a key file holds the key alone, on one line")
    try:
        key = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise _KeyProblem(f"{option} {path}: not UTF-8 text; a key file holds the key alone, on one line") from None
    if not key:
        raise _KeyProblem(f"{option} {path}: the file is empty; write the key in it, on one line")
    if any(ch.isspace() for ch in key):
        raise _KeyProblem(f"{option} {path}: holds more than one line or word; a key file holds the key alone, "
                          "on one line")
    return key


def _serve(args: argparse.Namespace) -> int:
    from .local import missing_local_parts, missing_parts_message

    try:
        api_key = _key(args, "api_key", "--api-key", "NBAUDIO_SERVE_API_KEY")
        upstream_key = _key(args, "chat_upstream_key", "--chat-upstream-key", "NBAUDIO_CHAT_UPSTREAM_KEY")
    except _KeyProblem as exc:
        print(f"nbaudio serve: {exc}", file=sys.stderr)
        return 2
    if not is_loopback_host(args.host) and not api_key:
        print(f"nbaudio serve: refusing to listen on {args.host} without an API key; anyone who can reach this "
              "machine could use it. Set NBAUDIO_SERVE_API_KEY (or pass --api-key-file PATH), or bind 127.0.0.1.",
              file=sys.stderr)
        return 2
    missing = missing_local_parts()
    if missing:
        print(f"nbaudio serve: {missing_parts_message(missing)}", file=sys.stderr)
        return 1
    import uvicorn

    from .server.app import create_app
    from .server.settings import Settings
    from .server.tls import uvicorn_tls_options

    try:
        settings = Settings.from_env(
            host=args.host, port=args.port, api_key=api_key, chat_upstream=args.chat_upstream,
            chat_upstream_key=upstream_key,
            chat_upstream_model=args.chat_upstream_model, model_dir=args.model_dir, llm_model=args.llm_model,
            stt_en_model=args.stt_en_model, stt_multi_model=args.stt_model, tts_voice=args.tts_voice,
            allowed_hosts=tuple(args.allowed_host or ()), cors_origins=tuple(args.cors_origin or ()),
            max_concurrent=args.max_concurrent, max_queue=args.max_queue, max_audio_seconds=args.max_audio_seconds,
            tls_cert=args.tls_cert, tls_key=args.tls_key,
        )
    except ValueError as exc:  # a bad limit, origin or TLS file: say which (before anything binds)
        print(f"nbaudio serve: {exc}", file=sys.stderr)
        return 2
    app = create_app(settings)
    # Bound here, so --port 0 (a free port) can be reported before the server runs.
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    port = sock.getsockname()[1]
    shown = f"[{args.host}]" if ":" in args.host else args.host
    root = f"{settings.scheme}://{shown}:{port}/v1"
    print(f"nbaudio engine: {root}  (Realtime {root.replace('http', 'ws', 1)}/realtime; "
          f"auth {'on' if api_key else 'off'}; "
          f"chat from {'the upstream endpoint' if settings.chat_upstream else 'the local model'}; Ctrl-C stops)",
          flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level=args.log_level, access_log=args.log_level == "debug",
                                           timeout_keep_alive=5, **uvicorn_tls_options(settings.tls_cert,
                                                                                       settings.tls_key)))
    threading.Thread(target=_watch, args=(server, app, port, args), daemon=True, name="nbaudio-serve-watch").start()
    try:
        server.run(sockets=[sock])
    finally:
        if args.state_file:
            from .shared_engine import remove_state

            remove_state(Path(args.state_file))
    return 0


def _watch(server: Any, app: Any, port: int, args: argparse.Namespace) -> None:
    """Once the engine listens: write --state-file; then stop it after --idle-exit seconds idle."""
    while not server.started:
        if server.should_exit:
            return
        time.sleep(0.05)
    if args.state_file:
        from .shared_engine import write_state

        write_state(Path(args.state_file), port)
    warmup = app.state.warmup
    if warmup is not None:
        print("nbaudio engine: loading models (requests wait for them)", flush=True)
        warmup.start(_own_url(args.host, port, app.state.engine.settings.scheme)).join()
        failed = f"; not loaded: {', '.join(warmup.failed)} (see above)" if warmup.failed else ""
        print(f"nbaudio engine: ready ({', '.join(f'{k} {v:.1f} s' for k, v in warmup.seconds.items())}{failed})",
              flush=True)
    while args.idle_exit and not server.should_exit:
        if app.state.activity.idle_seconds() > args.idle_exit:
            print(f"nbaudio engine: idle for {args.idle_exit:g} s, stopping", flush=True)
            server.should_exit = True
        time.sleep(min(5.0, args.idle_exit / 4))


def _own_url(host: str, port: int, scheme: str) -> str:
    """How the engine reaches itself: a wildcard bind through loopback, else the address it bound."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"{scheme}://{f'[{host}]' if ':' in host else host}:{port}/v1"


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _doctor(args: argparse.Namespace) -> int:
    from .server.catalog.packages import DOCTOR_PACKAGES, INSTALL_LOCAL
    from .server.models import espeak
    from .server.settings import Settings

    print(f"nbaudio {_version('nbaudio') or '(not installed)'} on Python {platform.python_version()} "
          f"({platform.system()} {platform.machine()}, {os.cpu_count()} cores)")
    print("\nPackages:")
    missing = 0
    for package in DOCTOR_PACKAGES:
        v = _version(package.distribution)
        missing += v is None
        print(f"  {'ok ' if v else '-- '} {package.distribution:<30} {v or 'missing':<12} {package.purpose}"
              + ("" if v else f"  -> {package.hint}"))
    esp = espeak.library_origin()
    print(f"  {'ok ' if esp else '-- '} {'libespeak-ng (espeakng-loader)':<30} {'loads' if esp else 'missing':<12} "
          "speech in languages other than English" + ("" if esp else f"  -> {INSTALL_LOCAL}"))
    settings = Settings.from_env(**({"cache_dir": args.cache_dir} if args.cache_dir else {}))
    print(f"\nModels (cache dir {settings.cache_dir}):")
    failures = _check_models(settings, load=not args.no_load)
    print()
    print_backend()
    return 1 if failures or missing else 0


def print_backend() -> None:
    """Where a client built now would send its calls (the same decision the client makes)."""
    from .backend import resolve_backend

    print("Backend: " + resolve_backend().describe())


def _check_models(settings: Settings, *, load: bool) -> int:
    from .errors import NbAudioError
    from .server.models.sources import llm_source, piper_source, whisper_en_source, whisper_multi_source
    from .server.registry import ModelRegistry

    checks: list[tuple[str, Callable[[], ModelSource], Callable[[ModelRegistry], object]]] = [
        ("speech to text, English", lambda: whisper_en_source(settings), lambda r: r.whisper("en")),
        ("speech to text, other languages", lambda: whisper_multi_source(settings), lambda r: r.whisper("multi")),
        ("text to speech", lambda: piper_source(settings), lambda r: r.piper()),
        ("chat", lambda: llm_source(settings), lambda r: r.local_chat()),
    ]
    registry = ModelRegistry(settings)
    failures = 0
    for what, source, loader in checks:
        try:
            src = source()
        except NbAudioError as exc:
            failures += 1
            print(f"  --  {what}: not available: {exc}")
            continue
        line = f"  ok  {what}: {src.name} from {src.origin}" + (", SHA-256 verified" if src.verified else "")
        if load:
            t0 = time.perf_counter()
            try:
                loader(registry)
                line += f", loads ({time.perf_counter() - t0:.1f} s)"
            except (NbAudioError, ImportError, OSError, RuntimeError, ValueError) as exc:
                failures += 1
                line = line.replace("  ok ", "  -- ", 1) + f", does NOT load: {type(exc).__name__}: {exc}"
        print(line)
    return failures


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nbaudio", description="nbaudio: OpenAI-format audio from notebooks.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="run the local OpenAI-compatible audio engine")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    s.add_argument("--port", type=int, default=8000)
    key = s.add_mutually_exclusive_group()
    key.add_argument("--api-key", metavar="KEY",
                     help="require 'Authorization: Bearer KEY' (needed for a non-loopback --host). Prefer "
                          f"NBAUDIO_SERVE_API_KEY or --api-key-file: {_IN_ARGV}")
    key.add_argument("--api-key-file", metavar="PATH", help="read the key for --api-key from this file (mode 600)")
    s.add_argument("--chat-upstream", metavar="URL",
                   help="OpenAI-compatible base URL (…/v1) whose text chat answers; the engine adds speech in and out")
    upstream_key = s.add_mutually_exclusive_group()
    upstream_key.add_argument("--chat-upstream-key", metavar="KEY",
                              help="API key for --chat-upstream. Prefer NBAUDIO_CHAT_UPSTREAM_KEY or "
                                   f"--chat-upstream-key-file: {_IN_ARGV}")
    upstream_key.add_argument("--chat-upstream-key-file", metavar="PATH",
                              help="read the key for --chat-upstream from this file (mode 600)")
    s.add_argument("--chat-upstream-model", metavar="NAME", help="model name to ask the upstream for")
    s.add_argument("--model-dir", help="folder with extra piper voices (*.onnx) and GGUF files")
    s.add_argument("--llm-model", help="chat model: a name (smollm2-135m-instruct, gemma3-270m) or a GGUF path "
                                       "(default: smollm2-135m-instruct; see docs/chat_models.md)")
    s.add_argument("--stt-model", help="multilingual faster-whisper model: folder or hub name (default: base)")
    s.add_argument("--stt-en-model", help="English faster-whisper model: folder or hub name (default: tiny.en)")
    s.add_argument("--tts-voice", help="piper voice: .onnx path or name in --model-dir (default: en_US-joe-medium)")
    s.add_argument("--allowed-host", action="append", help="extra Host header name to accept (repeatable)")
    s.add_argument("--cors-origin", action="append", metavar="ORIGIN",
                   help="web page origin allowed to call the engine, e.g. http://localhost:8888 (repeatable; "
                        "others are refused)")
    s.add_argument("--tls-cert", metavar="FILE",
                   help="serve https:// and wss:// with this PEM certificate (chain); needs --tls-key. Clients must "
                        "trust it: REQUESTS_CA_BUNDLE (nbaudio, Python), NODE_EXTRA_CA_CERTS (Node)")
    s.add_argument("--tls-key", metavar="FILE", help="the PEM private key of --tls-cert (unencrypted; mode 600)")
    s.add_argument("--max-concurrent", type=int, metavar="N", help="model requests run at once (default 4)")
    s.add_argument("--max-queue", type=int, metavar="N",
                   help="model requests that may wait beyond those; more get 503 with Retry-After (default 64)")
    s.add_argument("--max-audio-seconds", type=float, metavar="S",
                   help="longest audio one request may send (default 3600)")
    s.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    s.add_argument("--idle-exit", type=float, metavar="S", help="stop after S seconds with no request open")
    s.add_argument("--state-file", metavar="PATH",
                   help="once listening, write pid and port here as JSON (nbaudio.shared_engine uses it)")
    s.set_defaults(func=_serve, usage_error=s.error)
    d = sub.add_parser("doctor", help="show what is installed, which models load, and what is missing")
    d.add_argument("--no-load", action="store_true", help="check files and hashes only, do not load models")
    d.add_argument("--cache-dir", help="where the joined Whisper base model lives (default ~/.cache/nbaudio)")
    d.set_defaults(func=_doctor)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve" and (args.tls_cert is None) != (args.tls_key is None):
        args.usage_error("--tls-cert and --tls-key go together: give the certificate and its key, or neither "
                         "for plain http")
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
