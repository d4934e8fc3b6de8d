#!/usr/bin/env python3
"""Smoke test of the OCI emulator with the official OCI Python SDK (`pip install oci`).

Usage:
    python3 sdk_smoke.py --config-file <data dir>/oci-emulator/config --endpoint http://127.0.0.1:PORT

Every client is pointed at the emulator with `service_endpoint=endpoint` (the SDK
appends each service's base path). Exits non-zero when any check fails and ends
with a plain `N passed, M failed` line.
"""

import argparse
import os
import sys
import tempfile
import time
import traceback

import oci
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config-file", required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--profile", default="DEFAULT")
    args = parser.parse_args()

    config = oci.config.from_file(args.config_file, args.profile)
    oci.config.validate_config(config)
    endpoint = args.endpoint.rstrip("/")
    tenancy = config["tenancy"]

    identity = oci.identity.IdentityClient(config, service_endpoint=endpoint)
    compute = oci.core.ComputeClient(config, service_endpoint=endpoint)
    object_storage = oci.object_storage.ObjectStorageClient(config, service_endpoint=endpoint)

    passed = 0
    failed = 0
    state = {}

    def check(name, fn):
        nonlocal passed, failed
        try:
            fn()
            passed += 1
            print(f"ok   {name}")
        except Exception:  # noqa: BLE001 - report every failure and go on
            failed += 1
            print(f"FAIL {name}")
            traceback.print_exc()

    def compartments():
        resp = oci.pagination.list_call_get_all_results(
            identity.list_compartments, tenancy, compartment_id_in_subtree=True, access_level="ANY", limit=2
        )
        names = {c.name: c.id for c in resp.data}
        assert "Production" in names, names
        state["prod"] = names["Production"]
        state["sandbox"] = names["Sandbox"]

    def list_instances_paginated():
        # limit=1 forces one page per instance; the helper follows opc-next-page.
        first = compute.list_instances(state["prod"], limit=1)
        assert first.has_next_page, "expected more than one page"
        resp = oci.pagination.list_call_get_all_results(compute.list_instances, state["prod"], limit=1)
        names = sorted(i.display_name for i in resp.data)
        assert names[:2] == ["web-01", "web-02"], names
        state["instances"] = resp.data

    def get_instance():
        target = next(i for i in state["instances"] if i.display_name == "web-02")
        got = compute.get_instance(target.id)
        assert got.data.id == target.id
        assert got.data.shape == "VM.Standard.E4.Flex"
        assert got.data.shape_config.ocpus == 2.0
        assert got.headers.get("etag"), "missing etag"
        assert got.request_id, "missing opc-request-id"
        state["web02"] = got.data

    def create_bucket():
        namespace = object_storage.get_namespace().data
        name = f"sdk-smoke-{int(time.time() * 1000)}"
        details = oci.object_storage.models.CreateBucketDetails(name=name, compartment_id=state["prod"])
        created = object_storage.create_bucket(namespace, details).data
        assert created.name == name and created.namespace == namespace
        object_storage.put_object(namespace, name, "hello/world.txt", b"hello from the SDK", content_type="text/plain")
        body = object_storage.get_object(namespace, name, "hello/world.txt").data.content
        assert body == b"hello from the SDK", body
        listed = object_storage.list_objects(namespace, name, fields="name,size").data.objects
        assert [(o.name, o.size) for o in listed] == [("hello/world.txt", 18)], listed
        object_storage.delete_object(namespace, name, "hello/world.txt")
        object_storage.delete_bucket(namespace, name)

    def upload_manager_multipart():
        namespace = object_storage.get_namespace().data
        name = f"sdk-up-{int(time.time() * 1000)}"
        details = oci.object_storage.models.CreateBucketDetails(name=name, compartment_id=state["prod"])
        object_storage.create_bucket(namespace, details)
        data = os.urandom(12 * 1024 * 1024)
        with tempfile.NamedTemporaryFile("wb", suffix=".bin", delete=False) as f:
            f.write(data)
            path = f.name
        try:
            manager = oci.object_storage.UploadManager(object_storage, allow_parallel_uploads=True)
            resp = manager.upload_file(namespace, name, "big.bin", path, part_size=5 * 1024 * 1024)
            assert resp.status == 200, resp.status
            assert resp.headers["opc-multipart-md5"].endswith("-3"), resp.headers
            got = object_storage.get_object(namespace, name, "big.bin").data.content
            assert got == data, "the multipart object is not byte-identical"
            assert object_storage.list_multipart_uploads(namespace, name).data == []
        finally:
            os.unlink(path)
        object_storage.delete_object(namespace, name, "big.bin")
        object_storage.delete_bucket(namespace, name)

    def stop_instance():
        inst = state["web02"]
        resp = compute.instance_action(inst.id, "STOP")
        assert resp.data.lifecycle_state in ("STOPPING", "STOPPED"), resp.data.lifecycle_state
        stopped = oci.wait_until(compute, compute.get_instance(inst.id), "lifecycle_state", "STOPPED", max_wait_seconds=60, max_interval_seconds=1)
        assert stopped.data.lifecycle_state == "STOPPED"
        # Put it back the way it was.
        compute.instance_action(inst.id, "START")
        running = oci.wait_until(compute, compute.get_instance(inst.id), "lifecycle_state", "RUNNING", max_wait_seconds=60, max_interval_seconds=1)
        assert running.data.lifecycle_state == "RUNNING"

    def invalid_action_is_409():
        sandbox = compute.list_instances(state["sandbox"]).data
        terminated = [i for i in sandbox if i.lifecycle_state == "TERMINATED"]
        assert terminated, "the seeded sandbox instance should be TERMINATED"
        try:
            compute.instance_action(terminated[0].id, "START")
        except oci.exceptions.ServiceError as e:
            assert e.status == 409, e
            assert e.code == "IncorrectState", e.code
        else:
            raise AssertionError("START on a TERMINATED instance was accepted")

    def wrong_key_is_401():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        with tempfile.NamedTemporaryFile("wb", suffix=".pem", delete=False) as f:
            f.write(pem)
            path = f.name
        os.chmod(path, 0o600)
        try:
            bad = dict(config)
            bad["key_file"] = path
            client = oci.identity.IdentityClient(bad, service_endpoint=endpoint, retry_strategy=oci.retry.NoneRetryStrategy())
            try:
                client.list_regions()
            except oci.exceptions.ServiceError as e:
                assert e.status == 401, e
                assert e.code == "NotAuthenticated", e.code
            else:
                raise AssertionError("a request signed with the wrong key was accepted")
        finally:
            os.unlink(path)

    check("list compartments (paginated, subtree)", compartments)
    check("list instances with pagination", list_instances_paginated)
    check("get instance", get_instance)
    check("create bucket, put/get/list/delete object", create_bucket)
    check("UploadManager multipart upload (12 MiB in 5 MiB parts), byte-identical", upload_manager_multipart)
    check("instance action STOP -> STOPPING/STOPPED (and START back)", stop_instance)
    check("START on a TERMINATED instance is 409 IncorrectState", invalid_action_is_409)
    check("request signed with a wrong key gets 401", wrong_key_is_401)

    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
