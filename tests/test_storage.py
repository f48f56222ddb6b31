"""Local writes through the storage interface: all or nothing, and a wrong path is bad input, not a crash."""

from __future__ import annotations

import pytest

from governance import storage
from governance.errors import InputError


def test_atomic_output_replaces_only_when_the_block_finishes(tmp_path):
    target = tmp_path / "report.pdf"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), storage.atomic_output(target) as temporary:
        temporary.write_bytes(b"half")
        raise RuntimeError("the writer failed")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]
    with storage.atomic_output(target) as temporary:
        temporary.write_bytes(b"new")
    assert target.read_bytes() == b"new"


@pytest.mark.parametrize("write", ["bytes", "output"])
def test_a_parent_that_is_a_file_is_bad_input(tmp_path, write):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file")
    target = blocker / "chart.png"
    with pytest.raises(InputError) as err:
        if write == "bytes":
            storage.write_bytes_atomic(target, b"x")
        else:
            with storage.atomic_output(target) as temporary:
                temporary.write_bytes(b"x")
    assert err.value.reason == "BAD_OUTPUT"
    assert blocker.read_text() == "a file"


def test_a_folder_in_place_of_the_file_is_bad_input(tmp_path):
    (tmp_path / "out.png").mkdir()
    with pytest.raises(InputError) as err, storage.atomic_output(tmp_path / "out.png") as temporary:
        temporary.write_bytes(b"x")
    assert err.value.reason == "BAD_OUTPUT"


@pytest.mark.servers
def test_download_folder_is_bounded_and_stays_inside_its_target(aws, tmp_path):
    import boto3

    from governance.errors import NotFound

    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket="evidence")
    for key, body in (("run/evidence/a.json", b"{}"), ("run/evidence/charts/b.png", b"png"),
                      ("run/evidence-other/c.json", b"x")):
        client.put_object(Bucket="evidence", Key=key, Body=body)
    found = storage.download_folder("s3://evidence/run/evidence", tmp_path / "copy")
    assert sorted(found) == ["a.json", "charts/b.png"]  # a sibling prefix sharing the name is not the folder
    assert (tmp_path / "copy" / "charts" / "b.png").read_bytes() == b"png"
    with pytest.raises(InputError) as caught:
        storage.download_folder("s3://evidence/run/evidence/", tmp_path / "few", max_objects=1)
    assert caught.value.reason == "INPUT_TOO_LARGE" and not (tmp_path / "few").exists()
    with pytest.raises(InputError) as caught:
        storage.download_folder("s3://evidence/run/evidence/", tmp_path / "small", max_bytes=4)
    assert caught.value.reason == "INPUT_TOO_LARGE" and not (tmp_path / "small").exists()
    client.put_object(Bucket="evidence", Key="run/evidence/../../escape.json", Body=b"{}")
    with pytest.raises(InputError) as caught:
        storage.download_folder("s3://evidence/run/evidence/", tmp_path / "unsafe")
    assert caught.value.reason == "UNSAFE_NAME"
    assert not (tmp_path / "escape.json").exists()
    with pytest.raises(NotFound):
        storage.download_folder("s3://evidence/nothing/", tmp_path / "none")


@pytest.mark.servers
def test_a_write_can_take_the_encryption_of_an_existing_object(aws):
    import boto3

    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket="sealed")
    key = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["Arn"]
    client.put_object(Bucket="sealed", Key="e/index.json", Body=b"{}", ServerSideEncryption="aws:kms",
                      SSEKMSKeyId=key)
    encryption = storage.object_encryption("s3://sealed/e/index.json")
    assert encryption == {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key}
    storage.write_bytes_atomic("s3://sealed/e/validation.json", b"{}", encryption=encryption)
    head = client.head_object(Bucket="sealed", Key="e/validation.json")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", key)
    client.put_object(Bucket="sealed", Key="e/plain.json", Body=b"{}")
    assert storage.object_encryption("s3://sealed/e/plain.json") in ({}, {"ServerSideEncryption": "AES256"})
