"""toekgw send / status / errors / doctor / simulate, and the configuration file."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.crashkit import LineProcessor, Rig, delivery_bytes
from toekgw.adapters.config import ConfigError, load_settings
from toekgw.adapters.serviceplatform import receive_profile, serviceplatform_settings
from toekgw.cli.main import cli
from toekgw.cli.receive._common import receive_once


def _run(rig: Rig, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--config", str(rig.config)], catch_exceptions=False)


def test_send_records_the_receipt_and_refuses_a_resend(rig: Rig, tmp_path: Path) -> None:
    payload = tmp_path / "VOUCHERS_1.xml"
    payload.write_bytes(b"<vouchers/>\n")
    sent = _run(rig, "send", str(payload), "--to", "erp")
    assert sent.exit_code == 0, sent.output
    assert "receipted: sent; the platform took it as transfer" in sent.output
    (row,) = json.loads(_run(rig, "status", "--json").output)
    assert (row["state"], row["direction"], row["file_name"]) == ("receipted", "out", payload.name)
    assert row["transfer_id"] == rig.sim.platform.deliveries()[0].transfer_uuid
    again = _run(rig, "send", str(payload), "--to", "erp")
    assert again.exit_code == 1
    assert "duplicate refused: file 'VOUCHERS_1.xml'" in again.stderr
    assert "already sent as transmission #1" in again.stderr


def test_the_same_bytes_under_another_name_or_to_others_are_refused_not_resumed(
    rig: Rig, tmp_path: Path
) -> None:
    """A send under way is resumed by sending the same file to the same recipients; the same
    bytes under another name, or to other recipients, were reported as that send's transmission
    (uploaded) while nothing went where they were sent."""
    first, renamed = tmp_path / "A.xml", tmp_path / "B.xml"
    first.write_bytes(b"<same/>\n")
    renamed.write_bytes(b"<same/>\n")
    started = _run(rig, "send", str(first), "--to", "erp", "--wait", "0")
    assert started.exit_code == 1 and "transmission #1" in started.output, started.output
    for file, to in ((renamed, "erp"), (first, "ksd"), (renamed, "ksd")):
        refused = _run(rig, "send", str(file), "--to", to, "--wait", "0")
        assert refused.exit_code == 1, refused.output
        assert f"duplicate refused: file {file.name!r} to {to}" in refused.stderr
        assert "already sent as transmission #1 'A.xml'" in refused.stderr
    resumed = _run(rig, "send", str(first), "--to", "erp")
    assert resumed.exit_code == 0 and "transmission #1" in resumed.output, resumed.output
    assert [(d.name, d.recipients) for d in rig.sim.platform.deliveries()] == [("A.xml", ("erp",))]
    assert len(json.loads(_run(rig, "status", "--json").output)) == 1


@pytest.mark.parametrize("recipient", ["", "   ", " erp", "e\x01rp"])
def test_a_recipient_that_is_no_party_is_refused_before_anything_is_journaled(
    rig: Rig, tmp_path: Path, recipient: str
) -> None:
    payload = tmp_path / "VOUCHERS_1.xml"
    payload.write_bytes(b"<vouchers/>\n")
    result = _run(rig, "send", str(payload), "--to", "erp", "--to", recipient, "--wait", "0")
    assert result.exit_code == 2 and "internal error" not in result.stderr, result.output
    assert (
        f"Invalid value for '--to': {recipient!r}: expected a party on Serviceplatformen, "
        "e.g. erp (1 to 255 printable characters, no spaces around them)" in result.stderr
    )
    assert json.loads(_run(rig, "status", "--json").output) == []


def test_error_receipt_fails_the_send_and_lands_on_the_error_list(rig: Rig, tmp_path: Path) -> None:
    payload = tmp_path / "LOST.xml"
    payload.write_bytes(b"<x/>")
    result = _run(rig, "send", str(payload), "--to", "nobody")
    assert result.exit_code == 1 and "failed: the platform refused it" in result.output
    (entry,) = json.loads(_run(rig, "errors", "--format", "json").output)
    assert entry["subject"] == "upload"
    assert entry["findings"][0]["code"] == "SP-RECEIPT-104"
    assert "no party 'nobody'" in entry["findings"][0]["message"]
    csv_out = _run(rig, "errors", "--format", "csv").output.splitlines()
    assert csv_out[0].startswith("entry,at,counterpart,transmission,subject,state,file,line")
    assert "SP-RECEIPT-104" in csv_out[1]
    assert "unknown recipient" in _run(rig, "errors").output
    # After an error receipt the same file may be sent again, to the right recipient.
    fixed = _run(rig, "send", str(payload), "--to", "erp")
    assert fixed.exit_code == 0 and "receipted" in fixed.output
    assert (rig.inbox("erp") / "LOST.xml").read_bytes() == b"<x/>"


def test_status_item_shows_the_whole_history(rig: Rig) -> None:
    rig.deliver("G68_H.txt", delivery_bytes("S1/00077", 3))
    assert [o.status for o in receive_once(rig.settings, "lines", LineProcessor)] == ["received"]
    shown = _run(rig, "status", "--item", "P0000001")
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.output.split())
    for expected in (
        "ksd item P0000001",
        "G68_H.txt",
        "line 3",
        "metadata G68_H.txt.metadata read",
        "downloaded IN/G68_H.txt",
        "journaled from G68_H.txt",
        "remote copy removed",
    ):
        assert expected in text, expected
    (history,) = json.loads(_run(rig, "status", "--item", "P0000001", "--json").output)
    assert history["item"]["amount_ore"] == 101
    assert [e["to"] for e in history["events"] if e["scope"] == "items"] == ["received"]
    missing = _run(rig, "status", "--item", "NOPE")
    assert missing.exit_code == 2 and "no item 'NOPE'" in missing.stderr
    table = _run(rig, "status").output
    assert "G68_H.txt" in table and "received" in table


def test_doctor_prints_the_fingerprint_to_pin(rig: Rig) -> None:
    good = _run(rig, "doctor")
    assert good.exit_code == 0, good.output
    assert rig.sim.fingerprint() in good.output and "host key pinned" in good.output
    assert f"ok   private key {rig.key} (ssh-ed25519 SHA256:" in good.output
    (rig.base / "keys" / "known_hosts").write_text("")
    bad = _run(rig, "doctor")
    assert bad.exit_code == 2
    assert "FAIL host key not in" in bad.output
    assert rig.sim.known_hosts_line() in bad.output


def test_simulator_command_refuses_a_port_out_of_range_or_in_use(tmp_path: Path) -> None:
    args = ["simulate", "serviceplatform", "--root", str(tmp_path / "sim"), "--max-seconds", "1"]
    result = CliRunner().invoke(cli, [*args, "--port", "70000"])
    assert result.exit_code == 2 and "internal error" not in result.stderr, result.output
    assert "Invalid value for '--port': 70000 is not in the range 0<=x<=65535" in result.stderr
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        result = CliRunner().invoke(cli, [*args, "--port", str(busy)])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == (
        f"toekgw: error: cannot listen on 127.0.0.1:{busy}: port {busy} is in use "
        "(by another server, or another instance of this one)"
    )


def test_simulator_command_runs_and_stops_by_itself(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "simulate",
            "serviceplatform",
            "--root",
            str(tmp_path / "sim"),
            "--port",
            "0",
            "--max-seconds",
            "0.3",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "host key fingerprint SHA256:" in result.output
    assert (tmp_path / "sim" / "client_ed25519").exists()
    assert (tmp_path / "sim" / "parties" / "toek" / "IN").is_dir()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("\nport = ", '\nport = "22" #'), "[serviceplatform.sftp] port: expected an integer"),
        (
            ("retries = 2", "retris = 2"),
            "unknown key 'retris' in [serviceplatform.sftp] (did you mean 'retries'?)",
        ),
        (('party = "toek"', ""), "[serviceplatform] party: missing (required)"),
        (('senders = ["ksd"]', "senders = []"), "[receive.lines] senders: expected a non-empty"),
        (("[journal]", "[journal\n"), "not valid TOML"),
    ],
)
def test_configuration_errors_name_the_key(rig: Rig, change: tuple[str, str], message: str) -> None:
    text = rig.config.read_text()
    rig.config.write_text(text.replace(*change, 1))
    with pytest.raises(ConfigError) as info:
        load_settings(rig.config)
    assert message in str(info.value)


def test_example_configuration_loads() -> None:
    example = Path(__file__).resolve().parent.parent / "examples" / "toekgw.toml"
    settings = load_settings(example)
    sp = serviceplatform_settings(settings)
    assert sp.sftp is not None
    assert sp.sftp.host == "sftp.serviceplatformen.dk"
    assert receive_profile(settings, "g68").senders


def test_status_filters_must_name_a_state_and_a_month(rig: Rig) -> None:
    rig.deliver("G68_H.txt", delivery_bytes("S1/00077", 3))
    assert [o.status for o in receive_once(rig.settings, "lines", LineProcessor)] == ["received"]
    assert "G68_H.txt" in _run(rig, "status", "--state", "received").output
    assert "G68_H.txt" not in _run(rig, "status", "--state", "journaled").output
    typo = CliRunner().invoke(cli, ["status", "--state", "recieved", "--config", str(rig.config)])
    assert typo.exit_code == 2 and "G68_H.txt" not in typo.output
    assert (
        "Invalid value for '--state': 'recieved' is no transmission state (did you mean "
        "'received'?); known: answered, claimed," in typo.stderr
    )
    for month in ("2026-13", "abc"):
        bad = CliRunner().invoke(
            cli, ["status", "--reports", "--month", month, "--config", str(rig.config)]
        )
        assert bad.exit_code == 2 and bad.stdout == ""
        assert bad.stderr.strip() == f"toekgw: error: --month '{month}': expected YYYY-MM"
    alone = CliRunner().invoke(cli, ["status", "--month", "2026-11", "--config", str(rig.config)])
    assert alone.exit_code == 2 and "--month goes with --reports" in alone.stderr


def test_status_never_shows_a_cpr_number_in_clear(rig: Rig) -> None:
    rig.deliver("CPR.txt", b"DELIVERY S1/5\r\n0101011234;500;B1\r\nEND 1 500\r\n")
    assert [o.status for o in receive_once(rig.settings, "lines", LineProcessor)] == ["received"]
    for args in (("status", "--item", "0101011234"), ("status", "--item", "0101011234", "--json")):
        shown = _run(rig, *args)
        assert shown.exit_code == 0 and "010101-****" in shown.output
        assert "0101011234" not in shown.output


def test_receive_command_seam_for_a_format(rig: Rig) -> None:
    from toekgw.cli.receive._common import receive_command

    command = receive_command("lines", LineProcessor, "Receive the test format.")
    rig.deliver("G68_OK.txt", delivery_bytes("S1/00100", 2))
    rig.deliver("G68_BAD.txt", b"DELIVERY S1/00101\r\nEND 5 5\r\n")
    runner = CliRunner()
    result = runner.invoke(command, ["--config", str(rig.config), "--json"])
    assert result.exit_code == 1  # one file went to the error list
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert {(d["file"], d["status"]) for d in lines} == {
        ("G68_OK.txt", "received"),
        ("G68_BAD.txt", "rejected"),
    }
    again = runner.invoke(command, ["--config", str(rig.config)])
    assert again.exit_code == 0 and again.output == ""


def test_send_without_waiting_collects_the_receipt_on_the_next_run(
    rig: Rig, tmp_path: Path
) -> None:
    payload = tmp_path / "LATER.xml"
    payload.write_bytes(b"<later/>")
    first = _run(rig, "send", str(payload), "--to", "erp", "--wait", "0")
    assert first.exit_code == 1 and "uploaded: uploaded; no technical receipt" in first.output
    second = _run(rig, "send", str(payload), "--to", "erp")
    assert second.exit_code == 0 and "receipted" in second.output
    assert len(rig.sim.platform.deliveries()) == 1  # not uploaded twice
