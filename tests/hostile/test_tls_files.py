"""The TLS files of `nbaudio serve --tls-cert FILE --tls-key FILE` (issue 32, item 5): every wrong
file is an nbaudio error naming the option, the file, what is wrong and what to do, told before the
engine binds; one of the two alone is a usage error. And the engine's warm-up, which calls the
engine over its own https, trusts exactly the engine's certificate, whatever name it holds.
"""

from __future__ import annotations

import http.server
import os
import socket
import ssl
import threading
from pathlib import Path

import pytest
import trustme

from nbaudio import cli
from nbaudio.errors import InvalidInputError
from nbaudio.server.tls import TLSFileError, check_tls_files
from nbaudio.server.warmup import Warmup


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """A good pair (cert.pem, key.pem) and the wrong files people give instead."""
    from cryptography.hazmat.primitives import serialization

    folder = tmp_path_factory.mktemp("tls-files")
    ca = trustme.CA()
    leaf, other = ca.issue_cert("127.0.0.1", "localhost"), ca.issue_cert("other.example")
    out = {name: folder / f"{name}.pem" for name in ("ca", "cert", "key", "other_key", "encrypted_key", "empty")}
    ca.cert_pem.write_to_path(str(out["ca"]))
    leaf.cert_chain_pems[0].write_to_path(str(out["cert"]))
    leaf.private_key_pem.write_to_path(str(out["key"]))
    other.private_key_pem.write_to_path(str(out["other_key"]))
    key = serialization.load_pem_private_key(leaf.private_key_pem.bytes(), password=None)
    out["encrypted_key"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.BestAvailableEncryption(b"passphrase")))
    out["empty"].write_bytes(b"")
    out["der_cert"] = folder / "cert.der"
    out["der_cert"].write_bytes(ssl.PEM_cert_to_DER_cert(leaf.cert_chain_pems[0].bytes().decode()))
    out["large"] = folder / "large.pem"
    out["large"].write_bytes(b"-----BEGIN CERTIFICATE-----\n" + b"A" * (2 * 1024 * 1024))
    return out


def test_a_good_pair_is_taken_and_none_means_plain_http(files):
    assert check_tls_files(files["cert"], files["key"]) == (files["cert"], files["key"])
    assert check_tls_files(None, None) is None


@pytest.mark.parametrize(("cert", "key", "says", "next_step"), [
    ("missing", "key", "--tls-cert {cert}: no such file", "openssl req -x509"),
    ("cert", "folder", "--tls-key {key}: not a regular file", "PEM file"),
    ("empty", "key", "--tls-cert {cert}: holds no PEM certificate", "openssl x509 -inform der"),
    ("der_cert", "key", "--tls-cert {cert}: holds no PEM certificate", "openssl x509 -inform der"),
    ("key", "cert", "--tls-cert {cert}: holds a private key, not a certificate", "swapped"),
    ("cert", "ca", "--tls-key {key}: holds a certificate, not a private key", "swapped"),
    ("cert", "other_key", "--tls-key {key} is not the private key of the certificate in --tls-cert {cert}",
     "the key the certificate was made for"),
    ("cert", "encrypted_key", "--tls-key {key}: the key is encrypted with a passphrase", "openssl pkey -in"),
    ("large", "key", "--tls-cert {cert}: 2097180 bytes, too large", "a few kB"),
])
def test_each_wrong_file_is_told_with_what_to_do(files, tmp_path, cert, key, says, next_step):
    paths = {**files, "missing": tmp_path / "missing.pem", "folder": tmp_path}
    with pytest.raises(TLSFileError) as info:
        check_tls_files(paths[cert], paths[key])
    err = info.value
    assert isinstance(err, InvalidInputError) and isinstance(err, ValueError)  # Settings' errors are ValueErrors
    assert says.format(cert=paths[cert], key=paths[key]) in err.message, err.message
    assert next_step in err.hint, err.hint


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_an_unreadable_key_is_told(files, tmp_path):
    key = tmp_path / "key.pem"
    key.write_bytes(files["key"].read_bytes())
    key.chmod(0)
    with pytest.raises(TLSFileError, match="cannot read it"):
        check_tls_files(files["cert"], key)


def test_one_of_the_two_alone(files, capsys):
    with pytest.raises(TLSFileError, match="go together"):
        check_tls_files(files["cert"], None)
    for given in (["--tls-cert", str(files["cert"])], ["--tls-key", str(files["key"])]):
        with pytest.raises(SystemExit) as info:
            cli.main(["serve", *given])
        err = capsys.readouterr().err
        assert info.value.code == 2
        assert "usage: nbaudio serve" in err and "--tls-cert and --tls-key go together" in err, err


@pytest.mark.local  # `nbaudio serve` goes as far as the TLS files only with the engine packages installed
def test_serve_tells_a_wrong_key_before_it_binds(files, capsys):
    with socket.socket() as held:  # the port is taken: a bind would fail with "address in use" instead
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        code = cli.main(["serve", "--port", str(port), "--tls-cert", str(files["cert"]),
                         "--tls-key", str(files["other_key"])])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"nbaudio serve: --tls-key {files['other_key']} is not the private key"), err
    assert "Traceback" not in err and "in use" not in err


class _Answers(http.server.BaseHTTPRequestHandler):
    """Any POST answered 200 with a little WAV (the warm-up's speech step keeps it for the next step)."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = _WAV
        self.send_response(200)
        self.send_header("Content-Type", "audio/wav")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


_WAV = (b"RIFF" + (36 + 320).to_bytes(4, "little") + b"WAVEfmt " + (16).to_bytes(4, "little")
        + (1).to_bytes(2, "little") + (1).to_bytes(2, "little") + (16000).to_bytes(4, "little")
        + (32000).to_bytes(4, "little") + (2).to_bytes(2, "little") + (16).to_bytes(2, "little")
        + b"data" + (320).to_bytes(4, "little") + bytes(320))


def _https_server(cert: Path, key: Path) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _warm_up(base_url: str, cert: Path) -> Warmup:
    warmup = Warmup(None, local_chat=False, tls_cert=cert)
    warmup.run(base_url)
    return warmup


def test_the_warm_up_trusts_the_engine_certificate_whatever_name_it_holds(tmp_path):
    # A certificate for a public name only, issued by a CA whose file the engine does not have:
    # the warm-up still reaches the engine at 127.0.0.1 (its own certificate is what it trusts).
    leaf = trustme.CA().issue_cert("engine.example.org")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    server = _https_server(cert, key)
    try:
        base = f"https://127.0.0.1:{server.server_address[1]}/v1"
        warmup = _warm_up(base, cert)
        assert {"speech", "transcription"} <= set(warmup.seconds) and "speech" not in warmup.failed, warmup.failed
        # Another certificate is not trusted: the warm-up trusts the engine's own, not any.
        stranger = tmp_path / "stranger.pem"
        trustme.CA().issue_cert("127.0.0.1").cert_chain_pems[0].write_to_path(str(stranger))
        refused = _warm_up(base, stranger)
        assert "CERTIFICATE_VERIFY_FAILED" in refused.failed["speech"], refused.failed
    finally:
        server.shutdown()
        server.server_close()
