"""The allowlist policy: pure, no AWS imports. ``evaluate(policy, invitation, ancestry) -> Decision``."""

from policy.config import ConfigIssue, PolicyConfigError, load_policy, policy_as_env, policy_warnings
from policy.evaluate import Reason, evaluate
from policy.model import (
    PERMISSION_TYPES,
    RESOURCE_TYPES,
    Action,
    Decision,
    Invitation,
    NonMatchingAction,
    OrgAncestry,
    Policy,
)

__all__ = [
    "PERMISSION_TYPES",
    "RESOURCE_TYPES",
    "Action",
    "ConfigIssue",
    "Decision",
    "Invitation",
    "NonMatchingAction",
    "OrgAncestry",
    "Policy",
    "PolicyConfigError",
    "Reason",
    "evaluate",
    "load_policy",
    "policy_as_env",
    "policy_warnings",
]
