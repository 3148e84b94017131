"""Read a CloudFormation/SAM template the way `sam local invoke` does, without the SAM CLI.

Loads YAML with the short intrinsic tags, and resolves the intrinsics that function properties use
(Ref to parameters and pseudo parameters, Fn::If with the template's conditions, Fn::Sub, Fn::Equals,
Fn::Not, Fn::And, Fn::Or, Fn::Join, Fn::Split, Fn::Select). A Ref or GetAtt to a resource resolves to
the resource's logical id, as `sam local` does for resources that do not exist locally.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

_NO_VALUE = object()


class CfnLoader(yaml.SafeLoader):  # SafeLoader is Any without stubs: see [[tool.mypy.overrides]]
    """SafeLoader that turns `!Ref x` into `{"Ref": x}` and `!Sub x` into `{"Fn::Sub": x}`."""


def _tag_constructor(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor("!", _tag_constructor)


def load_template(path: str | Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=CfnLoader)
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a template (no mapping at the top)")
    return data


class Resolver:
    """Resolve intrinsics against parameter values (defaults overlaid with overrides)."""

    def __init__(
        self,
        template: dict[str, Any],
        overrides: dict[str, str] | None = None,
        *,
        region: str = "us-east-1",
        account: str = "123456789012",
    ) -> None:
        self.template = template
        params = template.get("Parameters") or {}
        unknown = sorted(set(overrides or {}) - set(params))
        if unknown:
            raise ValueError(f"unknown template parameter(s): {', '.join(unknown)}")
        self.values: dict[str, Any] = {
            "AWS::Region": region,
            "AWS::AccountId": account,
            "AWS::Partition": "aws",
            "AWS::StackName": "local",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": _NO_VALUE,
        }
        for name, spec in params.items():
            default = spec.get("Default")
            self.values[name] = str(default) if default is not None else ""
        self.values.update(overrides or {})
        self._conditions = template.get("Conditions") or {}

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self._conditions[name]))

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.resolve(x) for x in node) if v is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return self.values.get(arg, arg)  # a resource resolves to its logical id
            if key == "Fn::GetAtt":
                return ".".join(arg) if isinstance(arg, list) else str(arg)
            if key == "Fn::If":
                name, yes, no = arg
                return self.resolve(yes if self.condition(name) else no)
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::Equals":
                left, right = (self.resolve(x) for x in arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Fn::And":
                return all(self.resolve(x) for x in arg)
            if key == "Fn::Or":
                return any(self.resolve(x) for x in arg)
            if key == "Fn::Join":
                sep, items = arg
                return sep.join(str(x) for x in self.resolve(items))
            if key == "Fn::Split":
                sep, text = arg
                return str(self.resolve(text)).split(sep)
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Fn::Sub":
                return self._sub(arg)
        return {k: v for k, v in ((k, self.resolve(v)) for k, v in node.items()) if v is not _NO_VALUE}

    def _sub(self, arg: Any) -> str:
        text, local = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in local:
                return str(local[name])
            return str(self.values.get(name, name.split(".")[0]))

        return re.sub(r"\$\{([^}!]+)\}", replace, text)


def function_properties(template: dict[str, Any], logical_id: str, resolver: Resolver) -> dict[str, Any]:
    """A function's properties with the template's Globals applied, resolved."""
    resources = template.get("Resources") or {}
    resource = resources.get(logical_id)
    functions = sorted(k for k, v in resources.items() if v.get("Type") == "AWS::Serverless::Function")
    if resource is None or resource.get("Type") != "AWS::Serverless::Function":
        raise ValueError(f"no function {logical_id!r} in the template; functions: {', '.join(functions)}")
    merged: dict[str, Any] = dict((template.get("Globals") or {}).get("Function") or {})
    own = resource.get("Properties") or {}
    for key, value in own.items():
        if key == "Environment":
            merged_vars = dict((merged.get("Environment") or {}).get("Variables") or {})
            merged_vars.update((value or {}).get("Variables") or {})
            merged["Environment"] = {"Variables": merged_vars}
        else:
            merged[key] = value
    resolved = resolver.resolve(merged)
    return resolved if isinstance(resolved, dict) else {}
