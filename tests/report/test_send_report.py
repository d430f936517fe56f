"""The daily report by e-mail (scripts/send_report.py): skipped with a notice when mail is not set
up, refused on half a configuration, and delivered over SMTP to a server on this machine."""

import email
import email.policy
import importlib.util
import socketserver
import threading

import pytest

from conftest import ROOT

REPORT = "# Daily scorecard run: 2026-01-02 00:00 UTC\n\n**Decision: kept**: champion a kept.\n\n| a | b |\n|---|---|\n"


@pytest.fixture(scope="module")
def mailer():
    spec = importlib.util.spec_from_file_location("send_report", ROOT / "scripts" / "send_report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _SMTP(socketserver.StreamRequestHandler):
    """Just enough SMTP (no TLS, no AUTH) to receive one message on 127.0.0.1."""

    def reply(self, text: str) -> None:
        self.wfile.write((text + "\r\n").encode())

    def handle(self):
        self.reply("220 localhost test server")
        while True:
            line = self.rfile.readline().decode().rstrip("\r\n")
            verb = line.split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 localhost")
            elif verb in ("MAIL", "RCPT"):
                self.server.envelope.append(line)
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go on")
                data = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data.append(chunk)
                self.server.messages.append(b"".join(data))
                self.reply("250 queued")
            elif verb == "QUIT" or not line:
                self.reply("221 bye")
                return
            else:
                self.reply("502 not here")


@pytest.fixture()
def smtp_server():
    server = socketserver.TCPServer(("127.0.0.1", 0), _SMTP)
    server.messages, server.envelope = [], []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_skipped_with_a_notice_when_mail_is_not_set(mailer, tmp_path, capsys):
    assert mailer.main([str(tmp_path / "summary.md")], env={}) == 0
    assert "notice: e-mail skipped: MAIL_SERVER and MAIL_TO are not set" in capsys.readouterr().out
    assert mailer.main([str(tmp_path / "summary.md")], env={"GITHUB_ACTIONS": "true"}) == 0


def test_skip_is_a_github_notice_inside_a_workflow(mailer, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert mailer.main([str(tmp_path / "summary.md")], env={}) == 0
    assert capsys.readouterr().out.startswith("::notice title=E-mail report::e-mail skipped")


@pytest.mark.parametrize(("env", "message"), [
    ({"MAIL_SERVER": "smtp.example"}, "MAIL_TO not set"),
    ({"MAIL_SERVER": "smtp.example", "MAIL_TO": "risk@example", "MAIL_PORT": "smtp"}, "MAIL_PORT must be a port"),
    ({"MAIL_SERVER": "smtp.example", "MAIL_TO": "risk@example"}, "MAIL_FROM (or MAIL_USERNAME) must name the sender"),
])
def test_half_a_configuration_is_an_error(mailer, tmp_path, capsys, env, message):
    assert mailer.main([str(tmp_path / "summary.md")], env=env) == 2
    assert message in capsys.readouterr().err


def test_the_report_is_delivered(mailer, tmp_path, smtp_server, capsys):
    report = tmp_path / "summary.md"
    report.write_text(REPORT)
    env = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_server.server_address[1]),
           "MAIL_FROM": "scorecard@example.org", "MAIL_TO": "risk@example.org, cro@example.org"}
    assert mailer.main([str(report)], env=env) == 0, capsys.readouterr().err
    (raw,) = smtp_server.messages
    msg = email.message_from_bytes(raw)
    assert msg["Subject"] == "Daily scorecard run: 2026-01-02 00:00 UTC: kept"
    assert msg["To"] == "risk@example.org, cro@example.org" and msg["From"] == "scorecard@example.org"
    assert msg.get_payload(decode=True).decode().replace("\r\n", "\n") == REPORT
    assert sum(line.upper().startswith("RCPT") for line in smtp_server.envelope) == 2


def test_a_password_is_never_sent_unencrypted(mailer, tmp_path, smtp_server, capsys):
    report = tmp_path / "summary.md"
    report.write_text(REPORT)
    env = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_server.server_address[1]), "MAIL_USERNAME": "bot",
           "MAIL_PASSWORD": "x", "MAIL_TO": "risk@example.org"}
    assert mailer.main([str(report)], env=env) == 1
    assert "offers no STARTTLS: not sending the password" in capsys.readouterr().err
    assert smtp_server.messages == []


def test_the_headline_images_are_attached(mailer, tmp_path, smtp_server, capsys):
    report = tmp_path / "summary.md"
    report.write_text(REPORT)
    images = tmp_path / "images"
    images.mkdir()
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))   # any bytes: the mail carries them unchanged
    (images / "roc.png").write_bytes(png)
    (images / "score_distribution.png").write_bytes(png[::-1])
    env = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_server.server_address[1]),
           "MAIL_FROM": "scorecard@example.org", "MAIL_TO": "risk@example.org"}
    assert mailer.main([str(report), "--images", str(images)], env=env) == 0, capsys.readouterr().err
    (raw,) = smtp_server.messages
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    parts = list(msg.iter_attachments())
    assert [p.get_filename() for p in parts] == ["roc.png", "score_distribution.png"]
    assert parts[0].get_content_type() == "image/png" and parts[0].get_payload(decode=True) == png
    body = next(msg.iter_parts()).get_payload(decode=True).decode().replace("\r\n", "\n")
    assert body == REPORT
    assert mailer.main([str(report), "--images", str(tmp_path / "none")], env=env) == 2
