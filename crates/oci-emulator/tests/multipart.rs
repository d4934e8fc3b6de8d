//! Object Storage multipart uploads over real HTTP with signed requests: a 20 MiB
//! object in 5 MiB parts comes back byte-identical with the `opc-multipart-md5`
//! the OCI CLI verifies; list, abort and the error cases; namespace metadata and
//! the pre-authenticated request list.

mod common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use common::{service_error, start, TestEmu};
use http::Method;
use md5::Digest;
use portal_oci::{RequestOptions, Service};
use serde_json::{json, Value};

const OS: Service = Service::OBJECT_STORAGE;

async fn bucket(t: &TestEmu, name: &str) -> String {
    let ns = t.emu.namespace();
    t.post(
        &OS,
        &format!("/n/{ns}/b"),
        &[],
        Some(json!({"name": name, "compartmentId": t.tenancy()})),
    )
    .await
    .unwrap();
    ns
}

async fn create(t: &TestEmu, ns: &str, bucket: &str, object: &str) -> String {
    let r = t
        .post(
            &OS,
            &format!("/n/{ns}/b/{bucket}/u"),
            &[],
            Some(json!({"object": object, "contentType": "application/x-test", "metadata": {"opc-meta-owner": "ci"}})),
        )
        .await
        .unwrap();
    assert_eq!(r.body["object"], object);
    assert_eq!(r.body["bucket"], bucket);
    assert_eq!(r.body["namespace"], ns);
    assert_eq!(r.body["storageTier"], "Standard");
    r.body["uploadId"].as_str().unwrap().to_string()
}

async fn put_part(
    t: &TestEmu,
    path: &str,
    upload_id: &str,
    num: &str,
    data: Bytes,
) -> Result<portal_oci::OciResponse, portal_oci::OciError> {
    t.client
        .send_bytes(
            Method::PUT,
            &OS,
            path,
            &[("uploadId", upload_id), ("uploadPartNum", num)],
            Some(data),
            &RequestOptions::default(),
        )
        .await
}

fn md5_b64(data: &[u8]) -> String {
    STANDARD.encode(md5::Md5::digest(data))
}

#[tokio::test]
async fn twenty_mib_in_five_mib_parts_round_trips_byte_identical() {
    let t = start(0).await;
    let ns = bucket(&t, "mp").await;
    let upload_id = create(&t, &ns, "mp", "dir/big.bin").await;
    let path = format!("/n/{ns}/b/mp/u/dir%2Fbig.bin");

    // 20 MiB of non-repeating bytes, in 5 MiB parts.
    let mut data = Vec::with_capacity(20 << 20);
    let mut x: u32 = 0x1234_5678;
    while data.len() < 20 << 20 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        data.extend_from_slice(&x.to_le_bytes());
    }
    let chunks: Vec<&[u8]> = data.chunks(5 << 20).collect();
    assert_eq!(chunks.len(), 4);
    // Uploaded out of order, as the SDK's parallel uploader does.
    let mut etags = vec![String::new(); 4];
    for i in [2usize, 0, 3, 1] {
        let r = put_part(
            &t,
            &path,
            &upload_id,
            &(i + 1).to_string(),
            Bytes::copy_from_slice(chunks[i]),
        )
        .await
        .unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.headers["opc-content-md5"], md5_b64(chunks[i]).as_str());
        etags[i] = r.etag.clone().unwrap();
    }

    let parts = t
        .get(&OS, &path, &[("uploadId", &upload_id)])
        .await
        .unwrap();
    let nums: Vec<i64> = parts
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["partNumber"].as_i64().unwrap())
        .collect();
    assert_eq!(nums, vec![1, 2, 3, 4]);
    assert_eq!(parts.body[0]["size"], 5 << 20);
    assert_eq!(parts.body[1]["etag"], etags[1].as_str());
    assert_eq!(parts.body[3]["md5"], md5_b64(chunks[3]).as_str());
    let page = t
        .get(&OS, &path, &[("uploadId", &upload_id), ("limit", "3")])
        .await
        .unwrap();
    assert_eq!(page.body.as_array().unwrap().len(), 3);
    assert!(page.opc_next_page.is_some());

    let uploads = t.get(&OS, &format!("/n/{ns}/b/mp/u"), &[]).await.unwrap();
    assert_eq!(uploads.body.as_array().unwrap().len(), 1);
    assert_eq!(uploads.body[0]["uploadId"], upload_id.as_str());
    assert_eq!(uploads.body[0]["object"], "dir/big.bin");

    let commit = json!({"partsToCommit": (0..4).map(|i| json!({"partNum": i + 1, "etag": etags[i]})).collect::<Vec<_>>()});
    let r = t
        .post(
            &OS,
            &path,
            &[("uploadId", &upload_id)],
            Some(commit.clone()),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    let etag = r.etag.clone().unwrap();
    // What the OCI CLI's --verify-checksum computes: md5 over the parts' raw md5s, "-N".
    let mut all = md5::Md5::new();
    for c in &chunks {
        all.update(md5::Md5::digest(c));
    }
    let expected = format!("{}-4", STANDARD.encode(all.finalize()));
    assert_eq!(r.headers["opc-multipart-md5"], expected.as_str());

    let got = t
        .get(&OS, &format!("/n/{ns}/b/mp/o/dir%2Fbig.bin"), &[])
        .await
        .unwrap();
    assert_eq!(got.raw.len(), data.len());
    assert!(
        got.raw.as_ref() == data.as_slice(),
        "assembled object differs"
    );
    assert_eq!(got.etag.as_deref(), Some(etag.as_str()));
    assert_eq!(got.headers["opc-multipart-md5"], expected.as_str());
    assert_eq!(got.headers["content-type"], "application/x-test");
    assert_eq!(got.headers["opc-meta-owner"], "ci");

    // The upload is gone once committed; committing again is a 404.
    let uploads = t.get(&OS, &format!("/n/{ns}/b/mp/u"), &[]).await.unwrap();
    assert_eq!(uploads.body, json!([]));
    let err = t
        .post(&OS, &path, &[("uploadId", &upload_id)], Some(commit))
        .await
        .unwrap_err();
    assert_eq!(service_error(err).0, 404);
    // The part files are cleaned up.
    let uploads_dir = t.emu.dir().join("objects/uploads");
    assert!(!uploads_dir.join(&upload_id).exists());
}

#[tokio::test]
async fn abort_and_error_cases() {
    let t = start(0).await;
    let ns = bucket(&t, "mp2").await;
    let upload_id = create(&t, &ns, "mp2", "x.bin").await;
    let path = format!("/n/{ns}/b/mp2/u/x.bin");
    let r = put_part(&t, &path, &upload_id, "1", Bytes::from_static(b"abc"))
        .await
        .unwrap();
    let etag = r.etag.unwrap();

    // Part numbers outside 1..=10000 and unknown uploads are refused.
    for num in ["0", "10001", "x"] {
        let e = put_part(&t, &path, &upload_id, num, Bytes::from_static(b"z"))
            .await
            .unwrap_err();
        assert_eq!(service_error(e).0, 400, "part {num}");
    }
    let e = put_part(&t, &path, "nope", "1", Bytes::from_static(b"z"))
        .await
        .unwrap_err();
    assert_eq!(service_error(e).0, 404);
    // The upload id belongs to another object name.
    let e = put_part(
        &t,
        &format!("/n/{ns}/b/mp2/u/other.bin"),
        &upload_id,
        "1",
        Bytes::from_static(b"z"),
    )
    .await
    .unwrap_err();
    assert_eq!(service_error(e).0, 404);
    // A wrong content-md5 is refused.
    let opts = RequestOptions::default()
        .header("content-md5", &md5_b64(b"other"))
        .unwrap();
    let e = t
        .client
        .send_bytes(
            Method::PUT,
            &OS,
            &path,
            &[("uploadId", &upload_id), ("uploadPartNum", "2")],
            Some(Bytes::from_static(b"abc")),
            &opts,
        )
        .await
        .unwrap_err();
    assert_eq!(service_error(e).0, 400);

    // Bad commit bodies: wrong etag, missing part, no parts, not JSON.
    for body in [
        json!({"partsToCommit": [{"partNum": 1, "etag": "wrong"}]}),
        json!({"partsToCommit": [{"partNum": 2, "etag": etag}]}),
        json!({"partsToCommit": []}),
        json!({"partsToCommit": [{"partNum": 1, "etag": etag}, {"partNum": 1, "etag": etag}]}),
        json!({"partsToCommit": [{"partNum": 1, "etag": etag}], "partsToExclude": [1]}),
        json!({}),
        json!({"partsToCommit": "all"}),
    ] {
        let e = t
            .post(&OS, &path, &[("uploadId", &upload_id)], Some(body.clone()))
            .await
            .unwrap_err();
        let (status, code, _) = service_error(e);
        assert_eq!(status, 400, "{body}: {code}");
    }
    let e = t
        .post(
            &OS,
            &format!("/n/{ns}/b/mp2/u"),
            &[],
            Some(json!({"object": ""})),
        )
        .await
        .unwrap_err();
    assert_eq!(service_error(e).0, 400);
    let e = t
        .post(
            &OS,
            &format!("/n/{ns}/b/mp2/u"),
            &[],
            Some(json!({"object": "a", "storageTier": "Cold"})),
        )
        .await
        .unwrap_err();
    assert_eq!(service_error(e).0, 400);

    // A bucket with an upload in progress cannot be deleted.
    let e = t
        .delete(&OS, &format!("/n/{ns}/b/mp2"), &[])
        .await
        .unwrap_err();
    let (status, code, _) = service_error(e);
    assert_eq!((status, code.as_str()), (409, "BucketNotEmpty"));

    // Abort: the upload and its parts are gone, no object appears.
    let r = t
        .delete(&OS, &path, &[("uploadId", &upload_id)])
        .await
        .unwrap();
    assert_eq!(r.status, 204);
    assert!(!t
        .emu
        .dir()
        .join("objects/uploads")
        .join(&upload_id)
        .exists());
    let e = t
        .delete(&OS, &path, &[("uploadId", &upload_id)])
        .await
        .unwrap_err();
    assert_eq!(service_error(e).0, 404);
    let e = t
        .get(&OS, &format!("/n/{ns}/b/mp2/o/x.bin"), &[])
        .await
        .unwrap_err();
    assert_eq!(service_error(e).0, 404);
    t.delete(&OS, &format!("/n/{ns}/b/mp2"), &[]).await.unwrap();
}

#[tokio::test]
async fn namespace_metadata_and_preauth_list() {
    let t = start(0).await;
    let ns = bucket(&t, "par").await;
    let r = t.get(&OS, &format!("/n/{ns}"), &[]).await.unwrap();
    assert_eq!(r.body["namespace"], ns.as_str());
    assert_eq!(r.body["defaultS3CompartmentId"], t.tenancy().as_str());
    assert_eq!(r.body["defaultSwiftCompartmentId"], t.tenancy().as_str());
    let e = t.get(&OS, "/n/someone-else", &[]).await.unwrap_err();
    assert_eq!(service_error(e).1, "NamespaceNotFound");

    let r = t.get(&OS, &format!("/n/{ns}/b/par/p"), &[]).await.unwrap();
    assert_eq!(r.body, Value::Array(vec![]));
    let e = t
        .get(&OS, &format!("/n/{ns}/b/missing/p"), &[])
        .await
        .unwrap_err();
    assert_eq!(service_error(e).1, "BucketNotFound");
}
