"""The deployment files docs/deploy.md refers to exist and say what the guide says they do."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from bot.config import Settings, webhook_path

ROOT = Path(__file__).resolve().parents[1]


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_runs_postgres_16_two_webhook_replicas_and_caddy():
    services = compose()["services"]
    assert services["db"]["image"] == "postgres:16"
    replicas = [name for name, s in services.items() if s.get("environment", {}).get("BOT_MODE")]
    replicas.remove("migrate")
    assert sorted(replicas) == ["bot1", "bot2"]
    fields = {name.upper() for name in Settings.model_fields}
    for name in replicas:
        env = services[name]["environment"]
        assert env["BOT_MODE"] == "webhook"
        assert env["DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert set(env) <= fields, f"{name} sets variables the bot does not read"
        # Telegram's 30 new messages a second is per bot: the replicas share it.
        assert float(env["BROADCAST_RATE"]) * len(replicas) <= 30
        # The replicas start only once the one migration run has finished.
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    assert services["migrate"]["command"] == ["python", "-m", "bot", "migrate"]
    caddy = services["caddy"]
    assert caddy["image"].startswith("caddy:")
    mounted = [v.split(":")[0] for v in caddy["volumes"] if v.startswith("./")]
    assert mounted == ["./deploy/Caddyfile"]
    assert (ROOT / mounted[0]).is_file()


def test_caddy_proxies_the_webhook_path_to_both_replicas_and_nothing_else():
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    url = compose()["services"]["bot1"]["environment"]["WEBHOOK_URL"]
    path = webhook_path(url.replace("${BOT_DOMAIN:?set BOT_DOMAIN in .env}", "example.org"))
    assert f"handle {path} {{" in caddyfile
    assert re.search(r"reverse_proxy bot1:8080 bot2:8080", caddyfile)
    assert "health_uri /healthz" in caddyfile
    assert "respond 404" in caddyfile  # /healthz and /metrics are not public
    assert caddyfile.count("{") == caddyfile.count("}")


def test_the_dockerfile_runs_the_bot_and_copies_what_exists():
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = re.search(r"^CMD (.+)$", dockerfile, re.MULTILINE)
    assert cmd is not None
    assert json.loads(cmd.group(1)) == ["python", "-m", "bot"]
    for line in re.findall(r"^COPY (.+)$", dockerfile, re.MULTILINE):
        *sources, _target = line.split()
        for source in sources:
            assert (ROOT / source).exists(), f"Dockerfile copies {source}, which is not there"
    assert "USER ortaq" in dockerfile


def test_the_systemd_unit_runs_the_bot_with_its_environment_file():
    unit = (ROOT / "deploy" / "ortaq@.service").read_text()
    sections = re.findall(r"^\[(\w+)\]$", unit, re.MULTILINE)
    assert sections == ["Unit", "Service", "Install"]
    assert re.search(r"^ExecStart=\S+/python -m bot$", unit, re.MULTILINE)
    assert "EnvironmentFile=/etc/ortaq/ortaq.env" in unit
    assert "KillSignal=SIGTERM" in unit


def test_the_guide_links_only_files_that_exist():
    guide = (ROOT / "docs" / "deploy.md").read_text()
    for target in re.findall(r"\]\((\.\./[^)#]+|[\w./-]+\.\w+)\)", guide):
        assert (ROOT / "docs" / target).resolve().exists(), target
    for name in ("Dockerfile", "compose.yaml", "deploy/Caddyfile", "deploy/ortaq@.service"):
        assert name in guide
    readme = (ROOT / "README.md").read_text()
    architecture = (ROOT / "docs" / "architecture.md").read_text()
    assert "docs/deploy.md" in readme
    assert "deploy.md" in architecture
