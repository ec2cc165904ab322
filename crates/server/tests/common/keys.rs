//! Fresh signing keys for the push emulators, from `openssl genpkey`.
//! Shared by the backend's tests and the app's E2E test.

/// (private PEM, public PEM) of a fresh 2048-bit RSA key.
pub fn rsa_pair() -> (String, String) {
    key_pair(&["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"])
}

/// (private PKCS#8 PEM, public PEM) of a fresh P-256 key, like an APNs .p8.
pub fn ec_pair() -> (String, String) {
    key_pair(&["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"])
}

/// A fresh key from `openssl genpkey`, with its public half (service-account
/// and APNs keys for the push emulators).
fn key_pair(genpkey: &[&str]) -> (String, String) {
    use std::io::Write;
    use std::process::Command;
    let private = Command::new("openssl")
        .arg("genpkey")
        .args(genpkey)
        .output()
        .expect("openssl");
    assert!(private.status.success());
    let mut public = Command::new("openssl")
        .args(["pkey", "-pubout"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    public
        .stdin
        .take()
        .unwrap()
        .write_all(&private.stdout)
        .unwrap();
    let public = public.wait_with_output().unwrap();
    (
        String::from_utf8(private.stdout).unwrap(),
        String::from_utf8(public.stdout).unwrap(),
    )
}
