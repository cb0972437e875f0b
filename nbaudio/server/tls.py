"""TLS for the engine: `nbaudio serve --tls-cert FILE --tls-key FILE` and
`nbaudio.local.start(tls_cert=..., tls_key=...)`; uvicorn then serves https:// and wss://.

The two files are checked here before anything binds, so a wrong file is told in words (which
file, what is wrong with it, what to do) instead of a server that fails every handshake. The
engine's own warm-up requests trust the engine's certificate (`self_trusting_context`).
"""

from __future__ import annotations

import os
import ssl
import stat
from pathlib import Path

from ..errors import InvalidInputError

__all__ = ["TLSFileError", "check_tls_files", "self_trusting_context", "uvicorn_tls_options"]

_MAX_PEM_BYTES = 1024 * 1024  # a certificate chain or a key is a few kB; /dev/zero is not read on
_MAKE_ONE = ("for a test, a self-signed one: openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=localhost "
             "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout key.pem -out cert.pem")


class TLSFileError(InvalidInputError):
    """A --tls-cert or --tls-key file the engine cannot serve TLS with; the message says which and why."""


def check_tls_files(cert: str | os.PathLike[str] | None,
                    key: str | os.PathLike[str] | None) -> tuple[Path, Path] | None:
    """(certificate, key) as paths once both load as a PEM certificate chain and its private key;
    None when neither is given. Raises TLSFileError saying what to do."""
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise TLSFileError("tls_cert and tls_key go together: the certificate (PEM) and its private key (PEM)"
                           ).with_hint(f"give both files, or neither to serve plain http; {_MAKE_ONE}")
    cert_path, key_path = Path(cert).expanduser(), Path(key).expanduser()
    cert_text = _read_pem(cert_path, "--tls-cert")
    key_text = _read_pem(key_path, "--tls-key")
    _check_cert_text(cert_path, cert_text)
    _check_key_text(key_path, key_text)
    _check_pair(cert_path, key_path)
    return cert_path, key_path


def _read_pem(path: Path, option: str) -> str:
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # uvicorn reads the file again when it starts: a pipe would be empty
            raise TLSFileError(f"{option} {path}: not a regular file").with_hint("give the path of a PEM file")
        if info.st_size > _MAX_PEM_BYTES:
            raise TLSFileError(f"{option} {path}: {info.st_size} bytes, too large for a PEM certificate or key"
                               ).with_hint("give the PEM file itself (a certificate chain or a key is a few kB)")
        data = path.read_bytes()
    except FileNotFoundError:
        raise TLSFileError(f"{option} {path}: no such file").with_hint(f"check the path; {_MAKE_ONE}") from None
    except OSError as exc:
        raise TLSFileError(f"{option} {path}: cannot read it ({exc.strerror or exc})").with_hint(
            "make it readable by the user running the engine (the key: by that user alone, chmod 600)") from None
    return data.decode("ascii", "replace")


def _check_cert_text(path: Path, text: str) -> None:
    if "-----BEGIN CERTIFICATE-----" in text:
        return
    if "PRIVATE KEY-----" in text:
        raise TLSFileError(f"--tls-cert {path}: holds a private key, not a certificate").with_hint(
            "are --tls-cert and --tls-key swapped? --tls-cert takes the certificate (-----BEGIN CERTIFICATE-----)")
    raise TLSFileError(f"--tls-cert {path}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)").with_hint(
        f"convert a DER certificate with: openssl x509 -inform der -in {path} -out cert.pem")


def _check_key_text(path: Path, text: str) -> None:
    if "PRIVATE KEY-----" not in text:
        if "-----BEGIN CERTIFICATE-----" in text:
            raise TLSFileError(f"--tls-key {path}: holds a certificate, not a private key").with_hint(
                "are --tls-cert and --tls-key swapped? --tls-key takes the key (-----BEGIN PRIVATE KEY-----)")
        raise TLSFileError(f"--tls-key {path}: holds no PEM private key (-----BEGIN PRIVATE KEY-----)").with_hint(
            f"convert a DER key with: openssl pkey -inform der -in {path} -out key.pem")
    if "ENCRYPTED" in text:  # PKCS#8 "BEGIN ENCRYPTED PRIVATE KEY" or an old "Proc-Type: 4,ENCRYPTED"
        raise TLSFileError(f"--tls-key {path}: the key is encrypted with a passphrase, which the engine "
                           "cannot ask for").with_hint(
            f"write a copy without the passphrase, readable by you alone: openssl pkey -in {path} -out key.pem "
            "&& chmod 600 key.pem")


def _no_passphrase() -> bytes:
    # Without a callback OpenSSL would prompt on the terminal; the text checks above tell the case.
    raise TLSFileError("the key asks for a passphrase, which the engine cannot ask for")


def _check_pair(cert: Path, key: Path) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key, password=_no_passphrase)
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            raise TLSFileError(f"--tls-key {key} is not the private key of the certificate in --tls-cert {cert}"
                               ).with_hint("give the key the certificate was made for; in a chain file the "
                                           "server's own certificate comes first") from None
        raise TLSFileError(f"--tls-cert {cert} and --tls-key {key} do not load as a certificate and its key "
                           f"({exc.reason or exc})").with_hint(
            "check both are PEM files: openssl x509 -in CERT -noout -subject; openssl pkey -in KEY -noout") from None


def self_trusting_context(cert: Path) -> ssl.SSLContext:
    """A client context that trusts exactly the certificates in `cert` and checks no host name: the
    engine calling itself on loopback (its warm-up), at 127.0.0.1, which its certificate need not name."""
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False
    # The engine's own certificate is the trust anchor, whoever issued it (no need for the issuer's file).
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return context


def uvicorn_tls_options(cert: Path | None, key: Path | None) -> dict[str, str]:
    """uvicorn.Config's arguments for serving TLS with these (checked) files; none for plain http."""
    if cert is None or key is None:
        return {}
    return {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
