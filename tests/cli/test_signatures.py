"""`dist app set` and signed publishes from the command line: FILE.sig beside a file is its minisign signature,
--minisign and --ed25519 give them explicitly; with the app's keys set a bad or missing one is refused with one
error line, exit 1, and nothing written."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Dist, snapshot, usage_failed
from tests.signing import make_ed25519_key, make_minisign_key


def test_app_set_changes_settings_and_refuses_bad_keys(dist: Dist, tmp_path: Path) -> None:
    key = make_minisign_key(tmp_path / "key")
    assert dist("app", "create", "demo").code == 0
    shown = dist("app", "set", "demo", "--name", "Demo", "--default-channel", "beta", "--json").json()
    assert (shown["name"], shown["default_channel"], shown["minisign_public_key"]) == ("Demo", "beta", None)
    with_key = dist("app", "set", "demo", "--minisign-public-key", key.public_file, "--json").json()
    assert with_key["minisign_public_key"] == key.public_line
    assert dist("app", "show", "demo", "--json").json()["minisign_public_key"] == key.public_line
    dist("app", "set", "demo", "--ed25519-public-key", "not a key").refused("app.invalid_public_key")
    dist("app", "set", "nope", "--name", "x").refused("app.not_found")
    usage_failed(dist("app", "set", "demo"), "usage.nothing_to_set")
    assert dist("app", "set", "demo", "--minisign-public-key", "", "--json").json()["minisign_public_key"] is None


def test_publish_picks_up_file_sig_and_verifies_every_signature(dist: Dist, tmp_path: Path) -> None:
    minisign_key, ed_key = make_minisign_key(tmp_path / "key"), make_ed25519_key()
    dist("app", "create", "demo")
    dist("app", "set", "demo", "--minisign-public-key", minisign_key.public_line, "--ed25519-public-key", ed_key.public)
    linux, mac = dist.cwd / "app.AppImage.tar.gz", dist.cwd / "app.app.tar.gz"
    linux.write_bytes(b"linux bundle")
    mac.write_bytes(b"mac bundle")
    minisign_key.sign(linux, out=Path(f"{linux}.sig"))
    mac_sig = minisign_key.sign(mac, out=tmp_path / "elsewhere.minisig")
    before = snapshot(dist.location)

    unsigned = dist("publish", "demo", "1.0.0", f"{linux}=linux-x86_64", f"{mac}=darwin-aarch64")
    unsigned.refused("artifact.unsigned")
    elsewhere = tmp_path / "elsewhere.minisig"
    wrong = dist(
        "publish", "demo", "1.0.0", f"{linux}=linux-x86_64", f"{mac}=darwin-aarch64",
        "--minisign", f"{mac.name}={elsewhere}", "--ed25519", f"{mac.name}={ed_key.sign(b'other')}",
    )  # fmt: skip
    wrong.refused("artifact.bad_signature")
    # The uploads stay for a retry (gc removes them if none comes); nothing else was written.
    after = snapshot(dist.location)
    assert {k: v for k, v in after.items() if k != "blobs"} == {k: v for k, v in before.items() if k != "blobs"}
    usage_failed(dist("publish", "demo", "1.0.0", str(linux), "--ed25519", "nofile=abc"), "publish.invalid_signature")

    published = dist(
        "publish", "demo", "1.0.0", f"{linux}=linux-x86_64", f"{mac}=darwin-aarch64",
        "--minisign", f"{mac}={elsewhere}", "--ed25519", f"{mac.name}={ed_key.sign(b'mac bundle')}", "--json",
    ).json()  # fmt: skip
    signatures = [a["signatures"] for a in published["artifacts"]]
    assert signatures == [
        {"minisign": Path(f"{linux}.sig").read_text(), "ed25519": None},
        {"minisign": mac_sig, "ed25519": ed_key.sign(b"mac bundle")},
    ]
