"""The acceptor's template.yaml, loaded once for the tests that read its parameters and roles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tools.cfn_template import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
PARAMS: dict[str, Any] = TEMPLATE["Parameters"]
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
# The functions' roles (the hub forwarding role reads no policy)
ROLES = {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::IAM::Role" and k != "HubForwardingRole"}
