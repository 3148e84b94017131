"""The allowlist policy: pure, no AWS imports. ``evaluate(policy, invitation, ancestry) -> Decision``."""

from policy.config import ConfigIssue, PolicyConfigError, load_policy, policy_as_env, policy_warnings
from policy.document import DocIssue, PolicyDocumentError, load_document
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
    Rule,
    SimpleForm,
)

__all__ = [
    "PERMISSION_TYPES",
    "RESOURCE_TYPES",
    "Action",
    "ConfigIssue",
    "Decision",
    "DocIssue",
    "Invitation",
    "NonMatchingAction",
    "OrgAncestry",
    "Policy",
    "PolicyConfigError",
    "PolicyDocumentError",
    "Reason",
    "Rule",
    "SimpleForm",
    "evaluate",
    "load_document",
    "load_policy",
    "policy_as_env",
    "policy_warnings",
]
