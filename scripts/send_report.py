#!/usr/bin/env python3
"""Send the daily report (a Markdown file) by e-mail; skip with a notice when mail is not set up.

Usage: python scripts/send_report.py reports/daily/summary.md [--images reports/images]

Settings come from the environment only (in GitHub Actions: repository secrets, README
"Continuous training and delivery"), never from a file in the repository:

  MAIL_SERVER    SMTP host (required; unset: the report is not sent, exit 0 with a notice)
  MAIL_TO        recipients, comma-separated (required, as MAIL_SERVER)
  MAIL_PORT      default 587 (STARTTLS); 465 means TLS from the start
  MAIL_USERNAME  login; with a password, never sent unless the connection is encrypted
  MAIL_PASSWORD
  MAIL_FROM      sender (default: MAIL_USERNAME)

The message is plain text (the Markdown as is; its tables read well in a fixed font), with
the report's first line (its title) and the decision line in the subject; ``--images DIR``
attaches the PNGs of DIR (the headline figures the ``images`` stage draws: ROC, KS, score
distribution, score bands). Exit code 0 sent
or skipped; 1 the server refused or could not be reached; 2 bad settings or no report file.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import sys
from email.message import EmailMessage
from pathlib import Path

REQUIRED = ("MAIL_SERVER", "MAIL_TO")


def notice(text: str) -> None:
    """A GitHub Actions notice inside a workflow, a plain line elsewhere."""
    prefix = "::notice title=E-mail report::" if os.environ.get("GITHUB_ACTIONS") == "true" else "notice: "
    print(prefix + text, flush=True)


def settings(env: dict) -> dict | None:
    """The mail settings from ``env``; None when mail is not configured (nothing required set)."""
    values = {k: env.get(k, "").strip() for k in
              ("MAIL_SERVER", "MAIL_PORT", "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_FROM", "MAIL_TO")}
    missing = [k for k in REQUIRED if not values[k]]
    if len(missing) == len(REQUIRED):
        return None
    if missing:
        raise ValueError(f"{', '.join(missing)} not set (mail needs {' and '.join(REQUIRED)})")
    port = values["MAIL_PORT"] or "587"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"MAIL_PORT must be a port number, got {port!r}")
    sender = values["MAIL_FROM"] or values["MAIL_USERNAME"]
    if not sender:
        raise ValueError("MAIL_FROM (or MAIL_USERNAME) must name the sender")
    recipients = [r.strip() for r in values["MAIL_TO"].split(",") if r.strip()]
    return {"server": values["MAIL_SERVER"], "port": int(port), "username": values["MAIL_USERNAME"],
            "password": values["MAIL_PASSWORD"], "sender": sender, "recipients": recipients}


def message(report: str, sender: str, recipients: list[str], images: list[Path] = ()) -> EmailMessage:
    """The e-mail: subject from the report's title and decision line, body the report, the
    ``images`` (PNG files) attached."""
    lines = [line.strip() for line in report.splitlines() if line.strip()]
    title = lines[0].lstrip("# ").strip() if lines else "Daily scorecard run"
    decision = next((line for line in lines if line.startswith("**Decision:")), "")
    outcome = decision.split("**")[1].removeprefix("Decision:").strip() if decision.count("**") >= 2 else ""
    msg = EmailMessage()
    msg["Subject"] = f"{title}: {outcome}" if outcome else title
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg.set_content(report)
    for image in images:
        msg.add_attachment(image.read_bytes(), maintype="image", subtype="png", filename=image.name)
    return msg


def send(msg: EmailMessage, cfg: dict, timeout: float = 30) -> None:
    """Deliver ``msg``; the password only ever travels over TLS."""
    context = ssl.create_default_context()
    if cfg["port"] == 465:
        smtp = smtplib.SMTP_SSL(cfg["server"], cfg["port"], timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(cfg["server"], cfg["port"], timeout=timeout)
    with smtp:
        smtp.ehlo()
        if cfg["port"] != 465:
            if smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
            elif cfg["password"]:
                raise smtplib.SMTPException(f"{cfg['server']}:{cfg['port']} offers no STARTTLS: not sending the "
                                            "password over an unencrypted connection")
        if cfg["username"] and cfg["password"]:
            smtp.login(cfg["username"], cfg["password"])
        smtp.send_message(msg)


def main(argv: list[str] | None = None, env: dict | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    env = os.environ if env is None else env
    images_dir = None
    if len(argv) == 3 and argv[1] == "--images":
        argv, images_dir = argv[:1], Path(argv[2])
    if len(argv) != 1:
        print("usage: python scripts/send_report.py REPORT.md [--images DIR]", file=sys.stderr)
        return 2
    report = Path(argv[0])
    try:
        cfg = settings(env)
    except ValueError as error:
        print(f"send_report: error: {error}", file=sys.stderr)
        return 2
    if cfg is None:
        notice(f"e-mail skipped: MAIL_SERVER and MAIL_TO are not set ({report} was not sent)")
        return 0
    if not report.is_file():
        print(f"send_report: error: {report}: report not found", file=sys.stderr)
        return 2
    if images_dir is not None and not images_dir.is_dir():
        print(f"send_report: error: {images_dir}: images folder not found", file=sys.stderr)
        return 2
    images = sorted(images_dir.glob("*.png")) if images_dir is not None else []
    msg = message(report.read_text(encoding="utf-8"), cfg["sender"], cfg["recipients"], images)
    try:
        send(msg, cfg)
    except (OSError, smtplib.SMTPException) as error:
        print(f"send_report: error: sending to {cfg['server']}:{cfg['port']} failed: {error}", file=sys.stderr)
        return 1
    print(f"send_report: sent {report} to {len(cfg['recipients'])} recipient(s): {msg['Subject']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
