"""S3 URIs of a policy document: ones the template and the functions both admit, and ones both refuse."""

from __future__ import annotations

URI = "s3://acme-wa-policy/wa-share-acceptor/policy.json"
GOOD_URIS = [
    URI,
    "s3://abc/p",
    "s3://my.bucket-1/a/b/c.yaml",
    "s3://acme-wa-policy/policy.json?versionId=3HL4kqtJvjVBH40Nrjfkd",
    "s3://acme-wa-policy/policy.json?versionId=null",
    "s3://acme/team_a/(prod)/policy!v2'final'.json",
    "s3://" + "b" * 63 + "/" + "/".join(["k" * 255] * 4),
]
BAD_URIS = [
    "acme-wa-policy/policy.json",
    "S3://acme/policy.json",
    "s3://acme",
    "s3://acme/",
    "s3://acme//policy.json",
    "s3://acme/policy.json/",
    "s3:///policy.json",
    "s3://ab/policy.json",  # a bucket name has 3 to 63 characters
    "s3://" + "b" * 64 + "/p",
    "s3://Acme/policy.json",
    "s3://acme_bucket/policy.json",
    "s3://-acme/policy.json",
    "s3://acme/*",
    "s3://acme/policy*.json",
    "s3://acme/pol?cy.json",
    "s3://acme/${aws:username}.json",
    "s3://acme/a b.json",
    "s3://acme/pólicy.json",
    "s3://acme/policy.json\n",
    " s3://acme/policy.json",
    "s3://acme/./policy.json",
    "s3://acme/../policy.json",
    "s3://acme/a/..",
    "s3://acme/a/.?versionId=x",
    "s3://acme/policy.json?versionId=",
    "s3://acme/policy.json?versionid=x",
    "s3://acme/policy.json?versionId=a/b",
    "s3://acme/policy.json?versionId=x&partNumber=1",
    "s3://acme/" + "k" * 256,
    "https://acme.s3.amazonaws.com/policy.json",
    "arn:aws:s3:::acme/policy.json",
]
