#!/usr/bin/env python3
"""Extract the OCI Work Requests API (oci.work_requests, the iaas host's
/20160918/workRequests) from the installed OCI Python SDK, in the format of
shared/testdata/oci-api-subset.json, for the emulator's contract test:

    python3 tests/python/extract_work_requests.py > tests/data/work-requests-subset.json
"""
import inspect
import json
import re
import sys

import oci
from oci.work_requests import WorkRequestClient, models


def json_type(sdk_type):
    m = re.fullmatch(r"list\[(.+)\]", sdk_type)
    if m:
        return "array<%s>" % json_type(m.group(1))
    m = re.fullmatch(r"dict\(str, (.+)\)", sdk_type)
    if m:
        return "map<%s>" % json_type(m.group(1))
    return {"str": "string", "int": "integer", "float": "number", "bool": "boolean",
            "datetime": "datetime", "date": "date", "object": "any"}.get(sdk_type, sdk_type)


def operations():
    out = {}
    for name, fn in inspect.getmembers(WorkRequestClient, inspect.isfunction):
        if name.startswith("_"):
            continue
        src = inspect.getsource(fn)
        path = re.search(r'resource_path = "([^"]+)"', src)
        method = re.search(r'method = "([A-Z]+)"', src)
        op_id = re.search(r'api_reference_link = "[^"]*/(\w+)"', src)
        resp = re.search(r'response_type="([^"]+)"', src)
        if not (path and method and op_id):
            continue
        out[name] = {
            "operation_id": op_id.group(1),
            "method": method.group(1),
            "path": path.group(1),
            "response": json_type(resp.group(1)) if resp else None,
        }
    return out


def model_fields():
    out = {}
    for name, cls in inspect.getmembers(models, inspect.isclass):
        obj = cls()
        fields = {}
        for py, wire in obj.attribute_map.items():
            fields[wire] = {"py": py, "type": json_type(obj.swagger_types[py])}
        out[name] = {"fields": fields}
    return out


json.dump({
    "meta": {"source": "OCI Python SDK (package 'oci')", "sdk_version": oci.__version__},
    "clients": {
        "WorkRequestClient": {
            "package": "work_requests",
            "endpoint_template": "https://iaas.{region}.{secondLevelDomain}",
            "base_path": "/20160918",
            "operations": operations(),
        }
    },
    "models": {"work_requests": model_fields()},
}, sys.stdout, indent=1, sort_keys=True)
print()
