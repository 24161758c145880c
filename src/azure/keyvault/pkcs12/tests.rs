//! The PKCS#12 reader against files made by the `openssl` CLI (in a
//! temporary directory) in every protection it writes, against the KDF's
//! known answers, and against hostile input: truncations, flipped bytes,
//! random bytes, absurd iteration counts, deep nesting.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::*;
use crate::azure::keyvault::der::tlv;

/// `openssl` with a command line of words without spaces, in `dir`; stdout.
fn openssl(dir: &Path, command_line: &str) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(command_line.split_whitespace())
        .current_dir(dir)
        .output()
        .expect("the openssl CLI");
    assert!(
        out.status.success(),
        "openssl {command_line}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// An EC CA and a leaf it signed, made by OpenSSL; the leaf's key as
/// PKCS#8 DER and both certificates as DER.
struct Fixture {
    dir: tempfile::TempDir,
    pkcs8: Vec<u8>,
    leaf: Vec<u8>,
    ca: Vec<u8>,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path();
        openssl(
            path,
            "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt -subj /CN=pkcs12-test-ca -days 2",
        );
        openssl(
            path,
            "req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key -out leaf.csr -subj /CN=leaf.pkcs12.test",
        );
        openssl(
            path,
            "x509 -req -in leaf.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out leaf.crt -days 2",
        );
        Self {
            pkcs8: openssl(path, "pkcs8 -topk8 -nocrypt -in leaf.key -outform DER"),
            leaf: openssl(path, "x509 -in leaf.crt -outform DER"),
            ca: openssl(path, "x509 -in ca.crt -outform DER"),
            dir,
        }
    }

    /// `openssl pkcs12 -export` of the leaf, its key and the CA with the
    /// empty password and `options`; the file, and what `openssl pkcs12
    /// -info` says of its protection.
    fn export(&self, options: &str) -> (Vec<u8>, String) {
        let path = self.dir.path();
        openssl(
            path,
            &format!(
                "pkcs12 -export -inkey leaf.key -in leaf.crt -certfile ca.crt -name leaf -passout pass: -out out.pfx {options}"
            ),
        );
        let info = Command::new("openssl")
            .args("pkcs12 -info -noout -legacy -passin pass: -in out.pfx".split_whitespace())
            .current_dir(path)
            .output()
            .unwrap();
        assert!(info.status.success(), "{options}");
        (
            std::fs::read(path.join("out.pfx")).unwrap(),
            String::from_utf8_lossy(&info.stderr).into_owned(),
        )
    }

    /// The key, the leaf with the key's local key id, and the CA.
    fn check(&self, contents: &Contents, what: &str) {
        assert_eq!(contents.keys.len(), 1, "{what}");
        let key = &contents.keys[0];
        assert_eq!(*key.pkcs8, self.pkcs8, "{what}");
        assert!(key.local_key_id.is_some(), "{what}");
        let ders: Vec<&[u8]> = contents
            .certificates
            .iter()
            .map(|c| c.der.as_slice())
            .collect();
        assert_eq!(ders, [&self.leaf[..], &self.ca[..]], "{what}");
        assert_eq!(
            contents.certificates[0].local_key_id, key.local_key_id,
            "{what}"
        );
        assert_eq!(contents.certificates[1].local_key_id, None, "{what}");
    }
}

#[test]
fn openssl_files_in_every_protection() {
    let fixture = Fixture::new();
    for (options, protection) in [
        // OpenSSL 1.1's default: the key under 3DES, the certificates under
        // RC2-40, a SHA-1 MAC.
        (
            "-legacy",
            &[
                "MAC: sha1",
                "Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC",
                "Encrypted data: pbeWithSHA1And40BitRC2-CBC",
            ][..],
        ),
        // OpenSSL 3's default: PBES2 (PBKDF2 HMAC-SHA256, AES-256-CBC), a
        // SHA-256 MAC.
        (
            "",
            &[
                "MAC: sha256",
                "Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256",
                "Encrypted data: PBES2, PBKDF2, AES-256-CBC",
            ],
        ),
        // As Key Vault and Windows export: 3DES throughout, a SHA-1 MAC.
        (
            "-keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES -macalg sha1",
            &[
                "MAC: sha1",
                "Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC",
                "Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC",
            ],
        ),
        // No encryption: a keyBag in the clear.
        ("-keypbe NONE -certpbe NONE", &["MAC: sha256", "Key bag"]),
        // No MAC.
        ("-nomac", &["MAC is absent", "Shrouded Keybag: PBES2"]),
        (
            "-keypbe NONE -certpbe NONE -nomac",
            &["MAC is absent", "Key bag"],
        ),
        // The other AES key sizes, SHA-512 and SHA-384 MACs, 3DES in PBES2.
        (
            "-keypbe AES-128-CBC -certpbe AES-192-CBC -macalg sha512",
            &["MAC: sha512", "AES-128-CBC", "AES-192-CBC"],
        ),
        (
            "-keypbe DES-EDE3-CBC -certpbe AES-256-CBC -macalg sha384",
            &["MAC: sha384", "PBES2, PBKDF2, DES-EDE3-CBC"],
        ),
        // The other PBES1 ciphers, a SHA-224 MAC.
        (
            "-legacy -keypbe PBE-SHA1-2DES -certpbe PBE-SHA1-RC2-128 -macalg sha224",
            &[
                "MAC: sha224",
                "pbeWithSHA1And2-KeyTripleDES-CBC",
                "pbeWithSHA1And128BitRC2-CBC",
            ],
        ),
        // One iteration everywhere; the MAC's count left to its DEFAULT.
        (
            "-noiter -nomaciter",
            &["MAC: sha256, Iteration 1", "Iteration 1"],
        ),
    ] {
        let (pfx, info) = fixture.export(options);
        for said in protection {
            assert!(info.contains(said), "{options}: {said} not in {info}");
        }
        let contents = read(&pfx).unwrap_or_else(|p| panic!("{options}: {}", p.message()));
        fixture.check(&contents, options);
    }
}

#[test]
fn openssl_files_under_a_password_are_refused() {
    let fixture = Fixture::new();
    let path = fixture.dir.path();
    for (options, problem) in [
        ("-passout pass:not-empty", Problem::Mac),
        ("-passout pass:not-empty -legacy", Problem::Mac),
        ("-passout pass:not-empty -nomac", Problem::Decrypt),
        ("-passout pass:not-empty -nomac -legacy", Problem::Decrypt),
    ] {
        openssl(
            path,
            &format!(
                "pkcs12 -export -inkey leaf.key -in leaf.crt -name leaf -out other.pfx {options}"
            ),
        );
        let pfx = std::fs::read(path.join("other.pfx")).unwrap();
        assert_eq!(read(&pfx).unwrap_err(), problem, "{options}");
    }
}

/// An EncryptedPrivateKeyInfo's algorithm and data.
fn encrypted_private_key_info(der: &[u8]) -> (&[u8], &[u8]) {
    let mut fields = Reader::new(der::single(der, SEQUENCE).unwrap());
    let algorithm = fields.take(SEQUENCE).unwrap();
    let data = fields.take(OCTET_STRING).unwrap();
    assert!(fields.end().is_some());
    (algorithm, data)
}

#[test]
fn openssl_encrypted_keys_in_every_scheme() {
    // `openssl pkcs8` can choose what `pkcs12` cannot: the PBKDF2 PRF.
    let fixture = Fixture::new();
    for options in [
        "-v2 aes-256-cbc -v2prf hmacWithSHA1",
        "-v2 aes-128-cbc -v2prf hmacWithSHA512",
        "-v2 aes-192-cbc -v2prf hmacWithSHA384",
        "-v2 des3",
        "-v1 PBE-SHA1-3DES",
        "-v1 PBE-SHA1-2DES -provider legacy -provider default",
        "-v1 PBE-SHA1-RC2-40 -provider legacy -provider default",
        "-v1 PBE-SHA1-RC2-128 -provider legacy -provider default",
    ] {
        let encrypted = openssl(
            fixture.dir.path(),
            &format!("pkcs8 -topk8 -in leaf.key -outform DER -passout pass: {options}"),
        );
        let (algorithm, data) = encrypted_private_key_info(&encrypted);
        let key = decrypt(algorithm, data, &mut Session::new(MAX_WORK))
            .unwrap_or_else(|p| panic!("{options}: {}", p.message()));
        assert_eq!(*key, fixture.pkcs8, "{options}");
    }
    for (options, problem) in [
        ("-passout pass: -v2 aes-256-cbc -scrypt", Problem::Scheme),
        (
            "-passout pass: -v2 aes-256-cbc -v2prf hmacWithSHA224",
            Problem::Scheme,
        ),
        ("-passout pass:not-empty -v2 aes-256-cbc", Problem::Decrypt),
        (
            "-passout pass:not-empty -v1 PBE-SHA1-3DES",
            Problem::Decrypt,
        ),
    ] {
        let encrypted = openssl(
            fixture.dir.path(),
            &format!("pkcs8 -topk8 -in leaf.key -outform DER {options}"),
        );
        let (algorithm, data) = encrypted_private_key_info(&encrypted);
        let e = decrypt(algorithm, data, &mut Session::new(MAX_WORK)).unwrap_err();
        assert_eq!(e, problem, "{options}");
    }
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

#[test]
fn the_kdf_gives_known_answers() {
    // Bouncy Castle's vectors ("smeg", "queeg" as BMPStrings), and ones
    // computed with OpenSSL's PKCS12KDF (`openssl kdf ... PKCS12KDF`): the
    // empty password, SHA-256 and SHA-512 (v = 128), a salt over one block
    // and output over one hash (steps 6b-6c).
    let sha1 = &digest::SHA1_FOR_LEGACY_USE_ONLY;
    let smeg = hex("0073006D006500670000");
    let queeg = hex("007100750065006500670000");
    let salt_100: Vec<u8> = (0..100).collect();
    let salt_69: Vec<u8> = (0..69).collect();
    let check = |hash: &'static digest::Algorithm,
                 id: u8,
                 password: &[u8],
                 salt: Vec<u8>,
                 iterations: u32,
                 expected: &str| {
        let expected = hex(expected);
        let derived = pkcs12_kdf(
            hash,
            id,
            password,
            &salt,
            nonzero(iterations),
            expected.len(),
        );
        assert_eq!(*derived, expected, "{expected:02X?}");
    };
    check(
        sha1,
        1,
        &smeg,
        hex("0A58CF64530D823F"),
        1,
        "8AAAE6297B6CB04642AB5B077851284EB7128F1A2A7FBCA3",
    );
    check(
        sha1,
        2,
        &smeg,
        hex("0A58CF64530D823F"),
        1,
        "79993DFE048D3B76",
    );
    check(
        sha1,
        1,
        &queeg,
        hex("1682C0FC5B3F7EC5"),
        1000,
        "483DD6E919D7DE2E8E648BA8F862F3FBFBDC2BCB2C02957F",
    );
    check(
        sha1,
        3,
        &[0, 0],
        hex("0102030405060708"),
        2048,
        "422271A0229A8E68E59672D9278FE548EB74B013",
    );
    check(
        &digest::SHA256,
        3,
        &[0, 0],
        hex("0102030405060708"),
        2048,
        "878F85FF6DB5C92F2DA873FDB0ECAE4BDC9DCC3CB5FAF9226D10EE23AF02546A",
    );
    check(
        &digest::SHA512,
        3,
        &[0, 0],
        hex("0102030405060708"),
        3,
        "3BC2E20C8B27FAAFA470F483663BC3148E4C941AB9749B2C46D9F67C9444FD606C3AD6A5D26A64A29D59ADCDBD9E949DFD86B48C43B35A34D87D9600785E044A",
    );
    check(
        &digest::SHA512,
        1,
        &[0, 0],
        salt_69,
        3,
        "FEE6A2B4BCE40E8604CD22D2B424A4DC27352455F85637D9348CA78C4E619221B79F3099481BB6378B8C50D9F547DC1ED4DC8BAB78FEBA100250DF8C80C1D696",
    );
    check(
        sha1,
        1,
        &[0, 0],
        salt_100,
        2,
        "2DB69D2F09A366E345D0EB711F6BEC3F16D1FA265A3884C341D576485CCB1D88E136A8F81B6A86E1D1E999602B77386179D08FFF9F90A64F7D10B0D2",
    );
}

// Synthetic files, for what OpenSSL does not write.

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(SEQUENCE, &parts.concat())
}

fn object(content: &[u8]) -> Vec<u8> {
    tlv(OID, content)
}

fn octets(bytes: &[u8]) -> Vec<u8> {
    tlv(OCTET_STRING, bytes)
}

fn explicit(content: &[u8]) -> Vec<u8> {
    tlv(context(0), content)
}

/// A non-negative INTEGER of any size, from its big-endian octets.
fn integer_of(be: &[u8]) -> Vec<u8> {
    let significant: Vec<u8> = be.iter().copied().skip_while(|b| *b == 0).collect();
    let mut content = if significant.first().is_none_or(|b| b & 0x80 != 0) {
        vec![0]
    } else {
        Vec::new()
    };
    content.extend(significant);
    tlv(INTEGER, &content)
}

fn integer(value: u64) -> Vec<u8> {
    integer_of(&value.to_be_bytes())
}

/// A structurally valid PKCS#8 key (id-ecPublicKey, P-256).
fn pkcs8() -> Vec<u8> {
    let algorithm = seq(&[
        &object(&[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01]),
        &object(&[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]),
    ]);
    seq(&[&integer(0), &algorithm, &octets(&[7; 32])])
}

fn local_key_id(id: &[u8]) -> Vec<u8> {
    tlv(
        SET,
        &seq(&[&object(oid::LOCAL_KEY_ID), &tlv(SET, &octets(id))]),
    )
}

fn bag(bag_id: &[u8], value: &[u8], attributes: &[u8]) -> Vec<u8> {
    seq(&[&object(bag_id), &explicit(value), attributes])
}

fn data(content: &[u8]) -> Vec<u8> {
    seq(&[&object(oid::DATA), &explicit(&octets(content))])
}

/// A PFX of `parts` (ContentInfos), with `mac_data` if any.
fn pfx(parts: &[&[u8]], mac_data: &[u8]) -> Vec<u8> {
    seq(&[&integer(3), &data(&seq(parts)), mac_data])
}

/// A MacData of the AuthenticatedSafe of `parts` under `password` (as the
/// Appendix B KDF takes it).
fn mac_data(parts: &[&[u8]], hash_oid: &[u8], password: &[u8], iterations: u32) -> Vec<u8> {
    let (hash, mac) = if hash_oid == oid::SHA1 {
        (
            &digest::SHA1_FOR_LEGACY_USE_ONLY,
            hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        )
    } else {
        (&digest::SHA256, hmac::HMAC_SHA256)
    };
    let salt = [9u8; 8];
    let key = pkcs12_kdf(
        hash,
        ID_MAC,
        password,
        &salt,
        nonzero(iterations),
        hash.output_len(),
    );
    let tag = hmac::sign(&hmac::Key::new(mac, &key), &seq(parts));
    seq(&[
        &seq(&[
            &seq(&[&object(hash_oid), &tlv(NULL, &[])]),
            &octets(tag.as_ref()),
        ]),
        &octets(&salt),
        &integer(u64::from(iterations)),
    ])
}

/// An `encryptedData` ContentInfo.
fn encrypted(algorithm: &[u8], ciphertext: &[u8]) -> Vec<u8> {
    let info = seq(&[
        &object(oid::DATA),
        algorithm,
        &tlv(context_primitive(0), ciphertext),
    ]);
    seq(&[
        &object(oid::ENCRYPTED_DATA),
        &explicit(&seq(&[&integer(0), &info])),
    ])
}

fn pbes1(cipher_oid: &[u8], iterations: &[u8]) -> Vec<u8> {
    seq(&[&object(cipher_oid), &seq(&[&octets(&[1; 8]), iterations])])
}

fn pbes2(kdf: &[u8], iterations: &[u8]) -> Vec<u8> {
    let kdf = seq(&[
        &object(kdf),
        &seq(&[
            &octets(&[1; 8]),
            iterations,
            &seq(&[&object(oid::HMAC_SHA256), &tlv(NULL, &[])]),
        ]),
    ]);
    let scheme = seq(&[&object(oid::AES256_CBC), &octets(&[2; 16])]);
    seq(&[&object(oid::PBES2), &seq(&[&kdf, &scheme])])
}

/// One key in the clear, and a certificate (any bytes: the X.509 check is
/// the caller's), paired by a local key id.
fn clear_parts() -> Vec<Vec<u8>> {
    let key = bag(oid::KEY_BAG, &pkcs8(), &local_key_id(b"k"));
    let cert_bag = seq(&[&object(oid::X509_CERTIFICATE), &explicit(&octets(b"cert"))]);
    let cert = bag(oid::CERT_BAG, &cert_bag, &local_key_id(b"k"));
    vec![data(&seq(&[&cert])), data(&seq(&[&key]))]
}

fn refs(parts: &[Vec<u8>]) -> Vec<&[u8]> {
    parts.iter().map(Vec::as_slice).collect()
}

#[test]
fn a_synthetic_file_is_read() {
    let parts = clear_parts();
    let contents = read(&pfx(&refs(&parts), &[])).unwrap();
    assert_eq!(*contents.keys[0].pkcs8, pkcs8());
    assert_eq!(contents.certificates[0].der, b"cert");
    assert_eq!(contents.keys[0].local_key_id.as_deref(), Some(&b"k"[..]));
    assert_eq!(
        contents.certificates[0].local_key_id.as_deref(),
        Some(&b"k"[..])
    );
    assert!(!format!("{contents:?}").contains("7, 7, 7"), "{contents:?}");
}

#[test]
fn both_forms_of_the_empty_password_verify_and_no_other() {
    let parts = clear_parts();
    let parts = refs(&parts);
    for (password, hash) in [
        (&[0u8, 0][..], oid::SHA1),
        (&[][..], oid::SHA1),
        (&[0, 0], oid::SHA256),
        (&[], oid::SHA256),
    ] {
        let file = pfx(&parts, &mac_data(&parts, hash, password, 2048));
        assert!(read(&file).is_ok(), "{password:?}");
    }
    let other = pfx(
        &parts,
        &mac_data(&parts, oid::SHA256, &[0, 0x78, 0, 0], 2048),
    );
    assert_eq!(read(&other).unwrap_err(), Problem::Mac);
}

#[test]
fn a_wrong_mac_is_refused() {
    let fixture = Fixture::new();
    for options in ["", "-legacy"] {
        let (mut file, _) = fixture.export(options);
        // The MAC's digest: the first OCTET STRING of macData's DigestInfo,
        // found by walking the file.
        let digest_end = {
            let mut pfx = Reader::new(der::single(&file, SEQUENCE).unwrap());
            pfx.take(INTEGER).unwrap();
            pfx.take(SEQUENCE).unwrap();
            let mut mac_data = Reader::new(pfx.take(SEQUENCE).unwrap());
            let mut digest_info = Reader::new(mac_data.take(SEQUENCE).unwrap());
            digest_info.take(SEQUENCE).unwrap();
            let digest = digest_info.take(OCTET_STRING).unwrap();
            digest.as_ptr() as usize - file.as_ptr() as usize + digest.len()
        };
        file[digest_end - 1] ^= 1;
        assert_eq!(read(&file).unwrap_err(), Problem::Mac, "{options}");
        file[digest_end - 1] ^= 1;
        assert!(read(&file).is_ok(), "{options}");
        // A byte of the content it covers.
        let middle = file.len() / 2;
        file[middle] ^= 0x10;
        assert!(read(&file).is_err(), "{options}");
    }
}

#[test]
fn absurd_iteration_counts_are_refused_before_any_work() {
    let parts = clear_parts();
    let parts = refs(&parts);
    let huge = [
        integer(MAX_ITERATIONS + 1),
        integer(u64::from(u32::MAX)),
        integer(u64::MAX),
        integer_of(&[0x7F; 20]),
    ];
    let started = Instant::now();
    for count in &huge {
        // The MAC's count.
        let mac = seq(&[
            &seq(&[
                &seq(&[&object(oid::SHA256), &tlv(NULL, &[])]),
                &octets(&[0; 32]),
            ]),
            &octets(&[9; 8]),
            count,
        ]);
        let file = pfx(&parts, &mac);
        assert_eq!(read(&file).unwrap_err(), Problem::Iterations);

        // PBES1 and PBES2 counts, in a file without a MAC.
        for algorithm in [pbes1(oid::PBE_SHA1_3DES, count), pbes2(oid::PBKDF2, count)] {
            let part = encrypted(&algorithm, &[0; 16]);
            let file = pfx(&[&part], &[]);
            assert_eq!(read(&file).unwrap_err(), Problem::Iterations);
        }
    }
    assert!(started.elapsed() < Duration::from_secs(5), "no KDF ran");
    // Zero iterations, and a negative count.
    for count in [integer(0), tlv(INTEGER, &[0xFF])] {
        let part = encrypted(&pbes1(oid::PBE_SHA1_3DES, &count), &[0; 16]);
        assert!(matches!(
            read(&pfx(&[&part], &[])),
            Err(Problem::Parameters | Problem::Der)
        ));
    }
    assert!(Problem::Iterations.message().contains("10000000"));
}

#[test]
fn the_work_of_a_whole_file_is_bounded() {
    let fixture = Fixture::new();
    // MAC 2048 + key 2048 + certificates 2048 (PBKDF2-SHA256, AES-256: one
    // block each).
    let (file, _) = fixture.export("");
    assert!(read_within(&file, 6144).is_ok());
    assert_eq!(read_within(&file, 6143).unwrap_err(), Problem::Work);
    // Many keys, each well under the per-derivation limit, are stopped
    // once their sum is over: 1000 iterations of PBKDF2 (one block) each.
    let encrypted_key = openssl(
        fixture.dir.path(),
        "pkcs8 -topk8 -in leaf.key -outform DER -passout pass: -v2 aes-256-cbc -iter 1000",
    );
    let shrouded = bag(oid::SHROUDED_KEY_BAG, &encrypted_key, &[]);
    let bags: Vec<&[u8]> = std::iter::repeat_n(shrouded.as_slice(), 20).collect();
    let file = pfx(&[&data(&seq(&bags))], &[]);
    assert_eq!(read_within(&file, 1_000_000).unwrap().keys.len(), 20);
    assert_eq!(read_within(&file, 5000).unwrap_err(), Problem::Work);
}

#[test]
fn nested_safe_contents_stop_at_a_depth() {
    let key = bag(oid::KEY_BAG, &pkcs8(), &[]);
    let mut safe = seq(&[&key]);
    for depth in 0..=MAX_DEPTH + 1 {
        let file = pfx(&[&data(&safe)], &[]);
        if depth <= MAX_DEPTH {
            assert_eq!(read(&file).unwrap().keys.len(), 1, "{depth}");
        } else {
            assert_eq!(read(&file).unwrap_err(), Problem::Depth);
        }
        safe = seq(&[&bag(oid::SAFE_CONTENTS_BAG, &safe, &[])]);
    }
}

#[test]
fn what_is_not_read_is_named() {
    let parts = clear_parts();
    let parts = refs(&parts);
    let auth_safe = seq(&parts);
    let signed_data = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02];
    let enveloped_data = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x03];
    let sha512_256 = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x06];
    let pbmac1 = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0E];
    let rc4_128 = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x01, 0x01];
    let scrypt = [0x2B, 0x06, 0x01, 0x04, 0x01, 0xDA, 0x47, 0x04, 0x0B];
    let sdsi = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x16, 0x02];
    let mac_of = |oid: &[u8]| {
        seq(&[
            &seq(&[&seq(&[&object(oid)]), &octets(&[0; 32])]),
            &octets(&[1; 8]),
        ])
    };
    let cases: Vec<(Vec<u8>, Problem)> = vec![
        (seq(&[&integer(2), &data(&auth_safe)]), Problem::Version),
        (
            seq(&[
                &integer(3),
                &seq(&[&object(&signed_data), &explicit(&octets(&auth_safe))]),
            ]),
            Problem::ContentType,
        ),
        (
            pfx(
                &[&seq(&[&object(&enveloped_data), &explicit(&seq(&[]))])],
                &[],
            ),
            Problem::ContentType,
        ),
        (pfx(&parts, &mac_of(&sha512_256)), Problem::MacAlgorithm),
        (pfx(&parts, &mac_of(&pbmac1)), Problem::MacAlgorithm),
        (
            pfx(&[&encrypted(&pbes1(&rc4_128, &integer(1)), &[0; 16])], &[]),
            Problem::Scheme,
        ),
        (
            pfx(&[&encrypted(&pbes2(&scrypt, &integer(1)), &[0; 16])], &[]),
            Problem::Scheme,
        ),
        (
            pfx(
                &[&data(&seq(&[&bag(
                    oid::CERT_BAG,
                    &seq(&[&object(&sdsi), &explicit(&octets(b"x"))]),
                    &[],
                )]))],
                &[],
            ),
            Problem::ContentType,
        ),
        (
            pfx(
                &[&data(&seq(&[&bag(oid::KEY_BAG, &octets(b"x"), &[])]))],
                &[],
            ),
            Problem::PrivateKey,
        ),
        // BER's indefinite length.
        (vec![0x30, 0x80, 0x02, 0x01, 0x03, 0x00, 0x00], Problem::Der),
        // Trailing bytes.
        ([pfx(&parts, &[]), vec![0]].concat(), Problem::Der),
    ];
    for (file, problem) in cases {
        assert_eq!(read(&file).unwrap_err(), problem);
    }
    // Unknown bags are skipped.
    let crl = bag(
        &[
            0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x0A, 0x01, 0x04,
        ],
        &seq(&[]),
        &[],
    );
    let file = pfx(&[&data(&seq(&[&crl]))], &[]);
    assert!(read(&file).unwrap().keys.is_empty());
}

#[test]
fn truncated_and_altered_files_are_refused_without_panic() {
    let fixture = Fixture::new();
    let (clear, _) = fixture.export("-keypbe NONE -certpbe NONE -nomac");
    let (aes, _) = fixture.export("-nomac");
    let (legacy, _) = fixture.export("-legacy");
    for file in [&clear, &aes, &legacy] {
        for len in 0..file.len() {
            assert!(read(&file[..len]).is_err(), "{len}");
        }
    }
    // Every byte flipped, in the files a parse goes deepest in: the result
    // may be a file that still reads (a byte of a signature), but no panic.
    for file in [&clear, &aes] {
        for at in 0..file.len() {
            let mut altered = file.clone();
            altered[at] ^= 0x55;
            let _ = read(&altered);
        }
    }
}

fn synthetic_file() -> Vec<u8> {
    let parts = clear_parts();
    let encrypted = encrypted(&pbes2(oid::PBKDF2, &integer(1)), &[3; 32]);
    let mut parts = refs(&parts);
    parts.push(&encrypted);
    pfx(&parts, &[])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = read(&bytes);
        let mut framed = tlv(SEQUENCE, &[&integer(3)[..], &bytes[..]].concat());
        let _ = read(&framed);
        framed.truncate(framed.len() / 2);
        let _ = read(&framed);
    }

    #[test]
    fn altered_synthetic_files_never_panic(
        changes in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut file = synthetic_file();
        for (at, value) in changes {
            let at = at.index(file.len());
            file[at] = value;
        }
        let _ = read(&file);
    }
}

/// The dotted form of an OID's content octets (X.690 §8.19).
fn dotted(content: &[u8]) -> String {
    let mut arcs = Vec::new();
    let mut value = 0u64;
    for byte in content {
        value = (value << 7) | u64::from(byte & 0x7F);
        if byte & 0x80 == 0 {
            arcs.push(value);
            value = 0;
        }
    }
    let first = arcs.remove(0);
    let (a, b) = if first < 80 {
        (first / 40, first % 40)
    } else {
        (2, first - 80)
    };
    std::iter::once(a)
        .chain(std::iter::once(b))
        .chain(arcs)
        .map(|arc| arc.to_string())
        .collect::<Vec<_>>()
        .join(".")
}

#[test]
fn the_oids_are_the_ones_named() {
    for (content, name) in [
        (oid::DATA, "1.2.840.113549.1.7.1"),
        (oid::ENCRYPTED_DATA, "1.2.840.113549.1.7.6"),
        (oid::KEY_BAG, "1.2.840.113549.1.12.10.1.1"),
        (oid::SHROUDED_KEY_BAG, "1.2.840.113549.1.12.10.1.2"),
        (oid::CERT_BAG, "1.2.840.113549.1.12.10.1.3"),
        (oid::SAFE_CONTENTS_BAG, "1.2.840.113549.1.12.10.1.6"),
        (oid::X509_CERTIFICATE, "1.2.840.113549.1.9.22.1"),
        (oid::LOCAL_KEY_ID, "1.2.840.113549.1.9.21"),
        (oid::PBE_SHA1_3DES, "1.2.840.113549.1.12.1.3"),
        (oid::PBE_SHA1_2DES, "1.2.840.113549.1.12.1.4"),
        (oid::PBE_SHA1_RC2_128, "1.2.840.113549.1.12.1.5"),
        (oid::PBE_SHA1_RC2_40, "1.2.840.113549.1.12.1.6"),
        (oid::PBES2, "1.2.840.113549.1.5.13"),
        (oid::PBKDF2, "1.2.840.113549.1.5.12"),
        (oid::HMAC_SHA1, "1.2.840.113549.2.7"),
        (oid::HMAC_SHA256, "1.2.840.113549.2.9"),
        (oid::HMAC_SHA384, "1.2.840.113549.2.10"),
        (oid::HMAC_SHA512, "1.2.840.113549.2.11"),
        (oid::AES128_CBC, "2.16.840.1.101.3.4.1.2"),
        (oid::AES192_CBC, "2.16.840.1.101.3.4.1.22"),
        (oid::AES256_CBC, "2.16.840.1.101.3.4.1.42"),
        (oid::DES_EDE3_CBC, "1.2.840.113549.3.7"),
        (oid::SHA1, "1.3.14.3.2.26"),
        (oid::SHA256, "2.16.840.1.101.3.4.2.1"),
        (oid::SHA384, "2.16.840.1.101.3.4.2.2"),
        (oid::SHA512, "2.16.840.1.101.3.4.2.3"),
        (oid::SHA224, "2.16.840.1.101.3.4.2.4"),
    ] {
        assert_eq!(dotted(content), name);
    }
}

#[test]
fn padding_is_checked() {
    let padded = |bytes: &[u8]| Zeroizing::new(bytes.to_vec());
    assert_eq!(
        unpad(padded(&[1, 2, 3, 5, 5, 5, 5, 5]), 8)
            .as_deref()
            .map(|v| v.as_slice()),
        Some(&[1, 2, 3][..])
    );
    assert_eq!(
        unpad(padded(&[8; 8]), 8).as_deref().map(|v| v.len()),
        Some(0)
    );
    for wrong in [
        &[1, 2, 3, 4, 5, 6, 7, 0][..],
        &[9; 8],
        &[1, 2, 3, 4, 5, 6, 2, 3],
        &[],
    ] {
        assert!(unpad(padded(wrong), 8).is_none(), "{wrong:?}");
    }
}
