"""The search part of the web API's template (SearchEngine domain or serverless): the indexer's
event source mapping, the search route, and least-privilege roles checked with an IAM policy
evaluator; checkov's findings on the template are the accepted ones docs/search.md explains."""

from __future__ import annotations

import json
import os
import re
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import pytest
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from dms_desktop.core.search.opensearch import SEARCH_ENDPOINT_VARIABLE, SEARCH_SERVICE_VARIABLE
from tests.infra.iam_evaluator import is_allowed
from tests.infra.test_api_template import PARAMETERS, _sam_template

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "resources" / "cloudformation" / "dms-api.yaml"
GUIDE = REPO / "docs" / "search.md"
REGION, ACCOUNT = "eu-west-1", "123456789012"
STREAM = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Documents/stream/2026-01-01T00:00:00.000"
BUCKET = PARAMETERS["DocumentsBucketName"]
DOMAIN = f"arn:aws:es:{REGION}:{ACCOUNT}:domain/dms-search"
COLLECTION = f"arn:aws:aoss:{REGION}:{ACCOUNT}:collection/abc123"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:dms-api-IndexerFailures"


@cache
def _translated(engine: str) -> str:
    template = _sam_template()
    template["Globals"]["Function"]["CodeUri"] = "s3://artifacts-bucket/dms-api.zip"
    template["Resources"]["IndexerFunction"]["Properties"]["CodeUri"] = (
        "s3://artifacts-bucket/dms-indexer.zip"
    )
    parameters = {**PARAMETERS, "SearchEngine": engine, "DocumentsTableStreamArn": STREAM}
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=REGION))
    return json.dumps(
        translator.translate(template, parameter_values=parameters, get_managed_policy_map=dict)
    )


class Deployment:
    """The translated template resolved for one deployment with ``engine``."""

    def __init__(self, engine: str) -> None:
        self.template: dict[str, Any] = json.loads(_translated(engine))
        self.parameters = {
            name: str(spec.get("Default", "")) for name, spec in self.template["Parameters"].items()
        }
        self.parameters.update(PARAMETERS, SearchEngine=engine, DocumentsTableStreamArn=STREAM)
        self.refs = {
            **self.parameters,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "dms-api",
            "AWS::NoValue": None,
        }
        self.attributes = {
            "IndexerFailures.Arn": QUEUE,
            "SearchDomain.DomainEndpoint": "search-dms-search-abc.eu-west-1.es.amazonaws.com",
            "SearchDomain.Arn": DOMAIN,
            "SearchCollection.Arn": COLLECTION,
            "SearchCollection.CollectionEndpoint": "https://abc123.eu-west-1.aoss.amazonaws.com",
        }

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not None]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self.refs.get(argument, f"{argument}-physical-id")
            if key == "Fn::GetAtt":
                name = argument if isinstance(argument, str) else ".".join(argument)
                role = name.removesuffix(".Arn")
                return self.attributes.get(name, f"arn:aws:iam::{ACCOUNT}:role/{role}")
            if key == "Fn::Sub":
                return re.sub(
                    r"\$\{([^}]+)\}",
                    lambda m: str(
                        self.resolve({"Fn::GetAtt": m.group(1)})
                        if "." in m.group(1)
                        else self.refs.get(m.group(1), f"{m.group(1)}-physical-id")
                    ),
                    argument if isinstance(argument, str) else argument[0],
                )
            if key == "Fn::If":
                condition, when_true, when_false = argument
                return self.resolve(when_true if self.condition(condition) else when_false)
            if key == "Fn::Equals":
                left, right = self.resolve(argument)
                return left == right
            if key == "Fn::Not":
                return not self.resolve(argument[0])
        return {key: self.resolve(item) for key, item in value.items()}

    def resource(self, name: str) -> dict[str, Any]:
        resolved: dict[str, Any] = self.resolve(self.template["Resources"][name])
        return resolved

    def policies(self, role: str) -> list[dict[str, Any]]:
        return [
            policy["PolicyDocument"] for policy in self.resource(role)["Properties"]["Policies"]
        ]


@pytest.fixture(params=["domain", "serverless"])
def deployment(request: pytest.FixtureRequest) -> Deployment:
    return Deployment(request.param)


def test_without_search_nothing_of_it_is_deployed() -> None:
    none = Deployment("none")
    conditional = [
        name
        for name, resource in none.template["Resources"].items()
        if resource.get("Condition", "").startswith("SearchOn")
    ]
    assert {"IndexerFunction", "SearchFunction", "SearchDomain", "IndexerFailures"} <= set(
        conditional
    )
    assert not none.condition("SearchOn")


def test_the_indexer_reads_the_stream_with_bisection_partial_failures_and_bounded_retries(
    deployment: Deployment,
) -> None:
    [mapping] = [
        deployment.resource(name)["Properties"]
        for name, resource in deployment.template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::EventSourceMapping"
        and resource["Properties"]["FunctionName"] == {"Ref": "IndexerFunction"}
    ]
    assert mapping["EventSourceArn"] == STREAM
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 0 < mapping["MaximumRetryAttempts"] <= 10
    assert mapping["MaximumRecordAgeInSeconds"] <= 86400
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == QUEUE
    queue = deployment.resource("IndexerFailures")["Properties"]
    assert queue["SqsManagedSseEnabled"] is True


def test_both_functions_know_where_the_index_is(deployment: Deployment) -> None:
    for function, handler in (
        ("SearchFunction", "dms_desktop.api.search.search_documents"),
        ("IndexerFunction", "dms_desktop.indexer.handler.handle_stream"),
    ):
        properties = deployment.resource(function)["Properties"]
        assert properties["Handler"] == handler
        variables = properties["Environment"]["Variables"]
        assert variables[SEARCH_ENDPOINT_VARIABLE].startswith("https://")
        expected = "es" if deployment.parameters["SearchEngine"] == "domain" else "aoss"
        assert variables[SEARCH_SERVICE_VARIABLE] == expected


def _index_arn(deployment: Deployment, path: str) -> str:
    if deployment.parameters["SearchEngine"] == "domain":
        return f"{DOMAIN}/dms-documents{path}"
    return COLLECTION


def test_the_indexer_role_reads_the_stream_and_bodies_and_writes_only_the_index(
    deployment: Deployment,
) -> None:
    policies = deployment.policies("IndexerRole")
    write = (
        "es:ESHttpPut"
        if deployment.parameters["SearchEngine"] == "domain"
        else ("aoss:APIAccessAll")
    )
    allowed = [
        ("dynamodb:GetRecords", STREAM),
        ("dynamodb:GetShardIterator", STREAM),
        ("dynamodb:DescribeStream", STREAM),
        ("s3:GetObject", f"arn:aws:s3:::{BUCKET}/private/user-1/doc-1"),
        ("sqs:SendMessage", QUEUE),
        (write, _index_arn(deployment, "/_doc/user-1%2Fdoc-1")),
    ]
    denied = [
        ("dynamodb:GetItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Documents"),
        ("dynamodb:Scan", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Documents"),
        ("dynamodb:GetRecords", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Other/stream/x"),
        ("s3:PutObject", f"arn:aws:s3:::{BUCKET}/private/user-1/doc-1"),
        ("s3:GetObject", f"arn:aws:s3:::{BUCKET}/public/x"),
        ("s3:GetObject", "arn:aws:s3:::another-bucket/private/user-1/doc-1"),
        ("sqs:ReceiveMessage", QUEUE),
    ]
    if deployment.parameters["SearchEngine"] == "domain":
        denied.append(("es:ESHttpPut", f"arn:aws:es:{REGION}:{ACCOUNT}:domain/other/index"))
        denied.append(("es:CreateDomain", DOMAIN))
    else:
        denied.append(("aoss:APIAccessAll", f"arn:aws:aoss:{REGION}:{ACCOUNT}:collection/other"))
    for action, resource in allowed:
        assert is_allowed(policies, action, resource), (action, resource)
    for action, resource in denied:
        assert not is_allowed(policies, action, resource), (action, resource)


def test_the_search_role_may_only_query_the_index(deployment: Deployment) -> None:
    policies = deployment.policies("SearchRole")
    denied = [
        ("dynamodb:Query", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Documents"),
        ("s3:GetObject", f"arn:aws:s3:::{BUCKET}/private/user-1/doc-1"),
        ("dynamodb:GetRecords", STREAM),
    ]
    if deployment.parameters["SearchEngine"] == "domain":
        assert is_allowed(policies, "es:ESHttpPost", f"{DOMAIN}/dms-documents/_search")
        assert is_allowed(policies, "es:ESHttpGet", f"{DOMAIN}/dms-documents/_search")
        denied += [
            ("es:ESHttpPut", f"{DOMAIN}/dms-documents/_doc/x"),
            ("es:ESHttpDelete", f"{DOMAIN}/dms-documents/_doc/x"),
            ("es:ESHttpPost", f"{DOMAIN}/dms-documents/_bulk"),
            ("es:ESHttpPost", f"{DOMAIN}/dms-documents/_delete_by_query"),
        ]
    else:
        assert is_allowed(policies, "aoss:APIAccessAll", COLLECTION)
        # What a role may do inside a collection is the data access policy's: read only.
        data = json.loads(deployment.resource("SearchDataPolicy")["Properties"]["Policy"])
        [search_rule] = [rule for rule in data if rule["Principal"][0].endswith("/SearchRole")]
        assert search_rule["Rules"][0]["Permission"] == ["aoss:ReadDocument"]
    for action, resource in denied:
        assert not is_allowed(policies, action, resource), (action, resource)


def test_the_domain_admits_only_the_two_roles() -> None:
    domain = Deployment("domain").resource("SearchDomain")["Properties"]
    principals = {s["Principal"]["AWS"] for s in domain["AccessPolicies"]["Statement"]}
    assert principals == {
        f"arn:aws:iam::{ACCOUNT}:role/IndexerRole",
        f"arn:aws:iam::{ACCOUNT}:role/SearchRole",
    }
    assert domain["DomainEndpointOptions"]["EnforceHTTPS"] is True
    assert domain["EncryptionAtRestOptions"]["Enabled"] is True
    assert domain["NodeToNodeEncryptionOptions"]["Enabled"] is True


SEARCH_RESOURCES = {
    "SearchDomain",
    "SearchEncryptionPolicy",
    "SearchNetworkPolicy",
    "SearchDataPolicy",
    "SearchCollection",
    "IndexerFailures",
    "IndexerFunction",
    "IndexerLogs",
    "IndexerRole",
    "SearchFunction",
    "SearchLogs",
    "SearchRole",
}


def _accepted_findings() -> set[str]:
    text = GUIDE.read_text(encoding="utf-8")
    section = text.split("### checkov findings", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(CKV_[A-Z0-9_]+)` \|", section, flags=re.MULTILINE))


def _search_findings(engine: str, folder: Path) -> set[str]:
    """checkov's findings on the search resources of the template deployed with ``engine``
    (checkov evaluates conditions with the parameters' defaults)."""
    text = TEMPLATE.read_text(encoding="utf-8")
    chosen = re.sub(
        r"(  SearchEngine:\n    Type: String\n    Default: )none", rf"\g<1>{engine}", text
    )
    assert chosen != text
    template = folder / f"dms-api-{engine}.yaml"
    template.write_text(chosen, encoding="utf-8")
    checkov = os.environ.get("DMS_CHECKOV") or str(REPO / ".venv-checkov" / "bin" / "checkov")
    result = subprocess.run(
        [
            checkov,
            "-f",
            str(template),
            "--framework",
            "cloudformation",
            "-o",
            "json",
            "--quiet",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(result.stdout)
    return {
        check["check_id"]
        for check in report["results"]["failed_checks"]
        if check["resource"].split(".", 1)[1] in SEARCH_RESOURCES
    }


def test_checkov_finds_only_what_docs_search_md_explains(tmp_path: Path) -> None:
    found = _search_findings("domain", tmp_path) | _search_findings("serverless", tmp_path)
    assert found == _accepted_findings()
